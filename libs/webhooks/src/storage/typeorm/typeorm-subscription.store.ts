import { type EntityManager, Equal, type FindOptionsWhere, In, IsNull, MoreThan } from 'typeorm';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import type {
  StoredSigningSecret,
  StoreWriteContext,
  SubscriptionChanges,
  SubscriptionCounts,
  SubscriptionCredentials,
  SubscriptionPatch,
  SubscriptionQuery,
  SubscriptionUpdateOptions,
} from '../webhook-store.js';
import { statusIs } from './attempt-status-condition.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';
import { addTombstone, readRegistryVersion, readSubscriptionChanges } from './registry-sql.js';
import { toSubscription, toSubscriptionEntity } from './subscription-rows.js';
import { TypeOrmConnection } from './typeorm-connection.js';
import type { WebhookProgressListener } from '../../core/operation-progress.js';

interface SecretRecord {
  id: string;
  secret: string;
  createdAt: number;
  expiresAt: number | null;
}

/** The plaintext of the encrypted `secrets` column: signing secrets and subscription-defined header values. */
interface SealedCredentials {
  secrets: SecretRecord[];
  headers: Record<string, string>;
}

function toSecretRecord(secret: StoredSigningSecret): SecretRecord {
  return { id: secret.id, secret: secret.secret, createdAt: secret.createdAt.getTime(), expiresAt: secret.expiresAt?.getTime() ?? null };
}

/**
 * The TypeORM store's subscriptions: the registry version and the changes since one, the rows, and their
 * credentials, sealed with the configured encryption keys (the subscription id authenticated with each value).
 */
export abstract class TypeOrmSubscriptionStore extends TypeOrmConnection {
  // ---------------------------------------------------------------- registry

  async registryVersion(context: StoreWriteContext = {}): Promise<number> {
    const manager = this.transactionOf(context);
    if (manager) return readRegistryVersion(manager, this.isPostgres);
    if (this.sqlite) return Number(this.sqlite.statements.registryVersion.get() ?? 0);
    return this.run((ds) => readRegistryVersion(ds.manager, false));
  }

  async subscriptionChanges(since: number, context: StoreWriteContext = {}): Promise<SubscriptionChanges> {
    const manager = this.transactionOf(context);
    const read = manager
      ? await readSubscriptionChanges(manager, since)
      : // One read transaction, on the connection of the changes (on SQLite the store's own connection commits a
        // batch of hot-path writes every turn, which must never end up inside it).
        await this.inTransaction((m) => readSubscriptionChanges(m, since));
    return { version: read.version, changed: read.changed.map(toSubscription), deleted: read.deleted, complete: read.complete };
  }

  override registryVersionNow(): number | undefined {
    // Between turns the store's SQLite connection holds no transaction: this reads the latest commit.
    return this.sqlite ? Number(this.sqlite.statements.registryVersion.get() ?? 0) : undefined;
  }

  // ---------------------------------------------------------------- subscriptions

  async insertSubscription(subscription: WebhookSubscription, credentials: SubscriptionCredentials): Promise<WebhookSubscription> {
    const sealed = this.seal(subscription.id, { secrets: credentials.secrets.map(toSecretRecord), headers: credentials.headers });
    return this.change(async (manager, version) => {
      const entity = toSubscriptionEntity(subscription, sealed, version);
      await this.subscriptions(manager).insert(entity);
      return toSubscription(entity);
    });
  }

  async updateSubscription(id: string, patch: SubscriptionPatch, options: SubscriptionUpdateOptions = {}): Promise<WebhookSubscription | null> {
    const values: Partial<WebhookSubscriptionEntity> = { ...patch } as Partial<WebhookSubscriptionEntity>;
    if (patch.payloadType !== undefined && typeof patch.payloadType !== 'string' && patch.payloadType !== null) {
      throw new Error('Stored subscriptions keep payload types by name');
    }
    return this.change(async (manager, version) => {
      const result = await this.subscriptions(manager).update({ id }, { ...values, revision: version });
      if ((result.affected ?? 0) === 0) return null;
      if (options.headers) await this.updateSealed(manager, id, (sealed) => ({ ...sealed, headers: { ...options.headers } }));
      if (options.cancelPending) {
        const { message, now } = options.cancelPending;
        await this.attempts(manager).update(
          { subscriptionId: id, status: statusIs('pending', this.sqlite !== undefined) },
          { status: 'failed', message, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, claimableAt: null, updatedAt: now },
        );
      }
      const entity = await this.subscriptions(manager).findOneBy({ id });
      return entity ? toSubscription(entity) : null;
    });
  }

  async deleteSubscription(id: string): Promise<number | null> {
    return this.change(async (manager, version) => {
      const result = await this.subscriptions(manager).delete({ id });
      if ((result.affected ?? 0) === 0) return null;
      await this.attempts(manager).delete({ subscriptionId: id });
      await addTombstone(manager, id, version);
      return version;
    });
  }

  async findSubscription(id: string): Promise<WebhookSubscription | null> {
    const entity = await this.run((ds) => this.subscriptions(ds).findOneBy({ id }));
    return entity ? toSubscription(entity) : null;
  }

  async listSubscriptions(query: SubscriptionQuery = {}): Promise<WebhookSubscription[]> {
    const where: FindOptionsWhere<WebhookSubscriptionEntity> = {
      ...(query.ownerId !== undefined ? { ownerId: query.ownerId } : {}),
      ...(query.scope !== undefined ? { scope: query.scope === null ? IsNull() : query.scope } : {}),
    };
    const { after } = query;
    const entities = await this.run((ds) =>
      this.subscriptions(ds).find({
        // Keyset paging: later creation time, or the same one and a greater id (the listing order).
        where: after
          ? [
              { ...where, createdAt: MoreThan(after.createdAt) },
              { ...where, createdAt: Equal(after.createdAt), id: MoreThan(after.id) },
            ]
          : where,
        order: { createdAt: 'ASC', id: 'ASC' },
        skip: query.offset,
        take: query.limit,
      }),
    );
    return entities.map((e) => toSubscription(e));
  }

