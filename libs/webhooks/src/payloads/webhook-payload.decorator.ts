const PAYLOAD_NAMES = Symbol('nest-webhooks:payload-names');
/** Every name some class declared, for checking `payloadType: 'Name'` before an instance was ever seen. */
const declaredNames = new Set<string>();

/** Throws when `name` cannot name a payload type. */
export function checkPayloadTypeName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '' || /\s/.test(name)) {
    throw new Error(`Webhook payload type name ${JSON.stringify(name)} must be a non-empty string without whitespace`);
  }
}

/**
 * Names a payload class so stored subscriptions can refer to it (`payloadType: 'Order'`). Instances of the class
 * and of its subclasses match a subscription for the name. A class may carry several names. The names belong to
 * the class, not to the process: two applications in one process may each have their own `Order`.
 *
 * @example
 * ＠WebhookPayload('Order')
 * export class Order { … }
 */
export function WebhookPayload(name: string): ClassDecorator {
  checkPayloadTypeName(name);
  return (target) => {
    const own = declaredPayloadNames(target);
    if (own.includes(name)) return;
    Object.defineProperty(target, PAYLOAD_NAMES, { value: Object.freeze([...own, name]), configurable: true });
    declaredNames.add(name);
  };
}

/** The names `@WebhookPayload` gave exactly this class (not its parents). */
export function declaredPayloadNames(type: Function): readonly string[] {
  return Object.prototype.hasOwnProperty.call(type, PAYLOAD_NAMES) ? (type as unknown as Record<symbol, readonly string[]>)[PAYLOAD_NAMES]! : [];
}

/** Whether some class declared this name with `@WebhookPayload`. */
export function isDeclaredPayloadName(name: string): boolean {
  return declaredNames.has(name);
}

