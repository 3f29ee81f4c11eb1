import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLUGINS, SyntheticTest } from '@synthfleet/contracts';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { AGENT_ENV_VARIABLES, parseEnv as parseAgentEnv } from '../apps/agent/src/env.ts';
import { parseEnv as parseSyncerEnv, SyncerEnv } from '../apps/syncer/src/env.ts';
import { renderChart } from './support/helm-template.ts';
import { type Schema, structuralProblems, validateAgainst } from './support/openapi-validate.ts';
import { ROOT } from './support/processes.ts';

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
};
type Container = {
  name: string;
  image: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: Record<string, { name?: string; key?: string; fieldPath?: string }>;
  }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  securityContext?: unknown;
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName?: string;
  tolerations?: unknown[];
  containers: Container[];
  volumes?: { name: string }[];
};
type Workload = K8sObject & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};

const infra = (...p: string[]) => join(ROOT, 'infra', ...p);
const crd = parseYaml(readFileSync(infra('crds', 'synthetictests.synthfleet.dev.yaml'), 'utf8')) as {
  spec: {
    names: { shortNames: string[]; kind: string; plural: string };
    versions: {
      name: string;
      subresources: { status: object };
      additionalPrinterColumns: { name: string; jsonPath: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
};
const version = crd.spec.versions[0] as (typeof crd.spec.versions)[number];
const schema = version.schema.openAPIV3Schema;

function kustomize(): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', infra('kustomize', 'base')], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

function examples(): { file: string; object: Record<string, unknown> }[] {
  return readdirSync(infra('examples'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(infra('examples', file), 'utf8')).map((d) => ({
        file,
        object: d.toJS() as Record<string, unknown>,
      })),
    );
}

/** Every reference inside a set of objects resolves: config maps and keys, secrets, accounts, ports, volumes. */
function referenceProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  for (const o of objects.filter((x) => x.kind === 'DaemonSet' || x.kind === 'Deployment') as Workload[]) {
    const where = `${o.kind}/${o.metadata.name}`;
    const pod = o.spec.template.spec;
    for (const [k, v] of Object.entries(o.spec.selector.matchLabels))
      if (o.spec.template.metadata.labels[k] !== v)
        problems.push(`${where}: selector ${k}=${v} does not match the pod labels`);
    if (pod.serviceAccountName && !find('ServiceAccount', pod.serviceAccountName))
      problems.push(`${where}: service account ${pod.serviceAccountName} is not defined`);
    for (const c of pod.containers) {
      const names = (c.env ?? []).map((e) => e.name);
      if (new Set(names).size !== names.length) problems.push(`${where}: duplicate env names`);
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        if (cm) {
          const map = find('ConfigMap', cm.name as string) as
            | (K8sObject & { data?: Record<string, string> })
            | undefined;
          if (!map || !((cm.key as string) in (map.data ?? {})))
            problems.push(`${where}: ${e.name} reads a missing config key`);
        }
        const sec = e.valueFrom?.secretKeyRef;
        if (sec) {
          const s = find('Secret', sec.name as string) as
            | (K8sObject & { stringData?: Record<string, string> })
            | undefined;
          if (!s || !((sec.key as string) in (s.stringData ?? {})))
            problems.push(`${where}: ${e.name} reads a missing secret key`);
        }
      }
      const ports = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of [c.livenessProbe, c.readinessProbe])
        if (probe && !ports.has(probe.httpGet.port))
          problems.push(`${where}: a probe uses unknown port ${probe.httpGet.port}`);
      for (const m of c.volumeMounts ?? [])
        if (!(pod.volumes ?? []).some((v) => v.name === m.name))
          problems.push(`${where}: mount ${m.name} has no volume`);
    }
  }
  for (const b of objects.filter((x) => x.kind === 'ClusterRoleBinding') as (K8sObject & {
    roleRef: { name: string };
    subjects: { kind: string; name: string; namespace: string }[];
  })[]) {
    if (!find('ClusterRole', b.roleRef.name)) problems.push(`binding ${b.metadata.name}: no role ${b.roleRef.name}`);
    for (const s of b.subjects) {
      const sa = find('ServiceAccount', s.name);
      if (!sa) problems.push(`binding ${b.metadata.name}: no service account ${s.name}`);
      else if ((sa.metadata.namespace ?? s.namespace) !== s.namespace)
        problems.push(`binding ${b.metadata.name}: subject namespace ${s.namespace} is not the account's`);
    }
  }
  return problems;
}

