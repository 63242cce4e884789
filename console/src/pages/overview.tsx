import { useRef, useState } from 'preact/hooks';
import { api, messageOf, type Stats } from '../api';
import { Chart, formatAge, formatTime, Notice, usePoll } from '../ui';

/** How often the overview asks for fresh figures. */
const POLL_MS = 5_000;
/** Backlog samples kept (an hour at one per poll). */
const MAX_SAMPLES = 720;

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function Overview() {
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The backlog is a level, not a count per minute: sampled at each poll while the page is open.
  const samples = useRef<{ t: number; pending: number; oldest: number | null }[]>([]);

  usePoll(
    async () => {
      try {
        const next = await api<Stats>('GET', '/admin/stats');
        const { received, processing, failed } = next.backlog;
        samples.current = [
          ...samples.current.slice(-(MAX_SAMPLES - 1)),
          {
            t: Date.parse(next.generatedAt) / 1000,
            pending: received + processing + failed,
            oldest: next.backlog.oldestPendingSeconds,
          },
        ];
        setStats(next);
        setError(null);
      } catch (failure) {
        setError(`Could not read the figures: ${messageOf(failure)}`);
      }
    },
    POLL_MS,
    [],
  );

  const times = stats ? stats.minutes.map((m) => Date.parse(m) / 1000) : [];
  const span: [number, number] = stats ? [times[0], Date.parse(stats.generatedAt) / 1000] : [0, 1];
  const b = stats?.backlog;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Overview
      </h1>
      <Notice error={error} />
      {stats && b ? (
        <>
          <dl class="cards">
            <div class={`card broker-${stats.broker.status}`}>
              <dt>Broker</dt>
              <dd>
                {stats.broker.status}
                <small>since {formatTime(stats.broker.since)}</small>
                {stats.broker.error ? <small>{stats.broker.error}</small> : null}
              </dd>
            </div>
            <div class="card">
              <dt>Backlog</dt>
              <dd>
                {b.received + b.processing + b.failed}
                <small>
                  {b.received} received, {b.processing} processing, {b.failed} failed
                </small>
              </dd>
            </div>
            <div class="card">
              <dt>Oldest pending</dt>
              <dd>{formatAge(b.oldestPendingSeconds)}</dd>
            </div>
            <div class={b.dead > 0 ? 'card card-alert' : 'card'}>
              <dt>Dead</dt>
              <dd>
                <a href="#/dead">{b.dead}</a>
              </dd>
            </div>
            <div class="card">
              <dt>Outbox pending</dt>
              <dd>{stats.outboxPending ?? 'unknown'}</dd>
            </div>
          </dl>
          <p class="updated">
            Updated {formatTime(stats.generatedAt)}, every {POLL_MS / 1000} s.
          </p>
          <div class="charts">
            <Chart
              title="Deliveries per minute, last hour"
              times={times}
              span={span}
              summary={`${sum(stats.received)} received, ${sum(stats.processed)} processed`}
              series={[
                { label: 'Received', values: stats.received, color: '#2563eb' },
                { label: 'Processed', values: stats.processed, color: '#16a34a' },
              ]}
            />
            <Chart
              title="Failures per minute, last hour"
              times={times}
              span={span}
              summary={`${sum(stats.failed)} failed and waiting for a retry, ${sum(stats.dead)} dead`}
              series={[
                { label: 'Failed', values: stats.failed, color: '#d97706' },
                { label: 'Dead', values: stats.dead, color: '#dc2626' },
              ]}
            />
            <Chart
              title="Backlog since this page opened"
              times={samples.current.map((s) => s.t)}
              span={span}
              summary={`${b.received + b.processing + b.failed} pending now, the oldest for ${formatAge(b.oldestPendingSeconds)}`}
              series={[
                { label: 'Pending events', values: samples.current.map((s) => s.pending), color: '#7c3aed' },
                { label: 'Oldest pending (s)', values: samples.current.map((s) => s.oldest), color: '#6b7280' },
              ]}
            />
          </div>
        </>
      ) : (
        <p>Loading…</p>
      )}
    </section>
  );
}
