/**
 * The machine's own ceiling, with no synthfleet code: one raw node:http server and a client in a
 * second process open N keep-alive requests on loopback, hold them idle for 20 s, then release
 * them all. It tells whether a long-poll figure is the API's or the machine's: on the sandboxed
 * machines of 2026-11 thousands of idle loopback sockets died with ETIMEDOUT past ~4,000.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './support/result.ts';

const N = Number(process.env.BENCH_AGENTS ?? 10_000);

export async function benchLoopback(): Promise<BenchRow[]> {
  const script = fileURLToPath(new URL('./support/loopback-hold.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  await new Promise((r) => child.once('exit', r));
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
    held: number;
    heldAfterIdle: number;
    released: number;
    releaseMs: number;
    errors: Record<string, number>;
  };
  const base = { bench: 'loopback', baseline: N, baselineName: 'connections opened', higherIsBetter: true } as const;
  return [
    { ...base, metric: 'raw node:http: requests held once all were sent', unit: 'conns', value: r.held },
    {
      ...base,
      metric: `raw node:http: still held after 20 s idle (errors ${JSON.stringify(r.errors)})`,
      unit: 'conns',
      value: r.heldAfterIdle,
    },
    { ...base, metric: `raw node:http: answered on release (in ${r.releaseMs} ms)`, unit: 'conns', value: r.released },
  ];
}
