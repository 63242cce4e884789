import { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookInboxAndEndpoints1795400000000 implements MigrationInterface {
  name = 'WebhookInboxAndEndpoints1795400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        panora_endpoint_id text UNIQUE,
        url text,
        description text,
        scope text[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        id_project text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE webhook_endpoint_secrets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        sealed_secret text NOT NULL,
        hint text NOT NULL,
        panora_endpoint_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX webhook_endpoint_secrets_endpoint ON webhook_endpoint_secrets (endpoint_id)`);

    // The inbox: one row per accepted delivery. No foreign key to the endpoint: events outlive it.
    await queryRunner.query(`
      CREATE TABLE webhook_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        endpoint_id uuid NOT NULL,
        id_event text NOT NULL,
        type text NOT NULL,
        normalized_type text NOT NULL,
        payload jsonb,
        status text NOT NULL DEFAULT 'received'
          CHECK (status IN ('received', 'processing', 'processed', 'failed', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        CONSTRAINT webhook_events_endpoint_event UNIQUE (endpoint_id, id_event)
      )`);
    // Payloads are compressed inline on every insert: lz4 costs far less CPU than the default pglz.
    // Not every PostgreSQL build has lz4; the default is kept where it is missing.
    await queryRunner.query(`
      DO $$ BEGIN
        ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION lz4;
      EXCEPTION WHEN others THEN NULL;
      END $$`);
    await queryRunner.query(
      `CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id) WHERE status IN ('received', 'processing', 'failed')`,
    );
    await queryRunner.query(`CREATE INDEX webhook_events_status ON webhook_events (status, id)`);
    await queryRunner.query(`CREATE INDEX webhook_events_type ON webhook_events (normalized_type, id)`);

    await queryRunner.query(`
      CREATE TABLE webhook_event_listeners (
        event_id bigint NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
        listener text NOT NULL,
        status text NOT NULL CHECK (status IN ('succeeded', 'failed', 'dead')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (event_id, listener)
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE webhook_event_listeners`);
    await queryRunner.query(`DROP TABLE webhook_events`);
    await queryRunner.query(`DROP TABLE webhook_endpoint_secrets`);
    await queryRunner.query(`DROP TABLE webhook_endpoints`);
  }
}
