import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { ConfigError, type Env } from '../config';

/** The one line when LOG_PRETTY=true and pino-pretty (a devDependency) is not installed. */
export const PRETTY_MISSING = 'LOG_PRETTY=true needs the pino-pretty dev dependency: npm install, or unset LOG_PRETTY';

/**
 * Nest's own start-up lines: module wiring and route mapping (forty lines at every start) and
 * "starting"/"started" (main.ts says `listening on ...` instead). The errors Nest logs under
 * ExceptionHandler and NestApplication are start-up failures it then throws: main.ts reports
 * each as one fatal line, so Nest's copy (with its stack) is debug detail.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
  'ExceptionHandler',
]);

const DEBUG = 20;

/**
 * How every line of the service looks, whoever writes it: the level by name and the time in ISO
 * 8601 (`"level":"info","time":"2026-…Z"`), readable without knowing pino's numbers, and Nest's
 * start-up chatter at debug.
 */
export const LINE_OPTIONS: Pick<LoggerOptions, 'formatters' | 'timestamp' | 'hooks'> = {
  formatters: { level: (label) => ({ level: label }) },
  timestamp: stdTimeFunctions.isoTime,
  hooks: {
    logMethod(args, method, level) {
      const [first] = args as unknown[];
      const context =
        typeof first === 'object' && first !== null ? (first as { context?: unknown }).context : undefined;
      if (level > DEBUG && typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) {
        return this.debug(...args);
      }
      return method.apply(this, args);
    },
  },
};

/**
 * The pino-pretty stream LOG_PRETTY asks for: one line per entry, `[context] message`. pino-pretty
 * is a devDependency: where it is missing (an install without them), a ConfigError says so in one
 * line. `requireFrom` resolves the package (a test points it at a folder without it).
 */
export function prettyStream(destination: 1 | 2 = 1, requireFrom: NodeJS.Require = require): DestinationStream {
  let pretty: typeof import('pino-pretty');
  try {
    pretty = requireFrom('pino-pretty') as typeof import('pino-pretty');
  } catch (error) {
    // pino-pretty itself missing, not a package of its own (that would be a broken install).
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'MODULE_NOT_FOUND' && message.split('\n')[0].includes("'pino-pretty'")) {
      throw new ConfigError(PRETTY_MISSING);
    }
    throw error;
  }
  return pretty.build({
    singleLine: true,
    sync: true,
    destination,
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

const outputs = new Map<boolean, DestinationStream>();

/**
 * Where the service's lines go (stdout, JSON or pretty): one stream shared by the boot logger and
 * Nest's, so that lines come out in the order they were logged (two streams on one file
 * descriptor each keep their own buffer). Written asynchronously, as pino does by default, and
 * flushed when the process exits.
 */
export function serviceOutput(env: Pick<Env, 'LOG_PRETTY'>): DestinationStream {
  let output = outputs.get(env.LOG_PRETTY);
  if (!output) {
    output = env.LOG_PRETTY ? prettyStream() : pino.destination({ dest: 1, sync: false });
    outputs.set(env.LOG_PRETTY, output);
  }
  return output;
}

/** Writes out what the service's output still holds (before a failure line on stderr). */
export function flushServiceOutput(): void {
  for (const output of outputs.values()) {
    try {
      (output as { flushSync?: () => void }).flushSync?.();
    } catch {
      // Nothing buffered, or stdout already gone: the failure line matters more.
    }
  }
}

/**
 * The logger of start-up before Nest's exists (and of shutdown): same lines, same output. Built
 * right after the configuration is read, so that LOG_PRETTY without pino-pretty stops the start
 * there, before anything runs.
 */
export function bootLogger(env: Pick<Env, 'LOG_LEVEL' | 'LOG_PRETTY'>): Logger {
  return pino({ level: env.LOG_LEVEL, ...LINE_OPTIONS }, serviceOutput(env)).child({ context: 'Bootstrap' });
}

/**
 * The logger of a start-up failure: one JSON line on stderr, written before the process exits,
 * whatever LOG_LEVEL and LOG_PRETTY say (the configuration may be what failed).
 */
export function failureLogger(): Logger {
  flushServiceOutput();
  return pino(LINE_OPTIONS, pino.destination({ fd: 2, sync: true })).child({ context: 'Bootstrap' });
}
