/**
 * Event-name patterns with EventEmitter2's wildcard semantics and `.` as the delimiter: `*` matches exactly one
 * segment, `**` matches any number of segments including none (so `order.**` matches `order` itself).
 */
export const EVENT_DELIMITER = '.';
export const MATCH_ALL_EVENTS = '**';

const SEGMENT = /^(?:\*\*|\*|[A-Za-z0-9_:\-]+)$/;
const MAX_PATTERN_LENGTH = 200;

/** Why a pattern is invalid, or `null` when it is valid. */
export function eventPatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string') return 'must be a string';
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > MAX_PATTERN_LENGTH) return `must be at most ${MAX_PATTERN_LENGTH} characters`;
  for (const segment of pattern.split(EVENT_DELIMITER)) {
    if (!SEGMENT.test(segment)) {
      return `"${pattern}" is not an event pattern: segments are letters, digits, "_", "-", ":" or a whole "*" / "**", separated by "."`;
    }
  }
  return null;
}

/**
 * How specific a pattern is, for ordering results from the most general to the most specific (`nti.webhooks`: registry
 * lookups return general registrations first). Literal segments weigh most, `*` less, `**` nothing.
 */
export function eventPatternSpecificity(pattern: string): number {
  let score = 0;
  for (const segment of pattern.split(EVENT_DELIMITER)) {
    if (segment === '**') continue;
    score += segment === '*' ? 1 : 1000;
  }
  return score;
}

/** Event names as EventEmitter2 hands them to `onAny`: a string, or an array of segments. */
export function normalizeEventName(event: unknown): string | null {
  if (typeof event === 'string') return event;
  if (Array.isArray(event) && event.every((s) => typeof s === 'string')) return event.join(EVENT_DELIMITER);
  return null;
}

/** Whether one pattern matches one event name (for small lists; the subscription index uses a trie). */
export function eventMatches(pattern: string, eventName: string): boolean {
  const p = pattern.split(EVENT_DELIMITER);
  const e = eventName.split(EVENT_DELIMITER);
  const memo = new Map<number, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = i * (e.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === p.length) result = j === e.length;
    else if (p[i] === '**') result = match(i + 1, j) || (j < e.length && match(i, j + 1));
    else result = j < e.length && (p[i] === '*' || p[i] === e[j]) && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}
