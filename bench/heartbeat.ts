/**
 * Heartbeats: the agent's `/heartbeat/N` at 1 KiB, 64 KiB and 1 MiB against a minimal raw
 * node:http server serving the same bytes, in the same run, under the same closed-loop load
 * (wrk, one thread, on loopback). In each round both servers are loaded at the same moment, one
 * wrk each: these shared machines swing 5× within seconds, and two servers measured side by side
 * see the same swings, where two measured one after the other do not. Both then compete for the
 * same cores on equal terms, so the ratio is the agent's cost per request against the least
 * node:http can do. Medians over the rounds are reported, with the median of the per-round ratios
 * and, as a control, the same measurement of a second raw server against the first: the spread
 * two identical servers show here is the noise any ratio must be read against. Also the agent's
 * idle RSS (registered, holding an empty assignment) beside a bare CommonJS node:http server run
 * with the same flags (support/bare-http-server.cjs), its start-to-ready time, and its peak RSS
 * under load. The agent runs as it ships: the esbuild bundle (`npm run build:agent`)
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
import { type BenchRow, median } from './support/result.ts';
import { ensureWrk, runWrk, type WrkResult } from './support/wrk.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const root = here('..');
const SIZES = [1024, 64 * 1024, 1024 * 1024];
// Many short rounds, alternating the two servers: on these shared machines a 3 s round of the same
// server can vary 5×, so more pairs give a steadier median than longer rounds.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
/** Idle RSS is the median over this many agents started the same way (one start can differ by ~3 MB). */
const IDLE_AGENTS = 3;
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

/** wrk does not look at bodies: check the bytes once before measuring. */
async function checkBody(url: string, bytes: number): Promise<void> {
  const body = Buffer.from(await (await fetch(url)).arrayBuffer());
  if (body.length !== bytes || !isHeartbeatBody(body)) throw new Error(`${url}: wrong body (${body.length} bytes)`);
}

async function load(url: string): Promise<Load> {
  const r = await runWrk(url, CONNECTIONS, SECONDS);
  if (r.errors > 0) throw new Error(`${url}: ${r.errors} errors under load`);
  return r;
}

