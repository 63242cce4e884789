// Rounds into the figures of the report: medians over rounds, ratios taken round by round (the two
// servers measured seconds apart) and then their median, since a shared VM drifts by tens of
// percent from one minute to the next.
import { median } from './common.mjs';

export const KEYS = ['service', 'minimal', 'fastify', 'express'];

const ratio = (rounds, value) => median(rounds.map(value));

/**
 * One server's max-rate rounds as the round that had the median requests/s (its latencies and CPU
 * belong together), with the range of requests/s, its peak RSS over all rounds and the errors' sum.
 */
function medianRun(runs) {
  const byRate = [...runs].sort((a, b) => a.rps - b.rps);
  const chosen = byRate[(byRate.length - 1) >> 1];
  return {
    ...chosen,
    rps: median(runs.map((r) => r.rps)),
    min: byRate[0].rps,
    max: byRate.at(-1).rps,
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

export function summariseMax(connections, rounds) {
  const servers = Object.fromEntries(KEYS.map((key) => [key, medianRun(rounds.map((r) => r[key]))]));
  return {
    connections,
    rounds: rounds.length,
    servers,
    // service / this server, per round then median
    ratios: Object.fromEntries(KEYS.map((key) => [key, ratio(rounds, (r) => r.service.rps / r[key].rps)])),
    ratioRange: (() => {
      const all = rounds.map((r) => r.service.rps / r.minimal.rps);
      return [Math.min(...all), Math.max(...all)];
    })(),
  };
}

const FIELDS = [
  'rps',
  'p50',
  'p99',
  'serverUs',
  'pgUs',
  'backgroundUs',
  'walRecords',
  'walBytes',
  'walFpi',
  'serverCores',
];

/** Fixed-rate rounds: every figure is the median of its rounds. */
export function summariseFixed(rounds) {
  const servers = {};
  for (const key of KEYS) {
    const runs = rounds.map((r) => r[key]);
    servers[key] = Object.fromEntries(FIELDS.map((field) => [field, median(runs.map((r) => r[field]))]));
    servers[key].totalUs = median(runs.map((r) => r.serverUs + r.pgUs));
    servers[key].rssMb = Math.max(...runs.map((r) => r.rssMb));
    servers[key].errors = runs.reduce((sum, r) => sum + r.errors, 0);
    servers[key].ok = runs.reduce((sum, r) => sum + r.ok, 0);
  }
  const cpu = (m) => m.serverUs + m.pgUs;
  return {
    rounds: rounds.length,
    servers,
    cpuVsMinimal: ratio(rounds, (r) => cpu(r.service) / cpu(r.minimal)),
    p99VsMinimal: ratio(rounds, (r) => r.service.p99 / Math.max(1, r.minimal.p99)),
    drain: Math.max(...rounds.map((r) => r.service.settled)),
  };
}
