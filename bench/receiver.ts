import http from 'node:http';

/**
 * The benchmark receiver: keep-alive `node:http` servers in its own process (one per port, so contestants can send
 * to several endpoints) that answer 200 with an empty body and count. In latency mode it reads `scheduledAt` (epoch ms with fractions, `performance.timeOrigin +
 * performance.now()`, comparable across processes on one host) from the JSON body and keeps the latency.
 * Controlled over IPC: `reset`, `stats`.
 */
let count = 0;
let latencies: number[] = [];
const webhookIds = new Set<string>();
let trackIds = false;

const handler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    count++;
    const now = performance.timeOrigin + performance.now();
    if (trackIds) {
      const id = req.headers['webhook-id'];
      if (typeof id === 'string') webhookIds.add(id);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const at = text.indexOf('"scheduledAt":');
    if (at >= 0) latencies.push(now - Number.parseFloat(text.slice(at + 14)));
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
};

/** How many endpoints (ports) it serves. */
const ENDPOINTS = 4;

function listen(): Promise<number> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.maxRequestsPerSocket = 0;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

void Promise.all(Array.from({ length: ENDPOINTS }, listen)).then((ports) => process.send!({ type: 'ready', ports }));

process.on('message', (message: { type: string; trackIds?: boolean }) => {
  if (message.type === 'reset') {
    count = 0;
    latencies = [];
    webhookIds.clear();
    trackIds = message.trackIds ?? false;
    process.send!({ type: 'reset-done' });
  } else if (message.type === 'stats') {
    process.send!({ type: 'stats', count, latencies, distinctIds: webhookIds.size });
  }
});
