import { z } from 'zod';
import { Span } from '../config.ts';
import { dnsProbe } from '../dns.ts';
import type { Probe, ProbeOutcome } from '../types.ts';
import { errorMessage, seconds } from '../util.ts';
import type { KubeClient } from './client.ts';
import { httpCheck } from './http-check.ts';
import { probeLabels, RUN_LABEL, runId, StepFailed, Steps, Sweeper } from './steps.ts';

export { K8S_FAMILIES, type K8sFamily } from '@synthfleet/contracts';

import { K8S_FAMILIES, type K8sFamily } from '@synthfleet/contracts';

export type K8sProbeOptions = {
  client: KubeClient;
  /** Where probes create objects when their config names no namespace (the agent's own). */
  defaultNamespace: string;
  /** Leftovers older than this are removed by the startup sweep (default 15 minutes). */
  sweepAgeMs?: number;
  families?: readonly K8sFamily[];
  onSweep?: (collection: string, removed: string[]) => void;
};

const Namespace = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (a DNS label)');

const common = {
  namespace: Namespace.optional(),
  /** How often a wait looks again. */
  pollInterval: Span.default(250),
  /** How long one wait may take; by default the run's limit less time kept for cleanup. */
  stepTimeout: Span.optional(),
  /** How long cleanup may take after a failure, a timeout or a cancel. */
  cleanupTimeout: Span.default(30_000),
};

const Image = z.string().min(1).max(512);
const Tolerations = z.array(z.record(z.string(), z.unknown())).max(50);

const PodConfig = z
  .object({
    ...common,
    image: Image.default('registry.k8s.io/pause:3.10'),
    /** Pin the pod to the agent's node (the node test: can *this* node start pods?). */
    pinToNode: z.boolean().default(true),
    /** Pin to this node instead (overrides pinToNode). */
    nodeName: z.string().max(253).optional(),
    tolerations: Tolerations.optional(),
    priorityClassName: z.string().max(253).optional(),
    imagePullSecrets: z.array(z.string()).max(10).optional(),
  })
  .strict();
type PodConfig = z.infer<typeof PodConfig>;

const DeploymentConfig = z
  .object({
    ...common,
    replicas: z.number().int().min(1).max(20).default(2),
    image: Image.default('registry.k8s.io/e2e-test-images/agnhost:2.53'),
    /** The image the rollout step moves to. */
    updateImage: Image.default('registry.k8s.io/e2e-test-images/agnhost:2.52'),
    args: z.array(z.string()).max(50).default(['netexec', '--http-port=8080']),
    /** The port the pods serve HTTP on; the service exposes the same port. */
    port: z.number().int().min(1).max(65535).default(8080),
    path: z.string().startsWith('/').default('/'),
    expectedStatus: z.number().int().min(100).max(599).default(200),
    /** Spread the replicas over nodes: `preferred` or `required` pod anti-affinity. */
    antiAffinity: z.enum(['none', 'preferred', 'required']).default('none'),
    /** Skip the HTTP steps (clusters where the agent cannot reach pod or service addresses). */
    http: z.boolean().default(true),
    httpTimeout: Span.default(5000),
    tolerations: Tolerations.optional(),
  })
  .strict();
type DeploymentConfig = z.infer<typeof DeploymentConfig>;

const DnsName = z.union([
  z.string().min(1).max(253),
  z.object({ name: z.string().min(1).max(253), expect: z.array(z.string()).optional() }).strict(),
]);

const K8sDnsConfig = z
  .object({
    /** Names to resolve besides `kubernetes.default.svc.<clusterDomain>`. */
    names: z.array(DnsName).max(100).default([]),
    /** Also resolve the API server's service and expect its ClusterIP. */
    kubernetesService: z.boolean().default(true),
    clusterDomain: z.string().min(1).max(253).default('cluster.local'),
    /** `host:port` of the resolver; by default the cluster DNS service found through the API. */
    server: z.string().optional(),
    /** The cluster DNS service, `namespace/name`. */
    dnsService: z
      .string()
      .regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'must be namespace/name')
      .default('kube-system/kube-dns'),
    /** For names `<svc>.<ns>.svc.<domain>`, expect the service's ClusterIP (read through the API). */
    expectServiceIPs: z.boolean().default(true),
    repeats: z.number().int().min(1).max(20).default(1),
    timeout: Span.default(2000),
  })
  .strict();
