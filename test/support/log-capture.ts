import type { TestingModuleBuilder } from '@nestjs/testing';
import { PARAMS_PROVIDER_TOKEN, type Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { loggerParams } from '../../src/platform/logging/logging';

/**
 * Keeps the app's log lines in memory: the service's own logger settings (JSON lines, redaction) at
 * `debug`, written to this object instead of stdout. Pass `override` to `startTestApp`.
 *
 * nestjs-pino builds one root logger per test file, with the parameters of the first app that
 * logs: start the capturing app first, and every app started after it in the file logs here too.
 * Suites should check `text()` holds lines they expect, so a scan of it cannot pass vacuously.
 */
export class LogCapture {
  private readonly lines: string[] = [];

  readonly override = (builder: TestingModuleBuilder): TestingModuleBuilder => {
    const params = loggerParams({ LOG_LEVEL: 'debug', LOG_PRETTY: false });
    const [options] = params.pinoHttp as [Options, unknown];
    const captured: Params = {
      ...params,
      pinoHttp: [options, { write: (line: string) => void this.lines.push(line) }],
    };
    return builder.overrideProvider(PARAMS_PROVIDER_TOKEN).useValue(captured);
  };

  text(): string {
    return this.lines.join('');
  }
}
