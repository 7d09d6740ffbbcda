import { payloadTypeNamesOf, payloadTypeRegistryVersion } from './webhook-payload.decorator.js';

/** A key a subscription's `payloadType` is indexed under: a class, or a registered name. */
export type PayloadTypeKey = Function | string;

/** The keys a payload matches, most specific first, with how specific each is. */
export interface PayloadTypeChain {
  readonly keys: readonly PayloadTypeKey[];
  /** Specificity of each key: the payload's own class is the highest, its root ancestor 1. */
  readonly specificity: ReadonlyMap<PayloadTypeKey, number>;
}

interface CachedChain extends PayloadTypeChain {
  readonly version: number;
}

const EMPTY: PayloadTypeChain = { keys: [], specificity: new Map() };
const cache = new WeakMap<object, CachedChain>();

/**
 * The class chain of a payload (its class, then each parent class) with the registered names of each, so a
 * subscription for a parent class, or for a parent's name, matches instances of subclasses. Computed once per
 * class and cached.
 */
export function payloadTypeChainOf(payload: unknown): PayloadTypeChain {
  if (payload === null || typeof payload !== 'object') return EMPTY;
  const prototype = Object.getPrototypeOf(payload) as object | null;
  if (prototype === null || prototype === Object.prototype) return EMPTY;
  let chain = cache.get(prototype);
  if (!chain || chain.version !== payloadTypeRegistryVersion()) {
    const classes: Function[] = [];
    for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
      if (Object.prototype.hasOwnProperty.call(p, 'constructor')) classes.push((p as { constructor: Function }).constructor);
    }
    const keys: PayloadTypeKey[] = [];
    const specificity = new Map<PayloadTypeKey, number>();
    classes.forEach((type, index) => {
      const level = classes.length - index;
      for (const key of [type, ...payloadTypeNamesOf(type)]) {
        if (!specificity.has(key)) {
          keys.push(key);
          specificity.set(key, level);
        }
      }
    });
    chain = { keys, specificity, version: payloadTypeRegistryVersion() };
    cache.set(prototype, chain);
  }
  return chain;
}
