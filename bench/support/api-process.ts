import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_RUNTIME_ENV, buildApi } from '../../scripts/build-api.ts';
import { request } from './http.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Generous: benches start the API beside other heavy processes (workerd, wrk) on a 2-core machine. */
const START_TIMEOUT_MS = 120_000;

export type ApiProcess = {
  url: string;
  admin: string;
  pid: number;
  child: ChildProcess;
  rssBytes(): number;
  /** Issues a cluster token through the API. */
  clusterToken(cluster: string): Promise<string>;
  stop(): Promise<void>;
};

let bundle: Promise<string> | undefined;

/**
 * Starts the Node API as it ships (the bundle of scripts/build-api.ts, built once per bench run,
 * with the image's runtime settings) on 127.0.0.1 with a temp `file:` database; resolves once it listens.
 * `BENCH_API_NODE_ARGS` adds Node flags to the API process only (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile it; Node refuses those in NODE_OPTIONS).
 */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-bench-'));
  const admin = `bench-admin-${crypto.randomUUID()}`;
  const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  bundle ??= buildApi(join(root, 'apps/api/dist/bench/api.cjs'));
  const child = spawn(process.execPath, [...nodeArgs, await bundle], {
    cwd: root,
    env: {
      ...process.env,
      ...API_RUNTIME_ENV,
      PORT: '0',
      HOST: '127.0.0.1',
      SYNTHFLEET_DATA_DIR: dir,
      SYNTHFLEET_ADMIN_TOKEN: admin,
      LOG_LEVEL: 'info',
      // Benchmarks measure capacity, not the writer quotas (one bench agent sends far more than a
      // node would): off unless a benchmark sets them.
      RATE_TOKEN_WRITES_PER_SECOND: '0',
      RATE_AGENT_RUNS_PER_MINUTE: '0',
      RATE_TOKEN_RUNS_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`api did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`api exited with ${code}`)));
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        // Keep draining the child's log without holding it, so its writes never block.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        buf = '';
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
  });
  return {
    url,
    admin,
    pid: child.pid as number,
    child,
    rssBytes: () => rssOf(child.pid as number),
    async clusterToken(cluster) {
      const r = await request(`${url}/api/v1/tokens`, {
        method: 'POST',
        token: admin,
        body: { role: 'cluster', cluster },
      });
      if (r.status !== 201) throw new Error(`token for ${cluster} failed: ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { token: string }).token;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident set size of a process, from /proc. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m?.[1] ? Number(m[1]) * 1024 : Number.NaN;
}
