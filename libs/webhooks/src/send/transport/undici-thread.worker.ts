import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { WebhookDestinationError, type DestinationErrorCode } from '../../destinations/destination.errors.js';
import { UndiciSender } from './undici-sender.js';
import type { FromSendingThread, SendingThreadOptions, ThreadError, ThreadResult, ToSendingThread } from './undici-thread.protocol.js';
import { WebhookTransportError } from './webhook-transport.js';

/**
 * The sending thread of the `undici-thread` transport: an `UndiciSender` whose connections ask the
 * application thread's destination guard for vetted addresses (so the guard, its resolver and its policy stay
 * in one place, and the socket still connects only to an address the guard returned). Results go back in
 * batches, one message per event-loop turn.
 */
const port = parentPort!;
const options = workerData as SendingThreadOptions;
const vetting = new Map<number, { resolve: (addresses: LookupAddress[]) => void; reject: (error: Error) => void }>();
let nextVet = 0;

function post(message: FromSendingThread): void {
  port.postMessage(message);
}

function toError(error: ThreadError): Error {
  if (error.name === 'WebhookDestinationError') return new WebhookDestinationError(error.code as DestinationErrorCode, error.message);
  return Object.assign(new Error(error.message), { code: error.code });
}

function vet(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    const id = nextVet++;
    vetting.set(id, { resolve, reject });
    post({ type: 'vet', id, host });
  });
}

const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
  const all = typeof lookupOptions === 'object' && lookupOptions?.all;
  const family = typeof lookupOptions === 'object' ? lookupOptions?.family : lookupOptions;
  vet(hostname).then(
    (vetted) => {
      const addresses = family === 4 || family === 6 ? vetted.filter((a) => a.family === family) : vetted;
      if (addresses.length === 0) (callback as (err: Error) => void)(new WebhookDestinationError('unresolvable', `${hostname} has no address of family ${String(family)}`));
      else if (all) (callback as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
      else (callback as (err: null, address: string, family: number) => void)(null, addresses[0]!.address, addresses[0]!.family);
    },
    (error: Error) => (callback as (err: Error) => void)(error),
  );
};

const sender = new UndiciSender({ ...options, lookup, checkAddress: async (address) => void (await vet(address)) });

let results: ThreadResult[] = [];
function deliver(result: ThreadResult): void {
  if (results.length === 0) setImmediate(flush);
  results.push(result);
}
function flush(): void {
  const batch = results;
  results = [];
  post({ type: 'results', results: batch });
}

port.on('message', (message: ToSendingThread) => {
  switch (message.type) {
    case 'send':
      for (const { id, group, timeoutMs, maxResponseBytes, ...request } of message.requests) {
        const failed = (error: unknown) => {
          const failure = error instanceof WebhookTransportError ? error : new WebhookTransportError('unknown', String(error), 0);
          deliver({ id, error: { code: failure.code, message: failure.message, elapsedMs: failure.elapsedMs } });
        };
        try {
          sender.send(request, { timeoutMs, maxResponseBytes }, group).then((response) => deliver({ id, response }), failed);
        } catch (error) {
          // One bad request must not end the thread (and with it every other request in flight).
          failed(error);
        }
      }
      break;
    case 'vetted': {
      const waiter = vetting.get(message.id);
      vetting.delete(message.id);
      if (message.error) waiter?.reject(toError(message.error));
      else waiter?.resolve(message.addresses ?? []);
      break;
    }
    case 'abort':
      sender.abortGroup(message.group);
      break;
    case 'close':
      sender.abortAll();
      void sender.close().finally(() => {
        flush();
        post({ type: 'closed' });
        port.close();
      });
      break;
  }
});
