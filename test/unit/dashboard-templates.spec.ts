import { BadRequestException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { html } from '../../libs/webhooks/src/dashboard/html.js';
import { bodyBlock } from '../../libs/webhooks/src/dashboard/pages/components.js';
import { deliveriesQuery, parseDeliveriesFilter } from '../../libs/webhooks/src/dashboard/deliveries-filter.js';

describe('dashboard templates escape every value', () => {
  it('escapes text in content and in quoted attributes, and keeps nested templates as markup', () => {
    const hostile = `"><script>alert('x')</script>&`;
    const page = html`<a href="/x?q=${hostile}" title='${hostile}'>${hostile}</a>${[html`<b>${hostile}</b>`, 1, null, false, undefined]}`;
    expect(page.markup).toBe(
      '<a href="/x?q=&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;" title=\'&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\'>' +
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a><b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b>1',
    );
  });

  it('treats markup-looking strings as text: only html`` makes markup', () => {
    const fake = { markup: '<script>' };
    expect(html`${fake as unknown as string}`.markup).toBe('[object Object]');
  });
});

describe('the deliveries filter', () => {
  it('reads the query string, with datetime-local values as UTC', () => {
    expect(parseDeliveriesFilter({ status: 'failed', event: ' order.created ', since: '2026-01-31T14:30', until: '2026-02-01T00:00:05', limit: '10' })).toEqual({
      status: 'failed',
      eventName: 'order.created',
      subscriptionId: undefined,
      since: new Date('2026-01-31T14:30:00Z'),
      until: new Date('2026-02-01T00:00:05Z'),
      before: undefined,
      limit: 10,
    });
    expect(parseDeliveriesFilter({ status: '', event: '' })).toMatchObject({ status: undefined, eventName: undefined, limit: 25 });
  });

  it.each([
    [{ status: 'lost' }, 'status must be one of pending, successful, failed'],
    [{ since: 'yesterday' }, 'Since must be a date and time such as 2026-01-31T14:30 (UTC)'],
    [{ since: '2026-02-30T10:00' }, 'Since must be a date and time'],
    [{ since: '2026-01-02T00:00', until: '2026-01-01T00:00' }, 'Since must be before Until'],
    [{ before: "1' OR 1=1" }, 'before must be the cursor of a previous page'],
    [{ limit: '1000' }, 'limit must be one of 10, 25, 50, 100'],
    [{ status: ['failed', 'pending'] }, 'Give status once'],
  ])('refuses %j with a 400 that names it', (query, message) => {
    let error: unknown;
    try {
      parseDeliveriesFilter(query);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BadRequestException);
    expect((error as Error).message).toContain(message);
  });

  it('reads the cursor in lower case, as stores write and compare ids', () => {
    expect(parseDeliveriesFilter({ before: '01A247CC-BE45-7034-9CC8-AC1E5A00C8BE' }).before).toBe('01a247cc-be45-7034-9cc8-ac1e5a00c8be');
  });

  it('writes links that keep the filters (and round-trip through the parser)', () => {
    const filter = parseDeliveriesFilter({ status: 'pending', event: 'a&b', subscription: 's 1', since: '2026-01-31T14:30:00.250', limit: '50' });
    const query = deliveriesQuery(filter, { before: '01a247cc-be45-7034-9cc8-ac1e5a00c8be' });
    expect(query).toBe('?status=pending&event=a%26b&subscription=s+1&since=2026-01-31T14%3A30%3A00.250&limit=50&before=01a247cc-be45-7034-9cc8-ac1e5a00c8be');
    expect(parseDeliveriesFilter(Object.fromEntries(new URLSearchParams(query)))).toEqual({ ...filter, before: '01a247cc-be45-7034-9cc8-ac1e5a00c8be' });
  });
});

describe('bodies on the delivery page', () => {
  const shown = (body: string) => /<code>([\s\S]*)<\/code>/.exec(bodyBlock('b', 'Body', body).markup)![1]!.replaceAll('&quot;', '"');

  it('puts the body in a named region the keyboard can scroll', () => {
    expect(bodyBlock('request-body', 'Request body', 'x').markup).toMatch(/^<pre class="body" id="request-body" role="region" aria-label="Request body" tabindex="0">/);
  });

  it('indents compact JSON that reads back exactly', () => {
    expect(shown('{"type":"order.created","data":{"id":"o_1","items":[1,2]}}')).toBe(
      '{\n  "type": "order.created",\n  "data": {\n    "id": "o_1",\n    "items": [\n      1,\n      2\n    ]\n  }\n}',
    );
  });

  it.each([
    ['a 64-bit integer beyond double precision', '{"id":12345678901234567890}'],
    ['a repeated key', '{"a":1,"a":2}'],
    ['an escape JSON.stringify writes differently', '{"name":"caf\\u00e9"}'],
    ['a number written in another form', '{"price":1.50}'],
    ['JSON that is already indented', '{\n  "a": 1\n}'],
    ['text that is not JSON', 'ok <b>'],
  ])('shows %s as it was sent', (_case, body) => {
    expect(shown(body).replaceAll('&lt;', '<').replaceAll('&gt;', '>')).toBe(body);
  });
});
