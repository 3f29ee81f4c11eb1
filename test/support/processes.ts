import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunView } from '@synthfleet/contracts';
import { CreateTokenResponse, RunPage } from '@synthfleet/contracts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type NodeProcess = {
  child: ChildProcess;
  /** Every JSON log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code when the process ends by itself. */
  exited: Promise<number | null>;
  /** What it wrote to stderr so far. */
  stderr(): string;
};

/**
 * Starts one of the project's entry points with Node (the same binary as the tests, 24) and
 * collects its JSON log lines. Nothing is inherited that the test does not pass in `env`, beyond
 * PATH and HOME.
 */
export function startNode(
  script: string,
  env: Record<string, string>,
  name = script,
  args: readonly string[] = [],
): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.match(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    exited,
    stderr: () => stderr,
    waitForLog(match, timeoutMs = 60_000) {
      const found = logs.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name}: no matching log line in ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        const w = {
          match,
          resolve: (l: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(w);
        exited.then((code) => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            reject(new Error(`${name} exited (${code}) before logging what was awaited; stderr: ${stderr}`));
          }
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

export type Api = NodeProcess & {
  url: string;
  admin: string;
  call(
    path: string,
    init?: { method?: string; token?: string; body?: unknown },
  ): Promise<{ status: number; json: unknown }>;
  clusterToken(cluster: string): Promise<string>;
  /** PUTs a `synthfleet.dev/v1` SyntheticTest into namespace `default` of a cluster, as a syncer does. */
  putTest(
    cluster: string,
    token: string,
    name: string,
    spec: Record<string, unknown>,
  ): Promise<{ status: number; json: unknown }>;
  /** Every run of one test, all pages (admin token unless one is given). */
  runs(cluster: string, namespace: string, name: string, token?: string): Promise<RunView[]>;
};

/**
 * The real API (Node entry) on 127.0.0.1 with its libSQL file under `dataDir`; `script` runs
 * another entry of it (the shipped bundle) instead of the TypeScript source.
 */
export async function startApi(opts: {
  dataDir: string;
  script?: string;
  port?: number;
  admin?: string;
  env?: Record<string, string>;
}): Promise<Api> {
  const admin = opts.admin ?? `test-admin-${crypto.randomUUID()}`;
  const proc = startNode(
    opts.script ?? 'apps/api/src/entry/node.ts',
    {
      PORT: String(opts.port ?? 0),
      HOST: '127.0.0.1',
      SYNTHFLEET_DATA_DIR: opts.dataDir,
      SYNTHFLEET_ADMIN_TOKEN: admin,
      LOG_LEVEL: 'info',
      ...opts.env,
    },
    'api',
  );
  // A loaded CI machine has taken over 30 s to start one (type stripping, parallel test files).
  const line = await proc.waitForLog((l) => typeof l.url === 'string' && l.msg === 'synthfleet api listening', 120_000);
  const url = line.url as string;
  const call: Api['call'] = async (path, init = {}) => {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.token ?? admin}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
  };
  return {
    ...proc,
    url,
    admin,
    call,
    async runs(cluster, namespace, name, token) {
      const out: RunView[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const r = await call(`/api/v1/tests/${cluster}/${namespace}/${name}/runs?limit=500${q}`, { token });
        if (r.status !== 200)
          throw new Error(`runs of ${cluster}/${namespace}/${name}: ${r.status} ${JSON.stringify(r.json)}`);
        const page = RunPage.parse(r.json);
        out.push(...page.runs);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    },
    putTest(cluster, token, name, spec) {
      return call(`/api/v1/clusters/${cluster}/tests/default/${name}`, {
        method: 'PUT',
        token,
        body: {
          apiVersion: 'synthfleet.dev/v1',
          kind: 'SyntheticTest',
          metadata: { name, namespace: 'default' },
          spec,
        },
      });
    },
    async clusterToken(cluster) {
      const r = await call('/api/v1/tokens', { method: 'POST', body: { role: 'cluster', cluster } });
      if (r.status !== 201) throw new Error(`token for ${cluster}: ${r.status} ${JSON.stringify(r.json)}`);
      return CreateTokenResponse.parse(r.json).token;
    },
  };
}

export type AgentProcess = NodeProcess & { url: string };

/** A real agent process; resolves once its heartbeat server listens. */
export async function startAgent(opts: {
  apiUrl: string;
  token: string;
  node: string;
  spoolDir: string;
  env?: Record<string, string>;
}): Promise<AgentProcess> {
  const proc = startNode(
    'apps/agent/src/main.ts',
    {
      SYNTHFLEET_API_URL: opts.apiUrl,
      SYNTHFLEET_TOKEN: opts.token,
      NODE_NAME: opts.node,
      HEARTBEAT_HOST: '127.0.0.1',
      HEARTBEAT_PORT: '0',
      SPOOL_DIR: opts.spoolDir,
      RESULT_FLUSH_MS: '200',
      LOG_LEVEL: 'debug',
      ...opts.env,
    },
    `agent ${opts.node}`,
  );
  const line = await proc.waitForLog((l) => l.msg === 'agent listening', 120_000);
  return { ...proc, url: line.url as string };
}
