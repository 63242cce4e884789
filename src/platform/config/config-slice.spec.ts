import { Injectable } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { configSlice, type SliceOf } from './config-slice';
import { parseEnv } from './env.schema';

const exampleConfig = configSlice('example', (env) => ({
  pollMs: env.OUTBOX_POLL_MS,
  exchange: env.RABBITMQ_EXCHANGE,
}));
type ExampleConfig = SliceOf<typeof exampleConfig>;

@Injectable()
class Consumer {
  constructor(@exampleConfig.inject() readonly config: ExampleConfig) {}
}

describe('configSlice', () => {
  it('should give a module its settings, typed and read from the validated env', async () => {
    const env = parseEnv({ OUTBOX_POLL_MS: '250', RABBITMQ_EXCHANGE: 'siblings' });
    const module = await Test.createTestingModule({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, skipProcessEnv: true, load: [() => env] })],
      providers: [exampleConfig.provider, Consumer],
    }).compile();
    expect(module.get(Consumer).config).toEqual({ pollMs: 250, exchange: 'siblings' });
    expect(Object.isFrozen(module.get(Consumer).config)).toBe(true);
  });

  it('should build the same slice outside Nest', () => {
    expect(exampleConfig.of(parseEnv({ OUTBOX_POLL_MS: '250' })).pollMs).toBe(250);
  });
});
