/**
 * The Helm chart's RBAC for the k8s probes and Job remedies, checked against what the code really
 * asks of the API server: every probe family (and the Job remedy) runs against the Kubernetes API
 * double, each request it made is authorised against the Roles the chart renders for that family
 * alone, and every verb the chart grants is one the probe used (least privilege).
 */
import { createLogger } from '@synthfleet/agent/src/logger.ts';
import { Remedies } from '@synthfleet/agent/src/remedies.ts';
import type { AssignedTest, RunResult } from '@synthfleet/contracts';
import { createProbeSet, KubeClient, runProbe } from '@synthfleet/probes';
import { describe, expect, it } from 'vitest';
import { startDnsServer } from '../packages/probes/src/testing/dns-server.ts';
import { renderChart } from './support/helm-template.ts';
import { startKubeApi } from './support/kube-api.ts';
import { JOB, NAMESPACE, SERVICE, startKubeController, WORKLOAD_RESOURCES } from './support/kube-controller.ts';
import { startProbeTarget } from './support/probe-target.ts';
import { waitFor } from './support/wait.ts';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type Grant = { namespace: string | null; rule: Rule };
type Access = { verb: string; group: string; resource: string; namespace: string | null; name?: string };

const RELEASE = 'sf';
const PROBES_NS = 'probes';

/** The rules bound to the agent's service account when only `values` are on. */
function grantsFor(values: Record<string, unknown>): Grant[] {
  const { objects } = renderChart('infra/helm/synthfleet', {
    release: RELEASE,
    namespace: 'synthfleet',
    values: { apiUrl: 'https://api.example.com', clusterToken: 't', ...values },
  });
  type Obj = {
    kind: string;
    metadata: { name: string; namespace?: string };
    rules?: Rule[];
    roleRef?: { kind: string; name: string };
    subjects?: { name: string }[];
  };
  const all = objects as Obj[];
  const out: Grant[] = [];
  for (const b of all.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    if (!b.subjects?.some((s) => s.name === `${RELEASE}-agent`)) continue;
    const role = all.find((o) => o.kind === b.roleRef?.kind && o.metadata.name === b.roleRef?.name);
    for (const rule of role?.rules ?? [])
      out.push({ namespace: b.kind === 'RoleBinding' ? (b.metadata.namespace ?? null) : null, rule });
  }
  return out;
}

/** What the API server's authorizer makes of a request path and method. */
function accessOf(method: string, pathWithQuery: string): Access {
  const url = new URL(pathWithQuery, 'http://x');
  const m = url.pathname.match(/^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/);
  if (!m) throw new Error(`unexpected path ${pathWithQuery}`);
  if (url.pathname.match(/^\/api\/v1\/namespaces\/[^/]+$/)) {
    const verb = method === 'GET' ? 'get' : method === 'DELETE' ? 'delete' : 'update';
    return { verb, group: '', resource: 'namespaces', namespace: null, name: url.pathname.split('/')[4] };
  }
  const group = m[1] ?? '';
  const namespace = m[2];
  const resource = m[3] as string;
  const name = m[4];
  const verb =
    method === 'POST'
      ? 'create'
      : method === 'DELETE'
        ? 'delete'
        : method === 'PATCH'
          ? 'patch'
          : method === 'PUT'
            ? 'update'
            : name
              ? 'get'
              : url.searchParams.get('watch') === 'true'
                ? 'watch'
                : 'list';
  return { verb, group, resource, namespace: resource === 'namespaces' ? null : (namespace ?? null), name };
}

function allows(g: Grant, a: Access): boolean {
  if (g.namespace !== null && g.namespace !== a.namespace) return false;
  const r = g.rule;
  return (
    r.apiGroups.includes(a.group) &&
    r.resources.includes(a.resource) &&
    r.verbs.includes(a.verb) &&
    (!r.resourceNames || (a.name !== undefined && r.resourceNames.includes(a.name)))
  );
}

