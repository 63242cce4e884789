import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The dispatcher's layout (issue 14): one job per file (file sizes: src/layout.spec.ts). Scheduling and
 * invocation in the service; the queue's SQL (claim, lease renewal, outcomes, next due) only in the
 * repository, its bookkeeping committed with `synchronous_commit = off`; the lease timer, the retry
 * policy, the listener registry (discovery) and the listener run (outcomes, batches) apart, without SQL.
 */
const FILES = [
  'dispatcher.service.ts',
  'dispatch-queue.repository.ts',
  'lease.ts',
  'retry-policy.ts',
  'listener-registry.ts',
  'listener-run.ts',
];
const source = (file: string) => readFileSync(join(__dirname, file), 'utf8');

describe('Dispatcher layout', () => {
  it('should hold the SQL on webhook_events and webhook_event_listeners in the repository only', () => {
    const withSql = FILES.filter((file) => /webhook_event|\.query\s*[<(]|DataSource|EntityManager/.test(source(file)));
    expect(withSql).toEqual(['dispatch-queue.repository.ts']);
    expect(source('dispatch-queue.repository.ts')).toContain("'SET LOCAL synchronous_commit = off'");
  });

  it('should match every renewal and outcome on the claim token', () => {
    const updates = [...source('dispatch-queue.repository.ts').matchAll(/`UPDATE webhook_events e[^`]*`/g)].map(
      ([sql]) => sql,
    );
    const byClaim = updates.filter((sql) => /e\.status = 'processing' AND e\.claim_id = \w+\.claim_id/.test(sql));
    expect(byClaim).toHaveLength(2);
  });
});
