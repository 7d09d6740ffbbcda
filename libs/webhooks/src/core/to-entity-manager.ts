import type { EntityManager } from 'typeorm';
import type { WebhookEntityManager } from './webhook-entity-manager.js';

/** The TypeORM `EntityManager` a `WebhookEntityManager` always is. */
export const toEntityManager = (manager: WebhookEntityManager): EntityManager => manager as unknown as EntityManager;
