import { contractOf, envelopeSchema } from '../../src/contracts';
import { buildEnvelope } from '../../src/outbox/envelope';
import type { TestDatabase } from '../support/database';

type StoredRow = {
  id: string;
  type: string;
  entity_key: string;
  source: string;
  payload: unknown;
  occurred_at: Date;
  recovered: boolean;
};

/**
 * Every row in the outbox, as the relay would publish it, checked against the contract of its
 * routing key (src/contracts): the whole message, envelope and data. Returns the rows, for the
 * caller to say which kinds of events it expected to find.
 */
export async function expectOutboxRowsKeepTheirContracts(db: TestDatabase): Promise<StoredRow[]> {
  const rows = await db.query<StoredRow>(
    'SELECT id, type, entity_key, source, payload, occurred_at, recovered FROM outbox_messages ORDER BY seq',
  );
  const broken = rows.flatMap((row) => {
    const contract = contractOf(row.type);
    if (!contract) return [`${row.type}: no contract`];
    const message = buildEnvelope({ ...row, entityKey: row.entity_key, occurredAt: row.occurred_at });
    const result = envelopeSchema(contract.data).safeParse(JSON.parse(JSON.stringify(message)));
    return result.success ? [] : [`${row.type} (${row.entity_key}): ${JSON.stringify(result.error.issues[0])}`];
  });
  expect(broken).toEqual([]);
  return rows;
}
