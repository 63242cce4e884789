import { MigrationInterface, QueryRunner } from 'typeorm';

export class CrmChangeOrder1795400000400 implements MigrationInterface {
  name = 'CrmChangeOrder1795400000400';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The read API's change order (src/listeners/crm/crm-query.service.ts): every insert or change of a row
    // takes the writing transaction's id and the next number of a sequence. A transaction's
    // `now()` (updated_at) is its start time, so paging by updated_at skipped rows a long
    // transaction committed after a client had read past that time; transaction ids let the
    // reader stop below the oldest transaction still running.
    await queryRunner.query(`CREATE SEQUENCE crm_objects_change_seq AS bigint`);
    await queryRunner.query(`ALTER TABLE crm_objects ADD COLUMN change_xid bigint, ADD COLUMN change_seq bigint`);
    // Rows already there are committed: they come first (transaction id 0), in their old order.
    await queryRunner.query(`
      UPDATE crm_objects c SET change_xid = 0, change_seq = o.n
        FROM (SELECT kind, panora_id, row_number() OVER (ORDER BY updated_at, kind, panora_id) AS n
                FROM crm_objects) o
       WHERE c.kind = o.kind AND c.panora_id = o.panora_id`);
    await queryRunner.query(
      `SELECT setval('crm_objects_change_seq', COALESCE(max(change_seq), 1), max(change_seq) IS NOT NULL)
         FROM crm_objects`,
    );
    await queryRunner.query(`
      ALTER TABLE crm_objects
        ALTER COLUMN change_xid SET DEFAULT (pg_current_xact_id()::text::bigint),
        ALTER COLUMN change_xid SET NOT NULL,
        ALTER COLUMN change_seq SET DEFAULT nextval('crm_objects_change_seq'),
        ALTER COLUMN change_seq SET NOT NULL`);
    await queryRunner.query(`ALTER SEQUENCE crm_objects_change_seq OWNED BY crm_objects.change_seq`);
    await queryRunner.query(`CREATE INDEX crm_objects_changes ON crm_objects (kind, change_xid, change_seq)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX crm_objects_changes`);
    // Dropping the column drops the sequence it owns.
    await queryRunner.query(`ALTER TABLE crm_objects DROP COLUMN change_seq, DROP COLUMN change_xid`);
  }
}
