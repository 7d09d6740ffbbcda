import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Receiver {
  /** The first endpoint. */
  url: string;
  /** One URL per endpoint (each its own port). */
  urls: string[];
  reset(options?: { trackIds?: boolean }): Promise<void>;
  stats(): Promise<{ count: number; latencies: number[]; distinctIds: number }>;
  stop(): void;
}

/** Starts the receiver in its own process. */
export async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./receiver.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type: string) =>
    new Promise<any>((resolve) => {
      const handler = (message: any) => {
        if (message.type === type) {
          child.off('message', handler);
          resolve(message);
        }
      };
      child.on('message', handler);
    });
  const { ports } = (await next('ready')) as { ports: number[] };
  const urls = ports.map((port) => `http://127.0.0.1:${port}/hooks`);
  return {
    url: urls[0]!,
    urls,
    async reset(options = {}) {
      const done = next('reset-done');
      child.send({ type: 'reset', ...options });
      await done;
    },
    async stats() {
      const stats = next('stats');
      child.send({ type: 'stats' });
      return stats;
    },
    stop: () => child.kill(),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 1 KB JSON payload (the size the reference figures used). */
export function payload(seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: `ord_${seq}`, seq, customer: 'cus_0123456789', items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}-000000`, qty: i + 1, price: 1999 })), note: 'x'.repeat(560), ...extra };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `contestants` in interleaved rounds (A, B, C, A, B, C …) so drift hits all of them alike. */
export async function interleaved<T extends string>(
  rounds: number,
  contestants: Record<T, () => Promise<number>>,
  log: (line: string) => void,
): Promise<Record<T, number[]>> {
  const results = Object.fromEntries(Object.keys(contestants).map((k) => [k, [] as number[]])) as Record<T, number[]>;
  for (let round = 1; round <= rounds; round++) {
    for (const [name, run] of Object.entries(contestants) as Array<[T, () => Promise<number>]>) {
      const value = await run();
      results[name].push(value);
      log(`  round ${round} ${name}: ${value.toFixed(0)}/s`);
    }
  }
  return results;
}
