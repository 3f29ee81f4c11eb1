// Server and client in one process on purpose: no synthfleet code, nothing but node:http and
// loopback. Prints one JSON line. Usage: node loopback-hold.mjs N
import http from 'node:http';

const n = Number(process.argv[2] ?? 10000);
const held = new Set();
const server = http.createServer((_req, res) => {
  held.add(res);
  res.on('close', () => held.delete(res));
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 0;
server.requestTimeout = 0;
await new Promise((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
const { port } = server.address();
const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
const errors = {};
let released = 0;
const pending = [];
for (let i = 0; i < n; i++) {
  pending.push(
    new Promise((done) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/poll', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          released++;
          done();
        });
      });
      req.on('error', (e) => {
        errors[e.code ?? e.message] = (errors[e.code ?? e.message] ?? 0) + 1;
        done();
      });
    }),
  );
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 50));
}
const failed = () => Object.values(errors).reduce((a, b) => a + b, 0);
const until = Date.now() + 120_000;
while (held.size + failed() < n && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
const heldAll = held.size;
await new Promise((r) => setTimeout(r, 20_000));
const heldAfterIdle = held.size;
const t0 = Date.now();
for (const res of held) res.end('x');
await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 60_000))]);
process.stdout.write(
  `${JSON.stringify({ held: heldAll, heldAfterIdle, released, releaseMs: Date.now() - t0, errors })}\n`,
);
process.exit(0);
