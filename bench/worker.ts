/**
 * The API on Workers, run locally: the Worker bundle under workerd (wrangler's local dev server,
 * built from wrangler.toml as a deploy builds it) beside the Node entry, both with their database
 * behind a libSQL server double (Hrana over HTTP, one process each, migrated with
 * `npm run db:migrate`), so the two differ only in runtime. Measured with wrk on loopback, both
 * loaded at once in each round (see heartbeat.ts for why): agent polls that find nothing new
 * (`GET …/assignments?version=V`, answered 304) and result batches (`POST /api/v1/runs`, 20 runs
 * with fresh run ids per request, from a wrk Lua script).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_dev } from 'wrangler';
import { migrateOverHttp } from '../test/support/db-migrate.ts';
import { startApiProcess } from './support/api-process.ts';
import { request } from './support/http.ts';
import { type BenchRow, median } from './support/result.ts';
import { ensureWrk, runWrk, type WrkResult } from './support/wrk.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = 16;
const RUNS_PER_BATCH = 20;
const DB_TOKEN = 'bench-database-token';

async function startHrana(dir: string, name: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(root, 'test/support/hrana-server-main.ts')], {
    env: { ...process.env, HRANA_PATH: join(dir, `${name}.db`), HRANA_TOKEN: DB_TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`libSQL double exited with ${code}`)));
    child.stdout?.once('data', (b: Buffer) => resolve((JSON.parse(b.toString()) as { url: string }).url));
  });
  await migrateOverHttp(url, DB_TOKEN);
  return { url, child };
}

type Side = { url: string; admin: string };

/** A cluster token, one registered agent and its current assignment version, through the API. */
async function agentOn(side: Side) {
  const cluster = `bench-${crypto.randomUUID().slice(0, 8)}`;
  const tok = await request(`${side.url}/api/v1/tokens`, {
    method: 'POST',
    token: side.admin,
    body: { role: 'cluster', cluster },
  });
  if (tok.status !== 201) throw new Error(`${side.url}: token ${tok.status} ${tok.body}`);
  const token = (JSON.parse(tok.body) as { token: string }).token;
  const reg = await request(`${side.url}/api/v1/agents`, {
    method: 'POST',
    token,
    body: { node: 'bench-node', version: '1.0.0', capabilities: ['httpPing'] },
  });
  if (reg.status !== 201) throw new Error(`${side.url}: register ${reg.status} ${reg.body}`);
  const agentId = (JSON.parse(reg.body) as { agentId: string }).agentId;
  const put = await request(`${side.url}/api/v1/clusters/${cluster}/tests/default/bench`, {
    method: 'PUT',
    token,
    body: {
      apiVersion: 'synthfleet.dev/v1',
      kind: 'SyntheticTest',
      metadata: { name: 'bench', namespace: 'default' },
      spec: { plugin: 'httpPing', node: '*', repeat: '30s', config: { address: 'http://127.0.0.1:9/' } },
    },
  });
  if (put.status !== 201) throw new Error(`${side.url}: put test ${put.status} ${put.body}`);
  const poll = await request(`${side.url}/api/v1/agents/${agentId}/assignments`, { token });
  const version = (JSON.parse(poll.body) as { version: number }).version;
  return { token, agentId, version };
}

/** A wrk script posting batches of runs with fresh run ids (a repeated id would only be deduplicated). */
function batchScript(dir: string, name: string, token: string, agentId: string): string {
  const at = new Date(Date.now() - 60_000).toISOString();
  const file = join(dir, `${name}.lua`);
  writeFileSync(
    file,
    `wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer ${token}"
local counter = 0
local prefix = "${name}-${crypto.randomUUID()}"
request = function()
  counter = counter + 1
  local runs = {}
  for i = 1, ${RUNS_PER_BATCH} do
    runs[i] = string.format('{"runId":"%s-%d-%d","namespace":"default","name":"bench","status":"pass","marks":1,"maxMarks":1,"startTime":"${at}","endTime":"${at}"}', prefix, counter, i)
  end
  return wrk.format(nil, nil, nil, '{"agentId":"${agentId}","runs":[' .. table.concat(runs, ",") .. ']}')
end
`,
  );
  return file;
}

