/**
 * Pushgateway alerting run for real on 127.0.0.1: agents → Debian's prometheus-pushgateway
 * (persistence off) → Debian's prometheus (the shipped prometheus.example.yaml and
 * synthfleet.rules.yaml) → Debian's prometheus-alertmanager (the shipped alertmanager.example.yaml)
 * → a webhook receiver in this test.
 *
 * The one test-only substitution (scaleRules below): every duration in the rules is divided by
 * 30 (a `for: 5m` becomes `for: 10s`, the 300 s freshness and silence thresholds 10 s, 600 s 20 s),
 * the example configs' intervals become 1 s and Alertmanager's waits 2 s; expressions, labels,
 * annotations and inhibit rules are the shipped ones. Agents keep alive every 5 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort } from './support/free-port.ts';
import { type AgentProcess, type Api, ROOT, startAgent, startApi } from './support/processes.ts';
import { type Pushgateway, startPushgateway } from './support/pushgateway.ts';
import { waitFor } from './support/wait.ts';

const SCALE = 30;
const CLUSTER = 'edge-alerts';
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-alerting-'));
const infra = (f: string) => readFileSync(join(ROOT, 'infra/prometheus', f), 'utf8');

type Notified = { status: string; labels: Record<string, string> };
const notifications: Notified[] = [];
const children: ChildProcess[] = [];
const agents: Record<string, AgentProcess> = {};
let api: Api;
let token = '';
let gateway: Pushgateway;
let promUrl = '';
let webhook: http.Server;
let apiPort = 0;
const metricsTokenFile = join(dir, 'metrics-token');

/** The shipped rules with every duration divided by SCALE (see the header). */
function scaleRules(text: string): string {
  const seconds = (n: number, unit: string) => n * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
  return text
    .replace(/for: (\d+)([smh])/g, (_, n, u) => `for: ${Math.max(1, seconds(Number(n), u) / SCALE)}s`)
    .replace(/\[(\d+)([smh])\]/g, (_, n, u) => `[${Math.max(1, seconds(Number(n), u) / SCALE)}s]`)
    .replace(/(time\(\) - [^\n]*?[<>]) (\d+)/g, (_, head, n) => `${head} ${Number(n) / SCALE}`);
}

function spawnDaemon(bin: string, args: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d) => {
    err = (err + String(d)).slice(-4000);
  });
  child.once('exit', (code) => {
    if (code !== null && code !== 0) process.stderr.write(`${bin} exited ${code}: ${err}\n`);
  });
  children.push(child);
  return child;
}

async function ready(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 30 s`);
}

beforeAll(async () => {
  webhook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      for (const a of (JSON.parse(body) as { alerts: Notified[] }).alerts) notifications.push(a);
      res.end();
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;

  gateway = await startPushgateway();

  const am = parseYaml(infra('alertmanager.example.yaml'));
  am.route.group_wait = '2s';
  am.route.group_interval = '2s';
  am.receivers[0].webhook_configs[0].url = hook;
  writeFileSync(join(dir, 'alertmanager.yaml'), toYaml(am));
  const amPort = await freePort();
  mkdirSync(join(dir, 'am'));
  spawnDaemon('/usr/bin/prometheus-alertmanager', [
    `--config.file=${join(dir, 'alertmanager.yaml')}`,
    `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  await ready(`http://127.0.0.1:${amPort}/-/ready`);

  writeFileSync(join(dir, 'synthfleet.rules.yaml'), scaleRules(infra('synthfleet.rules.yaml')));
  const prom = parseYaml(infra('prometheus.example.yaml'));
  prom.global = { scrape_interval: '1s', evaluation_interval: '1s' };
  prom.scrape_configs[0].static_configs[0].targets = [gateway.url.replace('http://', '')];
  // The control plane's /metrics: this test's API over plain http, read with a metrics token.
  apiPort = await freePort();
  writeFileSync(metricsTokenFile, 'not-yet');
  prom.scrape_configs[1].scheme = 'http';
  prom.scrape_configs[1].static_configs[0].targets = [`127.0.0.1:${apiPort}`];
  prom.scrape_configs[1].authorization.credentials_file = metricsTokenFile;
  prom.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${amPort}`];
  writeFileSync(join(dir, 'prometheus.yaml'), toYaml(prom));
  const promPort = await freePort();
  mkdirSync(join(dir, 'tsdb'));
  spawnDaemon('/usr/bin/prometheus', [
    `--config.file=${join(dir, 'prometheus.yaml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  promUrl = `http://127.0.0.1:${promPort}`;
  await ready(`${promUrl}/-/ready`);

  api = await startApi({ dataDir: join(dir, 'api'), port: apiPort, env: { STALE_RESULT_SECONDS: '10' } });
  token = await api.clusterToken(CLUSTER);
  const metricsToken = await api.call('/api/v1/tokens', { method: 'POST', body: { role: 'metrics' } });
  writeFileSync(metricsTokenFile, (metricsToken.json as { token: string }).token);
  for (const node of ['node-a', 'node-b', 'node-c']) {
    agents[node] = await startAgent({
      apiUrl: api.url,
      token,
      node,
      spoolDir: join(dir, `spool-${node}`),
      env: { PUSHGATEWAY_URL: gateway.url, PUSH_KEEPALIVE_SECONDS: '5' },
    });
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(agents).map((a) => a.stop('SIGKILL')));
  await api?.stop();
  for (const c of children) c.kill('SIGTERM');
  await gateway?.stop();
  webhook?.close();
  rmSync(dir, { recursive: true, force: true });
});

type PromAlert = { labels: Record<string, string>; state: string };

async function firing(): Promise<PromAlert[]> {
  const r = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } };
  return r.data.alerts.filter((a) => a.state === 'firing');
}

