import { useState } from 'preact/hooks';
import { api, type Connection, messageOf, query } from '../api';
import { navigate } from '../router';
import { Confirm, formatTime, Notice, usePoll } from '../ui';

const FIELDS = [
  { name: 'linkedUserId', label: 'Linked user id' },
  { name: 'originId', label: 'Origin user id' },
  { name: 'provider', label: 'Provider' },
] as const;

export function Connections({ params }: { params: URLSearchParams }) {
  const current = Object.fromEntries(FIELDS.map((f) => [f.name, params.get(f.name) ?? '']));
  const [values, setValues] = useState(current);
  const [items, setItems] = useState<Connection[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [asking, setAsking] = useState<Connection | null>(null);
  // Revealed tokens: in memory while shown, dropped by Hide or on leaving the page.
  const [tokens, setTokens] = useState<Record<string, string>>({});
  const key = params.toString();

  usePoll(
    async () => {
      try {
        setItems(
          (await api<{ items: Connection[] }>('GET', `/admin/connections${query({ ...current, limit: 100 })}`)).items,
        );
        setError(null);
      } catch (failure) {
        setError(messageOf(failure));
      }
    },
    60_000,
    [key],
  );

  const reveal = async (connection: Connection) => {
    setAsking(null);
    try {
      const { connectionToken } = await api<{ connectionToken: string }>(
        'GET',
        `/admin/connections/${encodeURIComponent(connection.idConnection)}/token`,
      );
      setTokens({ ...tokens, [connection.idConnection]: connectionToken });
      setNotice('Token revealed; the read was logged.');
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  const hide = (id: string) => {
    const { [id]: _, ...rest } = tokens;
    setTokens(rest);
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Connections
      </h1>
      <form
        class="filters"
        aria-label="Search connections"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('/connections', values);
        }}
      >
        {FIELDS.map((f) => (
          <label key={f.name}>
            {f.label}
            <input value={values[f.name]} onInput={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })} />
          </label>
        ))}
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <Notice message={notice} error={error} />
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p>No connections match.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Connection</th>
              <th scope="col">Provider</th>
              <th scope="col">Linked user</th>
              <th scope="col">Origin id</th>
              <th scope="col">Status</th>
              <th scope="col">Updated</th>
              <th scope="col">Token</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.idConnection}>
                <td>
                  <code>{c.idConnection}</code>
                </td>
                <td>
                  {c.providerSlug ?? '—'} <small>{c.vertical ?? ''}</small>
                </td>
                <td>{c.idLinkedUser ?? '—'}</td>
                <td>{c.linkedUserOriginId ?? '—'}</td>
                <td>{c.status ?? '—'}</td>
                <td>{formatTime(c.updatedAt)}</td>
                <td>
                  {!c.hasToken ? (
                    'none'
                  ) : tokens[c.idConnection] ? (
                    <>
                      <code class="secret">{tokens[c.idConnection]}</code>{' '}
                      <button type="button" onClick={() => hide(c.idConnection)}>
                        Hide
                      </button>
                    </>
                  ) : (
                    <>
                      <code>{c.tokenHint ?? '••••'}</code>{' '}
                      <button
                        type="button"
                        onClick={() => setAsking(c)}
                        aria-label={`Reveal the token of ${c.idConnection}`}
                      >
                        Reveal…
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Confirm
        open={asking !== null}
        title="Reveal this connection token?"
        confirmLabel="Reveal"
        onCancel={() => setAsking(null)}
        onConfirm={() => asking && void reveal(asking)}
      >
        <p>
          The token of <code>{asking?.idConnection}</code> lets its holder act as the end-user at the provider. The read
          is logged with your request.
        </p>
      </Confirm>
    </section>
  );
}
