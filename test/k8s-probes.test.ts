/**
 * The Kubernetes probes against the Kubernetes API double (test/support/kube-api.ts) and its
 * simulated controllers (test/support/kube-controller.ts), over real HTTP with the agent's own
 * client: each probe passing, failing at the right step with the right message, timing out, and
 * cleaning up after itself every time.
 */
import { createProbeSet, KubeClient, type ProbeContext, runProbe } from '@synthfleet/probes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer } from '../packages/probes/src/testing/dns-server.ts';
import { type KubeApiDouble, type KubeObject, startKubeApi } from './support/kube-api.ts';
import {
  DEPLOYMENT,
  NAMESPACE,
  POD,
  SERVICE,
  startKubeController,
  WORKLOAD_RESOURCES,
} from './support/kube-controller.ts';
import { type ProbeTarget, startProbeTarget } from './support/probe-target.ts';
import { waitFor } from './support/wait.ts';

const NS = 'probes';
let kube: KubeApiDouble;
let controller: ReturnType<typeof startKubeController>;
let client: KubeClient;
let target: ProbeTarget;
let swept: { collection: string; removed: string[] }[] = [];
let probes: ReturnType<typeof createProbeSet>;

const ctx = (over: Partial<ProbeContext> = {}): ProbeContext => ({
  signal: over.signal ?? AbortSignal.timeout(45_000),
  self: { agentId: 'agent-1', node: 'node-b' },
  peers: [],
  timeoutMs: over.timeoutMs ?? 30_000,
  ...over,
});

const left = (resource: string) =>
  kube.list(resource, resource === NAMESPACE ? null : NS, 'app.kubernetes.io/managed-by=synthfleet-agent');

beforeAll(async () => {
  kube = await startKubeApi({ resources: WORKLOAD_RESOURCES });
  controller = startKubeController(kube, { nodes: ['node-a', 'node-b', 'node-c'] });
  for (const name of [NS, 'default', 'kube-system']) kube.apply(NAMESPACE, { metadata: { name }, spec: {} });
  kube.apply(SERVICE, {
    metadata: { name: 'kubernetes', namespace: 'default' },
    spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] },
  });
  client = new KubeClient({ server: kube.url, token: kube.token });
  target = await startProbeTarget();
  probes = createProbeSet({
    canPing: false,
    k8s: {
      client,
      defaultNamespace: NS,
      sweepAgeMs: 60_000,
      onSweep: (collection, removed) => swept.push({ collection, removed }),
    },
  });
});

afterAll(async () => {
  controller?.stop();
  client?.close();
  target?.close();
  await kube?.close();
});

afterEach(() => {
  controller.setScheduling('ok');
  controller.setBadImages([]);
});

/** Whatever a run created is gone (graceful deletions included) within a bound. */
async function expectCleanedUp() {
  await waitFor(
    () => [POD, SERVICE, DEPLOYMENT, NAMESPACE].every((r) => left(r).length === 0),
    10_000,
    'every object the run created to be gone',
  );
}

