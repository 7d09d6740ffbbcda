import { STATUS_CODES } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ALICE_KEY, startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import { DATABASES } from '../support/databases.js';
import { countRows, rowById } from '../support/example-database.js';
import { TestReceiver } from '../support/receiver.js';

/**
 * The example app's contract: "Bad input is a 400 (413 when too big, 415 when not JSON) in the API's one error shape
 * `{ statusCode, error, message, field?, details? }`, naming the field; nothing is stored." Hundreds of bad requests
 * against every write route (and the list queries) of the real example app: each must be answered with its 4xx
 * (never 5xx) in that shape, `field` (or one of `details`) naming the field when one is wrong and the message naming
 * it too; afterwards the app still serves, nothing was created, the existing subscription and order are unchanged
 * and Object.prototype is not polluted.
 */

/** What a bad request may refer to once the app runs. */
interface Ids {
  subscription: string;
  order: string;
  /** A destination the app accepts (the test receiver on loopback), for bodies whose other field is wrong. */
  validUrl: string;
}

interface BadRequest {
  /** Route template and what is wrong, for the test name. */
  route: string;
  kind: string;
  method: string;
  path: (ids: Ids) => string;
  /** JSON-encoded as the body. */
  body?: (ids: Ids) => unknown;
  /** Sent as is (content-type application/json unless `contentType` says otherwise; `null`: no content type). */
  raw?: (ids: Ids) => string;
  contentType?: string | null;
  /** The field the error must name; null when the request as a whole is wrong (not JSON, too big...). */
  field: string | null;
  /** The status it must get: 400 unless said otherwise. */
  status?: number;
}

const SUBSCRIPTIONS = '/webhooks/subscriptions';
const SUBSCRIPTION = '/webhooks/subscriptions/:id';
const ROTATE = '/webhooks/subscriptions/:id/rotate-secret';
const ORDERS = '/orders';
const ORDER = '/orders/:id';
const ATTEMPTS = '/webhooks/subscriptions/:id/attempts';
/** Bodies that are too big or not JSON, and the status each must get. */
const TOO_BIG = 413;
const NOT_JSON = 415;
/** Signing secrets a caller may not choose: not `whsec_` + canonical base64 of 24-64 bytes. */
const BAD_SECRETS: unknown[] = [
  42,
  true,
  null,
  [],
  {},
  '',
  'whsec_',
  'whsec_x',
  'plain-text-secret',
  Buffer.alloc(32, 9).toString('base64'),
  `WHSEC_${Buffer.alloc(32, 9).toString('base64')}`,
  `whsec_${Buffer.alloc(23, 9).toString('base64')}`,
  `whsec_${Buffer.alloc(65, 9).toString('base64')}`,
  `whsec_${Buffer.alloc(32, 9).toString('base64').replace(/=$/, '')}`,
  `whsec_${Buffer.alloc(32, 9).toString('base64').replace(/k=$/, 'l=')}`,
  `whsec_${Buffer.alloc(32, 9).toString('base64url')}_-`,
  `whsec_${Buffer.alloc(32, 9).toString('base64')}\n`,
  ` whsec_${Buffer.alloc(32, 9).toString('base64')}`,
];

const POLLUTE = '{"polluted":true}';
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '"x"' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const manyKeys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
const OVER_200_KB = 'x'.repeat(250_000);

/** Bad `url` values: not strings, not URLs, wrong schemes, and every private/loopback/link-local/metadata form. */
const BAD_URL_VALUES: unknown[] = [
  42,
  0,
  true,
  false,
  [],
  ['https://127.0.0.1/'],
  {},
  { href: 'https://127.0.0.1/' },
  '',
  '   ',
  'not a url',
  'example.com/hook',
  '//127.0.0.2/hook',
  'https://',
  'https://:443/',
  'https://exa mple.com/',
  'https://127.0.0.1:99999/',
  'https://[fe80::1%25eth0]/',
  'ftp://127.0.0.1/',
  'http://127.0.0.1/hook',
  'http://93.184.216.34/hook',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'data:text/plain,hello',
  'ws://127.0.0.1/',
  'gopher://127.0.0.1:70/',
  'mailto:hooks@example.com',
  'https://10.0.0.1/',
  'https://user:pass@10.0.0.1/',
  'https://192.168.1.10/',
  'https://172.16.0.1/',
  'https://100.64.0.1/',
  'https://0.0.0.0/',
  'https://127.0.0.2/',
  'https://169.254.169.254/latest/meta-data/',
  'https://168.63.129.16/',
  'https://224.0.0.1/',
  'https://255.255.255.255/',
  'https://[::1]/',
  'https://[::1]:8443/',
  'https://[::]/',
  'https://[fe80::1]/',
  'https://[fc00::1]/',
  'https://[fd00:ec2::254]/',
  'https://[::ffff:169.254.169.254]/',
  'https://[::ffff:a9fe:a9fe]/',
  'https://[::ffff:10.0.0.1]/',
  'https://[::ffff:127.0.0.2]/',
  'https://[64:ff9b::a9fe:a9fe]/',
  'https://[2002:a9fe:a9fe::1]/',
  'https://0x7f000002/',
  'https://2130706434/',
  'https://0xa9fea9fe/',
  'https://2852039166/',
  'https://0251.0376.0251.0376/',
  'https://%31%32%37.0.0.2/',
  `https://127.0.0.1/${'a'.repeat(2100)}`,
  `https://127.0.0.1/${'a'.repeat(60_000)}`,
];

