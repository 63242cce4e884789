import { MigrationInterface, QueryRunner } from 'typeorm';

export class OutboxRecovered1795400000900 implements MigrationInterface {
  name = 'OutboxRecovered1795400000900';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // An event that recovery (src/recovery/) produced from Panora's API after its webhook never
    // arrived: its envelope says `"recovered": true` (docs/events.md).
    await queryRunner.query(`ALTER TABLE outbox_messages ADD COLUMN recovered boolean NOT NULL DEFAULT false`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE outbox_messages DROP COLUMN recovered`);
  }
}