/** "0.93× (0.61–1.40)": the median of per-round ratios and their range. */
const spread = (xs: number[]) =>
  xs.length
    ? `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
    : 'no round served';

function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) * 1024 : Number.NaN;
}

export async function benchHeartbeat(): Promise<BenchRow[]> {
  ensureWrk();
  const api = await startApiProcess();
  const spool = mkdtempSync(join(tmpdir(), 'synthfleet-bench-agent-'));
  const raw = runNode([here('./support/raw-heartbeat-server.mjs')]);
  // A second raw server: loaded against the first, it shows how far two identical servers drift
  // apart on this machine (the noise floor the agent's ratio must be read against).
  const control = runNode([here('./support/raw-heartbeat-server.mjs')]);
  // The memory baseline: a bare node:http server with a 1 KiB buffer, run the way the agent runs
  // (the same Node flags and malloc settings), so the difference is the agent's own code and data.
  const bareStart = performance.now();
  const bare = runNode([...AGENT_NODE_FLAGS, here('./support/bare-http-server.cjs')], AGENT_RUNTIME_ENV);
  // Its start to listening, for the agent's start to ready (registered, assignment applied).
  const bareReady = firstJsonLine(bare, (o) => 'port' in o).then(() => performance.now() - bareStart);
  const agents: ChildProcess[] = [];
  try {
    const token = await api.clusterToken('bench');
    const bundle = await buildAgent();
    const startAgent = (node: string) => {
      const child = runNode([...AGENT_NODE_FLAGS, bundle], {
        ...AGENT_RUNTIME_ENV,
        SYNTHFLEET_API_URL: api.url,
        SYNTHFLEET_TOKEN: token,
        NODE_NAME: node,
        HEARTBEAT_HOST: '127.0.0.1',
        HEARTBEAT_PORT: '0',
        SPOOL_DIR: join(spool, node),
        LOG_LEVEL: 'info',
      });
      agents.push(child);
      return child;
    };
    const started = await Promise.all(
      Array.from({ length: IDLE_AGENTS }, async (_, i) => {
        const t0 = performance.now();
        const child = startAgent(`bench-node-${i}`);
        const url = (await firstJsonLine(child, (o) => o.msg === 'agent listening')).url as string;
        await firstJsonLine(child, (o) => o.msg === 'assignment applied');
        return { child, url, readyMs: performance.now() - t0 };
      }),
    );
    const rawUrl = `http://127.0.0.1:${(await firstJsonLine(raw, (o) => 'port' in o)).port}`;
    const controlUrl = `http://127.0.0.1:${(await firstJsonLine(control, (o) => 'port' in o)).port}`;
    const bareReadyMs = await bareReady;
    // Settle, then take the idle figures.
    await new Promise((r) => setTimeout(r, 3000));
    const idleAgent = median(started.map((a) => rssOf(a.child.pid as number)));
    const idleBare = rssOf(bare.pid as number);
    bare.kill('SIGTERM');
    const agent = (started[0] as (typeof started)[number]).child;
    const agentUrl = (started[0] as (typeof started)[number]).url;
    for (const other of started.slice(1)) other.child.kill('SIGTERM');

    const rows: BenchRow[] = [];
    for (const size of SIZES) {
      const a: Load[] = [];
      const b: Load[] = [];
      const pairRatios: number[] = [];
      const controlRatios: number[] = [];
      const [agentAt, rawAt, controlAt] = [agentUrl, rawUrl, controlUrl].map((u) => `${u}/heartbeat/${size}`) as [
        string,
        string,
        string,
      ];
      for (const url of [agentAt, rawAt, controlAt]) await checkBody(url, size);
      // Warm all three up (JIT, sockets) before measuring.
      await Promise.all([agentAt, rawAt, controlAt].map(load));
      for (let round = 0; round < ROUNDS; round++) {
        const [x, y] = (await Promise.all([load(agentAt), load(rawAt)])) as [Load, Load];
        const [cx, cy] = (await Promise.all([load(controlAt), load(rawAt)])) as [Load, Load];
        a.push(x);
        b.push(y);
        // A round in which a server answered nothing (the machine stalled) has no ratio.
        if (x.rps > 0 && y.rps > 0) pairRatios.push(x.rps / y.rps);
        if (cx.rps > 0 && cy.rps > 0) controlRatios.push(cx.rps / cy.rps);
        process.stderr.write(
          `heartbeat ${size} B round ${round + 1}: agent ${Math.round(x.rps)} vs raw ${Math.round(y.rps)} req/s; ` +
            `control raw ${Math.round(cx.rps)} vs raw ${Math.round(cy.rps)} req/s\n`,
        );
      }
      const label = size >= 1024 * 1024 ? `${size / 1024 / 1024} MiB` : `${size / 1024} KiB`;
      rows.push({
        bench: 'heartbeat',
        metric: `GET /heartbeat at ${label}: requests/s (both loaded at once, wrk ${CONNECTIONS} conns each; median of ${ROUNDS} × ${SECONDS} s)`,
        unit: 'req/s',
        value: median(a.map((x) => x.rps)),
        baseline: median(b.map((x) => x.rps)),
        baselineName: 'raw node:http, one precomputed buffer',
        higherIsBetter: true,
        target: '≥ 0.9×',
        pairedRatio: median(pairRatios),
        note: `ratio = median of ${pairRatios.length} paired rounds ${spread(pairRatios)}; two raw servers, same test: ${spread(controlRatios)}; value and baseline are medians`,
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
      metric: `agent RSS, idle (registered, empty assignment; median of ${IDLE_AGENTS} agents)`,
      unit: 'MB',
      value: idleAgent / 1e6,
      baseline: idleBare / 1e6,
      baselineName: 'a bare node:http server serving a 1 KiB buffer, same Node flags and malloc settings',
      higherIsBetter: false,
      note: `the agent's own code and data: +${((idleAgent - idleBare) / 1e6).toFixed(1)} MB`,
      target: '≤ bare + 8 MB',
    });
    rows.push({
      bench: 'heartbeat',
      metric: `agent start to ready: registered and its assignment applied (median of ${IDLE_AGENTS} agents started at once)`,
      unit: 'ms',
      value: median(started.map((a) => a.readyMs)),
      baseline: bareReadyMs,
      baselineName: 'the bare node:http server, start to listening',
      higherIsBetter: false,
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
    for (const a of agents) a.kill('SIGTERM');
    raw.kill('SIGTERM');
    control.kill('SIGTERM');
    bare.kill('SIGTERM');
    await api.stop();
    rmSync(spool, { recursive: true, force: true });
  }
}
