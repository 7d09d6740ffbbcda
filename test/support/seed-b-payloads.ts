import { StandardWebhookDialect, WebhookPayload } from 'nest-webhooks';
import type { WebhookExternalizeContext } from 'nest-webhooks/extensions';

/** Seed `employees.Employee`; `lastModified` is the seed's `LastModified` Unix timestamp, as a Date. */
@WebhookPayload('seedB.Employee')
export class Employee {
  constructor(
    readonly name: string,
    readonly lastModified?: Date,
  ) {}
}

/** Seed `employees.ExternalizableEmployee`: a subclass, matched by subscriptions for `Employee`. */
export class ExternalizableEmployee extends Employee {}

/** Not an employee: subscriptions for `Employee` never see it. */
export class Contractor {
  constructor(readonly name: string) {}
}

/**
 * The seed's `webhook-testing` externalizer: `{"Class": "Employee", "Name": …, "Last Modified": …}`. The
 * timestamp stays a Date here; rendering it is the dialect's timestamp policy (seed: externalizer policy).
 */
export function externalizeEmployee(employee: Employee): Record<string, unknown> {
  return { Class: 'Employee', Name: employee.name, 'Last Modified': employee.lastModified };
}

/**
 * How a dialect renders Dates in the payload (seed `externalizer_policy_name`): `iso` is the seed's
 * `webhook-delivery` policy (`1973-11-29T21:33:09Z`, second precision, UTC); `null` is the seed's library
 * default, which keeps Unix timestamps as numbers (seconds since the epoch).
 */
export type TimestampPolicy = 'iso' | null;

function render(value: unknown, policy: TimestampPolicy): unknown {
  if (value instanceof Date) {
    return policy === 'iso' ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : value.getTime() / 1000;
  }
  if (Array.isArray(value)) return value.map((item) => render(item, policy));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, render(item, policy)]));
  }
  return value;
}

/**
 * A dialect with a timestamp policy, built the documented way: extend the standard dialect and override its
 * `envelope`. Method and user agent are plain fields, so they can be changed on a live instance (seed: doctests
 * change dialect class attributes and the next delivery uses them).
 */
export class TimestampPolicyDialect extends StandardWebhookDialect {
  timestampPolicy: TimestampPolicy = 'iso';

  override envelope(context: WebhookExternalizeContext): unknown {
    const envelope = super.envelope(context) as Record<string, unknown>;
    return { ...envelope, data: render(envelope['data'], this.timestampPolicy) };
  }
}
