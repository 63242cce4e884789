import { DataSource } from 'typeorm';
import { OutboxMessage } from '../../src/outbox/outbox-message.entity';
import { Connection } from '../../src/listeners/connections/connection.entity';
import { dataSourceOptions } from '../../src/platform/database/data-source.options';
import { MIGRATIONS } from '../../src/platform/database/migrations';
import { WebhookEndpointSecret } from '../../src/endpoints/webhook-endpoint-secret.entity';
import { WebhookEndpoint } from '../../src/endpoints/webhook-endpoint.entity';
import { WebhookEventListener } from '../../src/inbox/webhook-event-listener.entity';
import { WebhookEvent } from '../../src/inbox/webhook-event.entity';
import { createTestDatabase, TestDatabase } from '../support/database';

describe('Entities and migrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should describe the schema the migrations build, so migration:generate finds nothing to change', async () => {
    const dataSource = new DataSource({
      ...dataSourceOptions({ url: db.url, poolSize: 1 }),
      entities: [WebhookEndpoint, WebhookEndpointSecret, WebhookEvent, WebhookEventListener, Connection, OutboxMessage],
    });
    await dataSource.initialize();
    try {
      const sql = await dataSource.driver.createSchemaBuilder().log();
      expect(sql.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('should revert every migration cleanly', async () => {
    const dataSource = new DataSource(dataSourceOptions({ url: db.url, poolSize: 1 }));
    await dataSource.initialize();
    try {
      while ((await dataSource.query('SELECT count(*)::int AS n FROM typeorm_migrations'))[0].n > 0) {
        await dataSource.undoLastMigration({ transaction: 'all' });
      }
      const tables = await dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations'`,
      );
      expect(tables).toEqual([]);
      await dataSource.runMigrations({ transaction: 'all' });
      expect((await dataSource.query('SELECT count(*)::int AS n FROM typeorm_migrations'))[0].n).toBe(
        MIGRATIONS.length,
      );
    } finally {
      await dataSource.destroy();
    }
  });
});