const BAD_EVENTS_VALUES: unknown[] = [
  'order.created',
  42,
  true,
  {},
  [],
  [42],
  [true],
  [null],
  [['order.created']],
  [{}],
  ['order..created'],
  ['a b'],
  ['***'],
  [''],
  ['.order'],
  ['order.'],
  ['order/created'],
  ['order.created '],
  ['order.*', 5],
  ['webhooks.attempt.failed'],
  ['webhooks.attempt.succeeded'],
  ['webhooks.**'],
  ['webhooks.subscription.deactivated'],
  ['order.created', 'webhooks.attempt.failed'],
  ['x'.repeat(201)],
  Array.from({ length: 101 }, (_, i) => `order.e${i}`),
  Array.from({ length: 10_000 }, () => 'a'),
];

/** Retry schedules a customer may not set: not an array of whole milliseconds from 1 s to 7 days, or more than 20. */
const BAD_RETRY_SCHEDULES: unknown[] = [
  '5s',
  5000,
  {},
  [999],
  [-1000],
  [1500.5],
  ['5000'],
  [null],
  [8 * 24 * 3600 * 1000],
  Array.from({ length: 21 }, () => 1000),
];

const BAD_METADATA_VALUES: unknown[] = [
  'team=billing',
  42,
  true,
  [],
  ['a'],
  { a: 1 },
  { a: true },
  { a: null },
  { a: { b: 'c' } },
  { a: ['x'] },
  { '': 'x' },
  { ['k'.repeat(65)]: 'v' },
  { a: 'v'.repeat(1001) },
  manyKeys(51),
];

/** Prototype-pollution keys inside metadata (raw JSON, so `__proto__` is an own key as a parser produces it). */
const POLLUTING_METADATA = [
  `{"__proto__":${POLLUTE}}`,
  `{"__proto__":"x"}`,
  `{"constructor":{"prototype":${POLLUTE}}}`,
  `{"prototype":${POLLUTE}}`,
  `{"prototype":"x"}`,
];

/** Bodies that are not a JSON object (or not JSON at all). */
const NOT_AN_OBJECT = ['not json', '{', '{"url": }', "{'url': 'x'}", '{"a":1,}', 'undefined', 'NaN', '"just a string"', 'null', '123', 'true', '[]', '[{"a":1}]'];

