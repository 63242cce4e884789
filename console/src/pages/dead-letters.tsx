import { useRef, useState } from 'preact/hooks';
import { api, ApiError, type DeadGroup, messageOf, query } from '../api';
import { href } from '../router';
import { Confirm, formatTime, Notice, usePoll } from '../ui';

/** Replays in flight at once: quick for a few hundred events, gentle on the service. */
const CONCURRENCY = 4;

interface Plan {
  group: DeadGroup;
  ids: string[];
  truncated: boolean;
}
interface Progress {
  total: number;
  done: number;
  refused: number;
  running: boolean;
}

export function DeadLetters({ canWrite }: { canWrite: boolean }) {
  const [groups, setGroups] = useState<DeadGroup[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const stop = useRef(false);

  const load = async () => {
    try {
      setGroups((await api<{ groups: DeadGroup[] }>('GET', '/admin/dead-letters')).groups);
      setError(null);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  usePoll(load, 10_000, []);

  // The count comes from the server's list of the group's ids, fetched before asking.
  const prepare = async (group: DeadGroup) => {
    try {
      const { ids, truncated } = await api<{ ids: string[]; truncated: boolean }>(
        'GET',
        `/admin/dead-letters/ids${query({ type: group.type, error: group.error })}`,
      );
      setPlan({ group, ids, truncated });
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  const run = async ({ ids }: Plan) => {
    setPlan(null);
    stop.current = false;
    const state: Progress = { total: ids.length, done: 0, refused: 0, running: true };
    setProgress({ ...state });
    const queue = [...ids];
    const worker = async () => {
      while (queue.length > 0 && !stop.current) {
        const id = queue.shift() as string;
        try {
          await api('POST', `/admin/events/${id}/replay`);
        } catch (failure) {
          if (failure instanceof ApiError && failure.status === 401) throw failure;
          state.refused++;
        }
        state.done++;
        setProgress({ ...state });
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } catch (failure) {
      setError(messageOf(failure));
    }
    state.running = false;
    setProgress({ ...state });
    setNotice(
      `${stop.current ? 'Stopped: ' : ''}${state.done - state.refused} of ${state.total} queued again` +
        (state.refused ? `, ${state.refused} refused (being processed, or pruned)` : ''),
    );
    await load();
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Dead letters
      </h1>
      <p class="help">Dead events, grouped by type and by error (ids and numbers masked, so one cause is one group).</p>
      <Notice message={notice} error={error} />
      {progress ? (
        <div class="progress" aria-live="polite">
          <label for="replay-progress">
            Replaying: {progress.done} of {progress.total}
            {progress.refused ? `, ${progress.refused} refused` : ''}
          </label>
          <progress id="replay-progress" max={progress.total} value={progress.done} />
          {progress.running ? (
            <button type="button" onClick={() => (stop.current = true)}>
              Stop
            </button>
          ) : null}
        </div>
      ) : null}
      {groups === null ? (
        <p>Loading…</p>
      ) : groups.length === 0 ? (
        <p>No dead events.</p>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Error</th>
              <th scope="col">Events</th>
              <th scope="col">Newest</th>
              {canWrite ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={`${g.type} ${g.error}`}>
                <td>{g.type}</td>
                <td class="error-text" title={g.sampleError ?? ''}>
                  {g.error || '(no error recorded)'}
                </td>
                <td>
                  <a href={href('/events', { status: 'dead', type: g.type })}>{g.count}</a>
                </td>
                <td>
                  <a href={href(`/events/${g.sampleId}`)}>{formatTime(g.newestReceivedAt)}</a>
                </td>
                {canWrite ? (
                  <td>
                    <button type="button" disabled={progress?.running} onClick={() => prepare(g)}>
                      Replay group…
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Confirm
        open={plan !== null}
        title="Replay this group?"
        confirmLabel={`Replay ${plan?.ids.length ?? 0} events`}
        onCancel={() => setPlan(null)}
        onConfirm={() => plan && void run(plan)}
      >
        {plan ? (
          <p>
            <strong>{plan.ids.length}</strong> dead events of type <code>{plan.group.type}</code> with the error “
            {plan.group.error}” will be queued again; their failed listeners run.
            {plan.truncated ? ' The group is larger: replay the rest afterwards.' : ''}
          </p>
        ) : null}
      </Confirm>
    </section>
  );
}
