/**
 * `listen --forward-to <url>`: like `stripe listen`. Follows the event stream and forwards each
 * event newly seen to a local URL, signed the way Panora signs (with a secret printed at start),
 * so a handler on a laptop can be built against a shared running instance.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { type Command, InvalidArgumentError } from 'commander';
import type { EventDetail } from '../../inbox';
import { CliError } from '../admin-client';
import { client, globals } from '../options';
import { note, out, when } from '../output';
import { follow, untilInterrupted } from './event-stream';

const FORWARD_TIMEOUT_MS = 30_000;

/**
 * A delivery exactly as Panora's sender builds one: body `{id_event, data, type}` with `data` the
 * payload serialised to a JSON string, `Panora-Signature` = hex HMAC-SHA256 of
 * `JSON.stringify(data)` keyed by the secret (docs/events.md; shared/tools/panora-send.mjs).
 */
export function panoraDelivery(secret: string, event: { idEvent: string; type: string; payload: unknown }) {
  const data = JSON.stringify(event.payload);
  return {
    body: JSON.stringify({ id_event: event.idEvent, data, type: event.type }),
    signature: createHmac('sha256', secret).update(JSON.stringify(data)).digest('hex'),
  };
}

function httpUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
  } catch {
    // Reported below.
  }
  throw new InvalidArgumentError('expected an http(s) URL, like http://localhost:4000/webhooks/panora');
}

async function forward(url: string, secret: string, event: EventDetail) {
  const { body, signature } = panoraDelivery(secret, event);
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'panora-signature': signature },
      body,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: Date.now() - started };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return { status: null, error: cause, ms: Date.now() - started };
  }
}

export function addListenCommand(program: Command): void {
  program
    .command('listen')
    .description('forward each event the service receives to a local URL, signed as Panora signs (^C to stop)')
    .requiredOption(
      '--forward-to <url>',
      'where to POST each event, e.g. http://localhost:4000/webhooks/panora',
      httpUrl,
    )
    .option('--type <type>', 'only events of this type (normalised or as delivered)')
    .option('--endpoint <id>', 'only events of this endpoint')
    .option('--secret <secret>', 'sign with this secret instead of a new one (keep your handler’s config)')
    .action(
      async (options: { forwardTo: string; type?: string; endpoint?: string; secret?: string }, command: Command) => {
        const json = globals(command).json;
        const api = client(command);
        // Panora's secrets are UUID v4 strings: the handler sees one of the same form.
        const secret = options.secret ?? randomUUID();
        const signal = untilInterrupted();
        out(json ? JSON.stringify({ secret, forwardTo: options.forwardTo }) : `Signing secret: ${secret}`);
        // Each event once per session: a later state (processed after received, a replay) is not
        // forwarded again. The stream starts now: events received before are not forwarded.
        const forwarded = new Set<string>();
        await follow(
          command,
          { type: options.type, endpointId: options.endpoint },
          async ({ data }) => {
            if (forwarded.has(data.id)) return;
            forwarded.add(data.id);
            let event: EventDetail;
            try {
              event = await api.get<EventDetail>(`/admin/events/${encodeURIComponent(data.id)}`);
            } catch (error) {
              if (error instanceof CliError && error.status === 404) return;
              throw error;
            }
            if (event.payload === null) {
              note(`skipped ${event.id} ${event.type}: its payload was pruned`);
              return;
            }
            const result = await forward(options.forwardTo, secret, event);
            if (json) out(JSON.stringify({ id: event.id, idEvent: event.idEvent, type: event.type, ...result }));
            else {
              const outcome = result.status === null ? `failed (${result.error})` : `[${result.status}]`;
              out(
                `${when(new Date())}  --> ${event.type} #${event.id}  ${outcome} POST ${options.forwardTo} (${result.ms} ms)`,
              );
            }
          },
          signal,
          (again) =>
            note(again ? 'Reconnected.' : `Ready. Forwarding events to ${options.forwardTo} (Ctrl-C to stop).`),
        );
      },
    );
}
