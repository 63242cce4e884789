import { MigrationInterface, QueryRunner } from 'typeorm';

export class Connections1795400000200 implements MigrationInterface {
  name = 'Connections1795400000200';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE connections (
        id_connection text PRIMARY KEY,
        provider_slug text,
        vertical text,
        status text,
        account_url text,
        id_project text,
        id_linked_user text,
        linked_user_origin_id text,
        sealed_connection_token text,
        token_hint text,
        panora_created_at timestamptz,
        source text NOT NULL CHECK (source IN ('webhook', 'reconciliation')),
        last_event_id bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX connections_linked_user ON connections (id_linked_user)`);
    await queryRunner.query(`CREATE INDEX connections_origin ON connections (linked_user_origin_id)`);
    await queryRunner.query(`CREATE INDEX connections_provider ON connections (provider_slug, vertical)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE connections`);
  }
}
