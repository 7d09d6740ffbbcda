import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { eventPatternSpecificity } from '../core/event-pattern.js';
import { EventPatternTrie } from './event-pattern.trie.js';
import type { PayloadTypeChain, PayloadTypeKey } from '../payloads/payload-type-chain.js';

const ANY_PAYLOAD = Symbol('any payload');
type BucketKey = PayloadTypeKey | typeof ANY_PAYLOAD;

interface Registration {
  subscription: WebhookSubscription;
  /** Registration order, the last tie-breaker of result order. */
  readonly sequence: number;
}

/** Everything registered under one event pattern, split by payload type so a lookup touches only matches. */
interface PatternBucket {
  readonly pattern: string;
  readonly specificity: number;
  readonly byPayloadType: Map<BucketKey, Registration[]>;
}

interface Match {
  registration: Registration;
  payloadSpecificity: number;
  eventSpecificity: number;
}

/**
 * The index of active subscriptions (`nti.webhooks`: the manager's registry keyed by `(for_, when)`). Lookups cost the
 * depth of the event name plus the number of matches; subscriptions that do not match are never visited.
 *
 * Result order follows `nti.webhooks`: from the most general registration to the most specific, comparing the
 * payload type first (any payload, then ancestor classes, then the payload's own class) and the event pattern
 * second (`**`, then `*` segments, then literal segments), and registration order within the same key.
 */
export class SubscriptionIndex {
  constructor(private readonly payloadTypes: { chainOf(payload: unknown): PayloadTypeChain }) {}

  private readonly trie = new EventPatternTrie<PatternBucket>();
  private readonly buckets = new Map<string, PatternBucket>();
  private readonly registrations = new Map<string, Registration>();
  private sequence = 0;

  get size(): number {
    return this.registrations.size;
  }

  has(id: string): boolean {
    return this.registrations.has(id);
  }

  /** Registers a subscription; returns false when it was already registered (activation is idempotent). */
  add(subscription: WebhookSubscription): boolean {
    if (this.registrations.has(subscription.id)) return false;
    const registration: Registration = { subscription, sequence: this.sequence++ };
    this.registrations.set(subscription.id, registration);
    const key = this.keyOf(subscription);
    for (const pattern of new Set(subscription.events)) {
      let bucket = this.buckets.get(pattern);
      if (!bucket) {
        bucket = { pattern, specificity: eventPatternSpecificity(pattern), byPayloadType: new Map() };
        this.buckets.set(pattern, bucket);
        this.trie.add(pattern, bucket);
      }
      let list = bucket.byPayloadType.get(key);
      if (!list) bucket.byPayloadType.set(key, (list = []));
      list.push(registration);
    }
    return true;
  }

  /** Unregisters a subscription; returns false when it was not registered. */
  remove(id: string): boolean {
    const registration = this.registrations.get(id);
    if (!registration) return false;
    this.registrations.delete(id);
    const { subscription } = registration;
    const key = this.keyOf(subscription);
    for (const pattern of new Set(subscription.events)) {
      const bucket = this.buckets.get(pattern);
      if (!bucket) continue;
      const list = bucket.byPayloadType.get(key)?.filter((r) => r !== registration) ?? [];
      if (list.length > 0) bucket.byPayloadType.set(key, list);
      else bucket.byPayloadType.delete(key);
      if (bucket.byPayloadType.size === 0) {
        this.buckets.delete(pattern);
        this.trie.remove(pattern, bucket);
      }
    }
    return true;
  }

  /**
   * Replaces the stored snapshot of a registered subscription. When the fields the index is keyed by changed
   * (events, payload type), it re-registers it; otherwise it keeps its place in the order.
   */
  refresh(subscription: WebhookSubscription): void {
    const registration = this.registrations.get(subscription.id);
    if (!registration) return;
    const before = registration.subscription;
    const sameKeys =
      before.payloadType === subscription.payloadType &&
      before.events.length === subscription.events.length &&
      before.events.every((e, i) => e === subscription.events[i]);
    if (sameKeys) registration.subscription = subscription;
    else {
      this.remove(subscription.id);
      this.add(subscription);
    }
  }

  get(id: string): WebhookSubscription | undefined {
    return this.registrations.get(id)?.subscription;
  }

  /** Active subscriptions whose event patterns match `eventName` and whose payload type matches `payload`. */
  match(eventName: string, payload: unknown): WebhookSubscription[] {
    const chain = this.payloadTypes.chainOf(payload);
    const found = new Map<string, Match>();
    const collect = (registrations: readonly Registration[] | undefined, payloadSpecificity: number, eventSpecificity: number) => {
      if (!registrations) return;
      for (const registration of registrations) {
        const existing = found.get(registration.subscription.id);
        if (!existing) found.set(registration.subscription.id, { registration, payloadSpecificity, eventSpecificity });
        else if (eventSpecificity > existing.eventSpecificity) existing.eventSpecificity = eventSpecificity;
      }
    };
    this.trie.match(eventName, (buckets) => {
      for (const bucket of buckets) {
        collect(bucket.byPayloadType.get(ANY_PAYLOAD), 0, bucket.specificity);
        for (const key of chain.keys) collect(bucket.byPayloadType.get(key), chain.specificity.get(key)!, bucket.specificity);
      }
    });
    if (found.size === 0) return [];
    const matches = [...found.values()];
    if (matches.length > 1) {
      matches.sort(
        (a, b) =>
          a.payloadSpecificity - b.payloadSpecificity ||
          a.eventSpecificity - b.eventSpecificity ||
          a.registration.sequence - b.registration.sequence,
      );
    }
    return matches.map((m) => m.registration.subscription);
  }

  private keyOf(subscription: WebhookSubscription): BucketKey {
    return subscription.payloadType ?? ANY_PAYLOAD;
  }
}
