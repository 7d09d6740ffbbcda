import { IsNull, Not } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { type BuiltDeclaration, type DeclarationSyncResult, planDeclarations } from '../declaration-plan.js';
import { statusIs } from './attempt-status-condition.js';
import { WebhookDeclarationEntity } from './entities/webhook-declaration.entity.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';
import { toSubscription, toSubscriptionEntity } from './subscription-rows.js';
import { TypeOrmSubscriptionStore } from './typeorm-subscription.store.js';

type State = { generation: number; keys: string[] };

/**
 * The TypeORM store's declared subscriptions: the last sync's state in `webhook_declaration`, and a sync applied in
 * one subscription-change transaction, whose first statement locks the registry version, so processes that start
 * together sync one after the other and the later ones find nothing to do.
 */
export abstract class TypeOrmDeclarationStore extends TypeOrmSubscriptionStore {
  override async declarationState(): Promise<State> {
    return this.run((ds) => this.readState(ds.manager));
  }

  override async syncDeclarations(
    keys: readonly string[],
    candidates: ReadonlyMap<string, BuiltDeclaration>,
    deactivation: { message: string; now: Date },
  ): Promise<DeclarationSyncResult> {
    // Read first without a write: a start with unchanged declarations writes nothing.
    const seen = await this.run(async (ds) => this.plan(ds.manager, keys));
    if (!seen.plan.changed) return { generation: seen.state.generation, added: [], deactivated: [], kept: seen.plan.kept, missing: seen.plan.missing };
    return this.change(async (manager, version) => {
      const { state, plan } = await this.plan(manager, keys);
      const result: DeclarationSyncResult = { generation: state.generation, added: [], deactivated: [], kept: plan.kept, missing: plan.missing };
      if (!plan.changed) return result;
      const subscriptions = manager.getRepository(WebhookSubscriptionEntity);
      for (const key of plan.create) {
        const { subscription, credentials } = candidates.get(key)!;
        const entity = toSubscriptionEntity(subscription, this.sealCredentials(subscription.id, credentials), version, key);
        await subscriptions.insert(entity);
        result.added.push(toSubscription(entity));
      }
      for (const id of plan.deactivate) {
        const { message, now } = deactivation;
        await subscriptions.update({ id }, { active: false, statusMessage: message, updatedAt: now, revision: version });
        await this.attempts(manager).update(
          { subscriptionId: id, status: statusIs('pending', this.sqlite !== undefined) },
          { status: 'failed', message, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, claimableAt: null, updatedAt: now },
        );
        const entity = await subscriptions.findOneBy({ id });
        if (entity) result.deactivated.push(toSubscription(entity));
      }
      result.generation = state.generation + 1;
      await manager.getRepository(WebhookDeclarationEntity).update({ id: 1 }, { generation: result.generation, keys: JSON.stringify([...keys]) });
      return result;
    });
  }

  private async plan(manager: EntityManager, keys: readonly string[]) {
    const state = await this.readState(manager);
    const rows = await manager.getRepository(WebhookSubscriptionEntity).find({ select: { id: true, declaredKey: true, active: true }, where: { declaredKey: Not(IsNull()) } });
    const plan = planDeclarations(state.keys, keys, rows.map((row) => ({ id: row.id, key: row.declaredKey!, active: Boolean(row.active) })));
    return { state, plan };
  }

  private async readState(manager: EntityManager): Promise<State> {
    const row = await manager.getRepository(WebhookDeclarationEntity).findOneBy({ id: 1 });
    return { generation: Number(row?.generation ?? 0), keys: row ? (JSON.parse(row.keys) as string[]) : [] };
  }
}
