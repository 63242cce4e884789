#!/usr/bin/env node
/**
 * `panora-webhooks` (the package's bin; `npm run cli`): composition only. The global options,
 * one command group per file under commands/, then the run: a failure prints one line
 * (`error: …`) on standard error and exits 1.
 */
import { Command } from 'commander';
import { CliError } from './admin-client';
import { addConnectionCommands } from './commands/connections';
import { addEndpointCommands } from './commands/endpoints';
import { addEventCommands } from './commands/events';
import { addRecoveryCommands } from './commands/recovery';
import { addTestEventCommand } from './commands/test-events';
import { defaults } from './options';
import { note } from './output';

export function buildProgram(): Command {
  const { url } = defaults();
  const program = new Command('panora-webhooks')
    .description('Operate a running panora-webhooks service through its admin API')
    .option('--url <url>', 'the service (env PANORA_WEBHOOKS_URL)', url)
    .option('--key <key>', 'an admin key (default: env ADMIN_API_KEY, or the first of ADMIN_API_KEYS)')
    .option('--json', 'print the JSON answers instead of tables')
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true });

  // Subcommands are made with program.command() so they inherit the settings above; the order
  // here is the order help lists them in.
  addEndpointCommands(program);
  addEventCommands(program); // events …, replay
  addTestEventCommand(program);
  addConnectionCommands(program);
  addRecoveryCommands(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    note(`error: ${error instanceof CliError ? error.message : String((error as Error)?.stack ?? error)}`);
    process.exitCode = 1;
  });
