import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { type CanActivate, type ExecutionContext, Inject, Injectable, type INestApplication, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { raw } from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type WebhookAttempt,
  WebhookAccessPolicy,
  WebhookDeliveryManager,
  type WebhookPrincipal,
  WebhookPublisher,
  WebhooksModule,
  type WebhookSubscription,
  WebhookSubscriptionManager,
} from 'nest-webhooks';
import type { WebhookAccessAction } from 'nest-webhooks/extensions';
import { WebhooksDashboardModule } from 'nest-webhooks/dashboard';
import { loopbackDestinations } from '../support/webhooks-app.js';

/** The guard's own dependency, from a module that is not global: the dashboard gets it through `imports`. */
const VIEWERS = Symbol('VIEWERS');

@Module({ providers: [{ provide: VIEWERS, useValue: new Map([['admin-token', { id: 'root', admin: true }], ['carol-token', { id: 'carol' }], ['auditor-token', { id: 'auditor' }]]) }], exports: [VIEWERS] })
class ViewersModule {}

@Injectable()
class HeaderGuard implements CanActivate {
  constructor(@Inject(VIEWERS) private readonly viewers: Map<string, { id: string; admin?: boolean }>) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string>; viewer?: unknown }>();
    request.viewer = this.viewers.get(request.headers['x-viewer'] ?? '');
    return request.viewer !== undefined;
  }
}

/** A policy that grants attempts apart from subscriptions: Carol sees her subscriptions but not their payroll deliveries; the auditor sees every delivery and no subscription. */
@Injectable()
class AuditPolicy extends WebhookAccessPolicy {
  can(principal: WebhookPrincipal, action: WebhookAccessAction, subscription: WebhookSubscription | null): boolean {
    if (principal.admin) return true;
    return principal.id === 'carol' && subscription?.ownerId === 'carol' && action !== 'manage';
  }

  override canAttempt(principal: WebhookPrincipal, action: WebhookAccessAction, attempt: WebhookAttempt, subscription: WebhookSubscription | null): boolean {
    if (principal.id === 'auditor') return action === 'view';
    if (attempt.eventName.startsWith('payroll.')) return principal.admin === true;
    return super.canAttempt(principal, action, attempt, subscription);
  }
}

