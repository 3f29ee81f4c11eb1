/**
 * Long-polls: N agents each hold GET /assignments?wait=30 on the real Node entry; one `*` test
 * change must wake all of them. Reports wake-up latency p50/p99 (from the change request being
 * sent to each poll's answer) and server RSS per held poll, beside a raw node:http server holding
 * and releasing the same N polls in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agents, clusters, createDatabase } from '@synthfleet/db';
import { migrateDatabase } from '@synthfleet/db/node';
import { API_RUNTIME_ENV } from '../scripts/build-api.ts';
import { rssOf, startApiProcess } from './support/api-process.ts';
import { percentile, pool, request } from './support/http.ts';
import type { BenchRow } from './support/result.ts';

type Measure = {
  p50: number;
  p99: number;
  woken: number;
  rssPerPoll: number;
  /** The server's RSS while it holds the polls. */
  rssHeld: number;
  held: number;
  failed: number;
  /** How long the change request itself took to answer. */
  triggerMs: number;
};

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function measureHeld(
  n: number,
  pollUrl: (i: number) => string,
  token: string | undefined,
  stats: () => Promise<number>,
  rss: () => number,
  trigger: () => Promise<void>,
): Promise<Measure> {
  const before = rss();
  const done: number[] = [];
  let t0 = 0;
  let woken = 0;
  let failed = 0;
  const polls: Promise<void>[] = [];
  // Open the polls in waves: the figure is holding and waking them, not surviving a SYN storm.
  const WAVE = 500;
  for (let start = 0; start < n; start += WAVE) {
    for (let i = start; i < Math.min(n, start + WAVE); i++) {
      polls.push(
        request(pollUrl(i), { token, timeoutMs: 330_000 }).then(
          (r) => {
            if (r.status === 200) {
              woken++;
              done.push(performance.now() - t0);
            }
          },
          (err: Error) => {
            if (failed++ < 3) process.stderr.write(`poll ${i} failed: ${err.message}\n`);
          },
        ),
      );
    }
    const want = Math.min(n, start + WAVE);
    await waitFor(async () => (await stats()) >= want - failed, `${want} held polls (${failed} failed)`);
  }
  // A poll whose connection failed (on these machines a few of 10,000 loopback connections end in
  // ETIMEDOUT, raw node:http's too) is counted and reported, not waited for; beyond 1 % the run fails.
  await waitFor(async () => (await stats()) >= n - failed, `${n} held polls (${failed} failed)`);
  const held = await stats();
  const during = rss();
  t0 = performance.now();
  await trigger();
  const triggerMs = performance.now() - t0;
  await Promise.all(polls);
  done.sort((a, b) => a - b);
  if (failed > n / 100) throw new Error(`${failed} of ${n} polls failed`);
  return {
    p50: percentile(done, 50),
    p99: percentile(done, 99),
    woken,
    rssPerPoll: (during - before) / held,
    rssHeld: during,
    held,
    failed,
    triggerMs,
  };
}

/**
 * The API right after start on an empty database (settled for 3 s), beside a bare CommonJS
 * node:http server run with the same runtime settings: what the process costs before any work.
 */
async function idleRss(): Promise<{ api: number; bare: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-bench-idle-'));
  const api = await startApiProcess({ SYNTHFLEET_DATA_DIR: dir });
  const script = fileURLToPath(new URL('./support/bare-http-server.cjs', import.meta.url));
  const bare = spawn(process.execPath, [script], {
    env: { ...process.env, ...API_RUNTIME_ENV },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      bare.stdout?.once('data', () => resolve());
      bare.once('exit', () => reject(new Error('bare server exited')));
    });
    await new Promise((r) => setTimeout(r, 3000));
    return { api: api.rssBytes(), bare: rssOf(bare.pid as number) };
  } finally {
    bare.kill('SIGTERM');
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function baseline(n: number): Promise<Measure> {
  const script = fileURLToPath(new URL('./support/raw-longpoll-server.ts', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.on('data', (b: Buffer) => {
        const m = /listening (\d+)/.exec(b.toString());
        if (m?.[1]) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error('raw server exited')));
    });
    const base = `http://127.0.0.1:${port}`;
    return await measureHeld(
      n,
      (i) => `${base}/poll?id=${i}`,
      undefined,
      async () => (JSON.parse((await request(`${base}/stats`)).body) as { heldPolls: number }).heldPolls,
      () => rssOf(child.pid as number),
      async () => {
        await request(`${base}/release`, { method: 'POST' });
      },
    );
  } finally {
    child.kill('SIGTERM');
  }
}

/** Setup, not measured: N agents written straight into the database the API will open. */
async function seedAgents(dir: string, n: number): Promise<void> {
  const handle = await createDatabase({ url: `file:${join(dir, 'synthfleet.db')}` });
  try {
    await migrateDatabase(handle);
    const now = Date.now();
    await handle.db.insert(clusters).values({ name: 'bench', createdAt: now });
    for (let start = 0; start < n; start += 500) {
      await handle.db.insert(agents).values(
        Array.from({ length: Math.min(500, n - start) }, (_, k) => ({
          id: `agent-${String(start + k).padStart(6, '0')}`,
          cluster: 'bench',
          node: `node-${String(start + k).padStart(6, '0')}`,
          version: 'bench',
          capabilities: '["httpPing"]',
          registeredAt: now,
          lastPollAt: now,
          state: 'live' as const,
          assignmentVersion: 0,
          assignmentHash: '',
        })),
      );
    }
  } finally {
    handle.close();
  }
}