const KNOWN_KINDS: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  Secret: 'v1',
  ConfigMap: 'v1',
  DaemonSet: 'apps/v1',
  Deployment: 'apps/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  CustomResourceDefinition: 'apiextensions.k8s.io/v1',
};

describe('the SyntheticTest CRD', () => {
  it('is a structural schema with the status subresource, printer columns and short name st', () => {
    expect(structuralProblems(schema)).toEqual([]);
    expect(version.name).toBe('v1');
    expect(version.subresources.status).toEqual({});
    expect(crd.spec.names.shortNames).toEqual(['st']);
    expect(version.additionalPrinterColumns.map((c) => c.name.toUpperCase())).toEqual([
      'STATUS',
      'PASSING',
      'FAILING',
      'LAST RUN',
      'PLUGIN',
      'AGE',
    ]);
    // The columns read what the syncer writes.
    expect(version.additionalPrinterColumns.map((c) => c.jsonPath).slice(0, 4)).toEqual([
      '.status.phase',
      '.status.passingAgents',
      '.status.failingAgents',
      '.status.lastRunTime',
    ]);
  });

  it('knows exactly the plugins the contracts know', () => {
    const spec = schema.properties?.spec as Schema;
    const plugin = spec.properties?.plugin as Schema;
    expect(plugin.enum).toEqual([...PLUGINS]);
  });

  it('accepts every example, which the API accepts too', () => {
    const ours = examples().filter((e) => e.object.apiVersion === 'synthfleet.dev/v1');
    expect(ours.length).toBeGreaterThanOrEqual(4);
    for (const e of ours) {
      expect(validateAgainst(schema, e.object), e.file).toEqual([]);
      expect(SyntheticTest.safeParse(e.object).success, e.file).toBe(true);
    }
    const theirs = examples().filter((e) => e.object.apiVersion === 'synheart.infra.webex.com/v1');
    expect(theirs).toHaveLength(1);
    expect(SyntheticTest.safeParse(theirs[0]?.object).success).toBe(true);
  });

  it('rejects what the API rejects, naming the field', () => {
    const base = { apiVersion: 'synthfleet.dev/v1', kind: 'SyntheticTest', metadata: { name: 'x' } };
    const good = { plugin: 'dns', repeat: '30s' };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, plugin: 'teleport' }, /spec\.plugin/],
      [{ ...good, repeat: '10' }, /spec\.repeat/],
      [{ plugin: 'dns' }, /repeat is required unless schedule is set/],
      [{ ...good, node: 'Worker*' }, /spec\.node/],
      [{ ...good, node: 'a$b' }, /spec\.node/],
      [{ ...good, importance: 'urgent' }, /spec\.importance/],
      [{ ...good, timeouts: { run: 'soon' } }, /spec\.timeouts\.run/],
      [{ ...good, quorum: '150%' }, /spec\.quorum/],
      [{ ...good, quorum: 0 }, /spec\.quorum/],
      [{ ...good, dependsOn: 'web' }, /spec\.dependsOn/],
    ];
    for (const [spec, field] of cases) {
      const object = { ...base, spec };
      const errors = validateAgainst(schema, object);
      expect(errors.join('; '), JSON.stringify(spec)).toMatch(field);
      expect(SyntheticTest.safeParse(object).success, JSON.stringify(spec)).toBe(false);
    }
    expect(validateAgainst(schema, { ...base, spec: { plugin: 'dns', schedule: '*/5 * * * *' } })).toEqual([]);
    expect(validateAgainst(schema, { ...base, spec: { ...good, quorum: '60%', config: 'address: x' } })).toEqual([]);
  });

  it('accepts the status the syncer writes', () => {
    const status = {
      phase: 'Failing',
      observedGeneration: 2,
      passingAgents: 1,
      failingAgents: 1,
      assignedAgents: 2,
      nodes: ['a', 'b'],
      lastRunTime: '2026-11-22T10:00:00Z',
      failingSince: '2026-11-22T09:55:00Z',
      lastFailureMessage: 'connection refused',
      conditions: [
        {
          type: 'Valid',
          status: 'True',
          reason: 'Accepted',
          message: 'ok',
          lastTransitionTime: '2026-11-22T09:00:00Z',
        },
      ],
    };
    const object = {
      apiVersion: 'synthfleet.dev/v1',
      kind: 'SyntheticTest',
      metadata: {},
      spec: { plugin: 'dns', repeat: '1m' },
      status,
    };
    expect(validateAgainst(schema, object)).toEqual([]);
  });
});

