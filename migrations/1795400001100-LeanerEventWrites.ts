import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer writes per event (issue 17: each processed event wrote ~38 WAL records, the minimal
 * durable receiver 3).
 * - `listeners_succeeded`: the listeners of a first attempt that succeeded whole. Such an event no
 *   longer writes one `webhook_event_listeners` row per listener (a heap row, its primary key and a
 *   foreign-key lock on the event each): rows are kept for what carries information, the
 *   listeners of an attempt that failed and their later outcomes.
 * - The status index only holds what an operator looks for (failed and dead events): every status
 *   change of every event (received, processing, processed) used to add an entry to it. The
 *   backlog has the dispatcher's partial index; the retention's pruning its own.
 */
export class LeanerEventWrites1795400001100 implements MigrationInterface {
  name = 'LeanerEventWrites1795400001100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE webhook_events ADD COLUMN listeners_succeeded text[]`);
    await queryRunner.query(`DROP INDEX webhook_events_status`);
    await queryRunner.query(
      `CREATE INDEX webhook_events_attention ON webhook_events (status, id) WHERE status IN ('failed', 'dead')`,
    );
    await queryRunner.query(
      `CREATE INDEX webhook_events_prunable ON webhook_events (processed_at) WHERE status = 'processed' AND payload IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // Listeners recorded only inline get their rows back, so the older code sees them.
    await queryRunner.query(
      `INSERT INTO webhook_event_listeners (event_id, listener, status, attempts, last_error, updated_at)
       SELECT e.id, l.name, 'succeeded', 1, NULL, coalesce(e.processed_at, now())
         FROM webhook_events e, unnest(e.listeners_succeeded) AS l(name)
       ON CONFLICT (event_id, listener) DO NOTHING`,
    );
    await queryRunner.query(`DROP INDEX webhook_events_prunable`);
    await queryRunner.query(`DROP INDEX webhook_events_attention`);
    await queryRunner.query(`CREATE INDEX webhook_events_status ON webhook_events (status, id)`);
    await queryRunner.query(`ALTER TABLE webhook_events DROP COLUMN listeners_succeeded`);
  }
}
