import { Inject, type FactoryProvider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Env } from './env.schema';

/**
 * A module's part of the configuration: the settings it uses, named for it and typed, read once
 * from the one validated schema (`Env`). A module declares its slice beside its code, lists
 * `slice.provider` in its providers and injects it with `@slice.inject()`; nothing else reads the
 * environment. `slice.of(env)` builds it outside Nest (tests, scripts).
 */
export interface ConfigSlice<T> {
  readonly token: symbol;
  readonly provider: FactoryProvider<T>;
  inject(): PropertyDecorator & ParameterDecorator;
  of(env: Env): T;
}

/** The slice's value type: `type OutboxConfig = SliceOf<typeof outboxConfig>`. */
export type SliceOf<S> = S extends ConfigSlice<infer T> ? T : never;

export function configSlice<T extends object>(name: string, pick: (env: Env) => T): ConfigSlice<T> {
  const token = Symbol(`config:${name}`);
  const of = (env: Env): T => Object.freeze(pick(env));
  return {
    token,
    provider: {
      provide: token,
      inject: [ConfigService],
      // The validated env, read key by key: the slice sees exactly the schema's types.
      useFactory: (config: ConfigService<Env, true>) =>
        of(new Proxy({} as Env, { get: (_, key): unknown => config.get(key as keyof Env, { infer: true }) })),
    },
    inject: () => Inject(token),
    of,
  };
}
