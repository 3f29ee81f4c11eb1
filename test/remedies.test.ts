/**
 * Remedies and the Kubernetes probes through the whole path: the real API and a real agent process
 * on 127.0.0.1, the agent talking to the Kubernetes API double (test/support/kube-api.ts, with its
 * simulated controllers) as it talks to a cluster, a webhook receiver in this process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemedyRunView } from '@synthfleet/contracts';
import { AgentList, RemedyRunList } from '@synthfleet/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.ts';
import { type KubeApiDouble, startKubeApi } from './support/kube-api.ts';
import { JOB, NAMESPACE, startKubeController, WORKLOAD_RESOURCES } from './support/kube-controller.ts';
import { type AgentProcess, type Api, startAgent, startApi } from './support/processes.ts';
import { waitFor } from './support/wait.ts';

const CLUSTER = 'edge-r';
const dir = mkdtempSync(join(tmpdir(), 'synthfleet-remedies-'));
let api: Api;
let token = '';
let agent: AgentProcess;
let kube: KubeApiDouble;
let controller: ReturnType<typeof startKubeController>;
let hooks: http.Server;
let hookUrl = '';
const received: Record<string, unknown>[] = [];
let closedPort = 0;

beforeAll(async () => {
  kube = await startKubeApi({ resources: WORKLOAD_RESOURCES });
  controller = startKubeController(kube, { nodes: ['node-r'] });
  for (const name of ['remedies', 'default']) kube.apply(NAMESPACE, { metadata: { name }, spec: {} });
  const tokenFile = join(dir, 'kube-token');
  writeFileSync(tokenFile, kube.token);
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ path: req.url, auth: req.headers['x-remedy-key'], ...JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  closedPort = await freePort();
  api = await startApi({ dataDir: join(dir, 'api') });
  token = await api.clusterToken(CLUSTER);
  agent = await startAgent({
    apiUrl: api.url,
    token,
    node: 'node-r',
    spoolDir: join(dir, 'spool'),
    env: {
      K8S_API_SERVER: kube.url,
      K8S_TOKEN_FILE: tokenFile,
      K8S_PROBES: 'pod,api',
      K8S_REMEDY_JOBS: 'true',
      K8S_NAMESPACE: 'remedies',
    },
  });
});

afterAll(async () => {
  await agent?.stop('SIGKILL');
  await api?.stop();
  controller?.stop();
  await kube?.close();
  hooks?.close();
  rmSync(dir, { recursive: true, force: true });
});

function putTest(name: string, spec: Record<string, unknown>) {
  return api.putTest(CLUSTER, token, name, spec);
}

async function remediesOf(name: string): Promise<RemedyRunView[]> {
  const r = await api.call(`/api/v1/tests/${CLUSTER}/default/${name}/remedies`, { token });
  expect(r.status).toBe(200);
  return RemedyRunList.parse(r.json).remedies;
}

const failing = () => ({
  plugin: 'httpPing',
  repeat: '1s',
  node: '*',
  config: { address: `http://127.0.0.1:${closedPort}/` },
});

describe('remedies', () => {
  it('fires the webhook every `after` consecutive failures, never more than runsLimit times, and records each run', async () => {
    const put = await putTest('flaky', {
      ...failing(),
      remedy: { after: 2, runsLimit: 2, webhook: { url: `${hookUrl}/fix`, headers: { 'x-remedy-key': 'k1' } } },
    });
    expect(put.status).toBe(201);
    // Seven failures: the remedy is due at the 2nd, 4th and 6th; the 6th is over the limit.
    await waitFor(
      async () => (await api.runs(CLUSTER, 'default', 'flaky', token)).filter((r) => r.status === 'fail').length >= 7,
      90_000,
      'seven failed runs of flaky',
    );
    await waitFor(
      () => agent.logs.some((l) => l.msg === 'remedy not granted' && l.test === 'default/flaky'),
      30_000,
      'the third remedy to be refused',
    );
    const hits = received.filter((h) => h.path === '/fix');
    expect(hits).toHaveLength(2);
    expect(hits.map((h) => h.consecutiveFailures)).toEqual([2, 4]);
    expect(hits[0]).toMatchObject({
      auth: 'k1',
      node: 'node-r',
      attempt: 1,
      runsLimit: 2,
      test: { cluster: CLUSTER, namespace: 'default', name: 'flaky', revision: 1 },
      run: { status: 'fail' },
    });
    expect(String((hits[0]?.run as { error?: string } | undefined)?.error)).toContain('ECONNREFUSED');
    const refusal = agent.logs.find((l) => l.msg === 'remedy not granted');
    expect(String(refusal?.why)).toContain('reached its remedy runsLimit (2)');
    await waitFor(
      async () => (await remediesOf('flaky')).every((r) => r.status !== 'running'),
      20_000,
      'outcomes reported',
    );
    const runs = await remediesOf('flaky');
    expect(runs.map((r) => [r.attempt, r.failures, r.kind, r.status, r.message, r.node])).toEqual([
      [2, 4, 'webhook', 'succeeded', 'webhook answered 204', 'node-r'],
      [1, 2, 'webhook', 'succeeded', 'webhook answered 204', 'node-r'],
    ]);
    const stored = new Set((await api.runs(CLUSTER, 'default', 'flaky', token)).map((r) => r.runId));
    for (const r of runs) expect(stored).toContain(r.triggerRunId);
  });

  it('creates a Job from the template, waits for it to complete, and records the outcome', async () => {
    const put = await putTest('jobfix', {
      ...failing(),
      remedy: {
        after: 1,
        runsLimit: 1,
        job: {
          spec: {
            backoffLimit: 0,
            template: {
              spec: { restartPolicy: 'Never', containers: [{ name: 'fix', image: 'busybox:1.36', command: ['true'] }] },
            },
          },
        },
      },
    });
    expect(put.status).toBe(201);
    await waitFor(
      async () => (await remediesOf('jobfix')).some((r) => r.status !== 'running'),
      60_000,
      'the job remedy',
    );
    const [run] = await remediesOf('jobfix');
    expect(run).toMatchObject({ kind: 'job', status: 'succeeded', attempt: 1 });
    const [, name] = (run?.details.job ?? '').split('/');
    expect(run?.details.job).toMatch(/^remedies\/synthfleet-remedy-\w+$/);
    expect(run?.message).toBe(`Job ${run?.details.job} completed`);
    const job = kube.get(JOB, 'remedies', name as string) as unknown as {
      metadata: { labels: Record<string, string> };
      spec: Record<string, unknown>;
    };
    expect(job.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'synthfleet-agent',
      'synthfleet.dev/remedy': run?.id,
    });
    expect(job.spec.ttlSecondsAfterFinished).toBe(3600);
    const env = (job.spec.template as { spec: { containers: { env: { name: string; value: string }[] }[] } }).spec
      .containers[0]?.env;
    expect(env).toContainEqual({ name: 'SYNTHFLEET_TEST', value: 'default/jobfix' });
    expect(env).toContainEqual({ name: 'SYNTHFLEET_NODE', value: 'node-r' });
    // runsLimit 1: one Job however long the test fails.
    await waitFor(
      async () => (await api.runs(CLUSTER, 'default', 'jobfix', token)).filter((r) => r.status === 'fail').length >= 4,
      60_000,
      'more failures of jobfix',
    );
    expect(kube.list(JOB, 'remedies', 'synthfleet.dev/test=jobfix')).toHaveLength(1);
    expect(await remediesOf('jobfix')).toHaveLength(1);
  });

  it('records a Job that fails as a failed remedy run, with the reason', async () => {
    controller.setJobOutcome('fail');
    await putTest('jobfail', {
      ...failing(),
      remedy: {
        after: 1,
        runsLimit: 1,
        job: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'x', image: 'busybox:1.36' }] } } },
        },
      },
    });
    await waitFor(
      async () => (await remediesOf('jobfail')).some((r) => r.status !== 'running'),
      60_000,
      'the failing job remedy',
    );
    const [run] = await remediesOf('jobfail');
    expect(run?.status).toBe('failed');
    expect(run?.message).toMatch(
      /^Job remedies\/synthfleet-remedy-\w+ failed: BackoffLimitExceeded: Job has reached the specified backoff limit$/,
    );
    controller.setJobOutcome('complete');
  });
});

describe('k8s probes in the agent', () => {
  it('offers the families it is given, and runs a k8sPod test end to end', async () => {
    const agents = await api.call(`/api/v1/clusters/${CLUSTER}/agents`, { token });
    const caps = AgentList.parse(agents.json).agents[0]?.capabilities ?? [];
    expect(caps).toEqual(expect.arrayContaining(['k8sPod', 'k8sApi']));
    expect(caps).not.toContain('k8sDeployment');
    const put = await putTest('pod-start', {
      plugin: 'k8sPod',
      repeat: '2s',
      node: '*',
      timeouts: { run: '20s' },
      config: { pollInterval: '100ms' },
    });
    expect(put.status).toBe(201);
    await waitFor(
      async () => (await api.runs(CLUSTER, 'default', 'pod-start', token)).some((r) => r.status === 'pass'),
      60_000,
      'a passing k8sPod run',
    );
    const run = (await api.runs(CLUSTER, 'default', 'pod-start', token)).find((r) => r.status === 'pass');
    expect([run?.marks, run?.maxMarks]).toEqual([5, 5]);
    expect(run?.details?.pod).toMatch(/^remedies\/synthfleet-pod-\w+$/);
    await putTest('pod-start', { plugin: 'k8sPod', repeat: '1h', node: '*', timeouts: { run: '20s' } });
  });
});
