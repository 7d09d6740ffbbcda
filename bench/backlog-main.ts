import { backlog } from './sections.js';

/**
 * The backlog section in a process of its own, so its RSS is the library's and not the benchmark's other
 * sections'. Arguments: receiver URL, attempt count, concurrency. Prints one JSON line.
 */
const [url, count, concurrency] = process.argv.slice(2);
const receiver = {
  url: url!,
  // The parent owns the receiver; the child polls it through IPC.
  reset: () => ask('reset'),
  stats: () => ask('stats'),
  stop: () => undefined,
};

let pending: ((value: any) => void) | null = null;
process.on('message', (message: any) => pending?.(message));
function ask(type: string): Promise<any> {
  return new Promise((resolve) => {
    pending = resolve;
    process.send!({ type });
  });
}

backlog(receiver as never, Number(count), { warmupMs: 0, durationMs: 0, concurrency: Number(concurrency) }).then(
  (result) => {
    process.send!({ type: 'result', result });
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
