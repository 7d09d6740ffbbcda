import { randomFillSync } from 'node:crypto';

const POOL = Buffer.alloc(4096);
let offset = POOL.length;
let lastMs = -1;
let counter = 0;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562) for attempts: 48-bit millisecond time, then a 12-bit counter that starts at a random value
 * each millisecond and counts up within it, then 62 random bits. Ids therefore sort by creation time, also
 * within one millisecond in this process, which is the order history and pruning rely on. Random bytes come
 * from a pool (one `randomFillSync` per ~400 ids): the `uuid` package reads 16 fresh bytes per id, a visible
 * share of the delivery hot path.
 */
export function newAttemptId(): string {
  if (offset + 10 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = POOL[offset]! & 0x7f; // leave room to count up within this millisecond
  } else {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      lastMs = ms = lastMs + 1;
      counter = 0;
    }
  }
  const b = POOL;
  const o = offset;
  offset += 10;
  const time = ms.toString(16).padStart(12, '0');
  const randA = (0x7000 | counter).toString(16);
  const randB = HEX[(b[o + 1]! & 0x3f) | 0x80]! + HEX[b[o + 2]!]!;
  const tail = HEX[b[o + 3]!]! + HEX[b[o + 4]!]! + HEX[b[o + 5]!]! + HEX[b[o + 6]!]! + HEX[b[o + 7]!]! + HEX[b[o + 8]!]!;
  return `${time.slice(0, 8)}-${time.slice(8)}-${randA}-${randB}-${tail}`;
}
