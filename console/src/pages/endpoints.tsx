import { useState } from 'preact/hooks';
import { PANORA_SCOPES } from '../../../src/panora/panora-event-types';
import { api, type Endpoint, messageOf } from '../api';
import { href } from '../router';
import { Confirm, Dialog, formatTime, Notice, usePoll } from '../ui';

type Pending =
  { kind: 'rotate' | 'disable' | 'enable' | 'delete'; endpoint: Endpoint } | { kind: 'import' | 'register' } | null;

const scopesOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function Endpoints({ canWrite }: { canWrite: boolean }) {
  const [endpoints, setEndpoints] = useState<Endpoint[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [testType, setTestType] = useState<Record<string, string>>({});
  const [lastTest, setLastTest] = useState<{ endpointId: string; eventId: string } | null>(null);

  const load = async () => {
    try {
      setEndpoints(await api<Endpoint[]>('GET', '/admin/endpoints'));
      setError(null);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  usePoll(load, 30_000, []);

  /** Runs a change, says what happened, reloads the list. */
  const act = async (what: () => Promise<string>) => {
    setPending(null);
    try {
      setNotice(await what());
      setError(null);
    } catch (failure) {
      setError(messageOf(failure));
    }
    await load();
  };

  const confirmed = () => {
    if (!pending || !('endpoint' in pending)) return;
    const { kind, endpoint } = pending;
    const path = `/admin/endpoints/${endpoint.id}`;
    void act(async () => {
      if (kind === 'rotate') {
        const result = await api<{ rotation: { previousSecretExpiresAt: string } }>('POST', `${path}/rotate`);
        return `Secret rotated. The old secret is still accepted until ${formatTime(result.rotation.previousSecretExpiresAt)}.`;
      }
      if (kind === 'delete') {
        await api('DELETE', path);
        return 'Endpoint deleted.';
      }
      await api('PATCH', path, { active: kind === 'enable' });
      return kind === 'enable' ? 'Endpoint enabled.' : 'Endpoint disabled.';
    });
  };

  const sendTest = (endpoint: Endpoint) =>
    act(async () => {
      const type = testType[endpoint.id] ?? endpoint.scope[0];
      const result = await api<{ eventId: string }>('POST', `/admin/endpoints/${endpoint.id}/test-event`, { type });
      setLastTest({ endpointId: endpoint.id, eventId: result.eventId });
      return `Test event ${result.eventId} (${type}) sent.`;
    });

  const submitImport = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const body: Record<string, unknown> = { secret: String(data.get('secret') ?? '') };
    // The secret leaves the page as soon as it is read: never shown again.
    form.reset();
    const id = String(data.get('id_webhook_endpoint') ?? '').trim();
    const url = String(data.get('url') ?? '').trim();
    const scope = scopesOf(String(data.get('scope') ?? ''));
    if (id) body.id_webhook_endpoint = id;
    if (url) body.url = url;
    if (scope.length) body.scope = scope;
    void act(async () => {
      const result = await api<Endpoint & { outcome: string }>('POST', '/admin/endpoints/import', body);
      return `Endpoint ${result.id} imported (${result.outcome}). Its secret is stored sealed and is not shown again.`;
    });
  };

  const submitRegister = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const body: Record<string, unknown> = { scope: scopesOf(String(data.get('scope') ?? '')) };
    const description = String(data.get('description') ?? '').trim();
    const url = String(data.get('url') ?? '').trim();
    if (description) body.description = description;
    if (url) body.url = url;
    void act(async () => {
      const result = await api<Endpoint>('POST', '/admin/endpoints', body);
      return `Endpoint ${result.id} registered with Panora.${result.warnings?.length ? ` ${result.warnings.join(' ')}` : ''}`;
    });
  };

  const target = pending && 'endpoint' in pending ? pending : null;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Endpoints
      </h1>
      {canWrite ? (
        <div class="actions">
          <button type="button" class="primary" onClick={() => setPending({ kind: 'register' })}>
            Register with Panora…
          </button>
          <button type="button" onClick={() => setPending({ kind: 'import' })}>
            Import…
          </button>
        </div>
      ) : null}
      <Notice message={notice} error={error} />
      {lastTest ? (
        <p>
          <a href={href(`/events/${lastTest.eventId}`)}>Open test event {lastTest.eventId}</a>
        </p>
      ) : null}
      {endpoints === null ? (
        <p>Loading…</p>
      ) : endpoints.length === 0 ? (
        <p>No endpoints yet.</p>
      ) : (
        <ul class="endpoints">
          {endpoints.map((e) => (
            <li key={e.id} class="endpoint" aria-labelledby={`ep-${e.id}`}>
              <h2 id={`ep-${e.id}`}>
                {e.description || 'Endpoint'} <code>{e.id}</code>{' '}
                {e.active ? null : <span class="badge badge-dead">disabled</span>}
              </h2>
              <dl class="facts">
                <dt>Receives at</dt>
                <dd>
                  <code>{e.receiveUrl}</code>
                </dd>
                <dt>Panora endpoint</dt>
                <dd>{e.panoraEndpointId ?? 'not known (imported without its id)'}</dd>
                <dt>Events</dt>
                <dd>{e.scope.length ? e.scope.join(', ') : 'all'}</dd>
                <dt>Secrets</dt>
                <dd>
                  <ul class="plain">
                    {e.secrets.map((s) => (
                      <li key={s.id}>
                        <code>{s.hint}</code> since {formatTime(s.createdAt)}
                        {s.expiresAt ? `, accepted until ${formatTime(s.expiresAt)}` : ', current'}
                      </li>
                    ))}
                  </ul>
                </dd>
              </dl>
              {canWrite ? (
                <div class="actions">
                  <label>
                    Test event type
                    <select
                      value={testType[e.id] ?? e.scope[0]}
                      onChange={(ev) => setTestType({ ...testType, [e.id]: ev.currentTarget.value })}
                    >
                      {(e.scope.length ? e.scope : PANORA_SCOPES).map((s) => (
                        <option key={s} value={s}>
                          {s}
                        </option>
                      ))}
                    </select>
                  </label>
                  <button type="button" disabled={!e.active} onClick={() => void sendTest(e)}>
                    Send test event
                  </button>
                  <button type="button" onClick={() => setPending({ kind: 'rotate', endpoint: e })}>
                    Rotate secret…
                  </button>
                  <button
                    type="button"
                    onClick={() => setPending({ kind: e.active ? 'disable' : 'enable', endpoint: e })}
                  >
                    {e.active ? 'Disable…' : 'Enable…'}
                  </button>
                  <button type="button" class="danger" onClick={() => setPending({ kind: 'delete', endpoint: e })}>
                    Delete…
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <Confirm
        open={target !== null}
        title={target ? `${target.kind[0].toUpperCase()}${target.kind.slice(1)} this endpoint?` : ''}
        confirmLabel={target ? `${target.kind[0].toUpperCase()}${target.kind.slice(1)}` : ''}
        danger={target?.kind === 'delete' || target?.kind === 'disable'}
        onCancel={() => setPending(null)}
        onConfirm={confirmed}
      >
        {target ? (
          <p>
            Endpoint <code>{target.endpoint.id}</code>
            {target.kind === 'rotate'
              ? ': a new secret is made with Panora; the old one keeps being accepted for a grace period, shown once done.'
              : target.kind === 'delete'
                ? ': it is deleted at Panora and here; deliveries to it are refused from now on.'
                : target.kind === 'disable'
                  ? ': Panora stops delivering to it, and deliveries are refused until it is enabled.'
                  : ': deliveries are accepted again.'}
          </p>
        ) : null}
      </Confirm>
      <Dialog open={pending?.kind === 'import'} title="Import an endpoint" onClose={() => setPending(null)}>
        <form onSubmit={submitImport}>
          <label for="import-secret">Signing secret (shown by Panora; stored sealed, never shown again)</label>
          <input id="import-secret" name="secret" type="password" autocomplete="off" required minLength={8} autofocus />
          <label for="import-id">Panora endpoint id (optional)</label>
          <input id="import-id" name="id_webhook_endpoint" />
          <label for="import-url">URL registered at Panora (optional)</label>
          <input id="import-url" name="url" type="url" />
          <label for="import-scope">Event types (optional, separated by commas)</label>
          <input id="import-scope" name="scope" />
          <div class="actions">
            <button type="button" onClick={() => setPending(null)}>
              Cancel
            </button>
            <button type="submit" class="primary">
              Import
            </button>
          </div>
        </form>
      </Dialog>
      <Dialog
        open={pending?.kind === 'register'}
        title="Register an endpoint with Panora"
        onClose={() => setPending(null)}
      >
        <form onSubmit={submitRegister}>
          <label for="register-scope">Event types (separated by commas)</label>
          <input
            id="register-scope"
            name="scope"
            required
            list="scopes"
            autofocus
            placeholder="connection.created, crm.deal.created"
          />
          <datalist id="scopes">
            {PANORA_SCOPES.map((s) => (
              <option key={s} value={s} />
            ))}
          </datalist>
          <label for="register-description">Description (optional)</label>
          <input id="register-description" name="description" />
          <label for="register-url">Delivery URL (optional; this service’s receive URL by default)</label>
          <input id="register-url" name="url" type="url" />
          <div class="actions">
            <button type="button" onClick={() => setPending(null)}>
              Cancel
            </button>
            <button type="submit" class="primary">
              Register
            </button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
