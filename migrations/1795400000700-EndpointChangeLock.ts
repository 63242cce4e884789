import { MigrationInterface, QueryRunner } from 'typeorm';

export class EndpointChangeLock1795400000700 implements MigrationInterface {
  name = 'EndpointChangeLock1795400000700';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A registration change in progress (src/endpoints/endpoint-change-lock.ts): set under the
    // row lock before Panora is called, checked under it again when the change is written, cleared
    // at its end. A second change of the same endpoint meanwhile is refused instead of racing the
    // first at Panora (two rotations could adopt or delete each other's new endpoint). A mark older
    // than the lease is one a crashed instance left: the next change takes it over.
    await queryRunner.query(
      `ALTER TABLE webhook_endpoints ADD COLUMN change_token uuid, ADD COLUMN change_started_at timestamptz`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE webhook_endpoints DROP COLUMN change_started_at, DROP COLUMN change_token`);
  }
}
