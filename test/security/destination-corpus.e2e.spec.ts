import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import ipaddr from 'ipaddr.js';
import { STATUS_CODES } from 'node:http';
import type { LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidWebhookSubscriptionError, StandardWebhookDialect, type StaticWebhookSubscription, type WebhookAttempt, WebhookDeliveryManager, WebhookMessages, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { type PreparedWebhookRequest, type WebhookRequestContext, WebhookTransport, WebhookTransportError } from 'nest-webhooks/extensions';
import { FakeResolver } from '../support/fake-resolver.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES } from '../support/webhooks-app.js';

/**
 * Issue "Safe by default" — the destination corpus (reliability-security.md §C3, §C4, §C5, §C7).
 *
 * Every case is checked twice with the default-deny policy:
 *  - at subscription creation: `create({ url })` is refused with `InvalidWebhookSubscriptionError` on `url`;
 *  - at connect time: the same URL as a static subscription (checked for syntax and scheme only when it is
 *    declared), then an event: the try fails with `DestinationVerificationFailed` / `blocked-address`, and
 *    nothing reaches the sentinel receiver.
 *
 * Every URL uses the port of a "sentinel" receiver that listens on every local address (`::`, dual stack), so
 * a guard that let a loopback / this-host destination through would make the sentinel see the request. The
 * same cases are then shown to be allowed when `allowPrivateNetworks` lists them: the loopback and this-host
 * ones actually reach the sentinel, the others get as far as a connection attempt (a connection error, never
 * `blocked-address`). High ports are used on purpose: nothing here talks to ports 80/443 of other hosts.
 */

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const EVENT = 'corpus.case';
const STATIC_ID = 'corpus';
const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';

interface DestinationCase {
  /** What the case is (the range or encoding of §C4 it stands for). */
  label: string;
  /** The URL authority before the port: an IP literal in any encoding, a name, optionally with user-info. */
  host: string;
  /** What `allowPrivateNetworks` must list for the case to be allowed. */
  allow: string[];
  /** Answers of the injected resolver, by name; `system` uses the real `dns.lookup` (/etc/hosts). */
  dns?: Record<string, string[]> | 'system';
  /** Once allowed, the connection lands on this machine, so the sentinel receiver must get the request. */
  reachable?: boolean;
}

const LOOPBACK_V4 = ['127.0.0.0/8'];

/** §C4 IPv4 ranges. */
const IPV4_RANGES: DestinationCase[] = [
  { label: '0.0.0.0/8 "this network": 0.0.0.0 (reaches the local host on Linux)', host: '0.0.0.0', allow: ['0.0.0.0/8'], reachable: true },
  { label: '0.0.0.0/8 "this network": 0.1.2.3', host: '0.1.2.3', allow: ['0.0.0.0/8'] },
  { label: 'RFC 1918 10.0.0.0/8: 10.0.0.1', host: '10.0.0.1', allow: ['10.0.0.0/8'] },
  { label: 'RFC 1918 10.0.0.0/8: 10.255.255.254', host: '10.255.255.254', allow: ['10.0.0.0/8'] },
  { label: 'RFC 1918 172.16.0.0/12: 172.16.0.1', host: '172.16.0.1', allow: ['172.16.0.0/12'] },
  { label: 'RFC 1918 172.16.0.0/12: 172.31.255.254', host: '172.31.255.254', allow: ['172.16.0.0/12'] },
  { label: 'RFC 1918 192.168.0.0/16: 192.168.1.1', host: '192.168.1.1', allow: ['192.168.0.0/16'] },
  { label: 'CGNAT 100.64.0.0/10: 100.64.0.1', host: '100.64.0.1', allow: ['100.64.0.0/10'] },
  { label: 'CGNAT 100.64.0.0/10: Alibaba Cloud metadata 100.100.100.200', host: '100.100.100.200', allow: ['100.64.0.0/10'] },
  { label: 'CGNAT 100.64.0.0/10: 100.127.255.254', host: '100.127.255.254', allow: ['100.64.0.0/10'] },
  { label: 'loopback 127.0.0.0/8: 127.0.0.1', host: '127.0.0.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'loopback 127.0.0.0/8 beyond .1: 127.0.0.2', host: '127.0.0.2', allow: LOOPBACK_V4, reachable: true },
  { label: 'loopback 127.0.0.0/8 beyond .1: 127.255.255.254', host: '127.255.255.254', allow: LOOPBACK_V4, reachable: true },
  { label: 'link-local 169.254.0.0/16: cloud metadata 169.254.169.254', host: '169.254.169.254', allow: ['169.254.0.0/16'] },
  { label: 'link-local 169.254.0.0/16: 169.254.0.1', host: '169.254.0.1', allow: ['169.254.0.0/16'] },
  { label: 'Azure WireServer 168.63.129.16 (public-looking)', host: '168.63.129.16', allow: ['168.63.129.16/32'] },
  { label: 'IETF protocol assignments 192.0.0.0/24: 192.0.0.1', host: '192.0.0.1', allow: ['192.0.0.0/24'] },
  { label: 'IETF protocol assignments 192.0.0.0/24: 192.0.0.170', host: '192.0.0.170', allow: ['192.0.0.0/24'] },
  { label: 'TEST-NET-1 192.0.2.0/24: 192.0.2.1', host: '192.0.2.1', allow: ['192.0.2.0/24'] },
  { label: 'TEST-NET-2 198.51.100.0/24: 198.51.100.7', host: '198.51.100.7', allow: ['198.51.100.0/24'] },
  { label: 'TEST-NET-3 203.0.113.0/24: 203.0.113.9', host: '203.0.113.9', allow: ['203.0.113.0/24'] },
  { label: '6to4 relay anycast 192.88.99.0/24: 192.88.99.1', host: '192.88.99.1', allow: ['192.88.99.0/24'] },
  { label: 'benchmarking 198.18.0.0/15: 198.18.0.1', host: '198.18.0.1', allow: ['198.18.0.0/15'] },
  { label: 'benchmarking 198.18.0.0/15: 198.19.255.254', host: '198.19.255.254', allow: ['198.18.0.0/15'] },
  { label: 'multicast 224.0.0.0/4: 224.0.0.1', host: '224.0.0.1', allow: ['224.0.0.0/4'] },
  { label: 'multicast 224.0.0.0/4: SSDP 239.255.255.250', host: '239.255.255.250', allow: ['224.0.0.0/4'] },
  { label: 'reserved class E 240.0.0.0/4: 240.0.0.1', host: '240.0.0.1', allow: ['240.0.0.0/4'] },
  { label: 'broadcast 255.255.255.255', host: '255.255.255.255', allow: ['255.255.255.255/32'] },
];

/** §C4 "Encodings that must normalise to the same decision" (and a few more spellings of the same hosts). */
const IPV4_ENCODINGS: DestinationCase[] = [
  { label: 'decimal integer 2130706433 (= 127.0.0.1)', host: '2130706433', allow: LOOPBACK_V4, reachable: true },
  { label: 'hex integer 0x7f000001', host: '0x7f000001', allow: LOOPBACK_V4, reachable: true },
  { label: 'octal integer 017700000001', host: '017700000001', allow: LOOPBACK_V4, reachable: true },
  { label: 'octal first part 0177.0.0.1', host: '0177.0.0.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'short form 127.1', host: '127.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'hex first part 0x7f.0.0.1', host: '0x7f.0.0.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'hex short form 0x7F.1', host: '0x7F.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'zero-padded 127.000.000.001', host: '127.000.000.001', allow: LOOPBACK_V4, reachable: true },
  { label: 'bare 0 (= 0.0.0.0)', host: '0', allow: ['0.0.0.0/8'], reachable: true },
  { label: 'circled digits ①②⑦.0.0.1', host: '①②⑦.0.0.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'full-width digits １２７.0.0.1', host: '１２７.0.0.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'ideographic full stops 127。0。0。1', host: '127。0。0。1', allow: LOOPBACK_V4, reachable: true },
  { label: 'percent-encoded trailing dot 127.0.0.1%2e', host: '127.0.0.1%2e', allow: LOOPBACK_V4, reachable: true },
  { label: 'percent-encoded digits %31%32%37.0.0.1', host: '%31%32%37.0.0.1', allow: LOOPBACK_V4, reachable: true },
  { label: 'trailing dot 127.0.0.1.', host: '127.0.0.1.', allow: LOOPBACK_V4, reachable: true },
  { label: 'hex integer of the metadata address 0xa9fea9fe', host: '0xa9fea9fe', allow: ['169.254.0.0/16'] },
  { label: 'two-part form of the metadata address 169.254.43518', host: '169.254.43518', allow: ['169.254.0.0/16'] },
];

/** §C4 IPv6 ranges, mapped/embedded IPv4 forms included. */
const IPV6_FORMS: DestinationCase[] = [
  { label: 'IPv6 loopback [::1]', host: '[::1]', allow: ['::1/128'], reachable: true },
  { label: 'IPv6 loopback, long form [0:0:0:0:0:0:0:1]', host: '[0:0:0:0:0:0:0:1]', allow: ['::1/128'], reachable: true },
  { label: 'IPv6 unspecified [::]', host: '[::]', allow: ['::/128'], reachable: true },
  { label: 'IPv4-mapped [::ffff:127.0.0.1]', host: '[::ffff:127.0.0.1]', allow: LOOPBACK_V4, reachable: true },
  { label: 'IPv4-mapped, hex [::ffff:7f00:1]', host: '[::ffff:7f00:1]', allow: LOOPBACK_V4, reachable: true },
  { label: 'IPv4-compatible ::/96 [::127.0.0.1] (= [::7f00:1])', host: '[::127.0.0.1]', allow: ['::/96'] },
  { label: 'IPv4-compatible ::/96, hex [::7f00:1]', host: '[::7f00:1]', allow: ['::/96'] },
  { label: 'IPv4-mapped metadata, long form [0:0:0:0:0:ffff:a9fe:a9fe]', host: '[0:0:0:0:0:ffff:a9fe:a9fe]', allow: ['169.254.0.0/16'] },
  { label: 'IPv4-mapped metadata, dotted [::ffff:169.254.169.254]', host: '[::ffff:169.254.169.254]', allow: ['169.254.0.0/16'] },
  { label: 'IPv4-translated ::ffff:0:0:0/96 [::ffff:0:a9fe:a9fe]', host: '[::ffff:0:a9fe:a9fe]', allow: ['::ffff:0:0:0/96'] },
  { label: 'NAT64 64:ff9b::/96 embedding 169.254.169.254 [64:ff9b::a9fe:a9fe]', host: '[64:ff9b::a9fe:a9fe]', allow: ['64:ff9b::a9fe:a9fe/128'] },
  { label: 'NAT64 64:ff9b::/96 embedding 10.0.0.1 [64:ff9b::a00:1]', host: '[64:ff9b::a00:1]', allow: ['10.0.0.0/8'] },
  { label: 'local-use NAT64 64:ff9b:1::/48 [64:ff9b:1::1]', host: '[64:ff9b:1::1]', allow: ['64:ff9b:1::/48'] },
  { label: '6to4 2002::/16 embedding 169.254.169.254 [2002:a9fe:a9fe::]', host: '[2002:a9fe:a9fe::]', allow: ['2002::/16'] },
  { label: '6to4 2002::/16 embedding a PUBLIC IPv4 [2002:5db8:d822::1] (deprecated embedding: refused whatever it carries)', host: '[2002:5db8:d822::1]', allow: ['2002::/16'] },
  { label: 'Teredo 2001::/32 [2001:0:4136:e378:8000:63bf:3fff:fdd2]', host: '[2001:0:4136:e378:8000:63bf:3fff:fdd2]', allow: ['2001::/32'] },
  { label: 'unique-local fc00::/7: AWS IMDS over IPv6 [fd00:ec2::254]', host: '[fd00:ec2::254]', allow: ['fc00::/7'] },
  { label: 'unique-local fc00::/7: [fc00::1]', host: '[fc00::1]', allow: ['fc00::/7'] },
  { label: 'link-local fe80::/10 [fe80::1]', host: '[fe80::1]', allow: ['fe80::/10'] },
  { label: 'deprecated site-local fec0::/10 [fec0::1]', host: '[fec0::1]', allow: ['fec0::/10'] },
  { label: 'multicast ff00::/8 [ff02::1]', host: '[ff02::1]', allow: ['ff00::/8'] },
  { label: 'discard-only 100::/64 [100::1]', host: '[100::1]', allow: ['100::/64'] },
  { label: 'documentation 2001:db8::/32 [2001:db8::1]', host: '[2001:db8::1]', allow: ['2001:db8::/32'] },
  { label: 'documentation 3fff::/20 [3fff::1]', host: '[3fff::1]', allow: ['3fff::/20'] },
  { label: 'SRv6 SIDs 5f00::/16 [5f00::1]', host: '[5f00::1]', allow: ['5f00::/16'] },
];

/** Names: caught by resolving and checking every answer, not by string rules (§C3, §C4). */
const NAMES: DestinationCase[] = [
  {
    label: 'a name resolving to the metadata address (metadata.google.internal)',
    host: 'metadata.google.internal',
    dns: { 'metadata.google.internal': ['169.254.169.254'] },
    allow: ['169.254.169.254/32'],
  },
  { label: 'a name resolving to RFC 1918', host: 'intranet.corp.example', dns: { 'intranet.corp.example': ['10.1.2.3'] }, allow: ['10.0.0.0/8'] },
  { label: 'a nip.io-style name resolving to loopback', host: '127.0.0.1.nip.io', dns: { '127.0.0.1.nip.io': ['127.0.0.1'] }, allow: LOOPBACK_V4, reachable: true },
  {
    label: 'localhost. (trailing-dot FQDN)',
    host: 'localhost.',
    dns: { localhost: ['127.0.0.1', '::1'], 'localhost.': ['127.0.0.1', '::1'] },
    allow: ['127.0.0.0/8', '::1/128'],
    reachable: true,
  },
  { label: 'localhost through the real system resolver', host: 'localhost', dns: 'system', allow: ['127.0.0.0/8', '::1/128'], reachable: true },
  {
    label: 'a mixed answer: one public + one RFC 1918 address (refused if ANY address is blocked)',
    host: 'mixed.example.com',
    dns: { 'mixed.example.com': [PUBLIC_V4, '10.0.0.7'] },
    allow: ['10.0.0.0/8'],
  },
  {
    label: 'a mixed answer: one public + loopback',
    host: 'mixed-loopback.example.com',
    dns: { 'mixed-loopback.example.com': [PUBLIC_V4, '127.0.0.1'] },
    allow: LOOPBACK_V4,
    reachable: true,
  },
  {
    label: 'a mixed answer: public IPv4 + AWS IMDS over IPv6 (every family is checked)',
    host: 'dual.example.com',
    dns: { 'dual.example.com': [PUBLIC_V4, 'fd00:ec2::254'] },
    allow: ['fc00::/7'],
  },
  {
    label: 'an answer where only the last of five addresses is blocked',
    host: 'many.example.com',
    dns: { 'many.example.com': ['93.184.216.34', '93.184.216.35', '93.184.216.36', PUBLIC_V6, '192.168.0.10'] },
    allow: ['192.168.0.0/16'],
  },
  {
    label: 'a name whose AAAA answer is IPv4-mapped metadata ::ffff:a9fe:a9fe',
    host: 'mapped.example.com',
    dns: { 'mapped.example.com': ['::ffff:a9fe:a9fe'] },
    allow: ['169.254.0.0/16'],
  },
  {
    label: 'a name resolving to NAT64 of the metadata address',
    host: 'nat64.example.com',
    dns: { 'nat64.example.com': ['64:ff9b::a9fe:a9fe'] },
    allow: ['64:ff9b::a9fe:a9fe/128'],
  },
  { label: 'a name resolving to CGNAT (Tailscale-style)', host: 'node.tailnet.example', dns: { 'node.tailnet.example': ['100.101.102.103'] }, allow: ['100.64.0.0/10'] },
];

/** User-info must not change which host is checked. */
const CREDENTIALS: DestinationCase[] = [
  { label: 'credentials in the URL, loopback host user:pass@127.0.0.1', host: 'user:pass@127.0.0.1', allow: LOOPBACK_V4, reachable: true },
  {
    label: 'a public-looking user-info before a loopback host public.example@127.0.0.1',
    host: 'public.example@127.0.0.1',
    dns: { 'public.example': [PUBLIC_V4] },
    allow: LOOPBACK_V4,
    reachable: true,
  },
  { label: 'credentials with an IPv6 loopback host user:pass@[::1]', host: 'user:pass@[::1]', allow: ['::1/128'], reachable: true },
];

/**
 * This host's own non-loopback addresses that are in a special-purpose range (on the reference machine:
 * 192.0.2.2 and fd00::2 on eth0). A connection to them lands on the sentinel, so a leak would be seen.
 */
const OWN_ADDRESSES: DestinationCase[] = Object.values(networkInterfaces())
  .flat()
  .filter((i): i is NonNullable<typeof i> => !!i && !i.internal && !i.address.toLowerCase().startsWith('fe80'))
  .filter((i) => ipaddr.parse(i.address).range() !== 'unicast')
  .map((i) => ({
    label: `this host's own address ${i.address} (${ipaddr.parse(i.address).range()})`,
    host: i.family === 'IPv6' ? `[${i.address}]` : i.address,
    allow: [`${i.address}/${i.family === 'IPv6' ? 128 : 32}`],
    reachable: true,
  }));

const LISTED = [...IPV4_RANGES, ...IPV4_ENCODINGS, ...IPV6_FORMS, ...NAMES, ...CREDENTIALS];
const BLOCKED: DestinationCase[] = [...LISTED, ...OWN_ADDRESSES.filter((own) => !LISTED.some((c) => c.host === own.host))];

/** Public destinations (and the edges of blocked ranges): accepted, and the guard lets the connection be tried. */
const PUBLIC: DestinationCase[] = [
  { label: `public IPv4 ${PUBLIC_V4}`, host: PUBLIC_V4, allow: [] },
  { label: `public IPv6 [${PUBLIC_V6}]`, host: `[${PUBLIC_V6}]`, allow: [] },
  { label: 'NAT64 of a public IPv4 [64:ff9b::5db8:d822] (= 93.184.216.34)', host: '[64:ff9b::5db8:d822]', allow: [] },
  { label: 'IPv4-mapped public [::ffff:93.184.216.34]', host: '[::ffff:93.184.216.34]', allow: [] },
  { label: 'edge: 168.63.129.17 (next to Azure WireServer)', host: '168.63.129.17', allow: [] },
  { label: 'edge: 172.32.0.1 (just past 172.16.0.0/12)', host: '172.32.0.1', allow: [] },
  { label: 'edge: 100.128.0.1 (just past CGNAT)', host: '100.128.0.1', allow: [] },
  { label: 'edge: 11.0.0.1 (just past 10.0.0.0/8)', host: '11.0.0.1', allow: [] },
  { label: 'a public name (A + AAAA)', host: 'hooks.public.example', dns: { 'hooks.public.example': [PUBLIC_V4, PUBLIC_V6] }, allow: [] },
  {
    label: 'a loopback-looking user-info before a public host 127.0.0.1@hooks.public.example',
    host: '127.0.0.1@hooks.public.example',
    dns: { 'hooks.public.example': [PUBLIC_V4] },
    allow: [],
  },
];

/** Failures that mean "the connection was attempted" (nothing listens there, or there is no route). */
const CONNECTION_FAILURES = ['connection-refused', 'connect-timeout', 'timeout', 'connection-reset', 'unknown'];

describe('destination corpus: refused at creation and at connect time, allowed only when the policy lists it', () => {
  let sentinel: TestReceiver;
  let app: INestApplication | undefined;
  let resolver: FakeResolver;

  beforeEach(async () => {
    // Listens on every local address (IPv6 and IPv4): any destination on this machine lands here.
    sentinel = await TestReceiver.start({ protocol: 'http', host: '::', responder: ok(204) });
    resolver = new FakeResolver();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await sentinel.close();
  });

  const urlOf = (c: DestinationCase, path = '/hook') => `http://${c.host}:${sentinel.port}${path}`;

  function lookupFor(c: DestinationCase): WebhooksModuleOptions['destinations'] {
    if (c.dns === 'system') return { lookup: undefined };
    for (const [name, answer] of Object.entries(c.dns ?? {})) resolver.set(name, answer);
    return { lookup: resolver.lookup };
  }

  async function boot(destinations: WebhooksModuleOptions['destinations'], subscriptions: StaticWebhookSubscription[] = [], transport?: 'undici' | 'undici-thread' | 'axios') {
    app = await createWebhooksApp({
      webhooks: {
        destinations: { allowHttp: true, ...destinations },
        delivery: { retrySchedule: [], timeoutMs: 3000, connectTimeoutMs: 400, shutdownTimeoutMs: 1000, ...(transport ? { transport } : {}) },
        subscriptions,
      },
    });
    return app;
  }

  async function deliverOne(subscriptionId: string): Promise<WebhookAttempt> {
    app!.get(EventEmitter2).emit(EVENT, { probe: true });
    await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const attempts = await app!.get(WebhookDeliveryManager).listAttempts(subscriptionId);
    expect(attempts).toHaveLength(1);
    return attempts[0]!;
  }

  it(`the corpus has at least 60 blocked destinations (${BLOCKED.length}) and every entry is distinct`, () => {
    expect(BLOCKED.length).toBeGreaterThanOrEqual(60);
    expect(new Set(BLOCKED.map((c) => c.host)).size).toBe(BLOCKED.length);
  });

  describe('default policy (allowPrivateNetworks: false)', () => {
    for (const c of BLOCKED) it(`${c.label} → refused at creation (blocked-address) and at connect time, no request`, async () => {
      const url = urlOf(c);
      await boot({ allowPrivateNetworks: false, ...lookupFor(c) }, [{ id: STATIC_ID, url, events: [EVENT], secret: SECRET }]);
      const subscriptions = app!.get(WebhookSubscriptionManager);

      // 1. At creation.
      const error = await subscriptions.create({ url, events: [EVENT] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
      expect(error).toMatchObject({ field: 'url' });
      expect((error as InvalidWebhookSubscriptionError).reason).toContain('blocked-address');
      expect(await subscriptions.list({ source: 'persistent' })).toEqual([]);

      // 2. At connect time: the static subscription exists (declared in code, syntax-checked only).
      const attempt = await deliverOne(STATIC_ID);
      expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.DestinationVerificationFailed, response: null });
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['blocked-address']);
      expect(sentinel.requests).toHaveLength(0);
    });

    it('update() applies the same policy: moving an existing subscription to any corpus destination is refused', async () => {
      const merged = new FakeResolver().set('hooks.public.example', [PUBLIC_V4]);
      for (const c of BLOCKED) if (c.dns && c.dns !== 'system') for (const [name, answer] of Object.entries(c.dns)) merged.set(name, answer);
      await boot({ allowPrivateNetworks: false, lookup: merged.lookup });
      const subscriptions = app!.get(WebhookSubscriptionManager);
      const original = `http://hooks.public.example:${sentinel.port}/original`;
      const { subscription } = await subscriptions.create({ url: original, events: [EVENT] });
      const accepted: string[] = [];
      for (const c of BLOCKED.filter((b) => b.dns !== 'system')) {
        const error = await subscriptions.update(subscription.id, { url: urlOf(c) }).catch((e: unknown) => e);
        if (!(error instanceof InvalidWebhookSubscriptionError) || !error.reason.includes('blocked-address')) accepted.push(c.label);
      }
      expect(accepted).toEqual([]);
      expect((await subscriptions.get(subscription.id))!.url).toBe(original);
    });

    for (const c of PUBLIC) it(`${c.label} → accepted at creation; the connection is attempted (not blocked-address)`, async () => {
      await boot({ allowPrivateNetworks: false, ...lookupFor(c) });
      const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: urlOf(c), events: [EVENT] });
      const attempt = await deliverOne(subscription.id);
      expect(attempt.status).toBe('failed'); // no internet here
      expect(attempt.history).toHaveLength(1);
      expect(attempt.history[0]!.errorCode).not.toBe('blocked-address');
      expect(CONNECTION_FAILURES).toContain(attempt.history[0]!.errorCode);
      expect(attempt.message).toBe(WebhookMessages.attempt.RemoteError);
    });
  });

  describe('the same destinations, listed in allowPrivateNetworks', () => {
    for (const c of BLOCKED) it(`${c.label} → accepted with ${c.allow.join(', ')}; the guard lets the connection through`, async () => {
      await boot({ allowPrivateNetworks: c.allow, ...lookupFor(c) });
      const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: urlOf(c, '/allowed'), events: [EVENT] });
      const attempt = await deliverOne(subscription.id);
      expect(attempt.history).toHaveLength(1);
      expect(attempt.history[0]!.errorCode).not.toBe('blocked-address');
      if (c.reachable) {
        expect(attempt).toMatchObject({ status: 'successful', message: '204 No Content' });
        expect(sentinel.requests.map((r) => r.path)).toEqual(['/allowed']);
      } else {
        expect(attempt.status).toBe('failed');
        expect(CONNECTION_FAILURES).toContain(attempt.history[0]!.errorCode);
        expect(sentinel.requests).toHaveLength(0);
      }
    });
  });

  describe('the connect-time guard of the transport on its own (no pre-check by the worker)', () => {
    for (const transport of ['undici', 'undici-thread', 'axios'] as const) {
      for (const c of BLOCKED) it(`[${transport}] ${c.label} → WebhookTransport.send() refuses to connect (blocked-address), no request`, async () => {
        await boot({ allowPrivateNetworks: false, ...lookupFor(c) }, [], transport);
        const error = await app!
          .get(WebhookTransport)
          .send({ method: 'POST', url: urlOf(c, '/transport'), headers: {}, body: '{}' }, { timeoutMs: 3000, connectTimeoutMs: 400, maxResponseBytes: 1000 })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WebhookTransportError);
        expect((error as WebhookTransportError).code).toBe('blocked-address');
        expect(sentinel.requests).toHaveLength(0);
      });
    }

    it('a dialect that rewrites the request URL to a loopback literal cannot bypass the guard', async () => {
      class RewritingDialect extends StandardWebhookDialect {
        override prepareRequest(context: WebhookRequestContext): PreparedWebhookRequest {
          return { ...super.prepareRequest(context), url: `http://127.0.0.1:${sentinel.port}/rewritten` };
        }
      }
      resolver.set('hooks.public.example', [PUBLIC_V4]);
      app = await createWebhooksApp({
        webhooks: {
          destinations: { allowHttp: true, allowPrivateNetworks: false, lookup: resolver.lookup },
          delivery: { retrySchedule: [], timeoutMs: 3000, connectTimeoutMs: 400 },
          dialects: { rewriting: new RewritingDialect() },
        },
      });
      const { subscription } = await app
        .get(WebhookSubscriptionManager)
        .create({ url: `http://hooks.public.example:${sentinel.port}/`, events: [EVENT], dialect: 'rewriting' });
      const attempt = await deliverOne(subscription.id);
      expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.DestinationVerificationFailed });
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['blocked-address']);
      expect(sentinel.requests).toHaveLength(0);
    });
  });

  describe('DNS rebinding, redirects, unresolvable names', () => {
    it('a name that resolves public at creation and to 127.0.0.1 at connect time: accepted, then blocked at connect time, no request', async () => {
      let lookups = 0;
      resolver.set('rebind.example.com', () => (lookups++ === 0 ? [PUBLIC_V4] : ['127.0.0.1']));
      await boot({ allowPrivateNetworks: false, lookup: resolver.lookup });
      const url = `http://rebind.example.com:${sentinel.port}/rebind`;

      const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url, events: [EVENT] });
      expect(lookups).toBe(1);
      const attempt = await deliverOne(subscription.id);

      expect(lookups).toBeGreaterThanOrEqual(2); // resolved again on the connection itself, not from a cache
      expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.DestinationVerificationFailed });
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['blocked-address']);
      expect(sentinel.requests).toHaveLength(0);
    });

    it('the same rebinding reaches 127.0.0.1 when loopback is allowed (so the test above can fail)', async () => {
      let lookups = 0;
      resolver.set('rebind.example.com', () => (lookups++ === 0 ? [PUBLIC_V4] : ['127.0.0.1']));
      await boot({ allowPrivateNetworks: ['127.0.0.1/32'], lookup: resolver.lookup });
      const { subscription } = await app!
        .get(WebhookSubscriptionManager)
        .create({ url: `http://rebind.example.com:${sentinel.port}/rebind`, events: [EVENT] });
      const attempt = await deliverOne(subscription.id);
      expect(attempt.status).toBe('successful');
      expect(sentinel.requests.map((r) => r.path)).toEqual(['/rebind']);
    });

    for (const status of [301, 302, 303, 307, 308]) {
      it(`a public-looking receiver that answers ${status} to http://169.254.169.254/ (or to itself): a failure, never followed`, async () => {
        const hops: string[] = [];
        const receiver = await TestReceiver.start({
          responder: (request, res) => {
            hops.push(request.path);
            if (request.path === '/metadata') res.writeHead(status, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
            else if (request.path === '/self') res.writeHead(status, { location: `${receiver.url.replace('127.0.0.1', 'public.example')}/followed` }).end();
            else res.writeHead(200).end();
          },
        });
        try {
          resolver.set('public.example', ['127.0.0.1']);
          await boot({ allowPrivateNetworks: ['127.0.0.1/32'], lookup: resolver.lookup });
          const subscriptions = app!.get(WebhookSubscriptionManager);
          const toMetadata = await subscriptions.create({ url: `https://public.example:${receiver.port}/metadata`, events: [EVENT] });
          const toSelf = await subscriptions.create({ url: `https://public.example:${receiver.port}/self`, events: [EVENT] });
          app!.get(EventEmitter2).emit(EVENT, { probe: true });
          await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();

          for (const { subscription } of [toMetadata, toSelf]) {
            const [attempt] = await app!.get(WebhookDeliveryManager).listAttempts(subscription.id);
            expect(attempt).toMatchObject({ status: 'failed', message: `${status} ${STATUS_CODES[status]}`, tries: 1 });
            expect(attempt!.response).toMatchObject({ statusCode: status });
            expect(attempt!.history.map((t) => t.statusCode)).toEqual([status]);
          }
          // A followed redirect to the receiver itself would have shown up as /followed.
          expect(hops.sort()).toEqual(['/metadata', '/self']);
          expect(sentinel.requests).toHaveLength(0);
        } finally {
          await receiver.close();
        }
      });
    }

    it('an ambient HTTP(S)_PROXY is never used: the delivery goes to the destination itself, the proxy sees nothing', async () => {
      const proxy = await TestReceiver.start({ protocol: 'http', responder: ok(200) });
      const saved = { HTTP_PROXY: process.env.HTTP_PROXY, HTTPS_PROXY: process.env.HTTPS_PROXY, http_proxy: process.env.http_proxy, https_proxy: process.env.https_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
      try {
        for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) process.env[name] = proxy.url;
        delete process.env.NO_PROXY;
        delete process.env.no_proxy;
        await boot({ allowPrivateNetworks: ['127.0.0.1/32', '::1/128'] });
        const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: `http://127.0.0.1:${sentinel.port}/direct`, events: [EVENT] });
        const attempt = await deliverOne(subscription.id);
        expect(attempt.status).toBe('successful');
        expect(sentinel.requests.map((r) => r.path)).toEqual(['/direct']);
        expect(proxy.requests).toHaveLength(0);
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        await proxy.close();
      }
    });

    it('a name that does not resolve: accepted at creation (DNS may be down), connect time fails as unresolvable', async () => {
      await boot({ allowPrivateNetworks: false, lookup: resolver.lookup });
      const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: `http://nxdomain.example:${sentinel.port}/`, events: [EVENT] });
      const attempt = await deliverOne(subscription.id);
      expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.DestinationVerificationFailed });
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['unresolvable']);
      expect(resolver.calls.filter((name) => name === 'nxdomain.example').length).toBeGreaterThanOrEqual(2);
    });

    it('a resolver that never answers: creation does not hang (bounded DNS wait), and a try ends at its deadline', async () => {
      const hanging: LookupFunction = () => undefined; // never calls back
      await boot({ allowPrivateNetworks: false, lookup: hanging }, [
        { id: STATIC_ID, url: `http://slow-dns.example:${sentinel.port}/`, events: [EVENT], secret: SECRET },
      ]);
      // Connect time: the total deadline covers the resolution.
      const attempt = await deliverOne(STATIC_ID);
      expect(attempt.status).toBe('failed');
      expect(['timeout', 'connect-timeout', 'unresolvable']).toContain(attempt.history[0]!.errorCode);

      // Creation (§C5: "a DNS timeout"): it must settle — accepted like an unresolvable name, or refused — not hang.
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        app!
          .get(WebhookSubscriptionManager)
          .create({ url: 'https://slow-dns.example/in' })
          .then(
            () => 'accepted',
            (error: unknown) => (error instanceof InvalidWebhookSubscriptionError ? `refused: ${error.reason}` : `threw: ${String(error)}`),
          ),
        new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still pending: create() waits for DNS forever'), 20_000))),
      ]).finally(() => clearTimeout(timer));
      expect(outcome).not.toMatch(/^still pending|blocked-address|^threw/);
    }, 30_000);

    it('the connect-time lookup sees every address of the answer (all: true) and refuses when any is blocked', async () => {
      const seen: Array<{ hostname: string; all: boolean }> = [];
      resolver.set('spread.example.com', [PUBLIC_V4, PUBLIC_V6, '93.184.216.40', '172.20.0.5']);
      const spy: typeof resolver.lookup = (hostname, options, callback) => {
        seen.push({ hostname, all: !!(options as { all?: boolean }).all });
        resolver.lookup(hostname, options, callback);
      };
      await boot({ allowPrivateNetworks: false, lookup: spy }, [
        { id: STATIC_ID, url: `http://spread.example.com:${sentinel.port}/`, events: [EVENT], secret: SECRET },
      ]);
      const attempt = await deliverOne(STATIC_ID);
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['blocked-address']);
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(seen.every((s) => s.hostname === 'spread.example.com' && s.all)).toBe(true);
    });
  });

  describe('scheme, port and URL-syntax policy', () => {
    it('allowHttp defaults to false: http:// is refused (insecure-scheme), https:// of the same host is accepted', async () => {
      resolver.set('hooks.public.example', [PUBLIC_V4]);
      app = await createWebhooksApp({ webhooks: { destinations: { allowPrivateNetworks: false, lookup: resolver.lookup } } });
      const subscriptions = app.get(WebhookSubscriptionManager);
      const error = await subscriptions.create({ url: 'http://hooks.public.example/in' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
      expect(error).toMatchObject({ field: 'url' });
      expect((error as InvalidWebhookSubscriptionError).reason).toContain('insecure-scheme');
      await expect(subscriptions.create({ url: 'https://hooks.public.example/in' })).resolves.toBeDefined();
    });

    it('allowHttp defaults to false for static subscriptions too: an http:// one stops the application from starting', async () => {
      await expect(
        createWebhooksApp({ webhooks: { subscriptions: [{ url: `http://127.0.0.1:${sentinel.port}/`, secret: SECRET }] } }),
      ).rejects.toThrow(/insecure-scheme/);
    });

    it.each([
      ['not a url', 'invalid-url'],
      ['//127.0.0.1/relative', 'invalid-url'],
      ['https://', 'invalid-url'],
      ['https://[fe80::1%25eth0]/', 'invalid-url'],
      ['https://[::1/', 'invalid-url'],
      ['ftp://hooks.public.example/', 'unsupported-scheme'],
      ['file:///etc/passwd', 'unsupported-scheme'],
      ['gopher://127.0.0.1:6379/_INFO', 'unsupported-scheme'],
      ['ws://hooks.public.example/', 'unsupported-scheme'],
      ['javascript:alert(1)', 'unsupported-scheme'],
      ['data:text/plain,hello', 'unsupported-scheme'],
    ])('%s → refused (%s)', async (url, code) => {
      app = await createWebhooksApp({ webhooks: { destinations: { allowPrivateNetworks: false, allowHttp: true, lookup: resolver.lookup } } });
      const error = await app.get(WebhookSubscriptionManager).create({ url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
      expect(error).toMatchObject({ field: 'url' });
      expect((error as InvalidWebhookSubscriptionError).reason).toContain(code);
    });

    it('allowedPorts: other ports are refused (blocked-port), listed ones and the scheme default are accepted', async () => {
      resolver.set('hooks.public.example', [PUBLIC_V4]);
      app = await createWebhooksApp({
        webhooks: { destinations: { allowPrivateNetworks: false, allowedPorts: [443, 8443], lookup: resolver.lookup } },
      });
      const subscriptions = app.get(WebhookSubscriptionManager);
      for (const url of ['https://hooks.public.example:8080/', 'https://hooks.public.example:22/', 'https://hooks.public.example:6379/']) {
        const error = await subscriptions.create({ url }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
        expect((error as InvalidWebhookSubscriptionError).reason).toContain('blocked-port');
      }
      await expect(subscriptions.create({ url: 'https://hooks.public.example/' })).resolves.toBeDefined();
      await expect(subscriptions.create({ url: 'https://hooks.public.example:443/' })).resolves.toBeDefined();
      await expect(subscriptions.create({ url: 'https://hooks.public.example:8443/' })).resolves.toBeDefined();
    });

    it('credentials in the URL do not hide the host: accepted for a public host, and stored masked in the attempt', async () => {
      resolver.set('public.example', ['127.0.0.1']);
      const receiver = await TestReceiver.start();
      try {
        await boot({ allowPrivateNetworks: ['127.0.0.1/32'], lookup: resolver.lookup });
        const { subscription } = await app!
          .get(WebhookSubscriptionManager)
          .create({ url: `https://alice:s3cr3t-pass@public.example:${receiver.port}/in`, events: [EVENT] });
        const attempt = await deliverOne(subscription.id);
        expect(attempt.status).toBe('successful');
        expect(receiver.requests).toHaveLength(1);
        expect(attempt.request!.url).not.toContain('s3cr3t-pass');
        expect(attempt.request!.url).not.toContain('alice');
        expect(JSON.stringify(attempt)).not.toContain('s3cr3t-pass');
      } finally {
        await receiver.close();
      }
    });
  });

  describe.each(DATABASE_STORES)('a policy tightened after subscriptions exist applies at connect time (TypeORM store on %s, restart)', (kind) => {
    let database: TestDatabase;
    let receiver: TestReceiver;

    beforeEach(async () => {
      database = await createTestDatabase(kind);
      receiver = await TestReceiver.start({ protocol: 'http' });
    });
    afterEach(async () => {
      await app?.close();
      app = undefined;
      await receiver.close();
      await database.drop();
    });

    const bootStored = (destinations: WebhooksModuleOptions['destinations']) =>
      createWebhooksApp({
        database,
        webhooks: {
          delivery: { retrySchedule: [], timeoutMs: 3000, connectTimeoutMs: 400 },
          destinations,
        },
      });

    it.each([
      ['loopback no longer allowed', { allowHttp: true, allowPrivateNetworks: false }, 'blocked-address'],
      ['http no longer allowed', { allowHttp: false, allowPrivateNetworks: ['127.0.0.1/32'] }, 'insecure-scheme'],
      ['the port no longer allowed', { allowHttp: true, allowPrivateNetworks: ['127.0.0.1/32'], allowedPorts: [443] }, 'blocked-port'],
    ] as const)('%s: the stored subscription fails with %s, no request', async (_name, tightened, code) => {
      app = await bootStored({ allowHttp: true, allowPrivateNetworks: ['127.0.0.1/32'] });
      const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/stored`, events: [EVENT] });
      // Control: under the permissive policy the delivery arrives.
      expect((await deliverOne(subscription.id)).status).toBe('successful');
      expect(receiver.requests).toHaveLength(1);
      await app.close();

      app = await bootStored(tightened as WebhooksModuleOptions['destinations']);
      app.get(EventEmitter2).emit(EVENT, { probe: 2 });
      await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      const [latest] = await app.get(WebhookDeliveryManager).listAttempts(subscription.id, { limit: 1 });
      expect(latest).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.DestinationVerificationFailed });
      expect(latest!.history.map((t) => t.errorCode)).toEqual([code]);
      expect(receiver.requests).toHaveLength(1);
    });
  });
});