const named = <A extends { labels: Record<string, string> }>(
  alerts: A[],
  name: string,
  extra: Record<string, string> = {},
) => alerts.filter((a) => a.labels.alertname === name && Object.entries(extra).every(([k, v]) => a.labels[k] === v));

const slow = { timeout: 90_000, interval: 500 };

describe('alerting through a real Pushgateway, Prometheus and Alertmanager', () => {
  it('pages once for a test failing on every node (the warning is inhibited)', async () => {
    const closed = await freePort();
    const put = await api.putTest(CLUSTER, token, 'down', {
      plugin: 'netDial',
      repeat: '1s',
      node: '*',
      config: { addresses: [{ addr: `127.0.0.1:${closed}`, net: 'tcp', timeout: '500ms' }] },
    });
    expect(put.status).toBe(201);
    await waitFor(
      async () => (await named(await firing(), 'SynthfleetTestFailing', { test: 'down' }).length) === 1,
      slow.timeout,
      "named(await firing(), 'SynthfleetTestFailing', { test: 'down' }).lengt… toBe(1)",
    );
    await waitFor(
      async () => (await named(notifications, 'SynthfleetTestFailingEverywhere', { test: 'down' }).length) >= 1,
      slow.timeout,
      "named(notifications, 'SynthfleetTestFailingEverywhere', { test: 'down'… toBeGreaterThanOrEqual(1)",
    );
    // Both fire in Prometheus; Alertmanager delivers only the critical one.
    expect(named(await firing(), 'SynthfleetTestFailingEverywhere', { test: 'down' })).toHaveLength(1);
    expect(named(notifications, 'SynthfleetTestFailing', { test: 'down' })).toEqual([]);
  }, 120_000);

  it("sees the control plane's verdicts: a failing test's state series, and a stale test's alert", async () => {
    const query = async (q: string) =>
      (
        (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        }
      ).data.result;
    await waitFor(
      async () => (await query('synthfleet_test_state{test="down",state="failing"} == 1')).length === 1,
      slow.timeout,
      'the failing state series of "down" in Prometheus',
    );
    const [series] = await query('synthfleet_test_state{test="down",state="failing"}');
    expect(series?.metric).toMatchObject({ job: 'synthfleet-api', cluster: CLUSTER, namespace: 'default' });
    // A test no agent can run (no such node) never reports: stale after STALE_RESULT_SECONDS.
    expect(
      (
        await api.putTest(CLUSTER, token, 'orphan', {
          plugin: 'dns',
          repeat: '1s',
          node: 'no-such-node',
          config: { domains: ['localhost'] },
        })
      ).status,
    ).toBe(201);
    const alerts = async () =>
      named(
        ((await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } }).data.alerts,
        'SynthfleetTestStale',
        { test: 'orphan' },
      );
    await waitFor(
      async () => (await alerts()).some((a) => a.state === 'pending'),
      slow.timeout,
      'SynthfleetTestStale pending',
    );
    await waitFor(
      async () => (await alerts()).some((a) => a.state === 'firing'),
      slow.timeout,
      'SynthfleetTestStale firing',
    );
    expect((await query('synthfleet_test_state{test="orphan",state="stale"}'))[0]?.value[1]).toBe('1');
    expect(
      (await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/orphan`, { method: 'DELETE', token })).status,
    ).toBe(204);
  }, 120_000);

  it('keeps a failing test in a maintenance window silent and its SLO unspent, while its runs are stored', async () => {
    const query = async (q: string) =>
      (
        (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        }
      ).data.result;
    const opened = await api.call('/api/v1/maintenance', {
      method: 'POST',
      token,
      body: {
        name: 'maint-*',
        reason: 'switch replacement',
        start: new Date(Date.now() - 1000).toISOString(),
        end: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(opened.status).toBe(201);
    const closed = await freePort();
    const put = await api.putTest(CLUSTER, token, 'maint-db', {
      plugin: 'netDial',
      repeat: '1s',
      node: '*',
      slo: { objective: 99 },
      config: { addresses: [{ addr: `127.0.0.1:${closed}`, net: 'tcp', timeout: '300ms' }] },
    });
    expect(put.status).toBe(201);
    // It fails on every node (Prometheus has the failures), and it is in maintenance there too.
    await waitFor(
      async () =>
        (await query('synthfleet:test_success:fresh{test="maint-db"} == 0')).length === 3 &&
        (await query('synthfleet_test_maintenance{test="maint-db"} == 1')).length === 1,
      slow.timeout,
      'maint-db failing on 3 nodes and in maintenance, in Prometheus',
    );
    // Longer than SynthfleetTestFailing's hold (for: 5m, scaled to 10 s) with margin: never fires.
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      expect(named(await firing(), 'SynthfleetTestFailing', { test: 'maint-db' })).toEqual([]);
      expect(named(await firing(), 'SynthfleetTestFailingEverywhere', { test: 'maint-db' })).toEqual([]);
      expect(named(await firing(), 'SynthfleetErrorBudgetBurnFast', { test: 'maint-db' })).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // The runs are stored, marked; the verdict says maintenance; the SLO has spent nothing.
    const runs = await api.runs(CLUSTER, 'default', 'maint-db', token);
    expect(runs.length).toBeGreaterThanOrEqual(9);
    expect(runs.every((r) => r.maintenance && r.status !== 'pass')).toBe(true);
    const t = (await api.call(`/api/v1/tests/${CLUSTER}/default/maint-db`, { token })).json as {
      state: string;
      slo: { budget: { remaining: number | null }; availability: { total: number } };
    };
    expect(t.state).toBe('maintenance');
    expect(t.slo.availability.total).toBe(0);
    expect(t.slo.budget.remaining).toBeNull();
    expect((await query('synthfleet_test_runs_total{test="maint-db"}'))[0]?.value[1]).toBe('0');

    // Closing the window: the failures count again, and the alerts and the budget burn follow.
    const id = (opened.json as { id: number }).id;
    expect((await api.call(`/api/v1/maintenance/${id}`, { method: 'DELETE', token })).status).toBe(204);
    await waitFor(
      async () => named(await firing(), 'SynthfleetTestFailing', { test: 'maint-db' }).length === 1,
      slow.timeout,
      'SynthfleetTestFailing for maint-db once the window closed',
    );
    await waitFor(
      async () => named(await firing(), 'SynthfleetErrorBudgetBurnFast', { test: 'maint-db' }).length === 1,
      slow.timeout,
      'SynthfleetErrorBudgetBurnFast for maint-db once the window closed',
    );
    const after = (await api.call(`/api/v1/tests/${CLUSTER}/default/maint-db`, { token })).json as {
      slo: { budget: { remaining: number } };
    };
    expect(after.slo.budget.remaining).toBeLessThan(0);
    expect(
      (await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/maint-db`, { method: 'DELETE', token })).status,
    ).toBe(204);
  }, 180_000);

  it("resolves a deleted test's alerts, and its idle agents stay alive to the silence alerts", async () => {
    expect((await api.call(`/api/v1/clusters/${CLUSTER}/tests/default/down`, { method: 'DELETE', token })).status).toBe(
      204,
    );
    await waitFor(
      async () => (await (await firing()).filter((a) => a.labels.test === 'down').length) === 0,
      slow.timeout,
      "(await firing()).filter((a) => a.labels.test === 'down').length toBe(0)",
    );
    await waitFor(
      async () =>
        (await (() =>
          notifications.some(
            (n) => n.status === 'resolved' && n.labels.alertname === 'SynthfleetTestFailingEverywhere',
          ))()) === true,
      slow.timeout,
      'toBe(true)',
    );
    // Longer than the freshness window plus AgentSilent's hold: agents with no tests still push.
    const until = Date.now() + (300 / SCALE + 120 / SCALE + 6) * 1000;
    while (Date.now() < until) {
      expect(named(await firing(), 'SynthfleetAgentSilent')).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(named(notifications, 'SynthfleetAgentSilent')).toEqual([]);
    expect(named(notifications, 'SynthfleetClusterSilent')).toEqual([]);
  }, 120_000);

  it('fires AgentSilent for a killed agent alone', async () => {
    await (agents['node-c'] as AgentProcess).stop('SIGKILL');
    await waitFor(
      async () => (await named(notifications, 'SynthfleetAgentSilent', { instance: 'node-c' }).length) >= 1,
      slow.timeout,
      "named(notifications, 'SynthfleetAgentSilent', { instance: 'node-c' }).… toBeGreaterThanOrEqual(1)",
    );
    const silent = named(await firing(), 'SynthfleetAgentSilent');
    expect(silent.map((a) => a.labels.instance)).toEqual(['node-c']);
    expect(named(notifications, 'SynthfleetAgentSilent').map((n) => n.labels.instance)).toEqual(
      expect.not.arrayContaining(['node-a', 'node-b']),
    );
  }, 120_000);

  it('fires SynthfleetPushgatewayDown when the gateway stops', async () => {
    await gateway.stop();
    await waitFor(
      async () => (await named(notifications, 'SynthfleetPushgatewayDown').length) >= 1,
      slow.timeout,
      "named(notifications, 'SynthfleetPushgatewayDown').length toBeGreaterThanOrEqual(1)",
    );
  }, 120_000);
});
