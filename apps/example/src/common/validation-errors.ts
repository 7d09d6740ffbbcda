import { BadRequestException } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import type { ApiErrorDetail } from './api-error.js';

/** Every failed constraint as `{ field, message }`, fields in declaration order, each field's checks as declared. */
function details(errors: readonly ValidationError[], prefix = ''): ApiErrorDetail[] {
  return errors.flatMap((error) => {
    const field = error.property ? `${prefix}${error.property}` : prefix.replace(/\.$/, '');
    // class-validator lists a property's constraints last-declared first; declared order puts the type check first.
    const own = Object.values(error.constraints ?? {})
      .reverse()
      .map((message) => ({ field, message }));
    return [...own, ...details(error.children ?? [], field ? `${field}.` : '')];
  });
}

/**
 * `ValidationPipe`'s `exceptionFactory`: a 400 whose message is one string (the first problem of each field) and
 * which names the first field; `details` keeps every problem.
 */
export function validationException(errors: ValidationError[]): BadRequestException {
  const all = details(errors);
  const firstPerField = all.filter((detail, i) => all.findIndex((other) => other.field === detail.field) === i);
  const message = firstPerField.map((d) => d.message).join('; ') || 'The request is not valid';
  const field = all.find((d) => d.field !== '')?.field;
  return new BadRequestException({ message, ...(field ? { field } : {}), details: all });
}