  /** One grouped query: by `active`, and whether `failing_since` is set. */
  override async countSubscriptions(): Promise<SubscriptionCounts> {
    const rows = await this.run((ds) =>
      this.subscriptions(ds)
        .createQueryBuilder('s')
        .select('s.active', 'active')
        .addSelect('CASE WHEN s.failingSince IS NULL THEN 0 ELSE 1 END', 'failing')
        .addSelect('COUNT(*)', 'count')
        .groupBy('s.active')
        .addGroupBy('CASE WHEN s.failingSince IS NULL THEN 0 ELSE 1 END')
        .getRawMany<{ active: boolean | number; failing: number | string; count: number | string }>(),
    );
    const counts: SubscriptionCounts = { active: 0, failing: 0, inactive: 0 };
    // SQLite answers 0/1 and numbers, PostgreSQL booleans and COUNT as text.
    for (const row of rows) counts[!row.active ? 'inactive' : Number(row.failing) ? 'failing' : 'active'] += Number(row.count);
    return counts;
  }

  async incrementPreconditionFailures(id: string): Promise<number> {
    // Not a registry change: the counter matters to this subscription's deactivation only, which is one.
    await this.run((ds) => this.subscriptions(ds).increment({ id }, 'preconditionFailures', 1));
    const entity = await this.run((ds) => this.subscriptions(ds).findOne({ where: { id }, select: { id: true, preconditionFailures: true } }));
    return entity?.preconditionFailures ?? 0;
  }

  // ---------------------------------------------------------------- credentials

  async addSecret(secret: StoredSigningSecret, expireOthersAt: Date): Promise<number | null> {
    return this.change(async (manager, version) => {
      const found = await this.updateSealed(manager, secret.subscriptionId, (sealed) => ({
        ...sealed,
        secrets: [
          toSecretRecord(secret),
          ...sealed.secrets.map((s) => ({
            ...s,
            expiresAt: s.expiresAt !== null && s.expiresAt < expireOthersAt.getTime() ? s.expiresAt : expireOthersAt.getTime(),
          })),
        ],
      }));
      if (!found) return null;
      await this.subscriptions(manager).update({ id: secret.subscriptionId }, { revision: version });
      return version;
    });
  }

  async credentials(subscriptionIds: readonly string[]): Promise<Map<string, SubscriptionCredentials>> {
    const result = new Map<string, SubscriptionCredentials>();
    if (subscriptionIds.length === 0) return result;
    const rows = await this.run((ds) => this.subscriptions(ds).find({ where: { id: In([...subscriptionIds]) }, select: { id: true, secrets: true } }));
    for (const row of rows) {
      let sealed: SealedCredentials;
      try {
        sealed = this.unseal(row.id, row.secrets);
      } catch (error) {
        result.set(row.id, { secrets: [], headers: {}, unreadable: (error as Error).message });
        continue;
      }
      result.set(row.id, {
        secrets: sealed.secrets
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((s) => ({
            id: s.id,
            subscriptionId: row.id,
            secret: s.secret,
            createdAt: new Date(s.createdAt),
            expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt),
          })),
        headers: sealed.headers,
      });
    }
    return result;
  }

  /** Re-encrypts every stored credential with the current (first) key; returns how many rows changed. */
  override async reencryptSecrets(onProgress?: WebhookProgressListener): Promise<number> {
    const rows = await this.run((ds) => this.subscriptions(ds).find({ select: { id: true, secrets: true } }));
    let changed = 0;
    for (const [index, row] of rows.entries()) {
      onProgress?.({ done: index, total: rows.length });
      if (this.cipher.keyIdOf(row.secrets) === this.cipher.currentKeyId) continue;
      const next = this.seal(row.id, this.unseal(row.id, row.secrets));
      const result = await this.run((ds) => this.subscriptions(ds).update({ id: row.id, secrets: row.secrets }, { secrets: next }));
      changed += result.affected ?? 0;
    }
    onProgress?.({ done: rows.length, total: rows.length });
    return changed;
  }

  /**
   * Read-modify-write of the sealed credentials inside a change's transaction (which holds the registry version
   * row, so no other change runs meanwhile). Returns false when the subscription does not exist.
   */
  private async updateSealed(manager: EntityManager, subscriptionId: string, change: (sealed: SealedCredentials) => SealedCredentials): Promise<boolean> {
    const row = await this.subscriptions(manager).findOne({ where: { id: subscriptionId }, select: { id: true, secrets: true } });
    if (!row) return false;
    await this.subscriptions(manager).update({ id: row.id }, { secrets: this.seal(row.id, change(this.unseal(row.id, row.secrets))) });
    return true;
  }

  // ---------------------------------------------------------------- mapping

  /** Credentials as the `secrets` column holds them. */
  protected sealCredentials(subscriptionId: string, credentials: SubscriptionCredentials): string {
    return this.seal(subscriptionId, { secrets: credentials.secrets.map(toSecretRecord), headers: credentials.headers });
  }

  private seal(subscriptionId: string, credentials: SealedCredentials): string {
    // The subscription id is authenticated with the ciphertext, so a value copied to another row fails.
    return this.cipher.encrypt(JSON.stringify(credentials), subscriptionId);
  }

  private unseal(subscriptionId: string, value: string): SealedCredentials {
    return JSON.parse(this.cipher.decrypt(value, subscriptionId)) as SealedCredentials;
  }
}