describe('k8sPod', () => {
  it('creates a pause pod pinned to the agent node, waits Running, deletes it, waits until gone: a mark and a timing per step', async () => {
    const seen: KubeObject[] = [];
    const stop = kube.onChange((resource, type, o) => {
      if (resource === POD && type === 'ADDED') seen.push(o);
    });
    const r = await runProbe(probes, 'k8sPod', {}, ctx());
    stop();
    expect(r.details._error).toBeUndefined();
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([5, 5]);
    expect(r.gauges.filter((g) => g.name === 'k8s_step_seconds').map((g) => g.labels?.step)).toEqual([
      'create',
      'scheduled',
      'running',
      'delete',
      'gone',
    ]);
    expect(Object.keys(JSON.parse(r.details.steps as string))).toHaveLength(5);
    expect(seen).toHaveLength(1);
    const pod = seen[0] as KubeObject & { spec: Record<string, unknown> };
    expect(pod.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'synthfleet-agent',
      'synthfleet.dev/probe': 'k8sPod',
      'synthfleet.dev/node': 'node-b',
    });
    expect(JSON.stringify(pod.spec.affinity)).toContain('"values":["node-b"]');
    expect((pod.spec.containers as { image: string }[])[0]?.image).toBe('registry.k8s.io/pause:3.10');
    expect(left(POD)).toEqual([]);
  });

  it('fails at "scheduled" with the scheduler\'s message when the pod cannot be scheduled, and cleans up', async () => {
    controller.setScheduling('fail');
    const r = await runProbe(probes, 'k8sPod', {}, ctx());
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([1, 5]);
    expect(r.details._error).toMatch(
      /^step "scheduled" failed: pod cannot be scheduled: 0\/3 nodes are available: 3 Insufficient cpu/,
    );
    await expectCleanedUp();
  });

  it('fails at "scheduled" when pinned to a node the cluster does not have', async () => {
    const r = await runProbe(probes, 'k8sPod', { nodeName: 'node-gone' }, ctx());
    expect(r.status).toBe('fail');
    expect(r.details._error).toContain("didn't match Pod's node affinity/selector");
    await expectCleanedUp();
  });

  it('fails at "scheduled" when scheduling hangs, at its step deadline, and cleans up', async () => {
    controller.setScheduling('hang');
    const r = await runProbe(probes, 'k8sPod', { stepTimeout: '600ms', pollInterval: '100ms' }, ctx());
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([1, 5]);
    expect(r.details._error).toContain('step "scheduled" failed: pod is still Pending and not scheduled');
    await expectCleanedUp();
  });

  it('fails at "running" when the image cannot be pulled', async () => {
    controller.setBadImages(['registry.example/missing:1']);
    const r = await runProbe(probes, 'k8sPod', { image: 'registry.example/missing:1' }, ctx());
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([2, 5]);
    expect(r.details._error).toContain('step "running" failed: container pause: ErrImagePull');
    await expectCleanedUp();
  });

  it('still cleans up when the run is cut off by its time limit', async () => {
    controller.setScheduling('hang');
    const cut = new AbortController();
    const running = runProbe(
      probes,
      'k8sPod',
      { stepTimeout: '60s', pollInterval: '50ms' },
      ctx({ signal: cut.signal }),
    );
    await waitFor(() => left(POD).length === 1, 5000, 'the pod to be created');
    cut.abort(new DOMException('run exceeded timeouts.run (1s)', 'TimeoutError'));
    await expect(running).rejects.toThrow('run exceeded timeouts.run');
    await expectCleanedUp();
  });

  it('sweeps leftovers of earlier runs older than the bound before its first run, and keeps young ones', async () => {
    // A fresh probe set is a fresh agent process: its sweep has not run yet.
    const fresh = createProbeSet({
      canPing: false,
      k8s: {
        client,
        defaultNamespace: 'sweep',
        sweepAgeMs: 60_000,
        onSweep: (c, removed) => swept.push({ collection: c, removed }),
      },
    });
    kube.apply(NAMESPACE, { metadata: { name: 'sweep' }, spec: {} });
    const labels = { 'app.kubernetes.io/managed-by': 'synthfleet-agent', 'synthfleet.dev/probe': 'k8sPod' };
    const old = new Date(Date.now() - 10 * 60_000).toISOString();
    kube.apply(POD, {
      metadata: { name: 'synthfleet-pod-old', namespace: 'sweep', labels, creationTimestamp: old },
      spec: { nodeName: 'node-a', containers: [] },
    });
    kube.apply(POD, {
      metadata: { name: 'synthfleet-pod-young', namespace: 'sweep', labels },
      spec: { nodeName: 'node-a', containers: [] },
    });
    kube.apply(POD, {
      metadata: { name: 'not-ours', namespace: 'sweep', creationTimestamp: old },
      spec: { nodeName: 'node-a', containers: [] },
    });
    swept = [];
    const r = await runProbe(fresh, 'k8sPod', {}, ctx());
    expect(r.status).toBe('pass');
    expect(swept).toEqual([{ collection: '/api/v1/namespaces/sweep/pods', removed: ['synthfleet-pod-old'] }]);
    await waitFor(() => kube.list(POD, 'sweep').length === 2, 5000, 'the old leftover to be gone');
    expect(
      kube
        .list(POD, 'sweep')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['not-ours', 'synthfleet-pod-young']);
    // Once per collection per process.
    await runProbe(fresh, 'k8sPod', {}, ctx());
    expect(swept).toHaveLength(1);
    for (const name of ['not-ours', 'synthfleet-pod-young']) kube.remove(POD, 'sweep', name);
  });
});