describe('the kustomize base', () => {
  it('builds offline with kubectl kustomize into well-formed objects whose references all resolve', () => {
    const objects = kustomize();
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual([
      'ClusterRole/synthfleet-syncer',
      'ClusterRoleBinding/synthfleet-syncer',
      'ConfigMap/synthfleet-config',
      'CustomResourceDefinition/synthetictests.synthfleet.dev',
      'DaemonSet/synthfleet-agent',
      'Deployment/synthfleet-syncer',
      'Namespace/synthfleet',
      'Secret/synthfleet-cluster-token',
      'ServiceAccount/synthfleet-agent',
      'ServiceAccount/synthfleet-syncer',
    ]);
    for (const o of objects) {
      expect(o.apiVersion, o.kind).toBe(KNOWN_KINDS[o.kind]);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      const cluster = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(o.kind);
      expect(o.metadata.namespace, `${o.kind} namespace`).toBe(cluster ? undefined : 'synthfleet');
    }
    expect(referenceProblems(objects)).toEqual([]);
    const crdOut = objects.find((o) => o.kind === 'CustomResourceDefinition');
    expect((crdOut as unknown as typeof crd).spec.versions[0]?.schema).toEqual(version.schema);
  });

  it('runs the agent on every node with the downward API, probes and limits', () => {
    const ds = kustomize().find((o) => o.kind === 'DaemonSet') as Workload;
    const pod = ds.spec.template.spec;
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    const agent = pod.containers[0] as Container;
    const fromField = Object.fromEntries(
      (agent.env ?? []).filter((e) => e.valueFrom?.fieldRef).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
    );
    expect(fromField).toEqual({
      NODE_NAME: 'spec.nodeName',
      POD_NAME: 'metadata.name',
      POD_NAMESPACE: 'metadata.namespace',
      POD_IP: 'status.podIP',
    });
    expect(agent.livenessProbe?.httpGet.path).toBe('/healthz');
    expect(agent.readinessProbe?.httpGet.path).toBe('/readyz');
    expect(agent.ports).toEqual([{ name: 'heartbeat', containerPort: 8080, protocol: 'TCP' }]);
    expect(agent).toMatchObject({
      resources: {
        requests: { cpu: expect.any(String), memory: expect.any(String) },
        limits: { memory: expect.any(String) },
      },
    });
  });
});

