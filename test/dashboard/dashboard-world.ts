import { expect } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ALICE_KEY, BOB_KEY, startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import type { DatabaseKind } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { type Browser, type BrowserContext, launchChromium, type Page } from '../support/browser.js';

export const DASHBOARD = '/webhooks/dashboard';

/** A subscription as the management API created it: the only time its secret is shown. */
export interface CreatedSubscription {
  id: string;
  secret: string;
}

/**
 * The example app with a real receiver and a browser, and this data (no retries, except on Alice's "retrying"
 * subscription, which waits an hour):
 * - Alice: "Orders to the ERP" (always 200), "CRM sync (flaky)" (500 while `flakyDown`), "Fulfilment (retrying)"
 *   (always 500, order.created only: its attempts stay pending); Bob: one subscription whose description is markup.
 * - Batch 1: six orders of Alice's and one of Bob's (18 + 1 deliveries); then, from `boundary` (a whole second) on,
 *   batch 2: two of Alice's orders updated (4 deliveries).
 */
export class DashboardWorld {
  flakyDown = true;
  orders!: CreatedSubscription;
  flaky!: CreatedSubscription;
  retrying!: CreatedSubscription;
  bobs!: CreatedSubscription;
  /** Created before any delivery of the test. */
  readonly startedAt = Date.now();
  /** Batch 1 was created before this time, batch 2 at or after it. */
  boundary = 0;

  private constructor(
    readonly api: RunningExampleApp,
    readonly receiver: TestReceiver,
    readonly browser: Browser,
  ) {}

  static async start(database: DatabaseKind): Promise<DashboardWorld> {
    let world: DashboardWorld | undefined;
    const receiver = await TestReceiver.start({
      responder: (request, res) => {
        const down = request.path.startsWith('/alice-retrying') || (request.path.startsWith('/alice-flaky') && world!.flakyDown);
        res.writeHead(down ? 500 : 200, { 'content-type': 'application/json' });
        res.end(down ? '{"error":"temporarily down"}' : '{"ok":true}');
      },
    });
    const api = await startExampleApp({}, { database, delivery: { retrySchedule: [] } });
    world = new DashboardWorld(api, receiver, await launchChromium());
    await world.seed();
    return world;
  }

  get baseUrl(): string {
    return this.api.baseUrl;
  }

  settle(): Promise<void> {
    return this.api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
  }

  async create(key: string, body: Record<string, unknown>): Promise<CreatedSubscription> {
    const response = await this.api.request('POST', '/webhooks/subscriptions', { key, body });
    expect(response.status).toBe(201);
    return response.body;
  }

  /** Requests the receiver got at `path`, with their webhook-id. */
  received(path: string): Array<{ webhookId: string; type: string; body: string; headers: Record<string, string> }> {
    return this.receiver.requests
      .filter((r) => r.path === path)
      .map((r) => ({ webhookId: r.headers['webhook-id']!, type: (JSON.parse(r.body) as { type: string }).type, body: r.body, headers: r.headers }));
  }

  /** A new browser context (its own cookies), signed in with `key`, on the dashboard's first page. */
  async signIn(key: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext(options);
    const page = await context.newPage();
    await page.goto(`${this.baseUrl}${DASHBOARD}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${this.baseUrl}${DASHBOARD}`);
    return { context, page };
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.api.close();
    await this.receiver.close();
  }

  private async seed(): Promise<void> {
    const url = this.receiver.url;
    this.orders = await this.create(ALICE_KEY, { url: `${url}/alice-orders`, events: ['order.*'], description: 'Orders to the ERP' });
    this.flaky = await this.create(ALICE_KEY, { url: `${url}/alice-flaky`, events: ['order.*'], description: 'CRM sync (flaky)' });
    this.retrying = await this.create(ALICE_KEY, {
      url: `${url}/alice-retrying`,
      events: ['order.created'],
      description: 'Fulfilment (retrying)',
      retrySchedule: [3_600_000],
      headers: { 'X-Fulfilment-Key': 'fulfilment-header-value' },
    });
    this.bobs = await this.create(BOB_KEY, { url: `${url}/bob`, description: '<img src=x onerror="window.__xss=1">Bob’s hooks' });
    const orderIds: string[] = [];
    for (const item of ['book', 'pen', 'lamp', 'desk', 'chair', 'mug']) {
      const order = await this.api.request('POST', '/orders', { body: { item, quantity: 1 } });
      expect(order.status).toBe(201);
      orderIds.push(order.body.id);
    }
    expect((await this.api.request('POST', '/orders', { key: BOB_KEY, body: { item: 'stapler', quantity: 2 } })).status).toBe(201);
    await this.settle();
    this.boundary = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, this.boundary - Date.now() + 5));
    for (const id of orderIds.slice(0, 2)) {
      expect((await this.api.request('PATCH', `/orders/${id}`, { body: { quantity: 3 } })).status).toBe(200);
    }
    await this.settle();
  }
}

/** A `datetime-local` value in UTC, as Chromium keeps it (seconds only when they are not zero). */
export function dateTimeInput(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(17, 23) === '00.000' ? iso.slice(0, 16) : iso.slice(0, 19);
}
