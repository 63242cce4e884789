import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A stream position for every event (issue 18: `GET /admin/events/stream` resumes without gaps).
 *
 * `status_xid` is the id (xid8, as a bigint) of the transaction that last stored the event in a
 * state the stream shows: its insert (received), and every change to received (a replay),
 * processed, failed or dead; the claim (processing) leaves it alone. Neither ids nor a sequence
 * would do as a cursor: they are taken before commit, so a reader can see 11 committed while 10
 * is still open and later commits behind it. Transaction ids carry the same flaw, but PostgreSQL
 * tells which ones may still commit: every transaction below `pg_snapshot_xmin` has ended, so a
 * reader that only reads positions (status_xid, id) below it never sees one appear behind it.
 *
 * The price: one more btree entry per row version (an event processed at its first attempt has
 * three: insert, claim, outcome; every one of them already writes a new entry in the other
 * indexes, as status and next_attempt_at are indexed). Rows stored before this migration have no
 * position until their status changes again: the stream starts from here.
 */
export class EventStreamPosition1795400001200 implements MigrationInterface {
  name = 'EventStreamPosition1795400001200';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Added without a default first: existing rows stay NULL instead of the table being rewritten.
    await queryRunner.query(`ALTER TABLE webhook_events ADD COLUMN status_xid bigint`);
    // A function, not the expression: TypeORM strips casts from the defaults it reads back, and
    // would then see a difference where there is none.
    await queryRunner.query(
      `CREATE FUNCTION webhook_events_xid() RETURNS bigint LANGUAGE sql VOLATILE
         AS $$ SELECT pg_current_xact_id()::text::bigint $$`,
    );
    await queryRunner.query(`ALTER TABLE webhook_events ALTER COLUMN status_xid SET DEFAULT webhook_events_xid()`);
    await queryRunner.query(
      `CREATE FUNCTION webhook_events_status_xid() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         NEW.status_xid := webhook_events_xid();
         RETURN NEW;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER webhook_events_status_xid BEFORE UPDATE OF status ON webhook_events
         FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status <> 'processing')
         EXECUTE FUNCTION webhook_events_status_xid()`,
    );
    await queryRunner.query(`CREATE INDEX webhook_events_stream ON webhook_events (status_xid, id)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX webhook_events_stream`);
    await queryRunner.query(`DROP TRIGGER webhook_events_status_xid ON webhook_events`);
    await queryRunner.query(`DROP FUNCTION webhook_events_status_xid()`);
    await queryRunner.query(`ALTER TABLE webhook_events DROP COLUMN status_xid`);
    await queryRunner.query(`DROP FUNCTION webhook_events_xid()`);
  }
}
