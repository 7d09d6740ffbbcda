/**
 * A `@nestjs/terminus` health indicator for the webhooks (`@nestjs/terminus`, an optional peer): the store answers,
 * due attempts do not wait too long, the workers keep claiming. docs/observability.md shows how to mount it.
 */
export { WebhooksHealthIndicator } from './health/webhooks-health.indicator.js';
export type { WebhooksHealthCheckOptions, WebhooksHealthDetails } from './health/webhooks-health.assessment.js';
