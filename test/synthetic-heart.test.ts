/**
 * A real agent process as synthetic-heart's agent would be deployed: its pod labels from a
 * downward-API labels file, and synthetic-heart's series in a real Pushgateway and on the pull port,
 * named and labelled as its default chart configures them (cisco-open/synthetic-heart at commit
 * 500284980fd7: chart/synthetic-heart/templates/configmap-agent.yaml `prometheus.labels`, and the
 * gauges of agent/plugins/syntests/{httpPing,netDial,dns,curl}).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { type ProbeTarget, startProbeTarget } from './support/probe-target.ts';
import { type AgentProcess, type Api, startAgent, startApi } from './support/processes.ts';
import { type Pushgateway, startPushgateway } from './support/pushgateway.ts';
import { waitFor } from './support/wait.ts';

const CLUSTER = 'edge-1';
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-sh-metrics-'));
let api: Api;
let agent: AgentProcess;
let gateway: Pushgateway;
let target: ProbeTarget;
let pullPort = 0;
let token = '';
const labelsFile = join(dir, 'labels');

beforeAll(async () => {
  target = await startProbeTarget();
  gateway = await startPushgateway();
  // Short long-polls: the agent re-reads its labels file between polls.
  api = await startApi({ dataDir: join(dir, 'api'), env: { POLL_WAIT_MAX_SECONDS: '2' } });
  token = await api.clusterToken(CLUSTER);
  pullPort = await freePort();
  writeFileSync(labelsFile, 'app.kubernetes.io/name="synthfleet"\ntier="edge-agents"\n');
  agent = await startAgent({
    apiUrl: api.url,
    token,
    node: 'node-a',
    spoolDir: join(dir, 'spool'),
    env: {
      PUSHGATEWAY_URL: gateway.url,
      METRICS_PORT: String(pullPort),
      METRICS_HOST: '127.0.0.1',
      POD_NAME: 'agent-a',
      POD_NAMESPACE: 'synthetic-heart',
      POD_LABELS_FILE: labelsFile,
    },
  });
  const put = async (name: string, plugin: string, config: string) => {
    const r = await api.call(`/api/v1/clusters/${CLUSTER}/tests/synthetic-heart/${name}`, {
      method: 'PUT',
      token,
      body: {
        apiVersion: 'synheart.infra.webex.com/v1',
        kind: 'SyntheticTest',
        metadata: { name, namespace: 'synthetic-heart' },
        spec: { plugin, repeat: '1s', timeouts: { init: '', finish: '' }, config },
      },
    });
    expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
  };
  const web = `http://${target.url}`;
  const port = target.url.split(':')[1];
  await put('http', 'httpPing', `address: ${web}/ok\n`);
  await put('dial', 'netDial', `addresses:\n  - addr: 127.0.0.1:${port}\n    net: tcp\n`);
  await put('dns', 'dns', 'domains: [localhost]\nrepeats: 2\n');
  await put(
    'curl',
    'curl',
    `url: ${web}/ok\noutputOptions:\n  - name: time_total\n    metric: true\n  - name: http_code\n    label: true\n`,
  );
});

afterAll(async () => {
  await agent?.stop('SIGKILL');
  await api?.stop();
  await gateway?.stop();
  target?.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = (test: string, plugin: string) =>
  `test_name="${test}",test_namespace="synthetic-heart",test_node="node-a",plugin="${plugin}"`;

/** The lines of one metric family, labels sorted as the Pushgateway prints them. */
const lines = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));

describe("synthetic-heart's series", () => {
  it('reach a real Pushgateway with its names, labels and units', { timeout: 90_000 }, async () => {
    let text = '';
    await waitFor(
      async () => {
        text = await gateway.metrics();
        return ['http_ping_latency', 'net_dial_duration_ns', 'dns_repeat_count', 'curl_time_total'].every((n) =>
          text.includes(`syntheticheart_${n}{`),
        );
      },
      45_000,
      "synthetic-heart's plugin gauges in the gateway",
    );
    // The Pushgateway sorts labels: check each series carries exactly synthetic-heart's.
    const marks = lines(text, 'syntheticheart_marks_total').find((l) => l.includes('test_name="http"')) ?? '';
    for (const l of ['test_name="http"', 'test_namespace="synthetic-heart"', 'test_node="node-a"', 'plugin="httpPing"'])
      expect(marks).toContain(l);
    expect(marks).not.toMatch(/node_name|plugin_name/);
    expect(lines(text, 'syntheticheart_max_marks_total').length).toBeGreaterThan(0);
    expect(lines(text, 'syntheticheart_runtime_ns').length).toBeGreaterThan(0);
    // Milliseconds, and no endpoint label.
    const latency = lines(text, 'syntheticheart_http_ping_latency')[0] ?? '';
    expect(latency).not.toContain('endpoint=');
    expect(Number(latency.split(' ').pop())).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(Number(latency.split(' ').pop()))).toBe(true);
    expect(text).not.toContain('syntheticheart_http_ping_latency_seconds');
    const dial = lines(text, 'syntheticheart_net_dial').find((l) => l.includes('test_name="dial"')) ?? '';
    expect(dial).toMatch(/addr="127\.0\.0\.1:\d+"/);
    expect(dial).toContain('net="tcp"');
    expect(dial.endsWith(' 1')).toBe(true);
    const ns = lines(text, 'syntheticheart_net_dial_duration_ns')[0] ?? '';
    expect(Number(ns.split(' ').pop())).toBeGreaterThan(1000); // nanoseconds
    const dns = lines(text, 'syntheticheart_dns_repeat_count')[0] ?? '';
    expect(dns).toContain('domain="localhost"');
    expect(dns.endsWith(' 2')).toBe(true);
    const curl = lines(text, 'syntheticheart_curl_time_total')[0] ?? '';
    expect(curl).toContain('http_code="200"');
    expect(curl).toMatch(/url="http:\/\/127\.0\.0\.1:\d+\/ok"/);
    // Our own families beside them.
    expect(text).toContain('synthfleet_test_success{');
  });

  it('are served for pull on their own port, with nothing else there', async () => {
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`http://127.0.0.1:${pullPort}/metrics`)).text();
        return text.includes('syntheticheart_curl_time_total{');
      },
      30_000,
      'the pull port',
    );
    expect(text).toContain(`syntheticheart_marks_total{${base('http', 'httpPing')}}`);
    expect(text).toContain('syntheticheart_dns_repeat_count{');
    expect((await fetch(`http://127.0.0.1:${pullPort}/heartbeat/10`)).status).toBe(404);
  });
});

describe('pod labels', () => {
  it('are read from the downward-API file, reported at registration and again when they change', async () => {
    const agents = async () =>
      (await api.call(`/api/v1/agents?cluster=${CLUSTER}`, { token })).json as Record<
        string,
        { agentConfig: { runTimeInfo: { podLabels: Record<string, string> } } }
      >;
    await waitFor(
      async () => (await agents())['agent-a/synthetic-heart']?.agentConfig.runTimeInfo.podLabels.tier === 'edge-agents',
      30_000,
      'the pod labels in /api/v1/agents',
    );
    // The downward API rewrites the file when the pod's labels change: the agent registers again.
    writeFileSync(labelsFile, 'app.kubernetes.io/name="synthfleet"\ntier="core"\n');
    await waitFor(
      async () => (await agents())['agent-a/synthetic-heart']?.agentConfig.runTimeInfo.podLabels.tier === 'core',
      60_000,
      'the changed pod labels',
    );
  });
});
