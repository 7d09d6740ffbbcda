import type { Type } from '@nestjs/common';

const namesByClass = new Map<Function, string[]>();
const classesByName = new Map<string, Function>();
let version = 0;

/** Changes whenever a name is registered, so cached class chains know to recompute. */
export const payloadTypeRegistryVersion = (): number => version;

/**
 * Names a payload class so stored subscriptions can refer to it (`payloadType: 'Order'`). Instances of the class
 * and of its subclasses match a subscription for the name. A class may carry several names.
 *
 * @example
 * ＠WebhookPayload('Order')
 * export class Order { … }
 */
export function WebhookPayload(name: string): ClassDecorator {
  return (target) => registerPayloadType(name, target as unknown as Type<unknown>);
}

/** Registers a payload class under a name; `WebhooksModule.forRoot({ payloadTypes })` calls this too. */
export function registerPayloadType(name: string, type: Type<unknown>): void {
  if (typeof name !== 'string' || name.trim() === '' || /\s/.test(name)) {
    throw new Error(`Webhook payload type name ${JSON.stringify(name)} must be a non-empty string without whitespace`);
  }
  const existing = classesByName.get(name);
  if (existing && existing !== type) {
    throw new Error(`Webhook payload type name "${name}" is already used by class ${existing.name}`);
  }
  classesByName.set(name, type);
  const names = namesByClass.get(type) ?? [];
  if (!names.includes(name)) {
    namesByClass.set(type, [...names, name]);
    version++;
  }
}

/** The names registered for exactly this class (not its parents). */
export function payloadTypeNamesOf(type: Function): readonly string[] {
  return namesByClass.get(type) ?? [];
}

/** The class registered under a name, if any. */
export function payloadTypeByName(name: string): Function | undefined {
  return classesByName.get(name);
}
