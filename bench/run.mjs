#!/usr/bin/env node
// npm run bench: drives the production build with correctly signed Panora deliveries (unique
// id_event each) and, in the same run, three reference servers under the same load: a minimal
// durable verified receiver (bench/reference-durable.mjs, the yardstick), a bare Fastify route and
// Panora's documented Express handler (context). Measures the maximum rate, then the cost of a
// delivery at a fixed 1,000/s (CPU of the server and of its PostgreSQL backends, WAL), verifies that
// every acknowledged delivery is stored, watches the backlog drain, and runs the scaling cases.
// Prints the report; `--write-results` also writes it to bench/RESULTS.md.
//
// Env: DATABASE_URL (else an embedded PostgreSQL in .data/bench), BENCH_DURATION (s, default 10),
// BENCH_ROUNDS (default 3: every measurement repeated that many times, medians reported),
// BENCH_SCALING=0 to skip the scaling section; RABBITMQ_URL is passed to the service when set.
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { log } from './lib/common.mjs';
import { CostMeter, measured } from './lib/cost.mjs';
import { deliveryPool, load, signedDelivery } from './lib/deliveries.mjs';
import { render } from './lib/report.mjs';
import { runScaling } from './lib/scaling.mjs';
import {
  BENCH_DIR,
  MAIN_JS,
  cleanup,
  connect,
  createDatabase,
  openCluster,
  startReference,
  startService,
  stop,
} from './lib/servers.mjs';
import { summariseFixed, summariseMax } from './lib/summary.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const SCALING = process.env.BENCH_SCALING !== '0';
const FIXED_RATE = 1000;
const WRITE = process.argv.includes('--write-results');