type K8sDnsConfig = z.infer<typeof K8sDnsConfig>;

const NamespaceConfig = z
  .object({
    pollInterval: common.pollInterval,
    stepTimeout: common.stepTimeout,
    cleanupTimeout: common.cleanupTimeout,
    /** Prefix of the namespace created (a run id and the node's hash follow). */
    prefix: z
      .string()
      .max(30)
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must start a DNS label')
      .default('synthfleet-probe'),
  })
  .strict();
type NamespaceConfig = z.infer<typeof NamespaceConfig>;

const ApiConfig = z
  .object({
    namespace: Namespace.optional(),
    /** API path listed; `{namespace}` is replaced. */
    list: z.string().startsWith('/').default('/api/v1/namespaces/{namespace}/pods?limit=100'),
    /** API path read; the `kubernetes` service exists in every cluster. */
    get: z.string().startsWith('/').default('/api/v1/namespaces/default/services/kubernetes'),
    repeats: z.number().int().min(1).max(50).default(3),
    /** A step fails when its slowest request takes longer. */
    maxLatency: z.object({ list: Span.optional(), get: Span.optional() }).strict().default({}),
  })
  .strict();
type ApiConfig = z.infer<typeof ApiConfig>;

type Pod = {
  metadata: { name: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      ready?: boolean;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
};
type Deployment = {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
};
type Service = { spec?: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] } };
type EndpointSlice = { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] };

const STUCK = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'CrashLoopBackOff',
  'RunContainerError',
]);

/** Why a pod will not get to Running by itself, or undefined while it still may. */
function podTrouble(pod: Pod): string | undefined {
  const s = pod.status ?? {};
  if (s.phase === 'Failed' || s.phase === 'Succeeded')
    return `pod ended ${s.phase}${s.reason ? ` (${s.reason}${s.message ? `: ${s.message}` : ''})` : ''}`;
  const unschedulable = s.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable) return `pod cannot be scheduled: ${unschedulable.message ?? 'Unschedulable'}`;
  for (const c of s.containerStatuses ?? []) {
    const w = c.state?.waiting;
    if (w?.reason && STUCK.has(w.reason)) return `container ${c.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}`;
  }
  return undefined;
}

function pendingWhy(pod: Pod | undefined): string {
  if (!pod) return 'the pod is gone';
  const s = pod.status ?? {};
  const waiting = s.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
  const cond = s.conditions?.find((c) => c.status === 'False' && c.message);
  return `pod is ${s.phase ?? 'Pending'}${pod.spec?.nodeName ? ` on ${pod.spec.nodeName}` : ', not scheduled'}${waiting ? ` (${waiting})` : ''}${cond ? ` (${cond.type}: ${cond.message})` : ''}`;
}