describe('k8sDeployment', () => {
  const port = () => Number(target.url.split(':')[1]);

  it('creates, serves through the service and each pod, rolls a new image, scales to zero, deletes: 12 timed steps', async () => {
    const before = target.hits.get('/') ?? 0;
    const images: string[] = [];
    const rest = new Set<string>();
    const stop = kube.onChange((resource, type, o) => {
      if (resource === POD && type === 'ADDED') {
        const { image, ...others } = (o.spec as { containers: { image: string }[] }).containers[0] ?? { image: '' };
        images.push(image);
        rest.add(JSON.stringify(others));
      }
    });
    const r = await runProbe(
      probes,
      'k8sDeployment',
      { replicas: 3, port: port(), antiAffinity: 'required', pollInterval: '50ms' },
      ctx(),
    );
    stop();
    expect(r.details._error).toBeUndefined();
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([12, 12]);
    expect(r.gauges.filter((g) => g.name === 'k8s_step_seconds').map((g) => g.labels?.step)).toEqual([
      'create deployment',
      'create service',
      'pods ready',
      'endpoints',
      'http via service',
      'http to pods',
      'update image',
      'rollout',
      'scale to zero',
      'endpoints drop',
      'delete',
      'gone',
    ]);
    // Through the service once, then each of the three pods.
    expect((target.hits.get('/') ?? 0) - before).toBe(4);
    // Three pods of the first image, then three of the update.
    expect(images).toEqual([
      ...Array(3).fill('registry.k8s.io/e2e-test-images/agnhost:2.53'),
      ...Array(3).fill('registry.k8s.io/e2e-test-images/agnhost:2.52'),
    ]);
    // The rolled-out pods keep everything but the image: readiness probe, limits, security context.
    expect(rest.size).toBe(1);
    expect(JSON.parse([...rest][0] as string)).toMatchObject({
      readinessProbe: {},
      resources: {},
      securityContext: {},
    });
    await expectCleanedUp();
  });

  it('fails at "http via service" naming the status, and cleans up the deployment and the service', async () => {
    const r = await runProbe(
      probes,
      'k8sDeployment',
      { port: port(), expectedStatus: 204, pollInterval: '50ms' },
      ctx(),
    );
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([4, 12]);
    expect(r.details._error).toMatch(
      /^step "http via service" failed: GET http:\/\/127\.0\.0\.1:\d+\/: status 200, expected 204$/,
    );
    await expectCleanedUp();
  });

  it('fails at "pods ready" when the pods cannot be scheduled', async () => {
    controller.setScheduling('fail');
    const r = await runProbe(probes, 'k8sDeployment', { port: port(), http: false, pollInterval: '50ms' }, ctx());
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([2, 10]);
    expect(r.details._error).toMatch(/step "pods ready" failed: synthfleet-deploy-[\w-]+: pod cannot be scheduled/);
    await expectCleanedUp();
  });
});

