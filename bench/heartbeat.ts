/**
 * Heartbeats: the agent's `/heartbeat/N` at 1 KiB, 64 KiB and 1 MiB against a minimal raw
 * node:http server serving the same bytes, in the same run, under the same closed-loop load
 * (wrk, one thread, on loopback). Rounds alternate the two servers and the
 * medians are reported. Also the agent's idle RSS (registered, holding an empty assignment) and
 * its peak RSS under load. The agent runs as it ships: the esbuild bundle (`npm run build:agent`)
 * with the Node flags and environment its image sets (AGENT_NODE_FLAGS, AGENT_RUNTIME_ENV).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isHeartbeatBody } from '@synthfleet/probes';
import { AGENT_NODE_FLAGS, AGENT_RUNTIME_ENV, buildAgent } from '../scripts/build-agent.ts';
import { rssOf, startApiProcess } from './support/api-process.ts';
import type { BenchRow } from './support/result.ts';
import { ensureWrk, runWrk, type WrkResult } from './support/wrk.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('..');
const SIZES = [1024, 64 * 1024, 1024 * 1024];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 16;

type Load = WrkResult;

function runNode(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function firstJsonLine(
  child: ChildProcess,
  pick: (o: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('no ready line within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      for (const line of buf.split('\n')) {
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          if (pick(o)) {
            clearTimeout(timer);
            child.stdout?.off('data', onData);
            child.stdout?.resume();
            resolve(o);
            return;
          }
        } catch {
          // partial line
        }
      }
    };
    child.stdout?.on('data', onData);
  });
}

async function load(url: string, bytes: number): Promise<Load> {
  // wrk does not look at bodies: check the bytes once, then measure.
  const body = Buffer.from(await (await fetch(url)).arrayBuffer());
  if (body.length !== bytes || !isHeartbeatBody(body)) throw new Error(`${url}: wrong body (${body.length} bytes)`);
  const r = await runWrk(url, CONNECTIONS, SECONDS);
  if (r.errors > 0) throw new Error(`${url}: ${r.errors} errors under load`);
  return r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) * 1024 : Number.NaN;
}

export async function benchHeartbeat(): Promise<BenchRow[]> {
  ensureWrk();
  const api = await startApiProcess();
  const spool = mkdtempSync(join(tmpdir(), 'synthfleet-bench-agent-'));
  const raw = runNode([here('./support/raw-heartbeat-server.mjs')]);
  let agent: ChildProcess | undefined;
  try {
    const token = await api.clusterToken('bench');
    agent = runNode([...AGENT_NODE_FLAGS, await buildAgent()], {
      ...AGENT_RUNTIME_ENV,
      SYNTHFLEET_API_URL: api.url,
      SYNTHFLEET_TOKEN: token,
      NODE_NAME: 'bench-node',
      HEARTBEAT_HOST: '127.0.0.1',
      HEARTBEAT_PORT: '0',
      SPOOL_DIR: spool,
      LOG_LEVEL: 'info',
    });
    const agentUrl = (await firstJsonLine(agent, (o) => o.msg === 'agent listening')).url as string;
    await firstJsonLine(agent, (o) => o.msg === 'assignment applied');
    const rawUrl = `http://127.0.0.1:${(await firstJsonLine(raw, (o) => 'port' in o)).port}`;
    // Settle, then take the idle figures.
    await new Promise((r) => setTimeout(r, 3000));
    const idleAgent = rssOf(agent.pid as number);
    const idleRaw = rssOf(raw.pid as number);

    const rows: BenchRow[] = [];
    for (const size of SIZES) {
      const a: Load[] = [];
      const b: Load[] = [];
      // Warm both up (JIT, sockets) before measuring.
      await load(`${rawUrl}/heartbeat/${size}`, size);
      await load(`${agentUrl}/heartbeat/${size}`, size);
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) {
          b.push(await load(`${rawUrl}/heartbeat/${size}`, size));
          a.push(await load(`${agentUrl}/heartbeat/${size}`, size));
        } else {
          a.push(await load(`${agentUrl}/heartbeat/${size}`, size));
          b.push(await load(`${rawUrl}/heartbeat/${size}`, size));
        }
      }
      const label = size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`;
      rows.push({
        bench: 'heartbeat',
        metric: `GET /heartbeat at ${label}: requests/s (wrk, median of ${ROUNDS} × ${SECONDS} s, ${CONNECTIONS} conns)`,
        unit: 'req/s',
        value: median(a.map((x) => x.rps)),
        baseline: median(b.map((x) => x.rps)),
        baselineName: 'raw node:http, one precomputed buffer',
        higherIsBetter: true,
        target: '≥ 0.9×',
      });
      rows.push({
        bench: 'heartbeat',
        metric: `GET /heartbeat at ${label}: p99 latency`,
        unit: 'ms',
        value: median(a.map((x) => x.p99)),
        baseline: median(b.map((x) => x.p99)),
        baselineName: 'raw node:http, one precomputed buffer',
        higherIsBetter: false,
      });
    }
    rows.push({
      bench: 'heartbeat',
      metric: 'agent RSS, idle (registered, empty assignment)',
      unit: 'MB',
      value: idleAgent / 1e6,
      baseline: idleRaw / 1e6,
      baselineName: 'raw heartbeat server idle',
      higherIsBetter: false,
      target: '≤ 70 MB',
    });
    rows.push({
      bench: 'heartbeat',
      metric: 'agent RSS, peak under load (VmHWM)',
      unit: 'MB',
      value: peakRss(agent.pid as number) / 1e6,
      baseline: peakRss(raw.pid as number) / 1e6,
      baselineName: 'raw heartbeat server peak',
      higherIsBetter: false,
    });
    return rows;
  } finally {
    agent?.kill('SIGTERM');
    raw.kill('SIGTERM');
    await api.stop();
    rmSync(spool, { recursive: true, force: true });
  }
}
