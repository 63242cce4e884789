import { MigrationInterface, QueryRunner } from 'typeorm';

export class OutboxMessages1795400000100 implements MigrationInterface {
  name = 'OutboxMessages1795400000100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The transactional outbox: rows are written with the state change they announce and
    // published to RabbitMQ by the relay (src/bus). `id` is the message id consumers dedupe on;
    // `seq` orders one entity key's rows.
    await queryRunner.query(`
      CREATE TABLE outbox_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY,
        type text NOT NULL,
        entity_key text NOT NULL,
        source text NOT NULL,
        payload jsonb NOT NULL,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        locked_until timestamptz,
        locked_by text
      )`);
    await queryRunner.query(
      `CREATE INDEX outbox_messages_pending_key ON outbox_messages (entity_key, seq) WHERE published_at IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX outbox_messages_pending ON outbox_messages (seq) WHERE published_at IS NULL`);
    await queryRunner.query(
      `CREATE INDEX outbox_messages_published ON outbox_messages (published_at) WHERE published_at IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE outbox_messages`);
  }
}