async function main() {
  if (!existsSync(MAIN_JS)) throw new Error('dist/src/main.js is missing: npm run bench builds it first');
  const cluster = await openCluster();
  // The meter's own database, for pg_walinspect (never installed in a database the bench did not create).
  const meter = await new CostMeter(await connect((await createDatabase(cluster.baseUrl, 'meter')).url)).init();
  const serviceDb = await createDatabase(cluster.baseUrl, 'service');
  const minimalDb = await createDatabase(cluster.baseUrl, 'minimal');

  const service = await startService(serviceDb);
  const endpoint = await service.importEndpoint();
  const pool = deliveryPool(endpoint.secret);
  const sample = signedDelivery(pool[0]);
  log(`delivery size: ${sample.prefix.length + 36 + sample.suffix.length} bytes`);
  const minimal = await startReference('reference-durable.mjs', {
    DATABASE_URL: minimalDb.url,
    BENCH_SECRET: endpoint.secret,
  });
  minimal.database = minimalDb.name;
  minimal.db = await connect(minimalDb.url);
  const fastify = await startReference('reference-fastify.mjs');
  const express = await startReference('reference-express.mjs');

  const acked = { service: [], minimal: [] };
  // Measured in this order in every round: the references first, the service last, so that its
  // backlog drains before anything else runs and its processing never loads another server.
  const servers = [
    { key: 'fastify', server: fastify, paths: ['/webhook'] },
    { key: 'express', server: express, paths: ['/webhook'] },
    { key: 'minimal', server: minimal, paths: [`/webhooks/${endpoint.id}`], acked: acked.minimal },
    { key: 'service', server: service, paths: [`/webhooks/panora/${endpoint.id}`], acked: acked.service },
  ];

  // Warm-up (JIT, pools, prepared statements), not counted; the service's backlog drains first.
  for (const s of servers) await load({ url: s.server.url, paths: s.paths, pool, connections: 50, duration: 2 });
  await service.drain();
  const count = async (db, table) => Number((await db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
  const rowsBefore = await count(service.db, 'webhook_events');

  const results = { max: [], drains: [], scaling: undefined };
  for (const connections of [50, 200]) {
    log(`max rate: ${connections} connections, ${ROUNDS} round(s) of ${DURATION} s per server`);
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = {};
      for (const s of servers) {
        r[s.key] = await measured(meter, s.server, () =>
          load({ url: s.server.url, paths: s.paths, pool, connections, duration: DURATION, acked: s.acked }),
        );
      }
      r.drain = await service.drain();
      log(
        `  round ${round + 1}: ${servers.map((s) => `${s.key} ${Math.round(r[s.key].rps)}/s`).join(', ')}; drained in ${r.drain.toFixed(1)} s`,
      );
      rounds.push(r);
    }
    results.drains.push({ connections, seconds: Math.max(...rounds.map((r) => r.drain)) });
    results.max.push(summariseMax(connections, rounds));
  }

  log(`fixed rate: ${FIXED_RATE}/s at 50 connections, ${ROUNDS} round(s) of ${DURATION} s per server`);
  const fixedRounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = {};
    for (const s of servers) {
      // The service's window runs until its backlog is processed: processing is part of its cost.
      const settle = s.key === 'service' ? service.drain : undefined;
      r[s.key] = await measured(
        meter,
        s.server,
        () =>
          load({
            url: s.server.url,
            paths: s.paths,
            pool,
            connections: 50,
            duration: DURATION,
            rate: FIXED_RATE,
            acked: s.acked,
          }),
        { settle, exact: true },
      );
    }
    const us = (m) => Math.round(m.serverUs + m.pgUs);
    log(
      `  round ${round + 1}: CPU µs/delivery ${servers.map((s) => `${s.key} ${us(r[s.key])}`).join(', ')}; p99 service ${r.service.p99} ms, minimal ${r.minimal.p99} ms`,
    );
    fixedRounds.push(r);
  }
  results.fixed = summariseFixed(fixedRounds);

  // Every acknowledged delivery is stored (rows may be more: requests still in flight when a run
  // stopped were stored but their answers not counted).
  results.service = {
    acknowledged: acked.service.length,
    found: Number(
      (
        await service.db.query(
          'SELECT count(*) FROM webhook_events WHERE endpoint_id = $1 AND id_event = ANY($2::text[])',
          [endpoint.id, acked.service],
        )
      ).rows[0].count,
    ),
    stored: (await count(service.db, 'webhook_events')) - rowsBefore,
  };
  results.minimal = {
    acknowledged: acked.minimal.length,
    found: Number(
      (
        await minimal.db.query(
          'SELECT count(*) FROM minimal_events WHERE endpoint = $1 AND id_event = ANY($2::text[])',
          [endpoint.id, acked.minimal],
        )
      ).rows[0].count,
    ),
  };
  const lag = (
    await service.db
      .query(`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
                              FROM (SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM webhook_events) s`)
  ).rows[0];
  results.lag = { p50: Number(lag.p50), p99: Number(lag.p99) };

  for (const reference of [minimal, fastify, express]) await stop(reference.child);
  if (SCALING) {
    results.scaling = await runScaling({
      meter,
      cluster,
      service,
      endpoint,
      pool,
      rounds: ROUNDS,
      duration: Math.max(3, Math.round(DURATION / 2)),
      createDatabase,
      startService,
      stop,
    });
  }
  return { results, cluster, walinspect: meter.walinspect };
}

// Interrupted: still kill the children and drop the databases.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

let exitCode = 0;
let outcome;
try {
  outcome = await main();
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await cleanup();
}
if (outcome) {
  const { results, cluster } = outcome;
  const text = render(results, {
    cluster,
    duration: DURATION,
    rounds: ROUNDS,
    rate: FIXED_RATE,
    rabbitmq: Boolean(process.env.RABBITMQ_URL),
    walinspect: outcome.walinspect,
  });
  console.log(text);
  if (WRITE) writeFileSync(resolve(BENCH_DIR, 'RESULTS.md'), text);
  if (results.service.found !== results.service.acknowledged || results.minimal.found !== results.minimal.acknowledged)
    exitCode = 1;
}
process.exit(exitCode);
