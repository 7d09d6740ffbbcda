import { WebhookPayload } from 'nest-webhooks';

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
 * timestamp stays a Date here; the dialect's `timestamps` option writes it (`nti.webhooks`: the externalizer policy).
 */
export function externalizeEmployee(employee: Employee): Record<string, unknown> {
  return { Class: 'Employee', Name: employee.name, 'Last Modified': employee.lastModified };
}
