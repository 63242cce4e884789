import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ConfigError, type Env, isSecretKey, SECRET_KEY_FORMAT } from '../config';
import { parseSecretKey, SecretBox } from './secret-box';

/**
 * The key that seals secrets at rest: `SECRETS_KEY`; outside production, when it is unset, a key
 * generated once into `DATA_DIR/secrets.key` (with a warning). The env schema has already checked
 * the keys' format and refused a production start without SECRETS_KEY.
 */
export function loadSecretBox(
  env: Pick<Env, 'SECRETS_KEY' | 'SECRETS_KEY_PREVIOUS' | 'NODE_ENV' | 'DATA_DIR'>,
  logger = new Logger('SecretsModule'),
): SecretBox {
  const previous = env.SECRETS_KEY_PREVIOUS.map((key) => parseSecretKey(key, 'SECRETS_KEY_PREVIOUS'));
  if (env.SECRETS_KEY) return new SecretBox(parseSecretKey(env.SECRETS_KEY), previous);
  if (env.NODE_ENV === 'production') throw new ConfigError(`SECRETS_KEY: required when NODE_ENV=production`);
  const file = resolve(env.DATA_DIR, 'secrets.key');
  if (!existsSync(file)) {
    mkdirSync(env.DATA_DIR, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    logger.warn(`SECRETS_KEY is unset: generated a development key in ${file}. Set SECRETS_KEY in production.`);
  }
  const stored = readFileSync(file, 'utf8');
  if (!isSecretKey(stored)) {
    throw new ConfigError(
      `${file}: ${SECRET_KEY_FORMAT}; restore it, or set SECRETS_KEY (values sealed with the lost key no longer open)`,
    );
  }
  return new SecretBox(parseSecretKey(stored, file), previous);
}

@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [ConfigService],
      useFactory: (config: ConfigService<Env, true>) =>
        loadSecretBox({
          SECRETS_KEY: config.get('SECRETS_KEY', { infer: true }),
          SECRETS_KEY_PREVIOUS: config.get('SECRETS_KEY_PREVIOUS', { infer: true }),
          NODE_ENV: config.get('NODE_ENV', { infer: true }),
          DATA_DIR: config.get('DATA_DIR', { infer: true }),
        }),
    },
  ],
  exports: [SecretBox],
})
export class SecretsModule {}
