// The report, as Markdown: the machine, the max-rate and fixed-rate tables, the checks, the
// targets (each marked met or not met with the measured figure) and the scaling cases.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { START_FLAGS } from './servers.mjs';

const NAMES = {
  service: 'panora-webhooks (verified, durable, processed)',
  minimal: 'minimal durable receiver (verified, durable)',
  fastify: 'bare Fastify route (context)',
  express: "Panora's documented Express handler (context)",
};
const ORDER = ['service', 'minimal', 'fastify', 'express'];

const f = (n, d = 0) =>
  Number.isFinite(Number(n))
    ? Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    : '–';
const check = (ok) => (ok ? 'met' : '**not met**');

function kernel() {
  try {
    return execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

export function render(results, { cluster, duration, rounds, rate, rabbitmq, walinspect }) {
  const lines = [];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  lines.push('# Ingest benchmark', '');
  lines.push(
    `Run ${new Date().toISOString()} by \`npm run bench\` on ${os.cpus().length} × ${cpu}, ${f(os.totalmem() / 2 ** 30, 1)} GiB, ${kernel()}; Node ${process.version}; PostgreSQL ${cluster.version} (${cluster.embedded ? 'embedded, .data/bench' : 'DATABASE_URL'}); load generator (autocannon, one thread), servers and PostgreSQL on the same machine; service started as \`npm start\` does (\`node ${[...START_FLAGS, 'dist/src/main.js'].join(' ')}\`), ${rabbitmq ? 'with RABBITMQ_URL (outbox relay on)' : 'without RABBITMQ_URL (outbox relay off: outbox rows are written, not published)'}; ${duration} s per run, ${rounds} round(s).`,
    '',
    'The yardstick is the minimal durable receiver (`bench/reference-durable.mjs`): the same signature check and a group-commit INSERT into its own table in its own database of the same PostgreSQL, answering after the commit, and nothing else. ' +
      'panora-webhooks also answers only after commit (fsync and `synchronous_commit` on), then processes each delivery (listeners, CRM projection rows, outbox rows). Bare Fastify and Express verify and store nothing: context only. ' +
      'Each server is measured alone, in the same order every round (Fastify, Express, minimal, panora-webhooks, whose backlog then drains before anything else runs).',
    '',
  );

  lines.push(
    '## Maximum rate',
    '',
    'Requests/s is the median of the rounds (range beside it); latencies and CPU are those of the median round; RSS the peak of all rounds; errors their sum; each ratio the median of the ratios taken round by round. CPU in cores (1.00 = one core busy for the whole run); a load generator near 1.00 is itself the limit of that run.',
    '',
    '| connections | server | requests/s | range | p50 ms | p99 ms | errors | peak RSS MB | server CPU | generator CPU | panora-webhooks / this |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const run of results.max) {
    for (const key of ORDER) {
      const r = run.servers[key];
      lines.push(
        `| ${run.connections} | ${NAMES[key]} | ${f(r.rps)} | ${f(r.min)}–${f(r.max)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.rssMb} | ${f(r.serverCores, 2)} | ${f(r.generatorCores, 2)} | ${f(run.ratios[key], 2)} |`,
      );
    }
  }

  const fixed = results.fixed;
  lines.push(
    '',
    `## Cost of a delivery at ${f(rate)}/s`,
    '',
    `autocannon at an overall rate of ${f(rate)}/s, 50 connections, ${duration} s (latencies corrected for coordinated omission); each figure the median of the rounds. ` +
      "CPU is counted from the start of the load until the server's backlog is processed (panora-webhooks: until its inbox has nothing left to process; the others: the end of the load) and divided by the deliveries acknowledged. " +
      "Server: the server process (/proc/<pid>/stat). PostgreSQL: the client backends of that server's database (the bench's own sessions excluded), sampled every 200 ms, a backend that exits keeping its last reading. " +
      `Background: PostgreSQL's shared work over the same window (checkpointer, WAL writer, background writer, autovacuum, postmaster), cluster-wide. WAL: the flushed WAL between the window's start and end (\`pg_current_wal_flush_lsn()\`), cluster-wide (valid because each server is measured alone), its records counted ${walinspect ? 'by pg_walinspect over that LSN range' : 'from \`pg_stat_wal.wal_records\` (pg_walinspect unavailable; backends report these up to 10 s late, so a window also counts some records of the activity before it)'}.`,
    '',
    '| server | requests/s | p50 ms | p99 ms | server µs/delivery | PostgreSQL µs/delivery | together | background µs/delivery | WAL records/delivery | WAL bytes/delivery | peak RSS MB | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const key of ORDER) {
    const r = fixed.servers[key];
    lines.push(
      `| ${NAMES[key]} | ${f(r.rps)} | ${r.p50} | ${r.p99} | ${f(r.serverUs)} | ${f(r.pgUs)} | ${f(r.totalUs)} | ${f(r.backgroundUs)} | ${f(r.walRecords, 1)} | ${f(r.walBytes)} | ${r.rssMb} | ${r.errors} |`,
    );
  }

  const s = results.service;
  const m = results.minimal;
  lines.push(
    '',
    '## Checks',
    '',
    `panora-webhooks acknowledged (2xx) ${f(s.acknowledged)} deliveries in the measured runs; found in the inbox afterwards: ${f(s.found)} — ${s.found === s.acknowledged ? 'all of them' : '**MISSING SOME**'}. New inbox rows: ${f(s.stored)} (more than acknowledged: in flight when a run stopped, stored but answered after the count, or the warm-up's).`,
    `The minimal receiver acknowledged ${f(m.acknowledged)}; found in its table: ${f(m.found)} — ${m.found === m.acknowledged ? 'all of them' : '**MISSING SOME**'}.`,
    `Processing (acknowledged → processed by the listeners, all inbox rows): p50 ${f(results.lag.p50)} ms, p99 ${f(results.lag.p99)} ms; backlog drained at worst ${results.drains.map((d) => `${f(d.seconds, 1)} s after a ${duration} s load at ${d.connections} connections`).join(', ')}, and ${f(fixed.drain, 1)} s after a ${duration} s load at ${f(rate)}/s.`,
  );

  const rss = Math.max(...results.max.map((r) => r.servers.service.rssMb), fixed.servers.service.rssMb);
  lines.push('', '## Targets', '', '| target | this run | |', '|---|---|---|');
  for (const run of results.max) {
    const ratio = run.ratios.minimal;
    lines.push(
      `| max rate at ${run.connections} connections ≥ 1.0 × the minimal durable receiver | ${f(ratio, 2)} × (rounds ${f(run.ratioRange[0], 2)}–${f(run.ratioRange[1], 2)}) | ${check(ratio >= 1)} |`,
    );
  }
  lines.push(
    `| CPU per delivery at ${f(rate)}/s (process + its PostgreSQL backends, processing included) ≤ 1.5 × the minimal's | ${f(fixed.cpuVsMinimal, 2)} × (${f(fixed.servers.service.totalUs)} against ${f(fixed.servers.minimal.totalUs)} µs) | ${check(fixed.cpuVsMinimal <= 1.5)} |`,
    `| p99 at ${f(rate)}/s ≤ the minimal's p99 | ${f(fixed.p99VsMinimal, 2)} × (${fixed.servers.service.p99} against ${fixed.servers.minimal.p99} ms) | ${check(fixed.p99VsMinimal <= 1)} |`,
  );
  const sc = results.scaling;
  if (sc) {
    lines.push(
      `| inbox of 1 million rows ≥ 90 % of the rate on an empty inbox | ${f(sc.inbox.ratio * 100)} % (rounds ${f(sc.inbox.range[0] * 100)}–${f(sc.inbox.range[1] * 100)} %) | ${check(sc.inbox.ratio >= 0.9)} |`,
      `| 100 endpoints ≥ 90 % of the rate on 1 endpoint | ${f(sc.endpoints.ratio * 100)} % (rounds ${f(sc.endpoints.range[0] * 100)}–${f(sc.endpoints.range[1] * 100)} %) | ${check(sc.endpoints.ratio >= 0.9)} |`,
    );
  }
  lines.push(`| peak service RSS ≤ 300 MB | ${rss} MB | ${check(rss <= 300)} |`);
  for (const d of results.drains) {
    lines.push(
      `| backlog drained within 2 × the load (${2 * duration} s), ${d.connections} connections | ${f(d.seconds, 1)} s | ${check(d.seconds <= 2 * duration)} |`,
    );
  }

  if (sc) {
    lines.push(
      '',
      `## Scaling (panora-webhooks, 50 connections unless noted, ${sc.duration} s per run)`,
      '',
      'The two cases of a pair alternate round by round (which goes first swaps every round), each starting once the previous backlog is processed; the ratio is taken per round, then the median. ' +
        'The 1-million-row inbox is a second instance on its own database, filled with processed rows (each with its replay hash), then VACUUM ANALYZE, CHECKPOINT and an unmeasured warm-up; the empty inbox is a fresh instance beside it.',
      '',
      '| case | requests/s (median) | range | p50 ms | p99 ms | errors | WAL bytes/delivery (during the load) | full-page images/delivery |',
      '|---|---|---|---|---|---|---|---|',
    );
    const wal = (n, d = 0) => (Number.isFinite(n) ? f(n, d) : '–');
    const row = (name, r) =>
      `| ${name} | ${f(r.rps)} | ${f(r.min)}–${f(r.max)} | ${r.p50} | ${r.p99} | ${r.errors} | ${wal(r.walBytes)} | ${wal(r.walFpi, 2)} |`;
    lines.push(
      row('1 endpoint, 1.8 KB', sc.endpoints.one),
      row('100 endpoints, 1.8 KB', sc.endpoints.hundred),
      row('1 process, 50 connections', sc.processes.one),
      row('2 processes on one database, 25 connections each', sc.processes.two),
      row('empty inbox', sc.inbox.empty),
      row('inbox holding 1,000,000 rows', sc.inbox.full),
      `| 1 endpoint, ~1 MB (crm.contact.pulled), 10 connections, one run | ${f(sc.pulled.rps)} | – | ${sc.pulled.p50} | ${sc.pulled.p99} | ${sc.pulled.errors} | ${f(sc.pulled.walBytes)} | ${f(sc.pulled.walFpi, 2)} |`,
    );
    const pr = sc.processes;
    lines.push(
      '',
      `Two processes of panora-webhooks on one database, against one: ${f(pr.ratio, 2)} × the rate (rounds ${f(pr.range[0], 2)}–${f(pr.range[1], 2)}); ` +
        `peak RSS per process ${pr.rssMb.map((mb) => `${mb} MB`).join(' and ')} (the first over the whole run).`,
    );
  }
  return `${lines.join('\n')}\n`;
}
