import { MigrationInterface, QueryRunner } from 'typeorm';

export class DeliveryReplayHash1795400000600 implements MigrationInterface {
  name = 'DeliveryReplayHash1795400000600';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Panora signs only `data` (no timestamp, no id_event): a captured delivery re-sent under a
    // fresh id_event verifies. The SHA-256 of the signed text, unique per endpoint, lets the inbox
    // recognise it and answer `duplicate` without storing it. Rows stored before this have none.
    await queryRunner.query(`ALTER TABLE webhook_events ADD COLUMN signed_hash bytea`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX webhook_events_endpoint_signed_hash ON webhook_events (endpoint_id, signed_hash)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX webhook_events_endpoint_signed_hash`);
    await queryRunner.query(`ALTER TABLE webhook_events DROP COLUMN signed_hash`);
  }
}
