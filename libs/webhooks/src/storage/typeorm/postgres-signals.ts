import { Logger } from '@nestjs/common';
import type { StoreSignal } from '../webhook-store.js';
import { SIGNAL_CHANNEL } from './registry-sql.js';

/** What is used of a `pg` pool client. */
interface ListeningClient {
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
  release(error?: Error | boolean): void;
}

interface ClientPool {
  connect(): Promise<ListeningClient>;
}

const RECONNECT_MS = 1000;

/**
 * `LISTEN`s on the library's channel with one pooled connection of its own, and calls the listeners on each
 * notification. A lost connection is opened again after a second; what was signalled meanwhile is found by the
 * polls that never stop (signals only make things happen sooner).
 */
export class PostgresSignals {
  private readonly logger = new Logger('WebhookSignals');
  private readonly listeners = new Set<(signal: StoreSignal) => void>();
  private client: ListeningClient | null = null;
  private connecting = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly pool: () => ClientPool) {}

  listen(listener: (signal: StoreSignal) => void): () => void {
    this.listeners.add(listener);
    void this.connect();
    return () => {
      this.listeners.delete(listener);
      // Nobody listens: give the connection back, so the pool can close when the application shuts down.
      if (this.listeners.size > 0) return;
      if (this.retry) clearTimeout(this.retry);
      this.retry = null;
      this.drop();
    };
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.drop();
  }

  private async connect(): Promise<void> {
    if (this.client || this.connecting || this.closed) return;
    this.connecting = true;
    let client: ListeningClient | null = null;
    try {
      client = await this.pool().connect();
      client.on('notification', (message) => {
        if (message.channel !== SIGNAL_CHANNEL) return;
        const signal = message.payload === 'registry' ? 'registry' : 'attempts';
        for (const listener of this.listeners) listener(signal);
      });
      client.on('error', (error) => this.lost(client!, error));
      client.on('end', () => this.lost(client!));
      await client.query(`LISTEN ${SIGNAL_CHANNEL}`);
      if (this.closed || this.listeners.size === 0) client.release(true);
      else this.client = client;
    } catch (error) {
      client?.release(true);
      this.logger.warn(`Listening for webhook signals failed (retrying): ${(error as Error)?.message ?? String(error)}`);
      this.reconnectLater();
    } finally {
      this.connecting = false;
    }
  }

  private lost(client: ListeningClient, error?: Error): void {
    if (this.client !== client) return;
    this.drop(error);
    this.reconnectLater();
  }

  private drop(error?: Error): void {
    const client = this.client;
    this.client = null;
    if (!client) return;
    client.removeAllListeners();
    // A late error of the dropped connection must not become an unhandled 'error' event.
    client.on('error', () => undefined);
    // A client that failed is destroyed rather than returned to the pool.
    client.release(error ?? true);
  }

  private reconnectLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, RECONNECT_MS);
    this.retry.unref();
  }
}
