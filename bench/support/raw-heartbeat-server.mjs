/**
 * Baseline for the heartbeat benchmark: the least a node:http server can do to serve
 * `/heartbeat/N`, answering from one precomputed buffer (as performance-notes.md measured).
 * Prints its port on stdout. Plain JavaScript, so it pays no type-stripping cost at start-up.
 */
import { createServer } from 'node:http';

const max = Number(process.env.HEARTBEAT_MAX ?? 1024 * 1024);
const pattern = Buffer.from('0123456789ABCDEF');
const payload = Buffer.alloc(max, pattern);

const server = createServer((req, res) => {
  const n = Number((req.url ?? '').slice('/heartbeat/'.length));
  if (!Number.isInteger(n) || n < 1 || n > max) {
    res.writeHead(400);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
  res.end(payload.subarray(0, n));
});
server.keepAliveTimeout = 65_000;
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