describe('k8sDns', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  beforeAll(async () => {
    dns = await startDnsServer({
      a: {
        'kubernetes.default.svc.cluster.local': ['10.96.0.1'],
        'web.shop.svc.cluster.local': ['10.96.3.3'],
        'example.internal': ['192.0.2.7'],
      },
    });
    const dnsPort = Number(dns.address.split(':')[1]);
    kube.apply(SERVICE, {
      metadata: { name: 'kube-dns', namespace: 'kube-system' },
      spec: { clusterIP: '127.0.0.1', ports: [{ name: 'dns', port: dnsPort, protocol: 'UDP' }] },
    });
    kube.apply(NAMESPACE, { metadata: { name: 'shop' }, spec: {} });
  });
  afterAll(() => dns.close());

  it('finds the cluster DNS through the API and resolves kubernetes.default to its ClusterIP', async () => {
    const r = await runProbe(probes, 'k8sDns', { names: ['example.internal'] }, ctx());
    expect(r.details._error).toBeUndefined();
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([3, 3]);
    expect(r.details.resolver).toBe(dns.address);
    expect(r.details._log).toContain('kubernetes.default.svc.cluster.local A: 10.96.0.1');
  });

  it('fails a service name whose answer is not the service ClusterIP the API holds', async () => {
    kube.apply(SERVICE, { metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.3.4' } });
    const r = await runProbe(probes, 'k8sDns', { names: ['web.shop.svc.cluster.local'] }, ctx());
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([2, 3]);
    expect(r.details._error).toContain('web.shop.svc.cluster.local A: answers [10.96.3.3] lack 10.96.3.4');
  });

  it('fails at "resolver" when the DNS service is missing', async () => {
    const r = await runProbe(probes, 'k8sDns', { dnsService: 'kube-system/coredns' }, ctx());
    expect(r.status).toBe('fail');
    expect(r.details._error).toBe(
      'step "resolver" failed: GET /api/v1/namespaces/kube-system/services/coredns: 404 NotFound: services "coredns" not found',
    );
  });
});

describe('k8sNamespace', () => {
  it('creates a namespace, sees it Active and empty, deletes it and waits until it is gone', async () => {
    const r = await runProbe(probes, 'k8sNamespace', { pollInterval: '50ms' }, ctx());
    expect(r.details._error).toBeUndefined();
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([5, 5]);
    expect(r.details.namespace).toMatch(/^synthfleet-probe-\w{6}$/);
    expect(kube.get(NAMESPACE, '', r.details.namespace as string)).toBeUndefined();
  });

  it('fails at "create" with the API server\'s words when RBAC forbids it', async () => {
    kube.forbid(NAMESPACE);
    try {
      const r = await runProbe(probes, 'k8sNamespace', {}, ctx());
      expect(r.status).toBe('fail');
      expect([r.marks, r.maxMarks]).toEqual([0, 5]);
      expect(r.details._error).toBe(
        'step "create" failed: POST /api/v1/namespaces: 403 Forbidden: namespaces is forbidden: the token\'s role does not allow it',
      );
    } finally {
      kube.forbid(NAMESPACE, false);
    }
  });
});

describe('k8sApi', () => {
  it('times a list and a get: two marks, median and max gauges per verb', async () => {
    const r = await runProbe(probes, 'k8sApi', { repeats: 5 }, ctx());
    expect(r.status).toBe('pass');
    expect([r.marks, r.maxMarks]).toEqual([2, 2]);
    const api = r.gauges.filter((g) => g.name === 'k8s_api_request_seconds');
    expect(api.map((g) => `${g.labels?.verb}/${g.labels?.stat}`)).toEqual([
      'list/median',
      'list/max',
      'get/median',
      'get/max',
    ]);
    for (const g of api) expect(g.value).toBeGreaterThan(0);
    expect(r.details._log).toContain('list /api/v1/namespaces/probes/pods?limit=100: median');
  });

  it('fails the step whose slowest request passes maxLatency', async () => {
    const r = await runProbe(probes, 'k8sApi', { maxLatency: { get: 0 } }, ctx());
    expect(r.status).toBe('fail');
    expect([r.marks, r.maxMarks]).toEqual([1, 2]);
    expect(r.details._error).toMatch(
      /^step "get" failed: get \/api\/v1\/namespaces\/default\/services\/kubernetes took \d+ ms, above maxLatency.get \(0 ms\)$/,
    );
  });

  it('rejects a config with an unknown field, naming it', async () => {
    const r = await runProbe(probes, 'k8sApi', { lists: '/api/v1/pods' }, ctx());
    expect(r.status).toBe('error');
    expect(r.details._error).toContain('k8sApi config: Unrecognized key: "lists"');
  });
});
