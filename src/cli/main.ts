#!/usr/bin/env node
/**
 * `panora-webhooks` (the package's bin; `npm run cli`): composition only. The global options,
 * one command group per file under commands/, then the run: a failure prints one line (`error: …`,
 * or `{"error": …}` with --json) on standard error and exits with its kind's code (admin-client.ts).
 */
import { Command } from 'commander';
import { addCompletionCommand } from './commands/completion';
import { addConnectionCommands } from './commands/connections';
import { addCrmCommands } from './commands/crm';
import { addEndpointCommands } from './commands/endpoints';
import { addEventCommands } from './commands/events';
import { addRecoveryCommands } from './commands/recovery';
import { addStatusCommand } from './commands/status';
import { addTestEventCommand } from './commands/test-events';
import { defaults, packageVersion } from './options';
import { reportError } from './output';

/** --json, seen before commander has parsed it (a usage error can come first). */
const jsonRequested = (argv: string[]) =>
  argv.slice(0, argv.includes('--') ? argv.indexOf('--') : undefined).includes('--json');

export function buildProgram(json = false): Command {
  const { url } = defaults();
  const program = new Command('panora-webhooks')
    .description('Operate a running panora-webhooks service through its admin API')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--url <url>', 'the service (env PANORA_WEBHOOKS_URL)', url)
    .option('--key <key>', 'an admin key (default: env ADMIN_API_KEY, or the first of ADMIN_API_KEYS)')
    .option('--json', 'print the JSON answers instead of tables, and errors as {"error": …}')
    // Usage errors reach the catch below (exit 2) instead of process.exit(1); under --json the
    // catch prints them, commander's text and help stay out.
    .exitOverride()
    .configureOutput({
      writeErr: (text) => (json ? undefined : process.stderr.write(text)),
      outputError: (text, write) => (json ? undefined : write(text)),
    })
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });

  // Subcommands are made with program.command() so they inherit the settings above; the order
  // here is the order help lists them in.
  addStatusCommand(program);
  addEndpointCommands(program);
  addEventCommands(program); // events …, replay
  addTestEventCommand(program);
  addConnectionCommands(program);
  addCrmCommands(program);
  addRecoveryCommands(program);
  addCompletionCommand(program);
  return program;
}

const json = jsonRequested(process.argv.slice(2));
buildProgram(json)
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = reportError(error, json);
  });
