/** A key a subscription's `payloadType` is indexed under: a class, or a registered name. */
export type PayloadTypeKey = Function | string;

/** The keys a payload matches, most specific first, with how specific each is. */
export interface PayloadTypeChain {
  readonly keys: readonly PayloadTypeKey[];
  /** Specificity of each key: the payload's own class is the highest, its root ancestor 1. */
  readonly specificity: ReadonlyMap<PayloadTypeKey, number>;
}

export const EMPTY_CHAIN: PayloadTypeChain = { keys: [], specificity: new Map() };

/**
 * The class chain of a prototype (its class, then each parent class) with the names of each, so a subscription for
 * a parent class, or for a parent's name, matches instances of subclasses.
 */
export function payloadTypeChain(prototype: object, namesOf: (type: Function) => readonly string[]): PayloadTypeChain {
  const classes: Function[] = [];
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.prototype.hasOwnProperty.call(p, 'constructor')) classes.push((p as { constructor: Function }).constructor);
  }
  const keys: PayloadTypeKey[] = [];
  const specificity = new Map<PayloadTypeKey, number>();
  classes.forEach((type, index) => {
    const level = classes.length - index;
    for (const key of [type, ...namesOf(type)]) {
      if (!specificity.has(key)) {
        keys.push(key);
        specificity.set(key, level);
      }
    }
  });
  return { keys, specificity };
}
