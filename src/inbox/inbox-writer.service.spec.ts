import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { InboxWriter, type InboxRow } from './inbox-writer.service';

/** The pool as the writer uses it: answers each insert from a script of outcomes, in order. */
function poolAnswering(outcomes: ('ok' | Error)[]) {
  const calls: unknown[][] = [];
  const pool = {
    query: ({ values }: { values: unknown[][] }) => {
      calls.push(values);
      const outcome = outcomes.shift() ?? 'ok';
      if (outcome instanceof Error) return Promise.reject(outcome);
      const [endpoints, ids] = values as [string[], string[]];
      return Promise.resolve({ rows: endpoints.map((endpoint_id, i) => ({ endpoint_id, id_event: ids[i] })) });
    },
  };
  const writer = new InboxWriter({ driver: { master: pool } } as unknown as DataSource);
  return { writer, calls };
}

const row = (): InboxRow => ({
  endpointId: randomUUID(),
  idEvent: randomUUID(),
  type: 'connection.created',
  normalizedType: 'connection.created',
  payloadJson: '{}',
  signedHash: Buffer.alloc(32),
});

describe(InboxWriter.name, () => {
  it.each(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout'])(
    'should store a delivery when one connection attempt timed out (%s) but the database answers',
    async (message) => {
      // The pool's timer fired (the event loop was busy past it, or every client was in use):
      // no query was sent, so the delivery can still be stored, and must not be answered 503.
      const { writer, calls } = poolAnswering([new Error(message), 'ok']);
      await expect(writer.write(row())).resolves.toEqual({ inserted: true });
      expect(calls).toHaveLength(2);
    },
  );

  it('should fail the delivery when the database does not answer twice in a row', async () => {
    const { writer, calls } = poolAnswering([
      new Error('timeout exceeded when trying to connect'),
      new Error('timeout exceeded when trying to connect'),
    ]);
    await expect(writer.write(row())).rejects.toThrow('timeout exceeded when trying to connect');
    expect(calls).toHaveLength(2);
  });

  it('should not send again a query the database may have run', async () => {
    const reset = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    const { writer, calls } = poolAnswering([reset, 'ok']);
    await expect(writer.write(row())).rejects.toBe(reset);
    expect(calls).toHaveLength(1);
  });
});
