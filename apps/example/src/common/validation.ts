import { ValidateIf, type ValidationOptions } from 'class-validator';

/**
 * Optional in a PATCH body: absent is fine, `null` is not (it is validated like any other value and fails the
 * type check), unlike `@IsOptional()`, which lets `null` through.
 */
export const IsOmittable = (options?: ValidationOptions): PropertyDecorator => ValidateIf((_object, value) => value !== undefined, options);
