import { Injectable, type Type } from '@nestjs/common';
import { EMPTY_CHAIN, type PayloadTypeChain, payloadTypeChain } from './payload-type-chain.js';
import { checkPayloadTypeName, declaredPayloadNames, isDeclaredPayloadName } from './webhook-payload.decorator.js';

/**
 * The payload types one application knows: the names classes declared with `@WebhookPayload` and those its
 * `forRoot({ payloadTypes })` registered. Each application has its own (a provider), so two applications in one
 * process may use the same name for different classes.
 */
@Injectable()
export class WebhookPayloadTypes {
  private readonly classesByName = new Map<string, Function>();
  private readonly namesByClass = new Map<Function, string[]>();
  /** Chains computed per prototype; a registration empties the cache. */
  private chains = new WeakMap<object, PayloadTypeChain>();

  /** Registers `forRoot({ payloadTypes })`: a name used twice for different classes is refused. */
  registerAll(types: Record<string, Type<unknown>>): void {
    for (const [name, type] of Object.entries(types)) this.register(name, type);
  }

  register(name: string, type: Type<unknown>): void {
    checkPayloadTypeName(name);
    const existing = this.classesByName.get(name);
    if (existing && existing !== type) throw new Error(`Webhook payload type name "${name}" is already used by class ${existing.name}`);
    this.classesByName.set(name, type);
    const names = this.namesByClass.get(type) ?? [];
    if (!names.includes(name)) this.namesByClass.set(type, [...names, name]);
    this.chains = new WeakMap();
  }

  /** Whether a subscription may name this payload type. */
  isKnown(name: string): boolean {
    return this.classesByName.has(name) || isDeclaredPayloadName(name);
  }

  /** The names of exactly this class (not its parents). */
  namesOf(type: Function): readonly string[] {
    const declared = declaredPayloadNames(type);
    const registered = this.namesByClass.get(type);
    return registered ? [...new Set([...declared, ...registered])] : declared;
  }

  /** The keys a payload matches, most specific first; computed once per class. */
  chainOf(payload: unknown): PayloadTypeChain {
    if (payload === null || typeof payload !== 'object') return EMPTY_CHAIN;
    const prototype = Object.getPrototypeOf(payload) as object | null;
    if (prototype === null || prototype === Object.prototype) return EMPTY_CHAIN;
    let chain = this.chains.get(prototype);
    if (!chain) this.chains.set(prototype, (chain = payloadTypeChain(prototype, (type) => this.namesOf(type))));
    return chain;
  }
}
