import type { RunResult } from '@synthfleet/contracts';
import { type Pushgateway, startPushgateway } from '@synthfleet/test-support/pushgateway.ts';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentMetrics, createPusher, parseShLabels } from './metrics.ts';
import { quietLogger } from './testing/fixtures.ts';

let gw: Pushgateway;
beforeAll(async () => {
  gw = await startPushgateway();
});
afterAll(() => gw.stop());

const t = { namespace: 'default', test: 'web', plugin: 'httpPing' };
const result = (status: RunResult['status'], marks: number): RunResult => ({
  runId: 'run-00000001',
  namespace: 'default',
  name: 'web',
  status,
  marks,
  maxMarks: 2,
  startTime: '2026-01-01T00:00:00.000Z',
  endTime: '2026-01-01T00:00:01.500Z',
});

describe('agent metrics', () => {
  it('exposes per-test series, the synthetic-heart names and probe gauges', async () => {
    const m = new AgentMetrics({ node: 'node-a', version: '1.2.3', logger: quietLogger });
    m.recordRun(t, result('fail', 1), [{ name: 'http_ping_latency_seconds', value: 0.25, labels: { endpoint: 'x' } }]);
    const text = await m.registry.metrics();
    expect(text).toContain('synthfleet_test_success{namespace="default",test="web",plugin="httpPing"} 0');
    expect(text).toContain('synthfleet_test_pass_ratio{namespace="default",test="web",plugin="httpPing"} 0.5');
    expect(text).toContain('synthfleet_test_duration_seconds{namespace="default",test="web",plugin="httpPing"} 1.5');
    expect(text).toContain(
      'synthfleet_test_runs_total{namespace="default",test="web",plugin="httpPing",status="fail"} 1',
    );
    // synthetic-heart's chart default labels: test_node and plugin.
    expect(text).toContain(
      'syntheticheart_marks_total{test_name="web",test_namespace="default",test_node="node-a",plugin="httpPing"} 1',
    );
    expect(text).toContain(
      'syntheticheart_runtime_ns{test_name="web",test_namespace="default",test_node="node-a",plugin="httpPing"} 1500000000',
    );
    expect(text).toContain(
      'synthfleet_probe_http_ping_latency_seconds{namespace="default",test="web",plugin="httpPing",endpoint="x"} 0.25',
    );
    // Our own gauges keep to our family; synthetic-heart's series come from its own gauges.
    expect(text).not.toContain('syntheticheart_http_ping_latency_seconds');
    m.removeTest(t);
    const after = await m.registry.metrics();
    expect(after).not.toContain('test="web"');
    expect(after).not.toContain('test_name="web"');
  });

  it("emits synthetic-heart's plugin gauges under its names only, with labels configured as its chart does", async () => {
    const m = new AgentMetrics({
      node: 'node-a',
      version: '1.2.3',
      logger: quietLogger,
      shLabels: parseShLabels(
        'node={{.Agent.NodeName}},pod={{ .Agent.PodName }},kind=probe-{{.TestConfig.PluginName}}',
      ),
      pod: 'agent-a',
      podNamespace: 'sh',
    });
    m.recordRun(t, result('pass', 2), [
      { name: 'http_ping_latency', value: 12 },
      { name: 'http_ping_latency_seconds', value: 0.012, labels: { endpoint: 'x' } },
    ]);
    m.recordRun({ namespace: 'default', test: 'dial', plugin: 'netDial' }, result('pass', 2), [
      { name: 'net_dial', value: 1, labels: { net: 'tcp', addr: '127.0.0.1:1' } },
      { name: 'net_dial_duration_ns', value: 250000, labels: { net: 'tcp', addr: '127.0.0.1:1' } },
    ]);
    m.recordRun({ namespace: 'default', test: 'c', plugin: 'curl' }, result('pass', 2), [
      { name: 'curl_time_total', value: 0.5, labels: { remote_ip: '127.0.0.1', url: 'http://x/' } },
    ]);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'syntheticheart_http_ping_latency{test_name="web",test_namespace="default",node="node-a",pod="agent-a",kind="probe-httpPing"} 12',
    );
    expect(text).not.toContain('synthfleet_probe_http_ping_latency{');
    expect(text).toContain(
      'syntheticheart_net_dial{test_name="dial",test_namespace="default",node="node-a",pod="agent-a",kind="probe-netDial",addr="127.0.0.1:1",net="tcp"} 1',
    );
    expect(text).toContain('syntheticheart_net_dial_duration_ns{');
    expect(text).toContain('syntheticheart_curl_time_total{test_name="c",');
    expect(text).toContain('synthfleet_probe_curl_time_total{');
    expect(() => parseShLabels('x={{.Agent.Nope}}')).toThrow(/\{\{\.Agent\.Nope\}\} is not one of/);
    expect(() => parseShLabels('test_name=x')).toThrow(/always set/);
  });

  it('pushes to a real Pushgateway grouped by job, cluster and instance, replacing removed series', async () => {
    const m = new AgentMetrics({ node: 'node-b', version: '1.2.3', logger: quietLogger });
    const pusher = createPusher({
      url: gw.url,
      registry: m.registry,
      job: 'synthfleet',
      grouping: () => ({ cluster: 'edge-7', instance: 'node-b' }),
      logger: quietLogger,
      minIntervalMs: 10,
      keepAliveMs: 60_000,
    });
    m.recordRun(t, result('pass', 2), []);
    await pusher.flush();
    let text = await gw.metrics();
    expect(text).toMatch(
      /synthfleet_test_success\{cluster="edge-7",instance="node-b",job="synthfleet",namespace="default",plugin="httpPing",test="web"\} 1/,
    );
    expect(text).toMatch(/push_time_seconds\{cluster="edge-7",instance="node-b",job="synthfleet"\} \d/);
    m.removeTest(t);
    await pusher.flush();
    text = await gw.metrics();
    expect(text).not.toMatch(/synthfleet_test_success\{[^}]*instance="node-b"/);
  });

  it('keeps pushing on its keep-alive with nothing new to say, so push_time_seconds means alive', async () => {
    const m = new AgentMetrics({ node: 'node-k', version: '1.2.3', logger: quietLogger });
    const pusher = createPusher({
      url: gw.url,
      registry: m.registry,
      job: 'synthfleet',
      grouping: () => ({ cluster: 'edge-k', instance: 'node-k' }),
      logger: quietLogger,
      minIntervalMs: 10,
      keepAliveMs: 200,
    });
    const pushedAt = async () =>
      Number(
        /push_time_seconds\{cluster="edge-k",instance="node-k",job="synthfleet"\} (\S+)/.exec(
          await gw.metrics(),
        )?.[1] ?? 0,
      );
    try {
      expect(await pushedAt()).toBe(0);
      pusher.keepAlive();
      await waitFor(async () => (await pushedAt()) > 0, 10_000, 'toBeGreaterThan(0)');
      const first = await pushedAt();
      // No run, no result, no schedule(): the keep-alive alone pushes again.
      await waitFor(async () => (await pushedAt()) > first, 10_000, 'toBeGreaterThan(first)');
    } finally {
      pusher.stop();
    }
  });
});