function buildCases(): BadRequest[] {
  const cases: BadRequest[] = [];
  const add = (c: BadRequest) => cases.push(c);
  const show = (v: unknown) => {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text;
  };

  // ---- POST /webhooks/subscriptions ----------------------------------------------------------------------
  const post = (kind: string, field: string | null, body: (ids: Ids) => unknown) =>
    add({ route: `POST ${SUBSCRIPTIONS}`, kind, method: 'POST', path: () => SUBSCRIPTIONS, body, field });
  const postRaw = (kind: string, field: string | null, raw: (ids: Ids) => string, contentType?: string | null, status?: number) =>
    add({ route: `POST ${SUBSCRIPTIONS}`, kind, method: 'POST', path: () => SUBSCRIPTIONS, raw, contentType, field, status });

  for (const url of [...BAD_URL_VALUES, null]) post(`url ${show(url)}`, 'url', () => ({ url }));
  post('missing url (empty object)', 'url', () => ({}));
  post('missing url (other fields only)', 'url', () => ({ events: ['order.*'], description: 'no url' }));
  postRaw('empty body', 'url', () => '');
  for (const events of BAD_EVENTS_VALUES) post(`events ${show(events)}`, 'events', (ids) => ({ url: ids.validUrl, events }));
  for (const payloadType of [42, true, [], {}, 'NoSuchType', 'order', '', 'x'.repeat(201), '__proto__', 'constructor'])
    post(`payloadType ${show(payloadType)}`, 'payloadType', (ids) => ({ url: ids.validUrl, payloadType }));
  for (const dialect of [42, false, [], {}, 'no-such-dialect', '', 'x'.repeat(65), '__proto__', 'constructor', 'toString'])
    post(`dialect ${show(dialect)}`, 'dialect', (ids) => ({ url: ids.validUrl, dialect }));
  for (const description of [42, true, [], {}, 'x'.repeat(1001)])
    post(`description ${show(description)}`, 'description', (ids) => ({ url: ids.validUrl, description }));
  for (const metadata of BAD_METADATA_VALUES) post(`metadata ${show(metadata)}`, 'metadata', (ids) => ({ url: ids.validUrl, metadata }));
  for (const retrySchedule of BAD_RETRY_SCHEDULES)
    post(`retrySchedule ${show(retrySchedule)}`, 'retrySchedule', (ids) => ({ url: ids.validUrl, retrySchedule }));
  for (const metadata of POLLUTING_METADATA)
    postRaw(`metadata ${metadata}`, 'metadata', (ids) => `{"url":${JSON.stringify(ids.validUrl)},"metadata":${metadata}}`);
  for (const secret of BAD_SECRETS) post(`secret ${show(secret)}`, 'secret', (ids) => ({ url: ids.validUrl, secret }));
  for (const [name, value] of [
    ['ownerId', 'bob'],
    ['owner_id', 'bob'],
    ['active', false],
    ['id', 'chosen-id'],
    ['permission', 'webhooks.view'],
    ['statusMessage', 'Active'],
    ['createdAt', '2020-01-01T00:00:00Z'],
    ['Url', 'https://127.0.0.1/'],
  ] as const)
    post(`unknown field ${name}`, name, (ids) => ({ url: ids.validUrl, [name]: value }));
  postRaw('top-level __proto__', '__proto__', (ids) => `{"url":${JSON.stringify(ids.validUrl)},"__proto__":${POLLUTE}}`);
  postRaw('top-level constructor.prototype', 'constructor', (ids) => `{"url":${JSON.stringify(ids.validUrl)},"constructor":{"prototype":${POLLUTE}}}`);
  postRaw('url only inside __proto__', '__proto__', (ids) => `{"__proto__":{"url":${JSON.stringify(ids.validUrl)}}}`);
  for (const raw of NOT_AN_OBJECT) postRaw(`body ${raw}`, null, () => raw);
  postRaw('body over 200 KB', null, (ids) => JSON.stringify({ url: ids.validUrl, description: OVER_200_KB }), undefined, TOO_BIG);
  postRaw('metadata nested 5000 deep', null, (ids) => `{"url":${JSON.stringify(ids.validUrl)},"metadata":${deepObject(5000)}}`);
  postRaw('events nested 5000 deep', null, (ids) => `{"url":${JSON.stringify(ids.validUrl)},"events":${deepArray(5000)}}`);
  postRaw('unknown field nested 5000 deep', null, (ids) => `{"url":${JSON.stringify(ids.validUrl)},"extra":${deepObject(5000)}}`);
  // Not JSON by content type (and an ftp:// URL, so it stays bad even if a parser took it as JSON).
  postRaw('ftp URL sent as text/plain', null, (ids) => JSON.stringify({ url: ids.validUrl }).replace('https', 'ftp'), 'text/plain', NOT_JSON);
  postRaw('valid JSON sent as text/plain', null, (ids) => JSON.stringify({ url: ids.validUrl }), 'text/plain', NOT_JSON);
  postRaw('valid JSON without a content type', null, (ids) => JSON.stringify({ url: ids.validUrl }), null, NOT_JSON);
  postRaw('a form', null, (ids) => `url=${encodeURIComponent(ids.validUrl)}`, 'application/x-www-form-urlencoded', NOT_JSON);
  postRaw('JSON as application/xml', null, (ids) => JSON.stringify({ url: ids.validUrl }), 'application/xml', NOT_JSON);
  postRaw('JSON in another charset', null, (ids) => JSON.stringify({ url: ids.validUrl }), 'application/json; charset=latin1', NOT_JSON);

  // ---- PATCH /webhooks/subscriptions/:id (the valid subscription) ------------------------------------------
  const patch = (kind: string, field: string | null, body: (ids: Ids) => unknown) =>
    add({ route: `PATCH ${SUBSCRIPTION}`, kind, method: 'PATCH', path: (ids) => `${SUBSCRIPTIONS}/${ids.subscription}`, body, field });
  const patchRaw = (kind: string, field: string | null, raw: (ids: Ids) => string, contentType?: string | null, status?: number) =>
    add({ route: `PATCH ${SUBSCRIPTION}`, kind, method: 'PATCH', path: (ids) => `${SUBSCRIPTIONS}/${ids.subscription}`, raw, contentType, field, status });

  for (const url of [
    42,
    true,
    [],
    {},
    null,
    '',
    'not a url',
    'ftp://127.0.0.1/',
    'http://127.0.0.1/',
    'javascript:alert(1)',
    'https://10.0.0.1/',
    'https://169.254.169.254/',
    'https://[::1]/',
    'https://[::ffff:169.254.169.254]/',
    'https://0x7f000002/',
    'https://2130706434/',
    'https://[::ffff:127.0.0.2]/',
    `https://127.0.0.1/${'a'.repeat(2100)}`,
  ])
    patch(`url ${show(url)}`, 'url', () => ({ url }));
  for (const events of ['order.created', [], [1], ['order..created'], ['a b'], ['***'], ['webhooks.attempt.failed'], ['webhooks.*']])
    patch(`events ${show(events)}`, 'events', () => ({ events }));
  for (const payloadType of [5, 'NoSuchType']) patch(`payloadType ${show(payloadType)}`, 'payloadType', () => ({ payloadType }));
  for (const dialect of [5, 'no-such-dialect']) patch(`dialect ${show(dialect)}`, 'dialect', () => ({ dialect }));
  for (const description of [5, ['x'], 'x'.repeat(1001)]) patch(`description ${show(description)}`, 'description', () => ({ description }));
  for (const metadata of ['x', { a: 1 }, { a: { b: 'c' } }, manyKeys(51)]) patch(`metadata ${show(metadata)}`, 'metadata', () => ({ metadata }));
  for (const metadata of POLLUTING_METADATA.slice(0, 3)) patchRaw(`metadata ${metadata}`, 'metadata', () => `{"metadata":${metadata}}`);
  for (const retrySchedule of BAD_RETRY_SCHEDULES) patch(`retrySchedule ${show(retrySchedule)}`, 'retrySchedule', () => ({ retrySchedule }));
  // A valid change next to an invalid one: nothing of it may be applied.
  patch('valid description + blocked url', 'url', () => ({ description: 'changed', url: 'https://10.0.0.1/' }));
  patch('valid events + library-reserved events', 'events', () => ({ description: 'changed', events: ['order.created', 'webhooks.**'] }));
  patch('valid events + unknown dialect', 'dialect', () => ({ events: ['order.created'], dialect: 'no-such-dialect' }));
  patch('valid metadata + unknown payloadType', 'payloadType', () => ({ metadata: { a: 'b' }, payloadType: 'NoSuchType' }));
  patch('http url + valid description', 'url', () => ({ url: 'http://127.0.0.1/', description: 'changed' }));
  for (const [name, value] of [
    ['ownerId', 'bob'],
    ['active', false],
    ['secret', 'whsec_x'],
    ['id', 'other'],
  ] as const)
    patch(`unknown field ${name}`, name, () => ({ [name]: value }));
  patchRaw('top-level __proto__', '__proto__', () => `{"__proto__":${POLLUTE}}`);
  patchRaw('top-level constructor.prototype', 'constructor', () => `{"constructor":{"prototype":${POLLUTE}}}`);
  for (const raw of ['not json', '[]', '[{"description":"x"}]', 'null', '"s"', '7']) patchRaw(`body ${raw}`, null, () => raw);
  patchRaw('body over 200 KB', null, () => JSON.stringify({ description: OVER_200_KB }), undefined, TOO_BIG);
  patchRaw('valid JSON sent as text/plain', null, () => '{"description":"changed"}', 'text/plain', NOT_JSON);
  patchRaw('valid JSON without a content type', null, () => '{"description":"changed"}', null, NOT_JSON);
  patchRaw('metadata nested 5000 deep', null, () => `{"metadata":${deepObject(5000)}}`);

  // ---- POST /webhooks/subscriptions/:id/rotate-secret ------------------------------------------------------
  const rotate = (kind: string, field: string | null, body: () => unknown) =>
    add({ route: `POST ${ROTATE}`, kind, method: 'POST', path: (ids) => `${SUBSCRIPTIONS}/${ids.subscription}/rotate-secret`, body, field });
  const rotateRaw = (kind: string, field: string | null, raw: () => string, contentType?: string | null, status?: number) =>
    add({ route: `POST ${ROTATE}`, kind, method: 'POST', path: (ids) => `${SUBSCRIPTIONS}/${ids.subscription}/rotate-secret`, raw, contentType, field, status });

  for (const overlapSeconds of [-1, -86400, 1.5, 0.001, 2_592_001, 1e12, 1e308, -1e308, '60', '', true, [], [60], {}, { seconds: 60 }, null])
    rotate(`overlapSeconds ${show(overlapSeconds)}`, 'overlapSeconds', () => ({ overlapSeconds }));
  rotateRaw('overlapSeconds 1e400 (Infinity)', 'overlapSeconds', () => '{"overlapSeconds":1e400}');
  for (const secret of BAD_SECRETS) rotate(`secret ${show(secret)}`, 'secret', () => ({ secret }));
  rotate('valid overlap + bad secret', 'secret', () => ({ overlapSeconds: 60, secret: 'whsec_x' }));
  rotate('unknown field overlap', 'overlap', () => ({ overlap: 60 }));
  rotate('valid overlap + unknown field', 'extra', () => ({ overlapSeconds: 60, extra: 1 }));
  rotateRaw('top-level __proto__', '__proto__', () => `{"__proto__":${POLLUTE}}`);
  rotateRaw('top-level constructor.prototype', 'constructor', () => `{"constructor":{"prototype":${POLLUTE}}}`);
  for (const raw of ['not json', '[]', '[1]', '"x"', '123', 'null']) rotateRaw(`body ${raw}`, null, () => raw);
  rotateRaw('body over 200 KB', null, () => JSON.stringify({ overlapSeconds: 60, pad: OVER_200_KB }), undefined, TOO_BIG);
  rotateRaw('a chosen secret sent as text/plain', null, () => JSON.stringify({ secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}` }), 'text/plain', NOT_JSON);

  // ---- POST /orders ----------------------------------------------------------------------------------------
  const order = (kind: string, field: string | null, body: () => unknown) => add({ route: `POST ${ORDERS}`, kind, method: 'POST', path: () => ORDERS, body, field });
  const orderRaw = (kind: string, field: string | null, raw: () => string, contentType?: string | null, status?: number) =>
    add({ route: `POST ${ORDERS}`, kind, method: 'POST', path: () => ORDERS, raw, contentType, field, status });

  order('empty object', 'item', () => ({}));
  orderRaw('empty body', 'quantity', () => '');
  order('missing quantity', 'quantity', () => ({ item: 'book' }));
  order('missing item', 'item', () => ({ quantity: 1 }));
  for (const item of [42, true, [], ['book'], {}, null, '', 'x'.repeat(201), 'x'.repeat(90_000)]) order(`item ${show(item)}`, 'item', () => ({ item, quantity: 1 }));
  for (const quantity of ['2', '', 'two', true, [], [2], {}, null, 0, -1, -1e9, 1.5, 0.0001, 1_000_001, 1e12, 9007199254740993, 1e308])
    order(`quantity ${show(quantity)}`, 'quantity', () => ({ item: 'book', quantity }));
  orderRaw('quantity 1e400 (Infinity)', 'quantity', () => '{"item":"book","quantity":1e400}');
  orderRaw('quantity -1e400 (-Infinity)', 'quantity', () => '{"item":"book","quantity":-1e400}');
  for (const [name, value] of [
    ['ownerId', 'bob'],
    ['owner_id', 'bob'],
    ['id', '00000000-0000-4000-8000-000000000000'],
    ['price', 10],
    ['createdAt', '2020-01-01T00:00:00Z'],
  ] as const)
    order(`unknown field ${name}`, name, () => ({ item: 'book', quantity: 1, [name]: value }));
  orderRaw('top-level __proto__', '__proto__', () => `{"item":"book","quantity":1,"__proto__":{"quantity":5,"polluted":true}}`);
  orderRaw('top-level constructor.prototype', 'constructor', () => `{"item":"book","quantity":1,"constructor":{"prototype":${POLLUTE}}}`);
  orderRaw('fields only inside __proto__', '__proto__', () => `{"__proto__":{"item":"book","quantity":1}}`);
  for (const raw of NOT_AN_OBJECT) orderRaw(`body ${raw}`, null, () => raw);
  orderRaw('body over 200 KB', null, () => JSON.stringify({ item: 'book', quantity: 1, note: OVER_200_KB }), undefined, TOO_BIG);
  orderRaw('quantity nested 10000 deep', null, () => `{"item":"book","quantity":${deepArray(10_000)}}`);
  orderRaw('JSON object sent as text/plain', null, () => '{"item":"","quantity":0}', 'text/plain', NOT_JSON);
  orderRaw('valid order without a content type', null, () => '{"item":"book","quantity":1}', null, NOT_JSON);
  orderRaw('valid order as a form', null, () => 'item=book&quantity=1', 'application/x-www-form-urlencoded', NOT_JSON);
  orderRaw('valid order as multipart', null, () => '--b\r\nContent-Disposition: form-data; name="item"\r\n\r\nbook\r\n--b--\r\n', 'multipart/form-data; boundary=b', NOT_JSON);

  // ---- PATCH /orders/:id (the valid order) -----------------------------------------------------------------
  const orderPatch = (kind: string, field: string | null, body: () => unknown) =>
    add({ route: `PATCH ${ORDER}`, kind, method: 'PATCH', path: (ids) => `${ORDERS}/${ids.order}`, body, field });
  const orderPatchRaw = (kind: string, field: string | null, raw: () => string, contentType?: string | null, status?: number) =>
    add({ route: `PATCH ${ORDER}`, kind, method: 'PATCH', path: (ids) => `${ORDERS}/${ids.order}`, raw, contentType, field, status });

  for (const item of [42, true, [], {}, null, '', 'x'.repeat(201)]) orderPatch(`item ${show(item)}`, 'item', () => ({ item }));
  for (const quantity of [null, '3', 0, -5, 2.5, 1e7, true, [], {}]) orderPatch(`quantity ${show(quantity)}`, 'quantity', () => ({ quantity }));
  orderPatch('valid item + negative quantity', 'quantity', () => ({ item: 'changed', quantity: -1 }));
  orderPatch('valid quantity + empty item', 'item', () => ({ item: '', quantity: 3 }));
  for (const [name, value] of [
    ['ownerId', 'bob'],
    ['id', '00000000-0000-4000-8000-000000000000'],
    ['createdAt', '2020-01-01T00:00:00Z'],
  ] as const)
    orderPatch(`unknown field ${name}`, name, () => ({ [name]: value }));
  orderPatchRaw('top-level __proto__', '__proto__', () => `{"__proto__":{"quantity":5,"polluted":true}}`);
  orderPatchRaw('top-level constructor.prototype', 'constructor', () => `{"constructor":{"prototype":${POLLUTE}}}`);
  for (const raw of ['not json', '[]', '[{}]', 'null', '"s"']) orderPatchRaw(`body ${raw}`, null, () => raw);
  orderPatchRaw('body over 200 KB', null, () => JSON.stringify({ item: 'x', pad: OVER_200_KB }), undefined, TOO_BIG);
  orderPatchRaw('valid change sent as text/plain', null, () => '{"quantity":5}', 'text/plain', NOT_JSON);
  orderPatchRaw('item nested 5000 deep', null, () => `{"item":${deepObject(5000)}}`);

  // ---- GET /webhooks/subscriptions/:id/attempts?… (the valid subscription) ---------------------------------
  const query = (kind: string, field: string | null, qs: string) =>
    add({ route: `GET ${ATTEMPTS}`, kind, method: 'GET', path: (ids) => `${SUBSCRIPTIONS}/${ids.subscription}/attempts?${qs}`, field });

  for (const status of ['bogus', 'PENDING', '', 'null', 'pending,failed', 'successful%00', '%20pending'])
    query(`status=${status}`, 'status', `status=${status}`);
  query('status given twice', 'status', 'status=pending&status=failed');
  query('status[]', 'status', 'status[]=pending');
  query('status[$ne]', 'status', 'status[$ne]=x');
  for (const limit of ['0', '-1', '-0', '101', '201', '1.5', 'abc', '', '%20', 'Infinity', 'NaN', '1e3', '99999999999999999999', 'true', 'null'])
    query(`limit=${limit}`, 'limit', `limit=${limit}`);
  query('limit given twice', 'limit', 'limit=1&limit=2');
  query('limit[]', 'limit', 'limit[]=1');
  query('before of 65 characters', 'before', `before=${'x'.repeat(65)}`);
  query('before of 5000 characters', 'before', `before=${'x'.repeat(5000)}`);
  query('before given twice', 'before', 'before=a&before=b');
  for (const before of ['nonsense', '0', '00000000-0000-4000-8000-000000000000', 'x'.repeat(36)]) query(`before=${before} (not an attempt id)`, 'before', `before=${before}`);
  for (const name of ['foo', 'cursor', 'ownerId', 'subscriptionId']) query(`unknown parameter ${name}`, name, `${name}=x`);
  query('__proto__ parameter', '__proto__', '__proto__=x');
  query('constructor parameter', 'constructor', 'constructor=x');
  query('__proto__[polluted] parameter', '__proto__', '__proto__[polluted]=true');

  // ---- GET /webhooks/subscriptions?… ------------------------------------------------------------------------
  const list = (kind: string, field: string | null, qs: string) => add({ route: `GET ${SUBSCRIPTIONS}`, kind, method: 'GET', path: () => `${SUBSCRIPTIONS}?${qs}`, field });
  for (const limit of ['0', '-1', '101', '1.5', 'abc', '', 'Infinity', '1e3', 'true']) list(`limit=${limit}`, 'limit', `limit=${limit}`);
  list('limit given twice', 'limit', 'limit=1&limit=2');
  const cursor = (text: string) => Buffer.from(text).toString('base64url');
  for (const [kind, after] of [
    ['not base64url', 'not a cursor!'],
    ['empty', ''],
    ['too long', 'A'.repeat(101)],
    ['an attempt-style id', '01a247c0-f201-74ff-9923-e742b9b5c7c5'],
    ['base64url of other text', cursor('hello')],
    ['a time without an id', cursor('1764300000000.')],
    ['an id that is no uuid', cursor('1764300000000.not-a-uuid')],
    ['a time that is no number', cursor('soon.01a247c0-f201-74ff-9923-e742b9b5c7c5')],
    ['a time out of range', cursor('9999999999999999.01a247c0-f201-74ff-9923-e742b9b5c7c5')],
    ['padded', `${cursor('1764300000000.01a247c0-f201-74ff-9923-e742b9b5c7c5')}==`.slice(0, 100)],
  ] as const)
    list(`after ${kind}`, 'after', `after=${encodeURIComponent(after)}`);
  list('after given twice', 'after', `after=${cursor('1764300000000.01a247c0-f201-74ff-9923-e742b9b5c7c5')}&after=x`);
  for (const name of ['before', 'offset', 'cursor', 'ownerId', 'page']) list(`unknown parameter ${name}`, name, `${name}=1`);
  list('__proto__ parameter', '__proto__', '__proto__=x');

  return cases;
}

/** fetch() with Alice's key and any content type, or none (the shared helper always says application/json). */
async function send(api: RunningExampleApp, c: BadRequest, ids: Ids): Promise<{ status: number; body: any }> {
  if (c.contentType === undefined) {
    const body = c.body?.(ids);
    return api.request(c.method, c.path(ids), c.raw ? { rawBody: c.raw(ids) } : body === undefined ? {} : { body });
  }
  const headers: Record<string, string> = { authorization: `Bearer ${ALICE_KEY}` };
  if (c.contentType !== null) headers['content-type'] = c.contentType;
  // Bytes, not a string: fetch() would add a text/plain content type to a string body.
  const response = await fetch(api.baseUrl + c.path(ids), { method: c.method, headers, body: new TextEncoder().encode(c.raw!(ids)) });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/**
 * What is wrong with an answer to a bad request, as readable lines (empty when it is right): the expected status in
 * the API's error shape `{ statusCode, error, message, field?, details? }` (`message` one non-empty string, `error`
 * the reason phrase), naming `field` when one is given: as `field` or in `details`, and in the message.
 */
function problemsWith(response: { status: number; body: any }, expected: BadRequest): string[] {
  const { status, body } = response;
  const { field } = expected;
  const problems: string[] = [];
  if (status !== (expected.status ?? 400)) problems.push(`status ${status} is not ${expected.status ?? 400}`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [...problems, 'body is not a JSON object'];
  if (body.statusCode !== status) problems.push(`statusCode ${JSON.stringify(body.statusCode)} is not the status`);
  if (body.error !== STATUS_CODES[status]) problems.push(`error ${JSON.stringify(body.error)} is not "${STATUS_CODES[status]}"`);
  const extra = Object.keys(body).filter((key) => !['statusCode', 'error', 'message', 'field', 'details'].includes(key));
  if (extra.length > 0) problems.push(`unexpected keys ${extra.join(', ')}`);
  if (typeof body.message !== 'string' || body.message.trim() === '') problems.push('message is not a non-empty string');
  else if (field !== null && !body.message.includes(field)) problems.push(`message does not name "${field}"`);
  // `metadata.__proto__` or `status[]` name the field too, more precisely.
  const names = (f: unknown) => typeof f === 'string' && (f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`));
  const fields = [body.field, ...(Array.isArray(body.details) ? body.details.map((d: { field?: unknown }) => d.field) : [])];
  if (field !== null && !fields.some(names)) problems.push(`neither field nor details name "${field}"`);
  if (body.field !== undefined && typeof body.field !== 'string') problems.push('field is not a string');
  return problems;
}

