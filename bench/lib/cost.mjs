// What a delivery costs: CPU of the server process, CPU of the PostgreSQL backends serving it,
// PostgreSQL's shared background work, WAL written, peak RSS, over one measured window.
import { BENCH_APP, CLK_TCK, cpuTicks, parentPid, rssMb } from './common.mjs';

const SAMPLE_MS = 200;

const lsnBytes = (lsn) => {
  const [high, low] = lsn.split('/');
  return Number((BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`));
};

/**
 * Reads from `client` (a session named BENCH_APP). Each window is valid only when the server it
 * measures is the only thing the bench runs meanwhile: the background work and the WAL are
 * cluster-wide. WAL records are counted over the window's LSN range with pg_walinspect when the
 * client's database can have it (exact); else from pg_stat_wal, which backends update up to 10 s
 * late, so that a window also counts some records of the activity before it.
 */
export class CostMeter {
  constructor(client) {
    this.client = client;
  }

  async init() {
    try {
      await this.client.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
      this.walinspect = true;
    } catch {
      this.walinspect = false;
    }
    return this;
  }

  async wal() {
    const row = (
      await this.client.query('SELECT wal_records, wal_fpi, pg_current_wal_flush_lsn() AS lsn FROM pg_stat_wal')
    ).rows[0];
    return { records: Number(row.wal_records), fpi: Number(row.wal_fpi), lsn: row.lsn, bytes: lsnBytes(row.lsn) };
  }

  async walRecords(from, to, exact) {
    // No WAL flushed in the window: no records (pg_walinspect refuses an empty range).
    if (to.bytes <= from.bytes) return { records: 0, fpi: 0 };
    if (exact && this.walinspect) {
      try {
        const { rows } = await this.client.query(
          'SELECT sum(count) AS n, sum(fpi_count) AS fpi FROM pg_get_wal_stats($1, $2)',
          [from.lsn, to.lsn],
        );
        return { records: Number(rows[0].n ?? 0), fpi: Number(rows[0].fpi ?? 0) };
      } catch {
        // e.g. a segment already recycled: the statistics view then
      }
    }
    return { records: to.records - from.records, fpi: to.fpi - from.fpi };
  }

  /**
   * Starts a window on the server process `pid` whose database is `database` (none for a server
   * that stores nothing). Returns `{ stop }`; `stop()` ends it and returns the totals. `exact`
   * counts the WAL records with pg_walinspect (it reads the window's WAL back: seconds after a
   * max-rate run, so only where the report shows them).
   */
  async start({ pid, database }, exact = false) {
    const meter = this;
    // pid → ticks at the first sample (0 for a process born inside the window) and at the last
    // sample where it was still alive: a backend that exits keeps its last reading.
    const backends = new Map();
    const background = new Map();
    let first = true;
    let busy = false;
    let rss = rssMb(pid);
    const note = (into, id) => {
      const ticks = cpuTicks(id);
      if (ticks === undefined) return;
      const seen = into.get(id);
      if (seen) seen.last = ticks;
      else into.set(id, { first: first ? ticks : 0, last: ticks });
    };
    const sample = async () => {
      if (busy) return;
      busy = true;
      try {
        rss = Math.max(rss, rssMb(pid));
        const { rows } = await meter.client.query(
          `SELECT pid, datname, backend_type, application_name FROM pg_stat_activity WHERE pid <> pg_backend_pid()`,
        );
        for (const row of rows) {
          if (row.backend_type === 'client backend') {
            if (database && row.datname === database && row.application_name !== BENCH_APP) note(backends, row.pid);
          } else if (row.backend_type !== 'parallel worker') {
            note(background, row.pid);
          }
        }
        meter.postmaster ??= parentPid((await meter.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
        if (meter.postmaster) note(background, meter.postmaster);
      } finally {
        busy = false;
      }
    };

    const wal0 = await meter.wal();
    await sample();
    first = false;
    const server0 = cpuTicks(pid) ?? 0;
    const self0 = process.cpuUsage();
    const started = Date.now();
    const timer = setInterval(() => void sample().catch(() => {}), SAMPLE_MS);

    const total = (map) => [...map.values()].reduce((sum, t) => sum + (t.last - t.first), 0) / CLK_TCK;
    return {
      async stop() {
        clearInterval(timer);
        while (busy) await new Promise((done) => setTimeout(done, 10));
        const serverCpu = ((cpuTicks(pid) ?? server0) - server0) / CLK_TCK;
        const seconds = (Date.now() - started) / 1000;
        const self = process.cpuUsage(self0);
        await sample();
        // Committed WAL is flushed; the WAL writer flushes the rest within its 200 ms delay.
        await new Promise((done) => setTimeout(done, 300));
        const wal1 = await meter.wal();
        return {
          seconds,
          rssMb: Math.round(Math.max(rss, rssMb(pid))),
          serverCpu, // CPU seconds
          pgCpu: total(backends),
          backgroundCpu: total(background),
          generatorCpu: (self.user + self.system) / 1e6,
          ...(await meter
            .walRecords(wal0, wal1, exact)
            .then(({ records, fpi }) => ({ walRecords: records, walFpi: fpi }))),
          walBytes: wal1.bytes - wal0.bytes,
        };
      },
    };
  }
}

/**
 * Runs `run` (a load) inside a cost window; `settle` (optional) is awaited after it, still inside
 * the window (the service's drain); `exact` as in CostMeter.start. Costs come back per delivery acknowledged, CPU in µs.
 */
export async function measured(meter, server, run, { settle, exact } = {}) {
  const window = await meter.start(server, exact);
  let cost;
  let result;
  try {
    result = await run();
    if (settle) result.settled = await settle();
  } finally {
    cost = await window.stop();
  }
  const per = (value) => (result.ok ? value / result.ok : NaN);
  return {
    ...result,
    rssMb: cost.rssMb,
    serverCores: cost.serverCpu / cost.seconds,
    generatorCores: cost.generatorCpu / cost.seconds,
    serverUs: per(cost.serverCpu * 1e6),
    pgUs: per(cost.pgCpu * 1e6),
    backgroundUs: per(cost.backgroundCpu * 1e6),
    walRecords: per(cost.walRecords),
    walBytes: per(cost.walBytes),
    /** Full-page images: the first change to a page after a checkpoint writes the whole page. */
    walFpi: per(cost.walFpi),
  };
}