export async function benchLongPoll(opts: { agents?: number } = {}): Promise<BenchRow[]> {
  const n = opts.agents ?? Number(process.env.BENCH_AGENTS ?? 10_000);
  const idle = await idleRss();
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-bench-lp-'));
  await seedAgents(dir, n);
  const api = await startApiProcess({
    SYNTHFLEET_DATA_DIR: dir,
    AGENT_DEADLINE_SECONDS: '900',
    POLL_WAIT_MAX_SECONDS: '300',
    SWEEP_INTERVAL_SECONDS: '900',
  });
  let ours: Measure;
  let registerRate: number;
  try {
    const token = await api.clusterToken('bench');
    const ids = Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(6, '0')}`);
    let change = 0;
    const changeAll = async () => {
      change++;
      const r = await request(`${api.url}/api/v1/clusters/bench/tests/default/everywhere-${change}`, {
        method: 'PUT',
        token,
        body: {
          apiVersion: 'synthfleet.dev/v1',
          kind: 'SyntheticTest',
          metadata: { name: `everywhere-${change}`, namespace: 'default' },
          spec: { plugin: 'httpPing', repeat: '30s', node: '*', config: { address: 'http://127.0.0.1:9/' } },
        },
      });
      if (r.status !== 201) throw new Error(`change failed: ${r.status} ${r.body}`);
    };
    await changeAll();
    const versions = await pool(ids, 64, async (id) => {
      const r = await request(`${api.url}/api/v1/agents/${id}/assignments`, { token });
      if (r.status !== 200) throw new Error(`first poll failed: ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { version: number }).version;
    });
    process.stdout.write(`${n} agents hold their first assignment\n`);
    ours = await measureHeld(
      n,
      (i) => `${api.url}/api/v1/agents/${ids[i]}/assignments?version=${versions[i]}&wait=300`,
      token,
      async () =>
        (JSON.parse((await request(`${api.url}/api/v1/stats`, { token: api.admin })).body) as { heldPolls: number })
          .heldPolls,
      () => api.rssBytes(),
      changeAll,
    );
    // Registration through the API, measured on its own cluster so it does not disturb the polls.
    const regToken = await api.clusterToken('reg');
    const regNodes = Array.from({ length: 300 }, (_, i) => `reg-${i}`);
    const t0 = performance.now();
    await pool(regNodes, 32, async (node) => {
      const r = await request(`${api.url}/api/v1/agents`, {
        method: 'POST',
        token: regToken,
        body: { node, version: 'bench' },
      });
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.body}`);
    });
    registerRate = regNodes.length / ((performance.now() - t0) / 1000);
  } finally {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const raw = await baseline(n);
  if (ours.woken + ours.failed < n)
    throw new Error(`only ${ours.woken} of ${n} polls were woken (${ours.failed} failed)`);
  const failures = (m: Measure) => (m.failed > 0 ? `; ${m.failed} of ${n} connections failed` : '');
  return [
    {
      bench: 'longpoll',
      metric: `polls held at once (${n} agents, one process)`,
      unit: 'polls',
      value: ours.held,
      baseline: raw.held,
      baselineName: `raw node:http holding the same polls${failures(raw)}`,
      higherIsBetter: true,
      target: `≥ 10,000`,
      note: ours.failed > 0 ? `ours: ${ours.failed} of ${n} connections failed (client side)` : undefined,
    },
    {
      bench: 'longpoll',
      metric: 'wake-up latency p50 after one change affecting all',
      unit: 'ms',
      value: ours.p50,
      baseline: raw.p50,
      baselineName: 'raw node:http release of all held polls',
      higherIsBetter: false,
    },
    {
      bench: 'longpoll',
      metric: 'wake-up latency p99 after one change affecting all',
      unit: 'ms',
      value: ours.p99,
      baseline: raw.p99,
      baselineName: 'raw node:http release of all held polls',
      higherIsBetter: false,
      target: '≤ 1000 ms and ≤ 1.3× raw',
    },
    {
      bench: 'longpoll',
      metric: `the change request answered (the test assigned to ${n} agents, their polls woken)`,
      unit: 'ms',
      value: ours.triggerMs,
      baseline: raw.triggerMs,
      baselineName: 'raw node:http release request',
      higherIsBetter: false,
    },
    {
      bench: 'longpoll',
      metric: 'server RSS per held poll',
      unit: 'KiB',
      value: ours.rssPerPoll / 1024,
      baseline: raw.rssPerPoll / 1024,
      baselineName: 'raw node:http',
      higherIsBetter: false,
      target: '≤ 1.3× raw',
    },
    {
      bench: 'longpoll',
      metric: 'API RSS right after start on an empty database (the shipped bundle, settled 3 s)',
      unit: 'MB',
      value: idle.api / 1e6,
      baseline: idle.bare / 1e6,
      baselineName: 'a bare CommonJS node:http server serving a 1 KiB buffer, same runtime settings',
      higherIsBetter: false,
      target: '≤ 100 MB',
    },
    {
      bench: 'longpoll',
      metric: `API RSS holding ${n} polls`,
      unit: 'MB',
      value: ours.rssHeld / 1e6,
      baseline: raw.rssHeld / 1e6,
      baselineName: 'raw node:http holding the same polls',
      higherIsBetter: false,
    },
    {
      bench: 'longpoll',
      metric: 'agent registrations over HTTP (32 concurrent, 300 agents)',
      unit: 'agents/s',
      value: registerRate,
      baseline: Number.NaN,
      baselineName: '(no baseline: setup figure)',
      higherIsBetter: true,
    },
  ];
}
