import { EventEmitter2 } from 'eventemitter2';
import { describe, expect, it } from 'vitest';
import { eventMatches, eventPatternProblem } from '../../libs/webhooks/src/core/event-pattern.js';
import { EventPatternTrie } from '../../libs/webhooks/src/matching/event-pattern.trie.js';

const PATTERNS = ['order.created', 'order.*', 'order.**', '**', '*', '*.created', 'order.*.paid', 'order.**.paid', '**.paid', 'a.**.b.**', 'tenant7.order.created', '*.*'];
const EVENTS = ['order', 'order.created', 'order.updated', 'order.line.paid', 'order.a.b.paid', 'invoice.created', 'x', 'a.b', 'a.x.b.y', 'tenant7.order.created', 'order.paid', 'paid'];

/** What EventEmitter2 itself (wildcard mode, "." delimiter) does for a pattern and an event name. */
function ee2Matches(pattern: string, event: string): boolean {
  const emitter = new EventEmitter2({ wildcard: true, delimiter: '.' });
  let hit = false;
  emitter.on(pattern, () => (hit = true));
  emitter.emit(event);
  return hit;
}

describe('event patterns follow EventEmitter2 wildcard semantics', () => {
  for (const pattern of PATTERNS) {
    it(`${pattern} matches the same event names as EventEmitter2`, () => {
      const trie = new EventPatternTrie<string>();
      trie.add(pattern, pattern);
      for (const event of EVENTS) {
        let trieHit = false;
        trie.match(event, () => (trieHit = true));
        const expected = ee2Matches(pattern, event);
        expect({ event, trie: trieHit, single: eventMatches(pattern, event) }).toEqual({ event, trie: expected, single: expected });
      }
    });
  }

  it('order.** matches order itself (zero segments), as EventEmitter2 6.4.9 does', () => {
    expect(ee2Matches('order.**', 'order')).toBe(true);
    expect(eventMatches('order.**', 'order')).toBe(true);
  });

  it('rejects malformed patterns with a reason', () => {
    for (const bad of ['', 'order..created', 'order.cre*ted', 'order.***', 'a b', 'x'.repeat(201), 5 as unknown as string]) {
      expect(eventPatternProblem(bad)).toEqual(expect.any(String));
    }
    expect(eventPatternProblem('order.created')).toBeNull();
  });

  it('removing patterns prunes the trie back to empty', () => {
    const trie = new EventPatternTrie<string>();
    for (const p of PATTERNS) trie.add(p, p);
    for (const p of PATTERNS) trie.remove(p, p);
    for (const event of EVENTS) trie.match(event, () => expect.unreachable(`${event} matched after removal`));
    expect((trie as unknown as { root: { literal: Map<string, unknown>; star: unknown; globstar: unknown } }).root.literal.size).toBe(0);
  });
});
