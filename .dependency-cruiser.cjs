// The library's layers, lowest first: a folder may import values only from its own layer or those below it
// (type-only imports may point anywhere). The root files (module, entries, options resolver) sit on top.
// `npm run lint:layers` checks them; test/architecture runs the same rules in `npm test`.
const SRC = 'libs/webhooks/src/';
const LAYERS = [
  ['core', 'the domain: attempts, subscriptions, errors, messages, options, clock'],
  ['tracing', 'OpenTelemetry spans of publishing and tries, through the optional @opentelemetry/api'],
  ['secrets', 'signing secrets and their encryption at rest'],
  ['payloads', '@WebhookPayload and the serializers that turn payloads into data'],
  ['dialects', 'how a payload becomes a signed HTTP request'],
  ['destinations', 'which URLs may be reached (SSRF guard)'],
  ['access', 'who may receive an event, and see or change a subscription'],
  ['matching', 'which subscriptions an event reaches'],
  ['storage', 'the store contract and its engines'],
  ['subscriptions', 'the subscription lifecycle and the registry'],
  ['send', 'the queue, the try sender, transports, retries and health'],
  ['publish', 'events in: listener, dispatcher, publisher, transactions, shipments'],
  ['operations', 'the delivery manager: history, redelivery, recovery, the delivery loop'],
  ['metrics', 'Prometheus metrics (prom-client): WebhooksMetricsModule, WebhookMetrics'],
  ['health', 'the @nestjs/terminus health indicator'],
  ['testing', 'the kit for applications\' tests (nest-webhooks/testing): receiver, matchers, clock'],
  ['dashboard', 'the deliveries dashboard: server-rendered pages and actions (nest-webhooks/dashboard)'],
];

const below = (index) => LAYERS.slice(0, index + 1).map(([name]) => name);

const layerRules = LAYERS.map(([name], index) => ({
  name: `layer-${name}`,
  comment: `${name}/ imports values only from ${below(index).join(', ')}`,
  severity: 'error',
  from: { path: `^${SRC}${name}/` },
  to: {
    path: `^${SRC}`,
    pathNot: [`^${SRC}(${below(index).join('|')})/`],
    dependencyTypesNot: ['type-only'],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'storage-engines-are-plug-ins',
      comment: 'Only the module and the entries choose a store engine; everything else speaks to WebhookStore.',
      severity: 'error',
      from: { path: `^${SRC}`, pathNot: [`^${SRC}[^/]+\\.ts$`, `^${SRC}storage/(memory|typeorm)/`] },
      to: { path: `^${SRC}storage/(memory|typeorm)/` },
    },
    {
      name: 'no-value-cycles',
      comment: 'No module imports itself back through value imports.',
      severity: 'error',
      from: { path: `^${SRC}` },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
