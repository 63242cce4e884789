import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { InboxRepository } from './inbox.repository';
import { InboxDataError, InboxWriter, type InboxRow } from './inbox-writer.service';

type Outcome = 'ok' | { connect: Error } | { query: Error };

/**
 * TypeORM's pool as the writer reaches it (a query runner per batch, its pg client): answers each
 * batch from a script of outcomes, in order: stored, or refused at connect or at query time.
 */
function databaseAnswering(outcomes: Outcome[]) {
  const calls: unknown[][] = [];
  let released = 0;
  const dataSource = {
    createQueryRunner: () => {
      const outcome = outcomes.shift() ?? 'ok';
      return {
        connect: () => {
          if (outcome !== 'ok' && 'connect' in outcome) return Promise.reject(outcome.connect);
          return Promise.resolve({
            query: ({ values }: { values: unknown[][] }) => {
              calls.push(values);
              if (outcome !== 'ok' && 'query' in outcome) return Promise.reject(outcome.query);
              const [endpoints, ids] = values as [string[], string[]];
              return Promise.resolve({ rows: endpoints.map((endpoint_id, i) => ({ endpoint_id, id_event: ids[i] })) });
            },
          });
        },
        release: () => {
          released++;
          return Promise.resolve();
        },
      };
    },
  };
  const writer = new InboxWriter(new InboxRepository(dataSource as unknown as DataSource));
  return { writer, calls, released: () => released };
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
      const { writer, calls, released } = databaseAnswering([{ connect: new Error(message) }, 'ok']);
      await expect(writer.write(row())).resolves.toEqual({ inserted: true });
      expect(calls).toHaveLength(1);
      expect(released()).toBe(2);
    },
  );

  it('should fail the delivery when the database does not answer twice in a row', async () => {
    const { writer, calls } = databaseAnswering([
      { connect: new Error('timeout exceeded when trying to connect') },
      { connect: new Error('timeout exceeded when trying to connect') },
    ]);
    await expect(writer.write(row())).rejects.toThrow('timeout exceeded when trying to connect');
    expect(calls).toHaveLength(0);
  });

  it('should not send again a query the database may have run', async () => {
    const reset = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    const { writer, calls, released } = databaseAnswering([{ query: reset }, 'ok']);
    await expect(writer.write(row())).rejects.toBe(reset);
    expect(calls).toHaveLength(1);
    expect(released()).toBe(1);
  });

  it('should send the deliveries that queue up meanwhile in one statement, and answer each after it', async () => {
    const { writer, calls, released } = databaseAnswering([]);
    const first = writer.write(row());
    const [a, b] = [row(), row()];
    const rest = [writer.write(a), writer.write(b), writer.write({ ...a, payloadJson: '[]' })];
    await expect(first).resolves.toEqual({ inserted: true });
    await expect(Promise.all(rest)).resolves.toEqual([{ inserted: true }, { inserted: true }, { inserted: false }]);
    expect(calls.map(([endpoints]) => (endpoints as string[]).length)).toEqual([1, 3]);
    expect(released()).toBe(2);
  });

  it("should answer a payload PostgreSQL refuses as the sender's fault, and store the rest of its batch", async () => {
    const invalid = Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });
    const { writer, calls } = databaseAnswering(['ok', { query: invalid }, { query: invalid }, 'ok']);
    void writer.write(row());
    const [bad, good] = [writer.write(row()), writer.write(row())];
    await expect(bad).rejects.toThrow(new InboxDataError('data is not valid JSON'));
    await expect(good).resolves.toEqual({ inserted: true });
    expect(calls).toHaveLength(4);
  });
});
