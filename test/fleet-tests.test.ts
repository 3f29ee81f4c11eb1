/**
 * A fleet test seen from three clusters on 127.0.0.1: the API and one agent per cluster as real
 * processes, each cluster's syncer (in this process, as test/syncer.test.ts runs it) against its
 * own Kubernetes API double holding one test of the cluster's own, and Debian's prometheus
 * scraping the API's /metrics (a metrics token) with the shipped rules.
 *
 * The per-cluster difference is agent-level: the agents of edge-1 may not run the exec program the
 * second fleet test names (EXEC_ALLOW), so their runs are errors while edge-2 and edge-3 pass.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { FleetTestView, TestPage } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { createApiClient } from '../apps/syncer/src/api-client.ts';
import { createLogger } from '../apps/syncer/src/logger.ts';
import { createKubeSource } from '../apps/syncer/src/sources/kube.ts';
import { createSyncer, type Syncer } from '../apps/syncer/src/syncer.ts';
import { freePort } from './support/free-port.ts';
import { type KubeApiDouble, startKubeApi } from './support/kube-api.ts';
import { type AgentProcess, type Api, ROOT, startAgent, startApi } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'synthfleet-fleet-'));
const CLUSTERS = ['edge-1', 'edge-2', 'edge-3'];
let api: Api;
const tokens: Record<string, string> = {};
const agents: AgentProcess[] = [];
let prometheus: ChildProcess | undefined;
const kubes: KubeApiDouble[] = [];
const syncers: Syncer[] = [];
const OURS = 'synthfleet.dev/v1/synthetictests';
let promUrl = '';
const ok = join(dir, 'ok.sh');

beforeAll(async () => {
  writeFileSync(ok, '#!/bin/sh\necho \'{"marks":1,"maxMarks":1}\'\n');
  chmodSync(ok, 0o755);
  const apiPort = await freePort();
  api = await startApi({ dataDir: join(dir, 'api'), port: apiPort, env: { SWEEP_INTERVAL_SECONDS: '1' } });
  const metrics = await api.call('/api/v1/tokens', { method: 'POST', body: { role: 'metrics' } });
  writeFileSync(join(dir, 'metrics-token'), (metrics.json as { token: string }).token);
  for (const cluster of CLUSTERS) {
    tokens[cluster] = await api.clusterToken(cluster);
    agents.push(
      await startAgent({
        apiUrl: api.url,
        token: tokens[cluster] as string,
        node: `${cluster}-node`,
        spoolDir: join(dir, `spool-${cluster}`),
        env: { EXEC_ALLOW: cluster === 'edge-1' ? join(dir, 'other.sh') : ok },
      }),
    );
    // The cluster's own resources, mirrored by its syncer: one test of its own.
    const kube = await startKubeApi({ resources: [OURS] });
    kubes.push(kube);
    kube.apply(OURS, {
      metadata: { name: 'own-check', namespace: 'default' },
      spec: { plugin: 'dns', repeat: '5s', node: '*', config: { domains: ['localhost'] } },
    });
    const kubeConfig = new KubeConfig();
    const kubeDir = join(dir, `kube-${cluster}`);
    mkdirSync(kubeDir);
    kubeConfig.loadFromFile(kube.writeKubeconfig(kubeDir));
    const logger = createLogger('silent');
    const syncer = createSyncer({
      api: createApiClient({ baseUrl: api.url, token: tokens[cluster] as string, timeoutMs: 5000 }),
      source: createKubeSource({ kubeConfig, groups: ['synthfleet.dev'], namespaces: [], logger, recheckMs: 60_000 }),
      logger,
      resyncMs: 2_000,
      statusMs: 1_000,
    });
    syncer.start();
    syncers.push(syncer);
  }
  const prom = parseYaml(readFileSync(join(ROOT, 'infra/prometheus/prometheus.example.yaml'), 'utf8'));
  prom.global = { scrape_interval: '1s', evaluation_interval: '1s' };
  const apiJob = prom.scrape_configs.find((j: { job_name: string }) => j.job_name === 'synthfleet-api');
  apiJob.scheme = 'http';
  apiJob.static_configs[0].targets = [`127.0.0.1:${apiPort}`];
  apiJob.authorization.credentials_file = join(dir, 'metrics-token');
  prom.scrape_configs = [apiJob];
  delete prom.alerting;
  writeFileSync(join(dir, 'synthfleet.rules.yaml'), readFileSync(join(ROOT, 'infra/prometheus/synthfleet.rules.yaml')));
  writeFileSync(join(dir, 'prometheus.yaml'), toYaml(prom));
  mkdirSync(join(dir, 'tsdb'));
  const port = await freePort();
  prometheus = spawn(
    '/usr/bin/prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yaml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  promUrl = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true,
    30_000,
    'prometheus ready',
  );
}, 180_000);

afterAll(async () => {
  for (const s of syncers) await s.stop();
  for (const k of kubes) await k.close();
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await api?.stop();
  prometheus?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const putFleet = (name: string, spec: Record<string, unknown>) =>
  api.call(`/api/v1/fleet-tests/default/${name}`, {
    method: 'PUT',
    body: {
      apiVersion: 'synthfleet.dev/v1',
      kind: 'SyntheticTest',
      metadata: { name, namespace: 'default' },
      spec: { repeat: '1s', node: '*', clusters: ['edge-*'], quorum: 2, ...spec },
    },
  });
const fleetState = async (name: string) =>
  FleetTestView.parse((await api.call(`/api/v1/fleet-tests/default/${name}`)).json);

async function promQuery(q: string) {
  const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
    data: { result: { metric: Record<string, string> }[] };
  };
  return r.data.result;
}
async function promAlerts(name: string) {
  const r = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
    data: { alerts: { labels: Record<string, string>; state: string }[] };
  };
  return r.data.alerts.filter((a) => a.labels.alertname === name);
}

describe('a fleet test over three clusters', () => {
  it('fails with quorum 2 of 3 when its target is down, and the state series and alert reach Prometheus', async () => {
    const closed = await freePort();
    expect(
      (
        await putFleet('reach', {
          plugin: 'netDial',
          config: { addresses: [{ addr: `127.0.0.1:${closed}`, net: 'tcp', timeout: '300ms' }] },
        })
      ).status,
    ).toBe(201);
    // Quorum 2 is reached as soon as two clusters report; wait for the third too.
    await waitFor(
      async () => (await fleetState('reach')).selected.every((s) => s.state === 'failing'),
      60_000,
      'every cluster failing',
    );
    const v = await fleetState('reach');
    expect(v.selected.map((s) => [s.cluster, s.state])).toEqual(CLUSTERS.map((c) => [c, 'failing']));
    await waitFor(
      async () => (await promQuery('synthfleet_fleet_test_state{test="reach",state="failing"} == 1')).length === 1,
      60_000,
      'the failing fleet state series in Prometheus',
    );
    await waitFor(
      async () => (await promAlerts('SynthfleetFleetTestFailing')).some((a) => a.labels.test === 'reach'),
      60_000,
      'SynthfleetFleetTestFailing in Prometheus',
    );
  }, 150_000);

  it('is degraded when one cluster of three fails (an agent-level difference) under quorum 2', async () => {
    expect((await putFleet('edge-exec', { plugin: 'exec', config: { command: ok } })).status).toBe(201);
    await waitFor(
      async () => (await fleetState('edge-exec')).selected.every((s) => s.state !== 'pending'),
      60_000,
      'every cluster reporting',
    );
    expect((await fleetState('edge-exec')).state).toBe('degraded');
    const v = await fleetState('edge-exec');
    expect(Object.fromEntries(v.selected.map((s) => [s.cluster, s.state]))).toEqual({
      'edge-1': 'failing',
      'edge-2': 'passing',
      'edge-3': 'passing',
    });
    await waitFor(
      async () => (await promQuery('synthfleet_fleet_test_state{test="edge-exec",state="degraded"} == 1')).length === 1,
      60_000,
      'the degraded fleet state series in Prometheus',
    );
  }, 120_000);

  it("lives beside each cluster's own tests: the syncers' snapshots keep the shares", async () => {
    // Several resyncs (every 2 s) have passed since the fleet tests were put.
    await new Promise((r) => setTimeout(r, 4_500));
    for (const cluster of CLUSTERS) {
      const page = TestPage.parse((await api.call(`/api/v1/tests?cluster=${cluster}`)).json);
      expect(page.tests.map((t) => t.name).sort(), cluster).toEqual(['edge-exec', 'own-check', 'reach']);
    }
    // The syncer writes its own object's status; the fleet shares have no resource to write to.
    const kube = kubes[1] as KubeApiDouble;
    await waitFor(
      () =>
        typeof (kube.get(OURS, 'default', 'own-check')?.status as { phase?: unknown } | undefined)?.phase === 'string',
      30_000,
      "own-check's status",
    );
  });

  it("gives a cluster token its own cluster's share only", async () => {
    const t = tokens['edge-2'] as string;
    expect((await api.call('/api/v1/tests/edge-2/default/reach', { token: t })).status).toBe(200);
    expect((await api.call('/api/v1/tests/edge-1/default/reach', { token: t })).status).toBe(404);
    expect((await api.call('/api/v1/fleet-tests/default/reach', { token: t })).status).toBe(404);
    const runs = await api.runs('edge-2', 'default', 'reach', t);
    expect(runs.length).toBeGreaterThan(0);
    const own = (await api.call('/api/v1/clusters/edge-2/agents', { token: t })).json as {
      agents: { agentId: string }[];
    };
    expect(new Set(runs.map((r) => r.agentId))).toEqual(new Set(own.agents.map((a) => a.agentId)));
  });
});