describe('the Helm chart (rendered by test/support/helm-template.ts; no helm binary here)', () => {
  const values = { apiUrl: 'https://api.example.com', clusterToken: 'sft_test', pushgatewayUrl: 'http://pgw:9091' };

  it('renders the same objects as the kustomize base, field for field where it matters', () => {
    const { objects } = renderChart(infra('helm', 'synthfleet'), { release: 'sf', namespace: 'synthfleet', values });
    const base = kustomize();
    const pair = (kind: string, suffix: string) => [
      objects.find((o) => o.kind === kind && (o as K8sObject).metadata.name.endsWith(suffix)) as K8sObject,
      base.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix)) as K8sObject,
    ];
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'DaemonSet',
        'Deployment',
        'Secret',
        'ServiceAccount',
        'ServiceAccount',
      ].sort(),
    );
    expect(referenceProblems([...(objects as K8sObject[]), ...base.filter((o) => o.kind === 'ConfigMap')])).toEqual([]);

    const [chartRole, baseRole] = pair('ClusterRole', '-syncer');
    expect((chartRole as unknown as { rules: unknown }).rules).toEqual(
      (baseRole as unknown as { rules: unknown }).rules,
    );

    for (const [kind, suffix] of [
      ['DaemonSet', '-agent'],
      ['Deployment', '-syncer'],
    ] as const) {
      const [c, b] = pair(kind, suffix) as [Workload, Workload];
      const cp = c.spec.template.spec;
      const bp = b.spec.template.spec;
      const cc = cp.containers[0] as Container;
      const bc = bp.containers[0] as Container;
      // Every variable the base sets, the chart sets (the chart may set more).
      const chartEnv = new Set((cc.env ?? []).map((e) => e.name));
      for (const e of bc.env ?? []) expect(chartEnv.has(e.name), `${kind} ${e.name}`).toBe(true);
      for (const field of [
        'ports',
        'livenessProbe',
        'readinessProbe',
        'securityContext',
        'volumeMounts',
        'resources',
      ] as const)
        expect(cc[field as keyof Container], `${kind} ${field}`).toEqual(bc[field as keyof Container]);
      expect(cp.tolerations, kind).toEqual(bp.tolerations);
      expect(cp.volumes, kind).toEqual(bp.volumes);
      expect((c.spec as { updateStrategy?: unknown }).updateStrategy).toEqual(
        (b.spec as { updateStrategy?: unknown }).updateStrategy,
      );
      expect(cc.image).toBe(`ghcr.io/synthfleet/${suffix.slice(1)}:0.1.0`);
    }
    const ds = objects.find((o) => o.kind === 'DaemonSet') as Workload;
    const env = Object.fromEntries(
      ((ds.spec.template.spec.containers[0] as Container).env ?? []).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      SYNTHFLEET_API_URL: 'https://api.example.com',
      PUSHGATEWAY_URL: 'http://pgw:9091',
      HEARTBEAT_PORT: '8080',
    });
  });

  it('uses an existing secret when told, and refuses to render without an API URL or a token', () => {
    const chart = infra('helm', 'synthfleet');
    const { objects } = renderChart(chart, {
      release: 'sf',
      namespace: 'ops',
      values: {
        apiUrl: 'https://api.example.com',
        existingSecret: 'my-token',
        syncer: { watchNamespaces: ['a', 'b'] },
      },
    });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    const dep = objects.find((o) => o.kind === 'Deployment') as Workload;
    const env = (dep.spec.template.spec.containers[0] as Container).env ?? [];
    expect(env.find((e) => e.name === 'SYNTHFLEET_TOKEN')?.valueFrom?.secretKeyRef?.name).toBe('my-token');
    expect(env.find((e) => e.name === 'WATCH_NAMESPACES')?.value).toBe('a,b');
    expect(() => renderChart(chart, { release: 'sf', namespace: 'ops', values: { clusterToken: 't' } })).toThrow(
      /apiUrl is required/,
    );
    expect(() => renderChart(chart, { release: 'sf', namespace: 'ops', values: { apiUrl: 'https://x' } })).toThrow(
      /clusterToken or existingSecret/,
    );
  });

  it('sets only variables the agent and syncer know, with values their own parsers accept', () => {
    const { objects } = renderChart(infra('helm', 'synthfleet'), {
      release: 'sf',
      namespace: 'ops',
      values: {
        apiUrl: 'https://api.example.com',
        clusterToken: 'token',
        pushgatewayUrl: 'http://pgw:9091',
        k8sProbes: { pod: true, api: true },
        remedies: { jobs: true },
      },
    });
    // What the downward API and the Secret would fill in on a node.
    const filled: Record<string, string> = {
      NODE_NAME: 'node-1',
      POD_NAME: 'sf-agent-x',
      POD_NAMESPACE: 'ops',
      POD_IP: '10.0.0.5',
      SYNTHFLEET_TOKEN: 'token',
    };
    const envOf = (kind: string) => {
      const w = objects.find((o) => o.kind === kind) as Workload;
      const vars = (w.spec.template.spec.containers[0] as Container).env ?? [];
      return Object.fromEntries(vars.map((e) => [e.name, e.value ?? filled[e.name] ?? `unfilled ${e.name}`]));
    };
    const agent = envOf('DaemonSet');
    for (const name of Object.keys(agent)) expect(AGENT_ENV_VARIABLES, `agent ${name}`).toContain(name);
    expect(parseAgentEnv(agent)).toMatchObject({ CHANGE_SPREAD_SECONDS: 30, K8S_PROBES: ['pod', 'api'] });
    const syncer = envOf('Deployment');
    for (const name of Object.keys(syncer)) expect(Object.keys(SyncerEnv.shape), `syncer ${name}`).toContain(name);
    expect(() => parseSyncerEnv(syncer)).not.toThrow();
  });

  it('ships the same CRD in its crds/ directory', () => {
    expect(readFileSync(infra('helm', 'synthfleet', 'crds', 'synthetictests.synthfleet.dev.yaml'), 'utf8')).toBe(
      readFileSync(infra('crds', 'synthetictests.synthfleet.dev.yaml'), 'utf8'),
    );
  });

  it('documents every value in the chart README', () => {
    const readme = readFileSync(infra('helm', 'synthfleet', 'README.md'), 'utf8');
    const flat = (o: Record<string, unknown>, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        v &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        Object.keys(v).length > 0 &&
        !['resources', 'requests', 'limits'].includes(k)
          ? flat(v as Record<string, unknown>, `${prefix}${k}.`)
          : [`${prefix}${k}`],
      );
    const values = parseYaml(readFileSync(infra('helm', 'synthfleet', 'values.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    for (const key of flat(values)) expect(readme, key).toContain(`\`${key}\``);
  });
});

describe('the alert rules', () => {
  const promtool = (...args: string[]) =>
    execFileSync('promtool', args, { cwd: infra('prometheus'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', 'synthfleet.rules.yaml')).toMatch(/SUCCESS: 17 rules found/);
  });

  it('pass their unit tests with promtool test rules', () => {
    expect(promtool('test', 'rules', 'tests/synthfleet.rules.test.yaml')).toMatch(/SUCCESS/);
  });

  it('watch the metrics the agent really pushes, and those the control plane really serves', () => {
    const rules = readFileSync(infra('prometheus', 'synthfleet.rules.yaml'), 'utf8');
    const [agentRules, controlRules] = rules.split("# The control plane's own series");
    const readme = readFileSync(join(ROOT, 'apps', 'agent', 'README.md'), 'utf8');
    const served = readFileSync(join(ROOT, 'apps', 'api', 'src', 'services', 'control-metrics.ts'), 'utf8');
    // The agent's rules read its pushed series, and the control plane's maintenance gauge.
    for (const metric of new Set(agentRules?.match(/synthfleet_[a-z_]+/g) ?? []))
      if (!served.includes(`'${metric}'`)) expect(readme, metric).toContain(`\`${metric}\``);
    const controlMetrics = new Set(controlRules?.match(/synthfleet_[a-z_]+/g) ?? []);
    expect(controlMetrics.size).toBeGreaterThan(0);
    for (const metric of controlMetrics) expect(served, metric).toContain(`'${metric}'`);
  });
});

describe('the checkout', () => {
  it('ignores every local secret file the docs mention (.dev.vars, .env), so `git add .` cannot commit one', () => {
    for (const file of ['.dev.vars', '.dev.vars.production', '.env', '.env.local', '.synthfleet/worker-dev/dev.env']) {
      // git check-ignore exits 0 when the path is ignored, 1 when not.
      expect(() => execFileSync('git', ['check-ignore', '-q', file], { cwd: ROOT }), file).not.toThrow();
    }
  });
});