/** fetch with the cookies a browser would keep for this app. */
class Client {
  private readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly viewer: string,
  ) {}

  async send(path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; text: string }> {
    const headers: Record<string, string> = { 'x-viewer': this.viewer, cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(this.base + path, { method: init.method ?? 'GET', headers, body: init.form ? new URLSearchParams(init.form).toString() : undefined, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return { status: response.status, headers: response.headers, text: await response.text() };
  }
}

const token = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

describe('WebhooksDashboardModule in an application of its own', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** `rawBodies`: the application parses every body into a Buffer before Nest's parsers. */
  async function start(
    dashboard: ReturnType<typeof WebhooksDashboardModule.forRoot>,
    { prefix, policy, rawBodies = false }: { prefix?: string; policy?: Type<WebhookAccessPolicy>; rawBodies?: boolean } = {},
  ): Promise<string> {
    @Module({
      imports: [
        EventEmitterModule.forRoot(),
        WebhooksModule.forRoot({
          destinations: loopbackDestinations(),
          delivery: { worker: false },
          subscriptions: [{ id: 'static-hooks', url: 'https://user:pw@127.0.0.1:9/static?token=abc', events: ['order.*'], secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` }],
          providers: policy ? [{ provide: WebhookAccessPolicy, useClass: policy }] : [],
        }),
        dashboard,
      ],
    })
    class AppModule {}
    // Nest's default body parsers: the dashboard reads forms the application already parsed.
    app = await NestFactory.create(AppModule as Type, { logger: false, abortOnError: false });
    if (prefix) app.setGlobalPrefix(prefix);
    if (rawBodies) app.use(raw({ type: () => true }));
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  }

  it('forRootAsync: mounted at its path under the global prefix, guarded, acting for the principal', async () => {
    const base = await start(
      WebhooksDashboardModule.forRootAsync({
        path: '/ops/webhooks/',
        guard: HeaderGuard,
        imports: [ViewersModule],
        inject: [VIEWERS],
        useFactory: (viewers: Map<string, unknown>) => ({ principal: (request: { viewer?: { id: string } }) => request.viewer ?? null, title: `Ops (${viewers.size} viewers)` }),
      }),
      { prefix: 'api' },
    );
    const carol = await app!.get(WebhookSubscriptionManager).create({ url: 'https://127.0.0.1:9/carol', ownerId: 'carol', description: 'Carol’s hooks' });

    const admin = new Client(`${base}/api/ops/webhooks`, 'admin-token');
    const overview = await admin.send('');
    expect(overview.status).toBe(200);
    expect(overview.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(overview.text).toContain('<title>Subscriptions · Ops (3 viewers)</title>');
    expect(overview.text).toContain('href="/api/ops/webhooks/subscriptions/static-hooks"');
    expect(overview.text).toContain('href="/api/ops/webhooks/assets/dashboard.css"');
    expect(overview.text).toContain('Carol’s hooks');
    const page = await admin.send('/subscriptions/static-hooks');
    expect(page.text).toContain('https://***@127.0.0.1:9/static?token=***');
    expect(page.text).not.toContain('user:pw');

    // Declared in code: its state and secret are each process's own, so the page offers no change and the server refuses one.
    expect(page.text).toContain('Declared in code: its state and secret come from each process’s configuration.');
    expect(page.text).not.toMatch(/action="[^"]*\/(deactivate|activate|rotate-secret)"/);
    expect(page.text).toContain('action="/api/ops/webhooks/subscriptions/static-hooks/test"');
    for (const action of ['deactivate', 'rotate-secret', 'activate']) {
      const refused = await admin.send(`/subscriptions/static-hooks/${action}`, { method: 'POST', form: { _csrf: token(page.text) } });
      expect(refused.status, action).toBe(303);
      expect(refused.headers.get('location')).toBe('/api/ops/webhooks/subscriptions/static-hooks');
      const shown = await admin.send('/subscriptions/static-hooks');
      expect(shown.text).toContain('Not done: </strong>Declared in code');
      expect(shown.text).not.toContain('whsec_');
    }
    expect((await app!.get(WebhookSubscriptionManager).get('static-hooks'))!.active).toBe(true);

    // A stored subscription is changed for every process: the admin deactivates Carol's.
    const carolsPage = await admin.send(`/subscriptions/${carol.subscription.id}`);
    const deactivated = await admin.send(`/subscriptions/${carol.subscription.id}/deactivate`, { method: 'POST', form: { _csrf: token(carolsPage.text) } });
    expect(deactivated.status).toBe(303);
    expect(deactivated.headers.get('location')).toBe(`/api/ops/webhooks/subscriptions/${carol.subscription.id}`);
    expect((await app!.get(WebhookSubscriptionManager).get(carol.subscription.id))!.active).toBe(false);
    expect((await admin.send(`/subscriptions/${carol.subscription.id}`)).text).toContain('The subscription is inactive');

    // Carol sees her subscription only; the static one (no owner) answers 404.
    const asCarol = new Client(`${base}/api/ops/webhooks`, 'carol-token');
    const hers = await asCarol.send('');
    expect(hers.text).toContain('Carol’s hooks');
    expect(hers.text).not.toContain('static-hooks');
    expect((await asCarol.send('/subscriptions/static-hooks')).status).toBe(404);
    expect((await asCarol.send(`/subscriptions/${carol.subscription.id}`)).status).toBe(200);

    // The guard refuses a stranger on every route but the stylesheet; the page says so in HTML.
    const stranger = new Client(`${base}/api/ops/webhooks`, 'nobody');
    const refused = await stranger.send('');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(refused.text).toContain('<h1>Not allowed</h1>');
    expect((await stranger.send('/assets/dashboard.css')).status).toBe(200);

    // An unknown path below the dashboard is the dashboard's 404 page, with its headers and its links.
    for (const path of ['/nope', '/subscriptions/static-hooks/nope/deeper', '/assets/missing.css']) {
      const missing = await admin.send(path);
      expect(missing.status, path).toBe(404);
      expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(missing.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(missing.text).toContain('<h1>Not found</h1>');
      expect(missing.text).toContain('href="/api/ops/webhooks/assets/dashboard.css"');
    }
    expect((await stranger.send('/nope')).status).toBe(403);

    // Pages are not API: an OpenAPI document of the application leaves them out.
    const document = SwaggerModule.createDocument(app!, new DocumentBuilder().build());
    expect(Object.keys(document.paths).filter((path) => path.includes('ops/webhooks'))).toEqual([]);
  });

  it('pages the overview 50 subscriptions at a time', async () => {
    const base = await start(WebhooksDashboardModule.forRoot({ guard: HeaderGuard, imports: [ViewersModule], principal: (request: { viewer?: { id: string } }) => request.viewer ?? null }));
    const manager = app!.get(WebhookSubscriptionManager);
    for (let i = 1; i <= 51; i++) await manager.create({ url: `https://127.0.0.1:9/carol/${i}`, ownerId: 'carol', description: `Carol ${String(i).padStart(2, '0')}` });
    const carol = new Client(`${base}/webhooks/dashboard`, 'carol-token');
    const rowsOf = (html: string) => [...html.matchAll(/<th scope="row"><a [^>]*>(Carol \d+)<\/a>/g)].map((m) => m[1]);
    const first = await carol.send('');
    expect(first.text).toContain('51 subscriptions: 51 active, 0 inactive, 0 failing.');
    expect(rowsOf(first.text)).toHaveLength(50);
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain('href="/webhooks/dashboard?page=2" rel="next">More subscriptions</a>');
    const second = await carol.send('?page=2');
    expect(rowsOf(second.text)).toEqual(['Carol 51']);
    expect(second.text).toContain('href="/webhooks/dashboard" rel="prev">Previous subscriptions</a>');
    const bad = await carol.send('?page=0');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('page must be a whole number from 1');
  });

  it('rotates a secret: shown once from a sealed cookie; a planted cookie shows nothing', async () => {
    const base = await start(WebhooksDashboardModule.forRoot({ guard: HeaderGuard, imports: [ViewersModule], principal: (request: { viewer?: { id: string } }) => request.viewer ?? null }));
    const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: 'https://127.0.0.1:9/carol', ownerId: 'carol' });
    const carol = new Client(`${base}/webhooks/dashboard`, 'carol-token');
    const page = await carol.send(`/subscriptions/${subscription.id}`);
    const rotated = await carol.send(`/subscriptions/${subscription.id}/rotate-secret`, { method: 'POST', form: { _csrf: token(page.text) } });
    expect(rotated.headers.get('location')).toBe(`/webhooks/dashboard/subscriptions/${subscription.id}/secret`);
    const cookie = rotated.headers.getSetCookie().find((c) => c.startsWith('webhooks_dashboard_new_secret='))!;
    expect(decodeURIComponent(cookie)).not.toMatch(/whsec_|previousUntil/);
    const shown = await carol.send(`/subscriptions/${subscription.id}/secret`);
    expect(shown.text).toMatch(/<output id="new-secret" class="secret" data-copy>whsec_[A-Za-z0-9+/=]+<\/output>/);
    expect((await carol.send(`/subscriptions/${subscription.id}/secret`)).text).toContain('shown once and is not shown again');

    // A cookie someone else set (a sibling subdomain can) is not shown as the secret, even with a broken time.
    for (const planted of [{ secret: 'whsec_planted', previousUntil: '2026-01-01T00:00:00Z' }, { secret: 'whsec_planted', previousUntil: 'garbage' }]) {
      const response = await fetch(`${base}/webhooks/dashboard/subscriptions/${subscription.id}/secret`, {
        headers: { 'x-viewer': 'carol-token', cookie: `webhooks_dashboard_new_secret=${encodeURIComponent(JSON.stringify(planted))}` },
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).not.toContain('whsec_planted');
      expect(text).toContain('shown once and is not shown again');
    }
  });

  it('searches deliveries without a list of ids for who sees everything, and in chunks of ids for the others', async () => {
    const base = await start(WebhooksDashboardModule.forRoot({ guard: HeaderGuard, imports: [ViewersModule], principal: (request: { viewer?: { id: string } }) => request.viewer ?? null }));
    const manager = app!.get(WebhookSubscriptionManager);
    const ids: string[] = [];
    for (let i = 0; i < 1001; i++) ids.push((await manager.create({ url: `https://127.0.0.1:9/carol/${i}`, ownerId: 'carol' })).subscription.id);
    // Carol's attempts fall into three chunks of ids (0, 600, 1000), published in turns; one of the static subscription's is not hers.
    const publisher = app!.get(WebhookPublisher);
    const hers: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (const id of [ids[1000]!, ids[0]!, ids[600]!]) hers.push((await publisher.publishTo(id, 'order.created', { round })).id);
    }
    const staticAttempt = (await publisher.publishTo('static-hooks', 'order.created', {})).id;
    const searches = vi.spyOn(app!.get(WebhookDeliveryManager), 'searchAttempts');
    const listed = (html: string) => [...html.matchAll(/<th scope="row"><a href="\/webhooks\/dashboard\/deliveries\/([0-9a-f-]{36})"/g)].map((m) => m[1]);

    const carol = new Client(`${base}/webhooks/dashboard`, 'carol-token');
    const first = await carol.send('/deliveries?limit=10');
    const newest = [...hers].sort().reverse();
    expect(listed(first.text)).toEqual(newest.slice(0, 10));
    const older = /href="\/webhooks\/dashboard\/deliveries\?limit=10&amp;before=([0-9a-f-]{36})" rel="next"/.exec(first.text)![1];
    expect(listed((await carol.send(`/deliveries?limit=10&before=${older}`)).text)).toEqual(newest.slice(10));
    expect(searches.mock.calls.length).toBeGreaterThanOrEqual(6);
    for (const [search] of searches.mock.calls) expect(search!.subscriptionIds!.length).toBeLessThanOrEqual(500);
    expect(new Set(searches.mock.calls.flatMap(([search]) => search!.subscriptionIds!))).toEqual(new Set(ids));

    searches.mockClear();
    const admin = new Client(`${base}/webhooks/dashboard`, 'admin-token');
    expect(listed((await admin.send('/deliveries?limit=100')).text)).toEqual([staticAttempt, ...newest]);
    expect(searches.mock.calls).toHaveLength(1);
    expect(searches.mock.calls[0]![0]!.subscriptionIds).toBeUndefined();
  });

  it('follows a custom policy that grants attempts apart from their subscription', async () => {
    const base = await start(WebhooksDashboardModule.forRoot({ guard: HeaderGuard, imports: [ViewersModule], principal: (request: { viewer?: { id: string } }) => request.viewer ?? null }), { policy: AuditPolicy });
    const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: 'https://127.0.0.1:9/carol', ownerId: 'carol', description: 'Carol’s hooks' });
    const publisher = app!.get(WebhookPublisher);
    const order = await publisher.publishTo(subscription.id, 'order.created', {});
    const payroll = await publisher.publishTo(subscription.id, 'payroll.run', {});

    // Carol sees her subscription, and of its recent deliveries only those the policy lets her see.
    const carol = new Client(`${base}/webhooks/dashboard`, 'carol-token');
    const page = await carol.send(`/subscriptions/${subscription.id}`);
    expect(page.text).toContain(`/deliveries/${order.id}"`);
    expect(page.text).not.toContain(payroll.id);
    expect((await carol.send(`/deliveries/${payroll.id}`)).status).toBe(404);

    // The auditor sees the delivery, but not its subscription: no link to a page that would answer 404.
    const auditor = new Client(`${base}/webhooks/dashboard`, 'auditor-token');
    const delivery = await auditor.send(`/deliveries/${payroll.id}`);
    expect(delivery.status).toBe(200);
    expect(delivery.text).not.toContain(`href="/webhooks/dashboard/subscriptions/`);
    expect(delivery.text).not.toContain('Carol’s hooks');
    expect(delivery.text).toContain(`<code>${subscription.id}</code>`);
    expect((await auditor.send(`/subscriptions/${subscription.id}`)).status).toBe(404);
  });

  it('reads forms an application parsed into raw bytes', async () => {
    const base = await start(WebhooksDashboardModule.forRoot({ guard: HeaderGuard, imports: [ViewersModule], principal: (request: { viewer?: { id: string } }) => request.viewer ?? null }), { rawBodies: true });
    const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: 'https://127.0.0.1:9/carol', ownerId: 'carol' });
    const carol = new Client(`${base}/webhooks/dashboard`, 'carol-token');
    const page = await carol.send(`/subscriptions/${subscription.id}`);
    const deactivated = await carol.send(`/subscriptions/${subscription.id}/deactivate`, { method: 'POST', form: { _csrf: token(page.text) } });
    expect(deactivated.status).toBe(303);
    expect((await app!.get(WebhookSubscriptionManager).get(subscription.id))!.active).toBe(false);
    // Raw bytes of another type are still refused.
    const json = await fetch(`${base}/webhooks/dashboard/subscriptions/${subscription.id}/activate`, {
      method: 'POST',
      headers: { 'x-viewer': 'carol-token', 'content-type': 'application/json' },
      body: JSON.stringify({ _csrf: token(page.text) }),
    });
    expect(json.status).toBe(400);
    expect(await json.text()).toContain('Send the form as application/x-www-form-urlencoded');
  });

  it('forRoot: a principal of null is refused with 403, and the default path is webhooks/dashboard', async () => {
    const base = await start(WebhooksDashboardModule.forRoot({ principal: () => null }));
    const response = await new Client(base, '').send('/webhooks/dashboard/deliveries');
    expect(response.status).toBe(403);
    expect(response.text).toContain('You may not see the webhook dashboard.');
  });

  it('refuses options it cannot work with, naming them', async () => {
    expect(() => WebhooksDashboardModule.forRoot({ path: '/', principal: () => null })).toThrow("path must be a URL path such as 'webhooks/dashboard', got \"/\"");
    await expect(start(WebhooksDashboardModule.forRoot({} as never))).rejects.toThrow('principal must be a function');
  });
});
