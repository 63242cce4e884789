import { MigrationInterface, QueryRunner } from 'typeorm';

export class EventClaimId1795400000500 implements MigrationInterface {
  name = 'EventClaimId1795400000500';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // claim_id: the token of the dispatcher claim that holds a 'processing' event (a fresh UUID at
    // each claim, cleared when the outcome is recorded or the event is replayed). Lease renewals and
    // outcomes match on it: `attempts` was the token before, and a replay reset it, so a stale
    // holder could match again and record its outcome over the new holder's.
    // attempts_at_replay: `attempts` now counts every attempt across replays (as the listeners' own
    // counts do); WEBHOOK_MAX_ATTEMPTS and the backoff count from the last replay, kept here.
    // A nullable column and a constant default change only the catalogue: no table rewrite, no
    // scan; the ACCESS EXCLUSIVE lock is held for a moment.
    await queryRunner.query(
      `ALTER TABLE webhook_events ADD COLUMN claim_id uuid, ADD COLUMN attempts_at_replay integer NOT NULL DEFAULT 0`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE webhook_events DROP COLUMN attempts_at_replay, DROP COLUMN claim_id`);
  }
}
