import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Every list answers `{ data, nextCursor }`, at most this many items a page. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;

/** `?limit=`: a whole number from 1 to 100 (default 50). */
export function IsPageLimit(): PropertyDecorator {
  return (target, propertyName) => {
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE_SIZE,
      default: DEFAULT_PAGE_SIZE,
      description: `Items per page, 1 to ${MAX_PAGE_SIZE}`,
    })(target, propertyName);
    IsOptional()(target, propertyName);
    Type(() => Number)(target, propertyName);
    IsInt()(target, propertyName);
    Min(1)(target, propertyName);
    Max(MAX_PAGE_SIZE)(target, propertyName);
  };
}

/** One page of a list and the cursor of the next (`null` on the last page). */
export function page<T, V>(rows: readonly T[], limit: number, view: (row: T) => V, cursorOf: (row: T) => string): { data: V[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  return { data: shown.map(view), nextCursor: rows.length > limit ? cursorOf(shown[shown.length - 1]!) : null };
}