async function cluster() {
  const kube = await startKubeApi({ resources: WORKLOAD_RESOURCES });
  const controller = startKubeController(kube, { nodes: ['node-a'] });
  for (const name of [PROBES_NS, 'default', 'kube-system']) kube.apply(NAMESPACE, { metadata: { name }, spec: {} });
  kube.apply(SERVICE, { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1' } });
  const client = new KubeClient({ server: kube.url, token: kube.token });
  const before = kube.requests().length;
  return {
    kube,
    client,
    requests: () => kube.requests().slice(before),
    async close() {
      controller.stop();
      client.close();
      await kube.close();
    },
  };
}

/** Each request authorised, and each granted verb used. */
function check(values: Record<string, unknown>, requests: { method: string; path: string }[]) {
  const grants = grantsFor(values);
  const accesses = requests.map((r) => accessOf(r.method, r.path));
  const denied = accesses.filter((a) => !grants.some((g) => allows(g, a)));
  expect(denied, 'requests the chart does not allow').toEqual([]);
  for (const g of grants)
    for (const verb of g.rule.verbs)
      for (const resource of g.rule.resources)
        expect(
          accesses.some((a) =>
            allows({ namespace: g.namespace, rule: { ...g.rule, verbs: [verb], resources: [resource] } }, a),
          ),
          `granted but unused: ${verb} ${resource} in ${g.namespace ?? 'the cluster'}`,
        ).toBe(true);
}

const ctx = () => ({
  signal: AbortSignal.timeout(45_000),
  self: { agentId: 'a', node: 'node-a' },
  peers: [],
  timeoutMs: 30_000,
});

describe('the chart grants each k8s probe family exactly what it uses', () => {
  const families = [
    ['pod', 'k8sPod', { pollInterval: '50ms' }],
    ['deployment', 'k8sDeployment', { pollInterval: '50ms', replicas: 2 }],
    ['dns', 'k8sDns', {}],
    ['namespaces', 'k8sNamespace', { pollInterval: '50ms' }],
    ['api', 'k8sApi', {}],
  ] as const;
  for (const [value, plugin, config] of families) {
    it(`${plugin} (k8sProbes.${value})`, async () => {
      const c = await cluster();
      const target = await startProbeTarget();
      const dns = await startDnsServer({ a: { 'kubernetes.default.svc.cluster.local': ['10.96.0.1'] } });
      try {
        c.kube.apply(SERVICE, {
          metadata: { name: 'kube-dns', namespace: 'kube-system' },
          spec: {
            clusterIP: '127.0.0.1',
            ports: [{ name: 'dns', port: Number(dns.address.split(':')[1]), protocol: 'UDP' }],
          },
        });
        const probes = createProbeSet({ canPing: false, k8s: { client: c.client, defaultNamespace: PROBES_NS } });
        const extra = plugin === 'k8sDeployment' ? { port: Number(target.url.split(':')[1]) } : {};
        const r = await runProbe(probes, plugin, { ...config, ...extra }, ctx());
        expect(r.details._error).toBeUndefined();
        expect(r.status).toBe('pass');
        check({ k8sProbes: { [value]: true, namespace: PROBES_NS } }, c.requests());
      } finally {
        dns.close();
        target.close();
        await c.close();
      }
    });
  }

  it('Job remedies (remedies.jobs)', async () => {
    const c = await cluster();
    try {
      const finished: string[] = [];
      const remedies = new Remedies({
        claim: async () => ({
          remedyId: '00000000-0000-4000-8000-000000000001',
          kind: 'job',
          attempt: 1,
          runsLimit: null,
        }),
        finish: async (_id, outcome) => {
          finished.push(outcome.status);
        },
        kube: c.client,
        namespace: PROBES_NS,
        node: 'node-a',
        cluster: () => 'edge',
        logger: createLogger('silent', {}),
      });
      const test = {
        namespace: 'default',
        name: 'web',
        revision: 1,
        spec: {
          remedy: {
            after: 1,
            job: { spec: { template: { spec: { containers: [{ name: 'x', image: 'busybox' }] } } }, timeout: '30s' },
          },
        },
      } as unknown as AssignedTest;
      remedies.onResult(test, { runId: 'run-00000001', status: 'fail', marks: 0, maxMarks: 1 } as RunResult);
      await waitFor(() => finished.length === 1, 20_000, 'the remedy to finish');
      expect(finished).toEqual(['succeeded']);
      expect(c.kube.list(JOB, PROBES_NS)).toHaveLength(1);
      check({ remedies: { jobs: true }, k8sProbes: { namespace: PROBES_NS } }, c.requests());
    } finally {
      await c.close();
    }
  });

  it('grants nothing and mounts no token with every family off', () => {
    expect(grantsFor({})).toEqual([]);
    const { objects } = renderChart('infra/helm/synthfleet', {
      release: RELEASE,
      namespace: 'synthfleet',
      values: { apiUrl: 'https://api.example.com', clusterToken: 't' },
    });
    const ds = objects.find((o) => o.kind === 'DaemonSet') as {
      spec: { template: { spec: { automountServiceAccountToken: boolean } } };
    };
    expect(ds.spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});