async function paired(what: string, a: () => Promise<WrkResult>, b: () => Promise<WrkResult>) {
  await Promise.all([a(), b()]); // warm-up
  const xs: WrkResult[] = [];
  const ys: WrkResult[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const [x, y] = await Promise.all([a(), b()]);
    process.stderr.write(
      `worker ${what} round ${round + 1}: workerd ${x.rps.toFixed(0)} req/s (p99 ${x.p99.toFixed(0)} ms, ${x.errors} errors) vs node ${y.rps.toFixed(0)} req/s (p99 ${y.p99.toFixed(0)} ms, ${y.errors} errors)\n`,
    );
    for (const r of [x, y]) if (r.errors > 0) throw new Error(`${r.errors} errors under load`);
    xs.push(x);
    ys.push(y);
    if (x.rps > 0 && y.rps > 0) ratios.push(x.rps / y.rps);
  }
  return { xs, ys, ratios };
}

export async function benchWorker(): Promise<BenchRow[]> {
  ensureWrk();
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-bench-worker-'));
  const admin = `bench-admin-${crypto.randomUUID()}`;
  const cleanup: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    const [dbWorker, dbNode] = await Promise.all([startHrana(dir, 'worker'), startHrana(dir, 'node')]);
    cleanup.unshift(
      () => dbWorker.child.kill('SIGTERM'),
      () => dbNode.child.kill('SIGTERM'),
    );
    process.env.WRANGLER_SEND_METRICS = 'false';
    // Local dev would fetch a sample `Request.cf` from workers.cloudflare.com: traffic stays on loopback.
    process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
    const worker = await unstable_dev(join(root, 'apps/api/src/entry/worker.ts'), {
      config: join(root, 'wrangler.toml'),
      ip: '127.0.0.1',
      vars: {
        DATABASE_URL: dbWorker.url,
        DATABASE_AUTH_TOKEN: DB_TOKEN,
        SYNTHFLEET_ADMIN_TOKEN: admin,
        LOG_LEVEL: 'warn',
      },
      logLevel: 'warn',
      experimental: { disableExperimentalWarning: true, disableDevRegistry: true },
    });
    cleanup.unshift(() => worker.stop());
    const node = await startApiProcess({ DATABASE_URL: dbNode.url, DATABASE_AUTH_TOKEN: DB_TOKEN });
    cleanup.unshift(() => node.stop());
    const sides = {
      worker: { url: `http://127.0.0.1:${worker.port}`, admin },
      node: { url: node.url, admin: node.admin },
    };
    const w = await agentOn(sides.worker);
    const n = await agentOn(sides.node);

    const pollOf = (side: Side, a: { token: string; agentId: string; version: number }) => () =>
      runWrk(`${side.url}/api/v1/agents/${a.agentId}/assignments?version=${a.version}`, CONNECTIONS, SECONDS, [
        '-H',
        `authorization: Bearer ${a.token}`,
      ]);
    const batchOf = (side: Side, a: { token: string; agentId: string }, name: string) => {
      const script = batchScript(dir, name, a.token, a.agentId);
      return () => runWrk(`${side.url}/api/v1/runs`, CONNECTIONS, SECONDS, ['-s', script]);
    };

    const rows: BenchRow[] = [];
    const measured = [
      ['agent polls with nothing new (304)', await paired('polls', pollOf(sides.worker, w), pollOf(sides.node, n))],
      [
        `result batches (${RUNS_PER_BATCH} runs each)`,
        await paired('batches', batchOf(sides.worker, w, 'worker'), batchOf(sides.node, n, 'node')),
      ],
    ] as const;
    for (const [what, m] of measured) {
      rows.push({
        bench: 'worker',
        metric: `${what}: requests/s (workerd, both loaded at once, wrk ${CONNECTIONS} conns; median of ${ROUNDS} × ${SECONDS} s)`,
        unit: 'req/s',
        value: median(m.xs.map((x) => x.rps)),
        baseline: median(m.ys.map((x) => x.rps)),
        baselineName: 'Node entry, same libSQL double',
        higherIsBetter: true,
        pairedRatio: m.ratios.length ? median(m.ratios) : undefined,
        note: `ratio = median of ${m.ratios.length} paired rounds`,
      });
      rows.push({
        bench: 'worker',
        metric: `${what}: p99 latency`,
        unit: 'ms',
        value: median(m.xs.map((x) => x.p99)),
        baseline: median(m.ys.map((x) => x.p99)),
        baselineName: 'Node entry, same libSQL double',
        higherIsBetter: false,
      });
    }
    return rows;
  } finally {
    for (const step of cleanup) {
      try {
        await step();
      } catch {
        // keep cleaning up
      }
    }
  }
}
