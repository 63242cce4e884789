import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { configureApp, createAdapter } from '../../src/app.factory';
import { Env, parseEnv } from '../../src/platform/config/env.schema';

/** A fixed key for tests, so no key file is written into DATA_DIR. */
export const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestApp {
  app: NestFastifyApplication;
  env: Env;
  /** http://127.0.0.1:<port>: the app listens on a real socket. */
  baseUrl: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  databaseUrl: string;
  env?: Record<string, string>;
  /** Swap providers (e.g. the Panora client) before the app is built. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Extra modules, e.g. test listeners. */
  imports?: NonNullable<ModuleMetadata['imports']>;
}

/** The real application (same module, adapter and settings as main.ts) on an ephemeral port. */
export async function startTestApp({
  databaseUrl,
  env: overrides = {},
  override,
  imports = [],
}: TestAppOptions): Promise<TestApp> {
  const env = parseEnv({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    SECRETS_KEY: TEST_SECRETS_KEY,
    // No background recovery run (start-up or scheduled) calling a spec's fake Panora while the spec
    // counts its requests; the recovery specs turn it on when they mean to.
    RECOVERY_INTERVAL: '0',
    ...overrides,
    DATABASE_URL: databaseUrl,
  });
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot({ env, databaseUrl }), ...imports] });
  if (override) builder = override(builder);
  const moduleRef = await builder.compile();
  const app = configureApp(
    moduleRef.createNestApplication<NestFastifyApplication>(createAdapter(env), {
      bodyParser: false,
      bufferLogs: true,
    }),
    env,
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, env, baseUrl: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
