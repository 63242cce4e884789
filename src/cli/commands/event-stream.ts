/**
 * Following `GET /admin/events/stream` (server-sent events) for `events tail`, `listen` and the
 * bulk replay's progress: one message at a time, and on a dropped connection a reconnect with
 * backoff that sends the last id seen back as `Last-Event-ID`, so nothing is missed or repeated.
 */
import type { Command } from 'commander';
import type { EventSummary } from '../../inbox';
import { CliError } from '../admin-client';
import { defaults, globals } from '../options';
import { note } from '../output';

export interface StreamMessage {
  /** The cursor: `--since` resumes after it. */
  id: string;
  /** The event's status when the stream read it. */
  event: string;
  data: EventSummary;
}

export interface StreamFilters {
  type?: string;
  endpointId?: string;
  status?: string;
  /** A cursor to start after; without it, from now. */
  since?: string;
}

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/** Three missed heartbeats (the service sends one every 15 s): the connection is dead, reconnect. */
const SILENCE_MS = 45_000;

/**
 * Calls `onMessage` for each message, in order, until `signal` aborts (then resolves). A refusal
 * (400, 401, 403, 404) throws; anything else (refused connection, 5xx, a stream that ends or goes
 * silent) is retried with backoff, resuming from the last id.
 */
export async function follow(
  command: Command,
  filters: StreamFilters,
  onMessage: (message: StreamMessage) => void | Promise<void>,
  signal: AbortSignal,
  /** Called each time the stream is open (again): `again` after a reconnect. */
  onOpen: (again: boolean) => void = () => undefined,
): Promise<void> {
  const { url } = globals(command);
  const key = globals(command).key ?? defaults().key;
  if (!key) {
    throw new CliError(
      'No admin key: pass --key <key>, or set ADMIN_API_KEY (or ADMIN_API_KEYS, as the service has it)',
      undefined,
      {
        kind: 'auth',
      },
    );
  }
  const base = url.replace(/\/+$/, '');
  const params = new URLSearchParams();
  for (const name of ['type', 'endpointId', 'status'] as const) if (filters[name]) params.set(name, filters[name]);
  const path = `/admin/events/stream${params.size > 0 ? `?${params.toString()}` : ''}`;
  let lastId = filters.since;
  let delay = BACKOFF_START_MS;
  let opened = false;
  while (!signal.aborted) {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener('abort', abort);
    let silence: NodeJS.Timeout | undefined;
    const quiet = () => {
      clearTimeout(silence);
      silence = setTimeout(abort, SILENCE_MS);
    };
    let reason: string;
    try {
      quiet();
      const response = await fetch(`${base}${path}`, {
        headers: {
          authorization: `Bearer ${key}`,
          accept: 'text/event-stream',
          ...(lastId ? { 'last-event-id': lastId } : {}),
        },
        signal: connection.signal,
      });
      if (!response.ok) {
        const text = await response.text();
        if ([400, 401, 403, 404].includes(response.status)) {
          const detail = errorDetail(text);
          throw new CliError(`GET /admin/events/stream answered ${response.status}: ${detail}`, response.status);
        }
        reason = `the service answered ${response.status}`;
      } else {
        delay = BACKOFF_START_MS;
        onOpen(opened);
        opened = true;
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          quiet();
          buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            // An id without data (a heartbeat's) moves the resume point too, as in EventSource.
            if (block.id !== undefined) lastId = block.id;
            if (block.data !== undefined && block.id !== undefined) {
              await onMessage({
                id: block.id,
                event: block.event ?? 'message',
                data: JSON.parse(block.data) as EventSummary,
              });
            }
          }
        }
        reason = 'the stream ended';
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      if (signal.aborted) break;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      reason = connection.signal.aborted ? 'no heartbeat' : (cause ?? (error as Error).message);
    } finally {
      clearTimeout(silence);
      signal.removeEventListener('abort', abort);
    }
    if (signal.aborted) break;
    note(
      `stream interrupted (${reason}); reconnecting in ${(delay / 1000).toFixed(1)} s${lastId ? ` from ${lastId}` : ''}`,
    );
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
    });
    delay = Math.min(delay * 2, BACKOFF_MAX_MS);
  }
}

/** The service's `message` (one, or a validation list), else the body as it came. */
function errorDetail(text: string): string {
  try {
    const { message } = JSON.parse(text) as { message?: unknown };
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return text;
}

function parseBlock(text: string): { id?: string; event?: string; data?: string } {
  const block: { id?: string; event?: string; data?: string } = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') block.id = value;
    else if (field === 'event') block.event = value;
    else if (field === 'data') block.data = block.data === undefined ? value : `${block.data}\n${value}`;
  }
  return block;
}

/** An AbortSignal that Ctrl-C (or SIGTERM) aborts: following commands then exit 0. */
export function untilInterrupted(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    controller.abort();
    // fetch's idle keep-alive sockets would hold the process a few seconds more.
    setTimeout(() => process.exit(), 500).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
