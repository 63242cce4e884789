import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { configureApp, createAdapter } from '../../src/app.factory';
import { Env, parseEnv } from '../../src/config/env.schema';

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
}

/** The real application (same module, adapter and settings as main.ts) on an ephemeral port. */
export async function startTestApp({ databaseUrl, env: overrides = {}, override }: TestAppOptions): Promise<TestApp> {
  const env = parseEnv({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NODE_ENV: 'test',
    ...overrides,
    DATABASE_URL: databaseUrl,
  });
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot({ env, databaseUrl })] });
  if (override) builder = override(builder);
  const moduleRef = await builder.compile();
  const app = configureApp(
    moduleRef.createNestApplication<NestFastifyApplication>(createAdapter(env), { rawBody: true, bufferLogs: true }),
    env,
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, env, baseUrl: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
