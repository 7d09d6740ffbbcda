/** An asymmetric matcher of Jest or Vitest (`expect.any(String)`, `expect.stringContaining('x')`, …). */
interface AsymmetricMatcher {
  asymmetricMatch(actual: unknown): boolean;
}

function isAsymmetricMatcher(value: unknown): value is AsymmetricMatcher {
  return value !== null && typeof value === 'object' && typeof (value as AsymmetricMatcher).asymmetricMatch === 'function';
}

/**
 * Whether `actual` (parsed JSON) holds `expected`, as `toMatchObject` has it: objects may have more properties
 * than expected, arrays must have the same length, and every expected value matches in turn. A `Date` matches the
 * string JSON writes for it; asymmetric matchers of Jest and Vitest are applied.
 */
export function matchesPartially(actual: unknown, expected: unknown): boolean {
  if (isAsymmetricMatcher(expected)) return expected.asymmetricMatch(actual);
  if (expected instanceof Date) return actual === expected.toJSON();
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => matchesPartially(actual[i], item));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) => Object.hasOwn(actual, key) && matchesPartially((actual as Record<string, unknown>)[key], value));
  }
  return Object.is(actual, expected);
}
