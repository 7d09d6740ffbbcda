import http from 'node:http';

/**
 * The benchmark receiver: a keep-alive `node:http` server in its own process that answers 200 with an empty
 * body and counts. In latency mode it reads `scheduledAt` (epoch ms with fractions, `performance.timeOrigin +
 * performance.now()`, comparable across processes on one host) from the JSON body and keeps the latency.
 * Controlled over IPC: `reset`, `stats`.
 */
let count = 0;
let latencies: number[] = [];
const webhookIds = new Set<string>();
let trackIds = false;

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
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
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.maxRequestsPerSocket = 0;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send!({ type: 'ready', port });
});

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
