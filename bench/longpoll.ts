/**
 * Long-polls: N agents each hold GET /assignments?wait=30 on the real Node entry; one `*` test
 * change must wake all of them. Reports wake-up latency p50/p99 (from the change request being
 * sent to each poll's answer) and server RSS per held poll, beside a raw node:http server holding
 * and releasing the same N polls in the same run.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rssOf, startApiProcess } from './support/api-process.ts';
import { percentile, pool, request } from './support/http.ts';
import type { BenchRow } from './support/result.ts';

type Measure = { p50: number; p99: number; woken: number; rssPerPoll: number; held: number };

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
  const polls = Array.from({ length: n }, (_, i) =>
    request(pollUrl(i), { token, timeoutMs: 120_000 }).then((r) => {
      if (r.status === 200) {
        woken++;
        done.push(performance.now() - t0);
      }
    }),
  );
  await waitFor(async () => (await stats()) >= n, `${n} held polls`);
  const held = await stats();
  const during = rss();
  t0 = performance.now();
  await trigger();
  await Promise.all(polls);
  done.sort((a, b) => a - b);
  return { p50: percentile(done, 50), p99: percentile(done, 99), woken, rssPerPoll: (during - before) / n, held };
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

export async function benchLongPoll(opts: { agents?: number } = {}): Promise<BenchRow[]> {
  const n = opts.agents ?? 10_000;
  const api = await startApiProcess({ AGENT_DEADLINE_SECONDS: '600', SWEEP_INTERVAL_SECONDS: '600' });
  let ours: Measure;
  let registerRate: number;
  try {
    const tok = await request(`${api.url}/api/v1/tokens`, {
      method: 'POST',
      token: api.admin,
      body: { role: 'cluster', cluster: 'bench' },
    });
    const token = (JSON.parse(tok.body) as { token: string }).token;
    const nodes = Array.from({ length: n }, (_, i) => `node-${String(i).padStart(5, '0')}`);
    const t0 = performance.now();
    const ids = await pool(nodes, 64, async (node) => {
      const r = await request(`${api.url}/api/v1/agents`, { method: 'POST', token, body: { node, version: 'bench' } });
      if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { agentId: string }).agentId;
    });
    registerRate = n / ((performance.now() - t0) / 1000);
    const versions = await pool(ids, 64, async (id) => {
      const r = await request(`${api.url}/api/v1/agents/${id}/assignments`, { token });
      return (JSON.parse(r.body) as { version: number }).version;
    });
    let change = 0;
    ours = await measureHeld(
      n,
      (i) => `${api.url}/api/v1/agents/${ids[i]}/assignments?version=${versions[i]}&wait=30`,
      token,
      async () =>
        (JSON.parse((await request(`${api.url}/api/v1/stats`, { token: api.admin })).body) as { heldPolls: number })
          .heldPolls,
      () => api.rssBytes(),
      async () => {
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
      },
    );
  } finally {
    await api.stop();
  }
  const raw = await baseline(n);
  if (ours.woken !== n) throw new Error(`only ${ours.woken} of ${n} polls were woken`);
  return [
    {
      bench: 'longpoll',
      metric: `polls held at once (${n} agents, one process)`,
      unit: 'polls',
      value: ours.held,
      baseline: raw.held,
      baselineName: 'raw node:http holding the same polls',
      higherIsBetter: true,
      target: `≥ 10,000`,
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
      target: '≤ 1000 ms',
    },
    {
      bench: 'longpoll',
      metric: 'server RSS per held poll',
      unit: 'KiB',
      value: ours.rssPerPoll / 1024,
      baseline: raw.rssPerPoll / 1024,
      baselineName: 'raw node:http',
      higherIsBetter: false,
    },
    {
      bench: 'longpoll',
      metric: 'agent registrations (64 concurrent)',
      unit: 'agents/s',
      value: registerRate,
      baseline: Number.NaN,
      baselineName: '(no baseline: setup figure)',
      higherIsBetter: true,
    },
  ];
}
