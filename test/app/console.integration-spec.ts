import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, TestApp } from '../support/app';
import { describeWithChromium, launchChromium } from '../support/chromium';
import { createTestDatabase, TestDatabase } from '../support/database';
import { insertEndpoint } from '../support/panora';
import { TestListeners, TestListenersModule } from '../support/test-listeners';

const IN_BROWSER = 'The operator console in a real browser (headless Chromium)';

const ROOT = join(__dirname, '..', '..');
// Every run takes the screenshots; they replace the docs' own (docs/console/*.png) only when asked
// (`CONSOLE_SCREENSHOTS=docs`), so a test run leaves the working tree as it found it.
const SHOTS =
  process.env.CONSOLE_SCREENSHOTS === 'docs' ? join(ROOT, 'docs', 'console') : join(tmpdir(), 'panora-console-shots');
const ADMIN_KEY = 'console-story-admin-key-0123456789';
const READ_KEY = 'console-story-read-key-0123456789';

describeWithChromium(IN_BROWSER)(IN_BROWSER, () => {
  let db: TestDatabase;
  let service: TestApp;
  let listeners: TestListeners;
  let browser: Browser;
  const requested: string[] = [];
  const problems: string[] = [];

  /** A fresh tab (its own sessionStorage), with every request and page error recorded. */
  const newTab = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    return { context, page };
  };

  /** The key is nowhere in the page: not in its URL, its markup, nor any field's value. */
  const expectNoKey = async (page: Page, key: string) => {
    expect(page.url()).not.toContain(key);
    const html = await page.content();
    const values = await page
      .locator('input, textarea')
      .evaluateAll((fields) => fields.map((field) => (field as unknown as { value: string }).value));
    expect(html).not.toContain(key);
    expect(values.join('\n')).not.toContain(key);
  };

  const signIn = async (page: Page, key: string) => {
    await page.goto(`${service.baseUrl}/console`);
    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
  };

  const open = async (page: Page, link: string, heading: string | RegExp) => {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: link }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'console', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    mkdirSync(SHOTS, { recursive: true });
    db = await createTestDatabase();
    service = await startTestApp({
      databaseUrl: db.url,
      imports: [TestListenersModule],
      env: {
        ADMIN_API_KEYS: ADMIN_KEY,
        ADMIN_READ_API_KEYS: READ_KEY,
        DISPATCH_POLL_MS: '100',
        WEBHOOK_RETRY_BASE_MS: '200',
        WEBHOOK_RETRY_MAX_MS: '400',
        WEBHOOK_MAX_ATTEMPTS: '2',
      },
    });
    listeners = service.app.get(TestListeners);
    listeners.brokenHealed = false;
    await insertEndpoint(db, { scope: ['crm.deal.created', 'connection.created'] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await db?.drop();
  });

  it('should walk the main story: sign in, a failing test event dies, replay it after the fix, processed', async () => {
    const { context, page } = await newTab();
    await page.goto(`${service.baseUrl}/console`);
    await page.getByLabel('Admin key').waitFor();
    await shot(page, 'sign-in');
    await signIn(page, ADMIN_KEY);
    await expect(page.getByText('Admin key', { exact: true }).count()).resolves.toBe(1);

    // Overview: figures and charts.
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.locator('figure.chart canvas').first().waitFor();
    await expectNoKey(page, ADMIN_KEY);

    // A connection, so the connections page has one to show (its token stays hidden).
    await open(page, 'Endpoints', 'Endpoints');
    await page.getByLabel('Test event type').selectOption('connection.created');
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByText(/Test event \d+ \(connection\.created\) sent/).waitFor();

    // Two test events that fail: crm.deal.created, which test.broken throws on.
    const sendFailing = async () => {
      await page.getByLabel('Test event type').selectOption('crm.deal.created');
      const notice = page.getByText(/Test event \d+ \(crm\.deal\.created\) sent/);
      const old = (await notice.count()) > 0 ? await notice.innerText() : null;
      await page.getByRole('button', { name: 'Send test event' }).click();
      if (old) await page.getByText(old).waitFor({ state: 'detached' });
      return /Test event (\d+)/.exec(await notice.innerText())![1];
    };
    const eventId = await sendFailing();
    const secondId = await sendFailing();
    expect(secondId).not.toBe(eventId);
    await expectNoKey(page, ADMIN_KEY);
    await shot(page, 'endpoints');

    // They die in the list, live: the list refreshes itself.
    await open(page, 'Events', 'Events');
    const row = page.locator(`tr[data-event-id="${eventId}"]`);
    await row.locator('.badge', { hasText: 'dead' }).waitFor({ timeout: 30_000 });
    await page.locator(`tr[data-event-id="${secondId}"] .badge`, { hasText: 'dead' }).waitFor({ timeout: 30_000 });
    await expectNoKey(page, ADMIN_KEY);
    await shot(page, 'events');

    // The overview shows them.
    await open(page, 'Overview', 'Overview');
    await page.locator('.card-alert dd', { hasText: '2' }).waitFor({ timeout: 15_000 });
    await page.locator('figure.chart canvas').first().waitFor();
    await shot(page, 'overview');

    // Dead letters: one group of two; the count is asked before a bulk replay (cancelled here).
    await open(page, 'Dead letters', 'Dead letters');
    const group = page.locator('tbody tr', { hasText: 'crm.deal.created' });
    await expect(group.locator('td').nth(2).innerText()).resolves.toBe('2');
    const replayGroup = group.getByRole('button', { name: 'Replay group…' });
    await replayGroup.click();
    const dialog = page.getByRole('dialog', { name: 'Replay this group?' });
    await dialog.getByRole('button', { name: 'Replay 2 events' }).waitFor();
    // The dialog has the focus (on Cancel, the safe choice); Escape closes it and gives it back.
    await expect(page.evaluate('document.activeElement?.textContent')).resolves.toBe('Cancel');
    await expectNoKey(page, ADMIN_KEY);
    await shot(page, 'dead-letters');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect(replayGroup.evaluate((button) => button === button.ownerDocument.activeElement)).resolves.toBe(true);

    // Open one: the listener's error, then replay it once the listener is fixed.
    await open(page, 'Events', 'Events');
    await row.getByRole('link', { name: eventId }).click();
    await page.getByRole('heading', { level: 1, name: `Event ${eventId}` }).waitFor();
    await page.locator('tr', { hasText: 'test.broken' }).getByText('broken listener').waitFor();
    await shot(page, 'event-dead');
    listeners.brokenHealed = true;
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.locator('dl.facts .badge', { hasText: 'processed' }).waitFor({ timeout: 30_000 });
    await expectNoKey(page, ADMIN_KEY);
    await shot(page, 'event');

    // The other one through its group: count, confirmation, progress, done.
    await open(page, 'Dead letters', 'Dead letters');
    await expect(group.locator('td').nth(2).innerText()).resolves.toBe('1');
    await group.getByRole('button', { name: 'Replay group…' }).click();
    await dialog.getByRole('button', { name: 'Replay 1 events' }).click();
    await page.getByText('1 of 1 queued again').waitFor();
    await expect(page.locator('progress').getAttribute('value')).resolves.toBe('1');
    await page.getByText('No dead events.').waitFor({ timeout: 15_000 });
    const [second] = await db.query<{ status: string }>('SELECT status FROM webhook_events WHERE id = $1', [secondId]);
    expect(['received', 'processing', 'processed']).toContain(second.status);

    // Connections: the token is hidden until revealed on purpose, through the logged route.
    await open(page, 'Connections', 'Connections');
    const reveal = page.getByRole('button', { name: /Reveal the token of/ });
    await reveal.waitFor();
    await expectNoKey(page, ADMIN_KEY);
    await shot(page, 'connections');
    const tokenReads = () => requested.filter((url) => /\/admin\/connections\/[^/]+\/token$/.test(url)).length;
    expect(tokenReads()).toBe(0);
    await reveal.click();
    await page
      .getByRole('dialog', { name: 'Reveal this connection token?' })
      .getByRole('button', { name: 'Reveal' })
      .click();
    await page.locator('code.secret').waitFor();
    expect(tokenReads()).toBe(1);
    await page.getByRole('button', { name: 'Hide' }).click();
    await expect(page.locator('code.secret').count()).resolves.toBe(0);

    // The key: in this tab's sessionStorage only; no cookie; never in a URL the page asked for.
    await expect(page.evaluate(() => Object.values(sessionStorage))).resolves.toEqual([ADMIN_KEY]);
    await expect(context.cookies()).resolves.toEqual([]);
    expect(requested.filter((url) => url.includes(ADMIN_KEY))).toEqual([]);
    await expectNoKey(page, ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    await expect(page.evaluate(() => Object.keys(sessionStorage))).resolves.toEqual([]);
    await context.close();
  });

  it('should import an endpoint with a pasted secret never shown again, disable it, and delete it after confirming', async () => {
    const secret = 'pasted-secret-4f1d9c2e7b';
    const { context, page } = await newTab();
    await signIn(page, ADMIN_KEY);
    await open(page, 'Endpoints', 'Endpoints');
    await page.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Import an endpoint' });
    await expect(
      dialog.getByLabel(/Signing secret/).evaluate((field) => field === field.ownerDocument.activeElement),
    ).resolves.toBe(true);
    await dialog.getByLabel(/Signing secret/).fill(secret);
    await dialog.getByLabel(/Event types/).fill('connection.created');
    await dialog.getByRole('button', { name: 'Import' }).click();
    const imported = page.getByText(/Endpoint [0-9a-f-]{36} imported/);
    await imported.waitFor();
    const id = /Endpoint ([0-9a-f-]{36})/.exec(await imported.innerText())![1];
    const card = page.locator('li.endpoint', { hasText: id });
    await card.getByText(secret.slice(-4)).waitFor();
    await expectNoKey(page, secret);
    await expectNoKey(page, ADMIN_KEY);

    await card.getByRole('button', { name: 'Disable…' }).click();
    await page.getByRole('dialog', { name: 'Disable this endpoint?' }).getByRole('button', { name: 'Disable' }).click();
    await card.getByText('disabled', { exact: true }).waitFor();

    await card.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(card.count()).resolves.toBe(1);
    await card.getByRole('button', { name: 'Delete…' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Endpoint deleted.').waitFor();
    await card.waitFor({ state: 'detached' });
    const [row] = await db.query<{ deleted_at: Date | null }>(
      'SELECT deleted_at FROM webhook_endpoints WHERE id = $1',
      [id],
    );
    expect(row.deleted_at).not.toBeNull();
    await context.close();
  });

  it('should show a read-only key everything but the buttons that change state', async () => {
    const { context, page } = await newTab();
    await signIn(page, READ_KEY);
    await expect(page.getByText('Read-only key', { exact: true }).count()).resolves.toBe(1);
    await open(page, 'Events', 'Events');
    await page.locator('tbody tr').first().waitFor();
    await page.locator('tbody tr a').first().click();
    await page.getByRole('heading', { level: 1, name: /^Event \d+$/ }).waitFor();
    await page.locator('dl.facts').waitFor();
    await expect(page.getByRole('button', { name: /Replay/ }).count()).resolves.toBe(0);
    await open(page, 'Endpoints', 'Endpoints');
    await page.locator('li.endpoint').first().waitFor();
    await expect(
      page.getByRole('button', { name: /Send test event|Rotate|Disable|Delete|Import|Register/ }).count(),
    ).resolves.toBe(0);
    await expectNoKey(page, READ_KEY);
    await context.close();
  });

  it('should load nothing from anywhere else and break no rule of its CSP', () => {
    const elsewhere = requested.filter((url) => !url.startsWith(`${service.baseUrl}/`) && !url.startsWith('data:'));
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
  });
});
