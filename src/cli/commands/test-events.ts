/** `send-test-event`: a signed sample event through the receive route, then how it was processed. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { EventDetail, TestEventResult } from '../../inbox';
import { CliError } from '../admin-client';
import { client, globals, positiveInt } from '../options';
import { note, show } from '../output';
import { describeEvent } from './events';

const SETTLED = new Set(['processed', 'dead', 'failed']);

async function sendTestEvent(command: Command, options: { endpoint: string; type: string; timeout: number }) {
  const api = client(command);
  const sent = await api.post<TestEventResult>(`/admin/endpoints/${encodeURIComponent(options.endpoint)}/test-event`, {
    type: options.type,
  });
  if (!globals(command).json) {
    note(
      `Sent a signed ${sent.deliveredType} (id_event ${sent.idEvent}) to endpoint ${sent.endpointId}: ` +
        `the receive route answered 200 ${JSON.stringify(sent.receiveAnswer)}; stored as event ${sent.eventId}.`,
    );
  }
  const started = Date.now();
  let event = await api.get<EventDetail>(`/admin/events/${sent.eventId}`);
  while (!SETTLED.has(event.status) && Date.now() - started < options.timeout * 1000) {
    await sleep(200);
    event = await api.get<EventDetail>(`/admin/events/${sent.eventId}`);
  }
  show(command, { sent, event }, () => {
    const lines = [describeEvent(event)];
    if (event.status === 'processed' && sent.normalizedType === 'connection.created') {
      const idConnection = (event.payload as { id_connection?: string } | null)?.id_connection;
      if (idConnection) {
        lines.push(
          '',
          `Connection ${idConnection} is stored. Its token: npx panora-webhooks connections token ${idConnection}`,
        );
      }
    }
    if (!SETTLED.has(event.status)) lines.push('', `Not processed after ${options.timeout} s: still ${event.status}.`);
    return lines.join('\n');
  });
  if (event.status !== 'processed') {
    throw CliError.notProcessed(
      `Event ${event.id} was not processed: ${SETTLED.has(event.status) ? event.status : `still ${event.status} after ${options.timeout} s`}` +
        (event.lastError ? ` (${event.lastError})` : ''),
    );
  }
}

export function addTestEventCommand(program: Command): void {
  program
    .command('send-test-event')
    .description(
      "send a realistic sample event, signed with the endpoint's secret exactly like Panora, and show how it was processed",
    )
    .requiredOption('--endpoint <id>', 'endpoint id')
    .option('--type <type>', 'an event type Panora offers', 'connection.created')
    .option('--timeout <seconds>', 'how long to wait for processing', positiveInt, 30)
    .action(async (options: { endpoint: string; type: string; timeout: number }, command: Command) => {
      await sendTestEvent(command, options);
    });
}