const hostOf = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** The Kubernetes probes this agent offers, sharing one client and one leftover sweep. */
export function createK8sProbes(options: K8sProbeOptions): Probe<unknown>[] {
  const { client } = options;
  const sweeper = new Sweeper(client, options.sweepAgeMs ?? 15 * 60_000, options.onSweep);
  const nsOf = (given: string | undefined) => given ?? options.defaultNamespace;
  const families = new Set(options.families ?? (Object.keys(K8S_FAMILIES) as K8sFamily[]));

  const k8sPod: Probe<PodConfig> = {
    plugin: 'k8sPod',
    config: PodConfig,
    async run(config, ctx) {
      const ns = nsOf(config.namespace);
      const base = `/api/v1/namespaces/${ns}/pods`;
      await sweeper.sweep(base);
      const run = runId();
      const name = `synthfleet-pod-${run}`;
      const path = `${base}/${name}`;
      const node = config.nodeName ?? (config.pinToNode ? ctx.self.node : undefined);
      const steps = new Steps(['create', 'scheduled', 'running', 'delete', 'gone'], ctx, config.stepTimeout);
      const live: string[] = [];
      let gone = false;
      const cleanup = { client, leftovers: () => live, timeoutMs: config.cleanupTimeout };
      await steps.run(async () => {
        await steps.step('create', async () => {
          await client.create(base, podManifest(name, ctx.self.node, run, config, node), ctx.signal);
          live.push(path);
        });
        await steps.step('scheduled', () =>
          steps.until(
            async () => {
              const pod = await client.get<Pod>(path, ctx.signal);
              if (pod.spec?.nodeName) return pod.spec.nodeName;
              const trouble = podTrouble(pod);
              if (trouble) throw new StepFailed(trouble);
              return undefined;
            },
            config.pollInterval,
            () => 'pod is still Pending and not scheduled (the scheduler has said nothing)',
          ),
        );
        let last: Pod | undefined;
        await steps.step('running', () =>
          steps.until(
            async () => {
              last = await client.get<Pod>(path, ctx.signal);
              if (last.status?.phase === 'Running') return true;
              const trouble = podTrouble(last);
              if (trouble) throw new StepFailed(trouble);
              return undefined;
            },
            config.pollInterval,
            () => pendingWhy(last),
          ),
        );
        await steps.step('delete', () => client.remove(path, ctx.signal));
        await steps.step('gone', () =>
          steps.until(
            async () => ((await client.find<Pod>(path, ctx.signal)) === undefined ? true : undefined),
            config.pollInterval,
            () => 'pod is still terminating',
          ),
        );
        live.length = 0;
        gone = true;
      }, cleanup);
      return steps.outcome({ details: { pod: `${ns}/${name}`, ...(gone ? { node: node ?? '' } : {}) } });
    },
  };

  const k8sDeployment: Probe<DeploymentConfig> = {
    plugin: 'k8sDeployment',
    config: DeploymentConfig,
    async run(config, ctx) {
      const ns = nsOf(config.namespace);
      const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
      const services = `/api/v1/namespaces/${ns}/services`;
      const pods = `/api/v1/namespaces/${ns}/pods`;
      await Promise.all([sweeper.sweep(deployments), sweeper.sweep(services)]);
      const run = runId();
      const name = `synthfleet-deploy-${run}`;
      const labels = probeLabels('k8sDeployment', ctx.self.node, run);
      const selector = { [RUN_LABEL]: run, app: name };
      const byRun = `${RUN_LABEL}=${run},app=${name}`;
      const plan = [
        'create deployment',
        'create service',
        'pods ready',
        'endpoints',
        ...(config.http ? ['http via service', 'http to pods'] : []),
        'update image',
        'rollout',
        'scale to zero',
        'endpoints drop',
        'delete',
        'gone',
      ];
      const steps = new Steps(plan, ctx, config.stepTimeout);
      const created: string[] = [];
      const cleanup = { client, leftovers: () => created, timeoutMs: config.cleanupTimeout };
      const deployment = async () => client.get<Deployment>(`${deployments}/${name}`, ctx.signal);
      const readyEndpoints = async () => {
        const slices = await client.list<EndpointSlice>(
          `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
          `kubernetes.io/service-name=${name}`,
          ctx.signal,
        );
        return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false));
      };
      let seen = '';
      const rolledOut = (want: number) => async () => {
        const d = await deployment();
        const st = d.status ?? {};
        seen = `generation ${d.metadata.generation}, observed ${st.observedGeneration ?? 0}, updated ${st.updatedReplicas ?? 0}, ready ${st.readyReplicas ?? 0}, replicas ${st.replicas ?? 0} of ${want}`;
        const done =
          (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
          (st.updatedReplicas ?? 0) === want &&
          (st.readyReplicas ?? 0) === want &&
          (st.availableReplicas ?? 0) === want &&
          (st.replicas ?? 0) === want;
        if (done) return true;
        const list = await client.list<Pod>(pods, byRun, ctx.signal);
        for (const p of list.items) {
          const trouble = podTrouble(p);
          if (trouble) throw new StepFailed(`${p.metadata.name}: ${trouble}`);
        }
        return undefined;
      };
      await steps.run(async () => {
        await steps.step('create deployment', async () => {
          await client.create(deployments, deploymentManifest(name, labels, selector, config), ctx.signal);
          created.push(`${deployments}/${name}`);
        });
        let clusterIP = '';
        await steps.step('create service', async () => {
          const svc = await client.create<Service>(
            services,
            {
              apiVersion: 'v1',
              kind: 'Service',
              metadata: { name, labels },
              spec: {
                selector,
                ports: [{ name: 'http', port: config.port, targetPort: config.port, protocol: 'TCP' }],
              },
            },
            ctx.signal,
          );
          created.push(`${services}/${name}`);
          clusterIP = svc.spec?.clusterIP ?? '';
        });
        await steps.step('pods ready', () => steps.until(rolledOut(config.replicas), config.pollInterval, () => seen));
        let count = 0;
        await steps.step('endpoints', () =>
          steps.until(
            async () => {
              count = (await readyEndpoints()).length;
              return count === config.replicas ? true : undefined;
            },
            config.pollInterval,
            () => `the service has ${count} ready endpoints, expected ${config.replicas}`,
          ),
        );
        if (config.http) {
          await steps.step('http via service', async () => {
            if (!clusterIP)
              clusterIP = (await client.get<Service>(`${services}/${name}`, ctx.signal)).spec?.clusterIP ?? '';
            if (!clusterIP || clusterIP === 'None') throw new StepFailed('the service has no ClusterIP');
            await httpCheck(
              `http://${hostOf(clusterIP)}:${config.port}${config.path}`,
              config.expectedStatus,
              config.httpTimeout,
              ctx,
            );
          });
          await steps.step('http to pods', async () => {
            const list = await client.list<Pod>(pods, byRun, ctx.signal);
            const ips = list.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.status?.podIP);
            if (ips.length !== config.replicas || ips.some((ip) => !ip))
              throw new StepFailed(
                `expected ${config.replicas} pods with addresses, found ${ips.filter(Boolean).length}`,
              );
            for (const ip of ips)
              await httpCheck(
                `http://${hostOf(ip as string)}:${config.port}${config.path}`,
                config.expectedStatus,
                config.httpTimeout,
                ctx,
              );
          });
        }
        await steps.step('update image', () =>
          client.patch(
            `${deployments}/${name}`,
            { spec: { template: { spec: { containers: [appContainer(config, config.updateImage)] } } } },
            ctx.signal,
          ),
        );
        await steps.step('rollout', () => steps.until(rolledOut(config.replicas), config.pollInterval, () => seen));
        await steps.step('scale to zero', () =>
          client.patch(`${deployments}/${name}`, { spec: { replicas: 0 } }, ctx.signal),
        );
        await steps.step('endpoints drop', () =>
          steps.until(
            async () => {
              count = (await readyEndpoints()).length;
              return count === 0 ? true : undefined;
            },
            config.pollInterval,
            () => `the service still has ${count} ready endpoints after scaling to zero`,
          ),
        );
        await steps.step('delete', async () => {
          await client.remove(`${services}/${name}`, ctx.signal);
          await client.remove(`${deployments}/${name}`, ctx.signal);
        });
        let left = 0;
        await steps.step('gone', () =>
          steps.until(
            async () => {
              const d = await client.find(`${deployments}/${name}`, ctx.signal);
              left = (await client.list<Pod>(pods, byRun, ctx.signal)).items.length;
              return d === undefined && left === 0 ? true : undefined;
            },
            config.pollInterval,
            () => `the deployment or ${left} of its pods are still there`,
          ),
        );
        created.length = 0;
      }, cleanup);
      return steps.outcome({ details: { deployment: `${ns}/${name}` } });
    },
  };

  const k8sDns: Probe<K8sDnsConfig> = {
    plugin: 'k8sDns',
    config: K8sDnsConfig,
    async run(config, ctx) {
      const steps = new Steps(['resolver'], ctx, undefined);
      const serviceIP = async (ns: string, svc: string) =>
        (await client.get<Service>(`/api/v1/namespaces/${ns}/services/${svc}`, ctx.signal)).spec?.clusterIP;
      let server = config.server;
      await steps.run(() =>
        steps.step('resolver', async () => {
          if (server) return;
          const [ns, svc] = config.dnsService.split('/') as [string, string];
          const found = await client.get<Service>(`/api/v1/namespaces/${ns}/services/${svc}`, ctx.signal);
          const ip = found.spec?.clusterIP;
          if (!ip || ip === 'None') throw new StepFailed(`service ${config.dnsService} has no ClusterIP`);
          const port = found.spec?.ports?.find((p) => (p.protocol ?? 'UDP') === 'UDP')?.port ?? 53;
          server = `${hostOf(ip)}:${port}`;
        }),
      );
      if (server === undefined) return steps.outcome();
      const domain = config.clusterDomain.replace(/\.$/, '');
      const wanted = [...(config.kubernetesService ? [`kubernetes.default.svc.${domain}`] : []), ...config.names].map(
        (n) => (typeof n === 'string' ? { name: n } : n),
      );
      const domains: { name: string; expect?: string[] }[] = [];
      for (const n of wanted) {
        let expect = n.expect;
        const m = n.name.match(new RegExp(`^([a-z0-9-]+)\\.([a-z0-9-]+)\\.svc\\.${domain.replace(/\./g, '\\.')}\\.?$`));
        if (!expect && m && config.expectServiceIPs) {
          try {
            const ip = await serviceIP(m[2] as string, m[1] as string);
            if (ip && ip !== 'None') expect = [ip];
          } catch (err) {
            steps.log.push(`${n.name}: cannot read the service to know its ClusterIP: ${errorMessage(err)}`);
          }
        }
        domains.push({ name: n.name, expect });
      }
      const base = steps.outcome();
      if (domains.length === 0) return { ...base, status: 'skipped', log: [...base.log, 'no names to resolve'] };
      const found: ProbeOutcome = await dnsProbe.run(
        { domains, repeats: config.repeats, workers: 4, server, type: 'A', timeout: config.timeout },
        ctx,
      );
      return {
        marks: base.marks + found.marks,
        maxMarks: base.maxMarks + found.maxMarks,
        log: [...base.log, `resolver ${server}`, ...found.log],
        error: found.error,
        details: { ...base.details, resolver: server ?? '' },
        gauges: [...(base.gauges ?? []), ...(found.gauges ?? [])],
      };
    },
  };

  const k8sNamespace: Probe<NamespaceConfig> = {
    plugin: 'k8sNamespace',
    config: NamespaceConfig,
    async run(config, ctx) {
      await sweeper.sweep('/api/v1/namespaces');
      const run = runId();
      const name = `${config.prefix}-${run}`;
      const path = `/api/v1/namespaces/${name}`;
      const steps = new Steps(['create', 'active', 'empty', 'delete', 'gone'], ctx, config.stepTimeout);
      const live: string[] = [];
      const cleanup = { client, leftovers: () => live, timeoutMs: config.cleanupTimeout };
      let phase = '';
      await steps.run(async () => {
        await steps.step('create', async () => {
          await client.create(
            '/api/v1/namespaces',
            {
              apiVersion: 'v1',
              kind: 'Namespace',
              metadata: { name, labels: probeLabels('k8sNamespace', ctx.self.node, run) },
            },
            ctx.signal,
          );
          live.push(path);
        });
        await steps.step('active', () =>
          steps.until(
            async () => {
              phase = (await client.get<{ status?: { phase?: string } }>(path, ctx.signal)).status?.phase ?? '';
              return phase === 'Active' ? true : undefined;
            },
            config.pollInterval,
            () => `namespace is ${phase || 'without a phase'}, not Active`,
          ),
        );
        await steps.step('empty', async () => {
          const list = await client.list<Pod>(`${path}/pods`, undefined, ctx.signal);
          if (list.items.length > 0)
            throw new StepFailed(
              `a new namespace holds ${list.items.length} pods: ${list.items
                .map((p) => p.metadata.name)
                .slice(0, 5)
                .join(', ')}`,
            );
        });
        await steps.step('delete', () => client.remove(path, ctx.signal));
        await steps.step('gone', () =>
          steps.until(
            async () => {
              const ns = await client.find<{ status?: { phase?: string } }>(path, ctx.signal);
              phase = ns?.status?.phase ?? '';
              return ns === undefined ? true : undefined;
            },
            config.pollInterval,
            () => `namespace is still there (${phase || 'no phase'})`,
          ),
        );
        live.length = 0;
      }, cleanup);
      return steps.outcome({ details: { namespace: name } });
    },
  };

  const k8sApi: Probe<ApiConfig> = {
    plugin: 'k8sApi',
    config: ApiConfig,
    async run(config, ctx) {
      const ns = nsOf(config.namespace);
      const steps = new Steps(['list', 'get'], ctx, undefined);
      const gauges: { name: string; value: number; labels: Record<string, string> }[] = [];
      const measure = async (verb: 'list' | 'get', path: string) => {
        const times: number[] = [];
        for (let i = 0; i < config.repeats; i++) {
          const t0 = performance.now();
          await client.get(path, ctx.signal);
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        const max = times.at(-1) as number;
        const median = times[Math.floor(times.length / 2)] as number;
        gauges.push(
          { name: 'k8s_api_request_seconds', value: seconds(median), labels: { verb, stat: 'median' } },
          { name: 'k8s_api_request_seconds', value: seconds(max), labels: { verb, stat: 'max' } },
        );
        steps.log.push(
          `${verb} ${path}: median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${times.length}`,
        );
        const limit = config.maxLatency[verb];
        if (limit !== undefined && max > limit)
          throw new StepFailed(`${verb} ${path} took ${max.toFixed(0)} ms, above maxLatency.${verb} (${limit} ms)`);
      };
      await steps.run(async () => {
        await steps.step('list', () => measure('list', config.list.replaceAll('{namespace}', ns)));
        await steps.step('get', () => measure('get', config.get.replaceAll('{namespace}', ns)));
      });
      return steps.outcome({ gauges });
    },
  };

  const all = { pod: k8sPod, deployment: k8sDeployment, dns: k8sDns, namespace: k8sNamespace, api: k8sApi };
  return (Object.keys(all) as K8sFamily[]).filter((f) => families.has(f)).map((f) => all[f] as Probe<unknown>);
}

