import { MigrationInterface, QueryRunner } from 'typeorm';

export class CrmProjections1795400000300 implements MigrationInterface {
  name = 'CrmProjections1795400000300';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // One row per CRM object Panora told us about, all kinds in one table (src/crm). `data` is the
    // whole object as last applied (`shape` says whether unified or a raw `*.pulled` row); the
    // key columns are copied out of it for lookups. Stale events never reach the row.
    await queryRunner.query(`
      CREATE TABLE crm_objects (
        kind text NOT NULL
          CHECK (kind IN ('contact', 'company', 'deal', 'engagement', 'note', 'task', 'stage', 'user')),
        panora_id text NOT NULL,
        remote_id text,
        connection_id text,
        name text,
        email text,
        domain text,
        modified_at timestamptz,
        shape text NOT NULL CHECK (shape IN ('unified', 'raw')),
        data jsonb NOT NULL,
        first_event_id bigint NOT NULL,
        last_event_id bigint NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        PRIMARY KEY (kind, panora_id)
      )`);
    // The read API pages through a kind by (updated_at, panora_id).
    await queryRunner.query(`CREATE INDEX crm_objects_updated ON crm_objects (kind, updated_at, panora_id)`);
    await queryRunner.query(
      `CREATE INDEX crm_objects_remote ON crm_objects (kind, remote_id) WHERE remote_id IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE crm_objects`);
  }
}