/** Sends every bad request in turn; returns how many were sent and one line per wrong answer. */
async function sendAll(api: RunningExampleApp, cases: BadRequest[], ids: Ids): Promise<{ sent: number; wrong: string[] }> {
  const wrong: string[] = [];
  let sent = 0;
  for (const [i, c] of cases.entries()) {
    const response = await send(api, c, ids);
    sent++;
    const problems = problemsWith(response, c);
    if (problems.length > 0) {
      const answer = JSON.stringify(response.body) ?? String(response.body);
      wrong.push(`#${i + 1} ${c.route} · ${c.kind} → ${response.status} ${answer.length > 300 ? `${answer.slice(0, 300)}…` : answer} (${problems.join('; ')})`);
    }
  }
  return { sent, wrong };
}

const CASES = buildCases();

describe.each(DATABASES)('example app: malformed input on every write route is refused with a 4xx in one error shape naming the field, and nothing changes (%s)', (database) => {
  let api: RunningExampleApp;
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    api = await startExampleApp({}, { database });
  });
  afterAll(async () => {
    await api?.close();
    await receiver?.close();
  });

  it(`${CASES.length} bad requests: each a 4xx in the API's error shape naming the field; afterwards the app serves, nothing was stored or changed, Object.prototype is clean`, async () => {
    // The one valid subscription (payload type and metadata set, so any change to it shows) and one order.
    const created = await api.request('POST', SUBSCRIPTIONS, {
      body: { url: `${receiver.url}/valid`, events: ['order.*'], payloadType: 'Order', description: 'the valid one', metadata: { team: 'billing' } },
    });
    expect(created.status).toBe(201);
    const order = await api.request('POST', ORDERS, { body: { item: 'book', quantity: 2 } });
    expect(order.status).toBe(201);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(1);
    const ids: Ids = { subscription: created.body.id, order: order.body.id, validUrl: `${receiver.url}/other` };
    const before = {
      subscription: (await api.request('GET', `${SUBSCRIPTIONS}/${ids.subscription}`)).body,
      subscriptionRow: await rowById(api.database, 'webhook_subscription', ids.subscription),
      orderRow: await rowById(api.database, 'example_order', ids.order),
      prototypeKeys: Reflect.ownKeys(Object.prototype).map(String),
    };
    expect(before.subscription).toMatchObject({ metadata: { team: 'billing' }, payloadType: 'Order', events: ['order.*'] });
    expect(await countRows(api.database, 'webhook_subscription')).toBe(1);
    expect(await countRows(api.database, 'example_order')).toBe(1);
    expect(await countRows(api.database, 'webhook_attempt')).toBe(1);

    const { sent, wrong } = await sendAll(api, CASES, ids);
    expect(sent).toBe(CASES.length);
    expect(sent).toBeGreaterThanOrEqual(200);
    // Every wrong answer at once (request → status body (what is wrong)), rather than the first one only.
    expect.soft(wrong, `${wrong.length} of ${sent} bad requests were not answered correctly`).toEqual([]);

    // The app still serves.
    expect((await api.request('GET', '/health', { key: null })).status).toBe(200);

    // Nothing was created: through the API and in the stored tables.
    const list = await api.request('GET', SUBSCRIPTIONS);
    expect(list.status).toBe(200);
    expect.soft(list.body.data.map((s: { id: string }) => s.id), 'subscriptions listed').toEqual([ids.subscription]);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect.soft(await countRows(api.database, 'webhook_subscription'), 'rows in webhook_subscription').toBe(1);
    expect.soft(await countRows(api.database, 'example_order'), 'rows in example_order').toBe(1);
    // Only the valid order's order.created: no bad request changed an order (order.updated) or sent anything.
    expect.soft(await countRows(api.database, 'webhook_attempt'), 'rows in webhook_attempt').toBe(1);
    expect.soft(receiver.requests, 'deliveries').toHaveLength(1);

    // The valid subscription and order are exactly as before: fields, timestamps, encrypted secrets (no rotation).
    expect.soft((await api.request('GET', `${SUBSCRIPTIONS}/${ids.subscription}`)).body, 'the valid subscription').toEqual(before.subscription);
    expect.soft(await rowById(api.database, 'webhook_subscription', ids.subscription), 'its stored row').toEqual(before.subscriptionRow);
    expect.soft(await rowById(api.database, 'example_order', ids.order), 'the valid order').toEqual(before.orderRow);

    // No prototype pollution in this process (the app runs in it).
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Reflect.ownKeys(Object.prototype).map(String)).toEqual(before.prototypeKeys);

    // And it still does its job: a valid order is delivered to the valid subscription.
    const after = await api.request('POST', ORDERS, { body: { item: 'lamp', quantity: 1 } });
    expect(after.status).toBe(201);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests.map((r) => JSON.parse(r.body).data.id)).toContain(after.body.id);
  });
});

