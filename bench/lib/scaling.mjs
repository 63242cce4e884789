// Scaling, in rounds like the rest: 100 endpoints against 1, an inbox of 1 million rows against an
// empty one, each pair alternated round by round (which goes first swaps every round), every case
// starting on a settled service; and the ~1 MB crm.contact.pulled case as a single row.
import { readFileSync } from 'node:fs';
import { median, log } from './common.mjs';
import { measured } from './cost.mjs';
import { deliveryPool, load, pulledBatch } from './deliveries.mjs';

const FILL = 1_000_000;

/** A process's peak RSS over its life (VmHWM), in MB. */
function peakRssMb(pid) {
  try {
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return NaN;
  }
}

/** Runs `a` and `b` alternately for `rounds` rounds; returns their runs and the median of b / a. */
async function paired(rounds, a, b) {
  const runs = { a: [], b: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? ['b', 'a'] : ['a', 'b'];
    for (const which of order) runs[which].push(await (which === 'a' ? a : b)());
    log(`  round ${round + 1}: ${Math.round(runs.a.at(-1).rps)}/s against ${Math.round(runs.b.at(-1).rps)}/s`);
  }
  const all = runs.a.map((run, i) => runs.b[i].rps / run.rps);
  return {
    a: runs.a,
    b: runs.b,
    ratio: median(all),
    range: [Math.min(...all), Math.max(...all)],
  };
}

const summary = (runs) => ({
  rps: median(runs.map((r) => r.rps)),
  min: Math.min(...runs.map((r) => r.rps)),
  max: Math.max(...runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  errors: runs.reduce((sum, r) => sum + r.errors, 0),
  walBytes: median(runs.map((r) => r.walBytes)),
  walFpi: median(runs.map((r) => r.walFpi)),
});

export async function runScaling({
  meter,
  cluster,
  service,
  endpoint,
  pool,
  rounds,
  duration,
  createDatabase,
  startService,
  stop,
}) {
  const out = { duration, rounds };
  const paths = [`/webhooks/panora/${endpoint.id}`];
  const run = async (target, targetPaths, targetPool, connections = 50) => {
    await target.drain();
    // WAL per delivery during the load shows what a case costs in writes (full-page images, say).
    return measured(meter, target, () =>
      load({ url: target.url, paths: targetPaths, pool: targetPool, connections, duration }),
    );
  };

  // (a) 100 endpoints against 1, on the same service.
  const endpoints = [endpoint];
  for (let i = 0; i < 99; i++) endpoints.push(await service.importEndpoint());
  // Same payloads, each signed for its own endpoint.
  const multi = endpoints.map((e) => ({ path: `/webhooks/panora/${e.id}`, pool: deliveryPool(e.secret, 20) }));
  const interleaved = [];
  const multiPaths = [];
  for (let i = 0; i < 2000; i++) {
    const e = multi[i % multi.length];
    interleaved.push(e.pool[i % e.pool.length]);
    multiPaths.push(e.path);
  }
  log(`scaling: 1 endpoint against 100 endpoints, ${rounds} round(s) of ${duration} s`);
  const endpointsPair = await paired(
    rounds,
    () => run(service, paths, pool),
    () => run(service, multiPaths, interleaved),
  );
  out.endpoints = { one: summary(endpointsPair.a), hundred: summary(endpointsPair.b), ...endpointsPair };

  // (c) Two processes of the service on its database (25 connections each) against one (50): what
  // a second process per machine gives (docs/operations.md, "Several processes on one machine").
  log(`scaling: one process against two on the same database, ${rounds} round(s) of ${duration} s`);
  const second = await startService(service.databaseRef, service);
  await run(second, paths, pool); // unmeasured warm-up of the second process
  const runTwo = async () => {
    await service.drain();
    const runs = await Promise.all(
      [service, second].map((s) => load({ url: s.url, paths, pool, connections: 25, duration })),
    );
    return {
      rps: runs[0].rps + runs[1].rps,
      p50: Math.max(runs[0].p50, runs[1].p50),
      p99: Math.max(runs[0].p99, runs[1].p99),
      errors: runs[0].errors + runs[1].errors,
      walBytes: NaN,
      walFpi: NaN,
    };
  };
  const processesPair = await paired(rounds, () => run(service, paths, pool), runTwo);
  await service.drain();
  out.processes = {
    one: summary(processesPair.a),
    two: summary(processesPair.b),
    ...processesPair,
    rssMb: [peakRssMb(service.pid), peakRssMb(second.pid)],
  };
  await stop(second.child);

  // The ~1 MB batch: informative, one run.
  log('scaling: ~1 MB crm.contact.pulled deliveries');
  const bigPool = deliveryPool(endpoint.secret, 3, pulledBatch, 'crm.contact.pulled');
  out.pulled = await run(service, paths, bigPool, 10);
  await service.drain();
  await stop(service.child);

  // (b) An inbox of 1 million rows against an empty one: two fresh instances on two databases.
  log(`scaling: inbox of ${FILL.toLocaleString('en-US')} rows against an empty one`);
  const emptyService = await startService(await createDatabase(cluster.baseUrl, 'empty'));
  const fullService = await startService(await createDatabase(cluster.baseUrl, 'full'));
  const emptyEndpoint = await emptyService.importEndpoint();
  const fullEndpoint = await fullService.importEndpoint();
  const started = Date.now();
  // Filler rows as processed deliveries, each with its replay hash (the unique index a real inbox
  // of that size would carry).
  await fullService.db.query(
    `INSERT INTO webhook_events (endpoint_id, id_event, type, normalized_type, payload, status, processed_at, signed_hash)
     SELECT $1, 'filler-' || g, 'crm.note.created', 'crm.note.created', jsonb_build_object('id', g), 'processed', now(),
            sha256(('filler-' || g)::bytea)
       FROM generate_series(1, $2) g`,
    [fullEndpoint.id, FILL],
  );
  await fullService.db.query('VACUUM ANALYZE webhook_events');
  await fullService.db.query('CHECKPOINT'); // so flushing the filler does not land in a measured run
  log(`  filled in ${Math.round((Date.now() - started) / 1000)} s`);
  const emptyPath = [`/webhooks/panora/${emptyEndpoint.id}`];
  const fullPath = [`/webhooks/panora/${fullEndpoint.id}`];
  const emptyPool = deliveryPool(emptyEndpoint.secret);
  const fullPool = deliveryPool(fullEndpoint.secret);
  // Unmeasured warm-up of both: JIT, and the first writes to each index page after a checkpoint
  // carry a full page image in the WAL; steady state is what a large inbox runs at.
  await run(emptyService, emptyPath, emptyPool);
  await run(fullService, fullPath, fullPool);
  const inboxPair = await paired(
    rounds,
    () => run(emptyService, emptyPath, emptyPool),
    () => run(fullService, fullPath, fullPool),
  );
  out.inbox = { empty: summary(inboxPair.a), full: summary(inboxPair.b), ...inboxPair };
  await Promise.all([emptyService.drain(), fullService.drain()]);
  await Promise.all([stop(emptyService.child), stop(fullService.child)]);
  return out;
}
