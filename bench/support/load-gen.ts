/**
 * A closed-loop HTTP load generator on keep-alive connections, run as its own process so it does
 * not share an event loop with the server under test. Each connection sends its next request as
 * soon as the last answer is read in full. Prints one JSON line: requests/s, latency p50/p99 (ms),
 * errors, and whether every body had the expected length.
 *
 *   node load-gen.ts URL CONNECTIONS DURATION_MS EXPECTED_BYTES
 */
import http from 'node:http';

const [url = '', conns = '16', ms = '3000', expect = '-1'] = process.argv.slice(2);
const target = new URL(url);
const connections = Number(conns);
const duration = Number(ms);
const expected = Number(expect);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const latencies: number[] = [];
let errors = 0;
let badBodies = 0;
const deadline = performance.now() + duration;

function once(): Promise<void> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.get({ host: target.hostname, port: target.port, path: target.pathname, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
        else if (expected >= 0 && bytes !== expected) badBodies++;
        latencies.push(performance.now() - t0);
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
  });
}

async function loop(): Promise<void> {
  while (performance.now() < deadline) await once();
}

const started = performance.now();
await Promise.all(Array.from({ length: connections }, loop));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99), errors, badBodies })}\n`,
);
agent.destroy();