/**
 * The spellings of 127.0.0.1 itself (hex, decimal, octal, short, IPv4-mapped, localhost) can only be refused
 * when loopback is not allowed, so they run against an app with the default destination policy (no private
 * networks). Its one subscription points at a public address literal and takes an event nobody emits.
 */
describe.each(DATABASES)('example app with the default destination policy: every spelling of loopback is refused (%s)', (database) => {
  const LOOPBACK_FORMS = [
    'https://127.0.0.1/',
    'https://0x7f000001/',
    'https://0x7f.0.0.1/',
    'https://2130706433/',
    'https://017700000001/',
    'https://0177.0.0.1/',
    'https://127.1/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[0:0:0:0:0:ffff:127.0.0.1]/',
    'https://[::1]/',
    'https://localhost/',
    'https://localhost./',
    'https://LOCALHOST:8443/',
  ];
  let api: RunningExampleApp;

  beforeAll(async () => {
    api = await startExampleApp({ WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' }, { database });
  });
  afterAll(() => api?.close());

  it(`POST and PATCH with each of ${LOOPBACK_FORMS.length} loopback URLs → 4xx naming url; nothing stored or changed`, async () => {
    const created = await api.request('POST', SUBSCRIPTIONS, { body: { url: 'https://93.184.216.34/hooks', events: ['nothing.emits.this'] } });
    expect(created.status).toBe(201);
    const ids: Ids = { subscription: created.body.id, order: '', validUrl: 'https://93.184.216.34/hooks' };
    const before = await rowById(api.database, 'webhook_subscription', ids.subscription);
    const cases: BadRequest[] = LOOPBACK_FORMS.flatMap((url): BadRequest[] => [
      { route: `POST ${SUBSCRIPTIONS}`, kind: `url ${url}`, method: 'POST', path: () => SUBSCRIPTIONS, body: () => ({ url }), field: 'url' },
      { route: `PATCH ${SUBSCRIPTION}`, kind: `url ${url}`, method: 'PATCH', path: (i) => `${SUBSCRIPTIONS}/${i.subscription}`, body: () => ({ url }), field: 'url' },
    ]);
    const { sent, wrong } = await sendAll(api, cases, ids);
    expect(sent).toBe(LOOPBACK_FORMS.length * 2);
    expect.soft(wrong).toEqual([]);
    expect((await api.request('GET', '/health', { key: null })).status).toBe(200);
    expect(await countRows(api.database, 'webhook_subscription')).toBe(1);
    expect(await rowById(api.database, 'webhook_subscription', ids.subscription)).toEqual(before);
  });
});
