import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracing (issue 18): each inbox row keeps the W3C traceparent of the request that delivered it,
 * each outbox row that of the listener that wrote it, so the dispatcher and the relay continue
 * the delivery's trace across the database. NULL whenever tracing is off (nothing is written);
 * nullable columns without a default: adding them rewrites nothing.
 */
export class Tracing1795400001300 implements MigrationInterface {
  name = 'Tracing1795400001300';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE webhook_events ADD COLUMN traceparent text`);
    await queryRunner.query(`ALTER TABLE outbox_messages ADD COLUMN traceparent text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox_messages DROP COLUMN traceparent`);
    await queryRunner.query(`ALTER TABLE webhook_events DROP COLUMN traceparent`);
  }
}
