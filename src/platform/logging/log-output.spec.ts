import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ConfigError } from '../config';
import { LINE_OPTIONS, PRETTY_MISSING, prettyStream } from './log-output';

/** A logger with the service's line options at `level`, writing to an array of parsed lines. */
function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ ...LINE_OPTIONS, level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('log output', () => {
  it('should write the level by name and the time in ISO 8601', () => {
    const { logger, lines } = capture();
    logger.warn({ context: 'OutboxRelay' }, 'broker down');
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', context: 'OutboxRelay', msg: 'broker down' })]);
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("should leave Nest's module and route lines out at info, and keep them at debug", () => {
    const nest = (logger: pino.Logger) => {
      logger.info({ context: 'InstanceLoader' }, 'AppModule dependencies initialized');
      logger.info({ context: 'RouterExplorer' }, 'Mapped {/health/live, GET} route');
      logger.error({ context: 'ExceptionHandler' }, 'thrown again, reported by main.ts');
      logger.info({ context: 'DatabaseModule' }, 'Using database 127.0.0.1:5432/app');
    };
    const atInfo = capture('info');
    nest(atInfo.logger);
    expect(atInfo.lines.map(({ level, msg }) => `${String(level)} ${String(msg)}`)).toEqual([
      'info Using database 127.0.0.1:5432/app',
    ]);

    const atDebug = capture('debug');
    nest(atDebug.logger);
    expect(atDebug.lines.map(({ level, context }) => `${String(level)} ${String(context)}`)).toEqual([
      'debug InstanceLoader',
      'debug RouterExplorer',
      'debug ExceptionHandler',
      'info DatabaseModule',
    ]);
  });

  it('should refuse LOG_PRETTY with one line where pino-pretty is not installed', () => {
    // A require resolving from a folder with no node_modules, as an install without devDependencies.
    const folder = mkdtempSync(join(tmpdir(), 'no-pino-pretty-'));
    try {
      const requireWithout = createRequire(join(folder, 'main.js'));
      expect(() => prettyStream(1, requireWithout)).toThrow(new ConfigError(PRETTY_MISSING));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('should not hide a pino-pretty that is installed but broken', () => {
    const broken = (() => {
      throw Object.assign(new Error("Cannot find module 'colorette'"), { code: 'MODULE_NOT_FOUND' });
    }) as unknown as NodeJS.Require;
    expect(() => prettyStream(1, broken)).toThrow("Cannot find module 'colorette'");
  });
});