function podManifest(name: string, agentNode: string, run: string, config: PodConfig, node: string | undefined) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: probeLabels('k8sPod', agentNode, run) },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(node
        ? {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
                },
              },
            },
          }
        : {}),
      ...(config.tolerations ? { tolerations: config.tolerations } : {}),
      ...(config.priorityClassName ? { priorityClassName: config.priorityClassName } : {}),
      ...(config.imagePullSecrets ? { imagePullSecrets: config.imagePullSecrets.map((n) => ({ name: n })) } : {}),
      securityContext: { runAsNonRoot: true, runAsUser: 65535, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'pause',
          image: config.image,
          resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { memory: '16Mi' } },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
}

/**
 * The deployment's one container. The image update sends it whole again: a merge patch replaces
 * the containers list, so anything left out (the readiness probe, limits, security context) would
 * be dropped from the rolled-out pods.
 */
function appContainer(config: DeploymentConfig, image: string) {
  return {
    name: 'app',
    image,
    args: config.args,
    ports: [{ containerPort: config.port }],
    readinessProbe: { httpGet: { path: config.path, port: config.port }, periodSeconds: 2 },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

function deploymentManifest(
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  config: DeploymentConfig,
) {
  const term = { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' };
  const affinity =
    config.antiAffinity === 'required'
      ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }
      : config.antiAffinity === 'preferred'
        ? {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
            },
          }
        : undefined;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: config.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels, ...selector } },
        spec: {
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(affinity ? { affinity } : {}),
          ...(config.tolerations ? { tolerations: config.tolerations } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 65535, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [appContainer(config, config.image)],
        },
      },
    },
  };
}
