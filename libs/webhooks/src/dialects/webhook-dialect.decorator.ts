import { SetMetadata } from '@nestjs/common';

export const WEBHOOK_DIALECT_METADATA = 'nest-webhooks:dialect';

/**
 * Registers a provider as a dialect under `name`; the module finds it at bootstrap through `DiscoveryService`.
 * The class must implement `WebhookDialect` (extending `StandardWebhookDialect` is the easy way).
 *
 * @example
 * ＠Injectable()
 * ＠WebhookDialectProvider('slack')
 * export class SlackDialect extends StandardWebhookDialect { … }
 */
export const WebhookDialectProvider = (name: string): ClassDecorator => SetMetadata(WEBHOOK_DIALECT_METADATA, name);
