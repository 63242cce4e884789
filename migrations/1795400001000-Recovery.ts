import { MigrationInterface, QueryRunner } from 'typeorm';

export class Recovery1795400001000 implements MigrationInterface {
  name = 'Recovery1795400001000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Recovery of missed events (src/recovery, issue 15). One row: how far back the last complete
    // walk of Panora's GET /events reached (the watermark) and how the last run went.
    await queryRunner.query(`
      CREATE TABLE recovery_state (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        watermark timestamptz,
        last_run_started_at timestamptz,
        last_run_finished_at timestamptz,
        last_run_outcome text CHECK (last_run_outcome IN ('completed', 'partial', 'failed')),
        last_run_error text,
        last_run_counts jsonb,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`INSERT INTO recovery_state (id) VALUES (1)`);
    // The events Panora lists, in the scope of one of our active endpoints, that the inbox never
    // received: what, when (Panora's timestamp), why it is believed missed, and what recovery did.
    // `seq` orders the admin API's pages.
    await queryRunner.query(`
      CREATE TABLE recovery_missed_events (
        id_event text PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        type text NOT NULL,
        normalized_type text NOT NULL,
        id_connection text,
        provider text,
        panora_timestamp timestamptz NOT NULL,
        endpoint_id uuid,
        reason text NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'recovered', 'published', 'given_up', 'arrived_late')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        detected_at timestamptz NOT NULL DEFAULT now(),
        settled_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX recovery_missed_events_status ON recovery_missed_events (status, seq)`);
    // A re-read of one connection's objects of one kind from Panora's unified API, page by page:
    // the cursor of the next page is stored after each applied page, so a crash resumes there.
    await queryRunner.query(`
      CREATE TABLE recovery_crm_reads (
        id_connection text NOT NULL,
        kind text NOT NULL,
        cursor text,
        status text NOT NULL CHECK (status IN ('running', 'done', 'given_up')),
        error text,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id_connection, kind)
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE recovery_crm_reads`);
    await queryRunner.query(`DROP TABLE recovery_missed_events`);
    await queryRunner.query(`DROP TABLE recovery_state`);
  }
}
