import { createHmac, randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { csrfToken } from '../../libs/webhooks/src/dashboard/csrf.js';
import { DashboardCsrf } from '../../libs/webhooks/src/dashboard/dashboard-csrf.js';
import { DashboardExchange } from '../../libs/webhooks/src/dashboard/dashboard-exchange.js';
import { DashboardKeys } from '../../libs/webhooks/src/dashboard/dashboard-keys.js';
import { keepForOneView, takeOneView } from '../../libs/webhooks/src/dashboard/one-time-secret.js';

const ENCRYPTION_KEY = { id: 'k1', key: randomBytes(32).toString('base64') };
const keysFrom = (encryptionKeys: Array<{ id: string; key: string }>) => new DashboardKeys({ secrets: { encryptionKeys, rotationOverlapMs: 0 } } as never);
const alice = { id: 'alice' };
const SECRET_COOKIE = 'webhooks_dashboard_new_secret';

/** A request with these cookies (a Cookie header as a browser sends it) and other headers, and its exchange. */
function exchangeWith(cookie: string | undefined, headers: Record<string, string> = {}) {
  const request = new IncomingMessage(new Socket());
  request.headers = { ...(cookie === undefined ? {} : { cookie }), ...headers };
  const response = new ServerResponse(request);
  return { request, response, exchange: new DashboardExchange(request, response, '/dash') };
}

/** The cookies an exchange set, as name → value (after it answered). */
function setCookies(exchange: DashboardExchange, response: ServerResponse): Map<string, string> {
  exchange.redirect('/dash');
  const header = response.getHeader('Set-Cookie') as string[] | undefined;
  return new Map((header ?? []).map((c) => c.split(';')[0]!.split('=') as [string, string]));
}

/** The Set-Cookie value of a rotation's one-time secret. */
function sealedFor(keys: DashboardKeys, subscriptionId: string, principal: { id: string }, secret = 'whsec_new', previousUntil = new Date('2026-01-01T12:00:00Z')): string {
  const { exchange, response } = exchangeWith(undefined);
  keepForOneView(exchange, keys, subscriptionId, principal, { secret, previousUntil });
  return setCookies(exchange, response).get(SECRET_COOKIE)!;
}

const take = (keys: DashboardKeys, cookie: string, subscriptionId = 'sub-1', principal = alice) => takeOneView(exchangeWith(cookie).exchange, keys, subscriptionId, principal);

describe('the one-time secret cookie is sealed with the server key', () => {
  it('holds no readable secret, and another replica with the same encryption key opens it once', () => {
    const sealed = sealedFor(keysFrom([ENCRYPTION_KEY]), 'sub-1', alice);
    expect(decodeURIComponent(sealed)).not.toContain('whsec_');
    expect(decodeURIComponent(sealed)).not.toContain('previousUntil');
    const { exchange, response } = exchangeWith(`${SECRET_COOKIE}=${sealed}`);
    const replica = keysFrom([ENCRYPTION_KEY]);
    expect(takeOneView(exchange, replica, 'sub-1', alice)).toEqual({ secret: 'whsec_new', previousUntil: new Date('2026-01-01T12:00:00Z') });
    // Deleted in the same response.
    expect(setCookies(exchange, response).get(SECRET_COOKIE)).toBe('');
  });

  it('opens for its subscription and principal only', () => {
    const keys = keysFrom([ENCRYPTION_KEY]);
    const sealed = sealedFor(keys, 'sub-1', alice);
    expect(take(keys, `${SECRET_COOKIE}=${sealed}`, 'sub-2')).toBeNull();
    expect(take(keys, `${SECRET_COOKIE}=${sealed}`, 'sub-1', { id: 'mallory' })).toBeNull();
    expect(take(keys, `${SECRET_COOKIE}=${sealed}`)).not.toBeNull();
  });

  it('treats a planted cookie as absent: plain JSON, another key, a changed byte', () => {
    const keys = keysFrom([ENCRYPTION_KEY]);
    const planted = encodeURIComponent(JSON.stringify({ secret: 'whsec_attacker', previousUntil: '2026-01-01T00:00:00Z' }));
    expect(take(keys, `${SECRET_COOKIE}=${planted}`)).toBeNull();
    expect(take(keys, `${SECRET_COOKIE}=${sealedFor(keysFrom([{ id: 'k2', key: randomBytes(32).toString('base64') }]), 'sub-1', alice)}`)).toBeNull();
    const sealed = sealedFor(keys, 'sub-1', alice);
    const changed = sealed.slice(0, 20) + (sealed[20] === 'A' ? 'B' : 'A') + sealed.slice(21);
    expect(take(keys, `${SECRET_COOKIE}=${changed}`)).toBeNull();
  });

  it('tries every cookie of that name: a planted one beside the real one does not hide it', () => {
    const keys = keysFrom([ENCRYPTION_KEY]);
    const sealed = sealedFor(keys, 'sub-1', alice, 'whsec_real');
    expect(take(keys, `${SECRET_COOKIE}=garbage; other=1; ${SECRET_COOKIE}=${sealed}`)).toMatchObject({ secret: 'whsec_real' });
  });

  it('treats a sealed value without a valid time as absent (no error page)', () => {
    const keys = keysFrom([ENCRYPTION_KEY]);
    const sealed = keys.seal(JSON.stringify({ secret: 'whsec_x', previousUntil: 'not a time' }), 'sub-1|alice');
    expect(take(keys, `${SECRET_COOKIE}=${sealed}`)).toBeNull();
  });

  it('without encryption keys, uses a random key of the process: another process cannot open it', () => {
    const sealed = sealedFor(keysFrom([]), 'sub-1', alice);
    expect(take(keysFrom([]), `${SECRET_COOKIE}=${sealed}`)).toBeNull();
  });
});

describe('form tokens are signed with the server key', () => {
  const CSRF_COOKIE = 'webhooks_dashboard_csrf';

  /** A page's token for `principal`, and the cookie the page set. */
  function pageToken(keys: DashboardKeys, principal = alice): { token: string; cookie: string } {
    const { exchange, response } = exchangeWith(undefined);
    const token = csrfToken(exchange, keys, principal);
    return { token, cookie: `${CSRF_COOKIE}=${setCookies(exchange, response).get(CSRF_COOKIE)}` };
  }

  it('accepts the token of this browser and principal, with the cookie it came with', () => {
    const keys = keysFrom([ENCRYPTION_KEY]);
    const { token, cookie } = pageToken(keys);
    const csrf = new DashboardCsrf(keysFrom([ENCRYPTION_KEY]));
    expect(csrf.verify(exchangeWith(cookie).request, alice, token)).toBe(true);
    expect(csrf.verify(exchangeWith(cookie, { 'sec-fetch-site': 'same-origin' }).request, alice, token)).toBe(true);
    expect(csrf.verify(exchangeWith(cookie).request, { id: 'bob' }, token)).toBe(false);
    expect(csrf.verify(exchangeWith(undefined).request, alice, token)).toBe(false);
    expect(csrf.verify(exchangeWith(cookie, { 'sec-fetch-site': 'cross-site' }).request, alice, token)).toBe(false);
    expect(csrf.verify(exchangeWith(cookie).request, alice, undefined)).toBe(false);
  });

  it('refuses a token computed by whoever planted the cookie: the secret alone does not make one', () => {
    const csrf = new DashboardCsrf(keysFrom([ENCRYPTION_KEY]));
    const planted = randomBytes(32).toString('base64url');
    const request = exchangeWith(`${CSRF_COOKIE}=${planted}`).request;
    for (const forged of [
      createHmac('sha256', planted).update(`dashboard-form:${alice.id}`).digest('base64url'),
      createHmac('sha256', planted).update(`${planted}|dashboard-form:${alice.id}`).digest('base64url'),
    ]) {
      expect(csrf.verify(request, alice, forged)).toBe(false);
    }
    // The page the victim opens with that cookie signs it with the server key: its token is accepted, no forged one.
    const keys = keysFrom([ENCRYPTION_KEY]);
    const { exchange } = exchangeWith(`${CSRF_COOKIE}=${planted}`);
    expect(csrf.verify(request, alice, csrfToken(exchange, keys, alice))).toBe(true);
  });
});
