import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PgNotifications } from '../platform/database/pg-notifications.service';
import { parseSecretKey, SecretBox } from '../platform/secrets/secret-box';
import { EndpointSecretsService } from './endpoint-secrets.service';

const box = new SecretBox(parseSecretKey(Buffer.alloc(32, 9).toString('base64')));

/**
 * The database as the service sees it. A secrets query answers the rows as they were when it was
 * sent (as PostgreSQL would, reading before a concurrent change commits); while `hold` is set its
 * answer waits for `release`, so a test can invalidate while a read is in flight.
 */
class FakeDatabase {
  active = true;
  readonly secret = randomUUID();
  hold = false;
  readonly held: (() => void)[] = [];
  reads = 0;

  query = (sql: string): Promise<unknown[]> => {
    if (sql.includes('pg_notify')) return Promise.resolve([]);
    this.reads++;
    const rows = [{ id: randomUUID(), sealed_secret: box.seal(this.secret), expires_at: null, active: this.active }];
    if (!this.hold) return Promise.resolve(rows);
    return new Promise((resolve) => this.held.push(() => resolve(rows)));
  };

  /** Answers the held reads, newest first: the read that started before the change lands last. */
  release(): void {
    this.hold = false;
    for (const answer of this.held.splice(0).reverse()) answer();
  }
}

/** Stands in for the LISTEN connection: `notify` is another instance's invalidation arriving. */
class FakeNotifications {
  private handler?: (payload: string) => void;
  private reconnected?: () => void;
  subscribe(_channel: string, handler: (payload: string) => void): void {
    this.handler = handler;
  }
  onReconnect(handler: () => void): void {
    this.reconnected = handler;
  }
  notify(payload: string): void {
    this.handler?.(payload);
  }
  reconnect(): void {
    this.reconnected?.();
  }
}

describe(EndpointSecretsService.name, () => {
  let db: FakeDatabase;
  let notifications: FakeNotifications;
  let service: EndpointSecretsService;
  const id = randomUUID();
  const secretsOf = async (keys: Promise<Awaited<ReturnType<EndpointSecretsService['getVerificationKeys']>>>) =>
    (await keys)?.map((key) => key.key.export().toString('utf8')) ?? null;

  beforeEach(() => {
    db = new FakeDatabase();
    notifications = new FakeNotifications();
    service = new EndpointSecretsService(db as unknown as DataSource, box, notifications as unknown as PgNotifications);
    service.onModuleInit();
  });

  it('should read an endpoint once for concurrent callers and then serve it from the cache', async () => {
    db.hold = true;
    const first = service.getVerificationKeys(id);
    const second = service.getVerificationKeys(id);
    db.release();
    expect(await secretsOf(first)).toEqual([db.secret]);
    expect(await secretsOf(second)).toEqual([db.secret]);
    expect(await secretsOf(service.getVerificationKeys(id))).toEqual([db.secret]);
    expect(db.reads).toBe(1);
  });

  it.each([
    ['this instance invalidates the endpoint', (s: EndpointSecretsService) => s.invalidate(id)],
    ['this instance invalidates every endpoint', (s: EndpointSecretsService) => s.invalidate()],
    ['another instance invalidates the endpoint', () => notifications.notify(id)],
    ['another instance invalidates every endpoint', () => notifications.notify('')],
    ['the notification connection comes back (notifications were missed)', () => notifications.reconnect()],
  ])('should neither cache nor hand to later callers what a read started before %s', async (_when, invalidate) => {
    db.hold = true;
    const before = service.getVerificationKeys(id);
    // The endpoint is disabled while that read is in flight, then the cache is invalidated.
    db.active = false;
    await invalidate(service);
    const after = service.getVerificationKeys(id);
    db.release();

    expect(await secretsOf(after)).toBeNull();
    // The caller that asked before the change may get the keys as they were then...
    expect(await secretsOf(before)).toEqual([db.secret]);
    // ...but they are not cached: the disabled endpoint stops verifying at once.
    expect(await secretsOf(service.getVerificationKeys(id))).toBeNull();
    expect(await secretsOf(service.getVerificationKeys(id))).toBeNull();
  });

  it('should keep the other endpoints cached when one is invalidated', async () => {
    const other = randomUUID();
    expect(await secretsOf(service.getVerificationKeys(other))).toEqual([db.secret]);
    await service.invalidate(id);
    expect(await secretsOf(service.getVerificationKeys(other))).toEqual([db.secret]);
    expect(db.reads).toBe(1);
  });
});

describe(`${EndpointSecretsService.name} with junk endpoint ids`, () => {
  const known = randomUUID();
  const secret = randomUUID();
  /** A database with one active endpoint; every other id finds no row. Counts its reads per id. */
  const reads = new Map<string, number>();
  const db = {
    query: (sql: string, params: string[] = []): Promise<unknown[]> => {
      if (sql.includes('pg_notify')) return Promise.resolve([]);
      const [endpointId] = params;
      reads.set(endpointId, (reads.get(endpointId) ?? 0) + 1);
      if (endpointId !== known) return Promise.resolve([]);
      return Promise.resolve([{ id: randomUUID(), sealed_secret: box.seal(secret), expires_at: null, active: true }]);
    },
  };
  let service: EndpointSecretsService;
  const total = () => [...reads.values()].reduce((a, b) => a + b, 0);

  beforeEach(() => {
    reads.clear();
    service = new EndpointSecretsService(
      db as unknown as DataSource,
      box,
      new FakeNotifications() as unknown as PgNotifications,
    );
    service.onModuleInit();
  });

  it('should query an unknown endpoint id once, then answer it from memory', async () => {
    const junk = randomUUID();
    for (let i = 0; i < 5; i++) expect(await service.getVerificationKeys(junk)).toBeNull();
    expect(reads.get(junk)).toBe(1);
  });

  it('should keep the secrets of a real endpoint however many junk ids are tried', async () => {
    expect(await service.getVerificationKeys(known)).not.toBeNull();
    // More junk ids than either cache holds.
    for (let i = 0; i < 25_000; i++) expect(await service.getVerificationKeys(randomUUID())).toBeNull();
    const before = total();
    const keys = await service.getVerificationKeys(known);
    expect(keys?.map((k) => k.key.export().toString('utf8'))).toEqual([secret]);
    expect(total()).toBe(before);
    expect(reads.get(known)).toBe(1);
  });

  it('should forget that an id was unknown when that endpoint changes', async () => {
    const later = randomUUID();
    expect(await service.getVerificationKeys(later)).toBeNull();
    await service.invalidate(later);
    expect(await service.getVerificationKeys(later)).toBeNull();
    expect(reads.get(later)).toBe(2);
  });
});
