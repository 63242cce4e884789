import { useEffect, useRef, useState } from 'preact/hooks';
import { api, EVENT_STATUSES, type Endpoint, type EventSummary, messageOf, type Page, query } from '../api';
import { href, navigate } from '../router';
import { formatTime, Notice, StatusBadge, usePoll } from '../ui';

/** How often the first page looks for new events (live arrival). */
const LIVE_MS = 3_000;
const FILTERS = ['status', 'type', 'endpointId', 'after', 'before'] as const;

/** `datetime-local` value (local time) to ISO; '' stays ''. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : '');

export function Events({ params }: { params: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Filters;
  const cursor = params.get('cursor') ?? '';
  const [page, setPage] = useState<Page<EventSummary> | null>(null);
  const [endpoints, setEndpoints] = useState<Endpoint[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [search, setSearch] = useState('');
  const seen = useRef<Set<string>>(new Set());
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const key = params.toString();

  useEffect(() => {
    api<Endpoint[]>('GET', '/admin/endpoints').then(setEndpoints, () => setEndpoints([]));
  }, []);
  useEffect(() => {
    seen.current = new Set();
    setPage(null);
  }, [key]);

  const load = async () => {
    try {
      // A "received before" time becomes the list's cursor (ids follow the order of reception).
      let start = cursor;
      if (!start && filters.before) {
        start =
          (
            await api<{ cursor: string | null }>(
              'GET',
              `/admin/event-cursor${query({ before: toIso(filters.before) })}`,
            )
          ).cursor ?? '';
      }
      const next = await api<Page<EventSummary>>(
        'GET',
        `/admin/events${query({ status: filters.status, type: filters.type, endpointId: filters.endpointId, cursor: start, limit: 50 })}`,
      );
      // A "received after" time ends the list: older rows are dropped, and paging stops there.
      if (filters.after) {
        const after = Date.parse(toIso(filters.after));
        const kept = next.items.filter((e) => Date.parse(e.receivedAt) >= after);
        if (kept.length < next.items.length) next.nextCursor = null;
        next.items = kept;
      }
      const arrived = next.items.filter((e) => seen.current.size > 0 && !seen.current.has(e.id)).map((e) => e.id);
      next.items.forEach((e) => seen.current.add(e.id));
      if (arrived.length > 0) {
        setFresh(new Set(arrived));
        setNotice(`${arrived.length} new event${arrived.length === 1 ? '' : 's'}`);
      }
      setPage(next);
      setError(null);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  // Live on the first page only: later pages stay still while read.
  usePoll(load, live && !cursor ? LIVE_MS : 3_600_000, [key, live]);

  const find = async (event: Event) => {
    event.preventDefault();
    if (!search.trim()) return;
    try {
      const { ids } = await api<{ ids: string[] }>('GET', `/admin/event-ids${query({ idEvent: search.trim() })}`);
      if (ids.length === 0) setNotice(`No event with id_event ${search.trim()}`);
      else navigate(`/events/${ids[0]}`);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Events
      </h1>
      <FilterForm key={key} initial={filters} endpoints={endpoints} />
      <form class="filters" onSubmit={find} aria-label="Find an event by id_event">
        <label>
          Panora id_event
          <input value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="f4e1ff72-…" />
        </label>
        <button type="submit">Find</button>
      </form>
      <label class="inline">
        <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} disabled={!!cursor} />{' '}
        Show new events as they arrive
      </label>
      <Notice message={notice} error={error} />
      {page ? (
        <>
          <table class="list">
            <caption class="visually-hidden">Events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Received</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((e) => (
                <tr key={e.id} class={fresh.has(e.id) ? 'fresh' : undefined} data-event-id={e.id}>
                  <td>
                    <a href={href(`/events/${e.id}`)}>{e.id}</a>
                  </td>
                  <td>{formatTime(e.receivedAt)}</td>
                  <td>{e.normalizedType}</td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td>{e.attempts}</td>
                  <td class="error-text">{e.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.items.length === 0 ? <p>No events match.</p> : null}
          <nav class="pager" aria-label="Pages">
            {cursor ? <a href={href('/events', { ...filters })}>Newest</a> : null}
            {page.nextCursor ? <a href={href('/events', { ...filters, cursor: page.nextCursor })}>Older</a> : null}
          </nav>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </section>
  );
}

type Filters = Record<(typeof FILTERS)[number], string>;

/** The filters, edited here and applied to the URL (so a filtered list can be bookmarked or shared). */
function FilterForm({ initial, endpoints }: { initial: Filters; endpoints: Endpoint[] }) {
  const [values, setValues] = useState(initial);
  const set = (name: keyof Filters) => (event: Event) =>
    setValues({ ...values, [name]: (event.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  const apply = (event: Event) => {
    event.preventDefault();
    navigate('/events', values);
  };
  return (
    <form class="filters" onSubmit={apply} aria-label="Filter events">
      <label>
        Status
        <select name="status" value={values.status} onChange={set('status')}>
          <option value="">any</option>
          {EVENT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Type
        <input name="type" value={values.type} onInput={set('type')} placeholder="crm.deal.created" />
      </label>
      <label>
        Endpoint
        <select name="endpointId" value={values.endpointId} onChange={set('endpointId')}>
          <option value="">any</option>
          {endpoints.map((e) => (
            <option key={e.id} value={e.id}>
              {e.description || e.id}
            </option>
          ))}
        </select>
      </label>
      <label>
        Received after
        <input name="after" type="datetime-local" step="1" value={values.after} onInput={set('after')} />
      </label>
      <label>
        Received before
        <input name="before" type="datetime-local" step="1" value={values.before} onInput={set('before')} />
      </label>
      <button type="submit" class="primary">
        Apply
      </button>
      <a href={href('/events')}>Clear</a>
    </form>
  );
}
