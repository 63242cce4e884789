import { useState } from 'preact/hooks';
import { api, type EventDetail, messageOf } from '../api';
import { href } from '../router';
import { formatTime, Notice, StatusBadge, usePoll } from '../ui';

/** How often an unfinished event is read again (its status changes while the page is open). */
const POLL_MS = 2_000;

export function EventPage({ id, canWrite }: { id: string; canWrite: boolean }) {
  const [event, setEvent] = useState<EventDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      setEvent(await api<EventDetail>('GET', `/admin/events/${encodeURIComponent(id)}`));
      setError(null);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  usePoll(load, POLL_MS, [id]);

  const replay = async (all: boolean) => {
    setBusy(true);
    try {
      await api('POST', `/admin/events/${encodeURIComponent(id)}/replay${all ? '?all=true' : ''}`);
      setNotice(all ? 'Queued again: every listener runs.' : 'Queued again: its failed listeners run.');
      await load();
    } catch (failure) {
      setError(`Replay refused: ${messageOf(failure)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <p class="crumbs">
        <a href={href('/events')}>Events</a> ›
      </p>
      <h1 id="page-title" tabIndex={-1}>
        Event {id}
      </h1>
      <Notice message={notice} error={error} />
      {event ? (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={event.status} />
            </dd>
            <dt>Type</dt>
            <dd>
              {event.normalizedType}{' '}
              {event.type !== event.normalizedType ? <small>(delivered as {event.type})</small> : null}
            </dd>
            <dt>Panora id_event</dt>
            <dd>
              <code>{event.idEvent}</code>
            </dd>
            <dt>Endpoint</dt>
            <dd>
              <code>{event.endpointId}</code>
            </dd>
            <dt>Attempts</dt>
            <dd>{event.attempts}</dd>
            <dt>Received</dt>
            <dd>{formatTime(event.receivedAt)}</dd>
            <dt>Processed</dt>
            <dd>{formatTime(event.processedAt)}</dd>
            <dt>Next retry</dt>
            <dd>{event.status === 'failed' ? formatTime(event.nextAttemptAt) : '—'}</dd>
            <dt>Last error</dt>
            <dd class="error-text">{event.lastError ?? '—'}</dd>
          </dl>
          {canWrite ? (
            <div class="actions">
              <button
                type="button"
                class="primary"
                disabled={busy || event.status === 'processing'}
                onClick={() => replay(false)}
              >
                Replay
              </button>
              <button type="button" disabled={busy || event.status === 'processing'} onClick={() => replay(true)}>
                Replay every listener
              </button>
            </div>
          ) : null}
          <h2>Listeners</h2>
          {event.listeners.length === 0 ? (
            <p>No listener has run yet.</p>
          ) : (
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Listener</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {event.listeners.map((l) => (
                  <tr key={l.listener}>
                    <td>
                      <code>{l.listener}</code>
                    </td>
                    <td>
                      <StatusBadge status={l.status} />
                    </td>
                    <td>{l.attempts}</td>
                    <td class="error-text">{l.lastError ?? ''}</td>
                    <td>{formatTime(l.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Payload</h2>
          <p class="help">Credentials are redacted, as the API shows them.</p>
          <pre class="payload" tabIndex={0} aria-label="Payload (JSON)">
            {event.payload === null ? 'Pruned after the retention period' : JSON.stringify(event.payload, null, 2)}
          </pre>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </section>
  );
}
