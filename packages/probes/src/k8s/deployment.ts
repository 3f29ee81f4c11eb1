import { z } from 'zod';
import { Span } from '../config.ts';
import type { Probe, ProbeContext } from '../types.ts';
import { httpCheck } from './http-check.ts';
import { appContainer, deploymentManifest, serviceManifest } from './manifests.ts';
import {
  common,
  type Deployment,
  type EndpointSlice,
  hostOf,
  Image,
  type K8sRuntime,
  type Pod,
  podTrouble,
  type Service,
  Tolerations,
} from './shared.ts';
import { probeLabels, RUN_LABEL, runId, StepFailed, Steps } from './steps.ts';

export const DeploymentConfig = z
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
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;

/** A deployment's whole life: create, service endpoints, HTTP through the service and to each pod, image update and rollout, scale to zero, delete. */
export function createK8sDeploymentProbe(k: K8sRuntime): Probe<DeploymentConfig> {
  const { client, sweeper, nsOf } = k;
  return {
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
            serviceManifest(name, labels, selector, config.port),
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
            clusterIP ||= (await client.get<Service>(`${services}/${name}`, ctx.signal)).spec?.clusterIP ?? '';
            await httpViaService(clusterIP, config, ctx);
          });
          await steps.step('http to pods', async () =>
            httpToPods((await client.list<Pod>(pods, byRun, ctx.signal)).items, config, ctx),
          );
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
}

/** GET through the service's ClusterIP. */
async function httpViaService(clusterIP: string, config: DeploymentConfig, ctx: ProbeContext): Promise<void> {
  if (!clusterIP || clusterIP === 'None') throw new StepFailed('the service has no ClusterIP');
  await httpCheck(
    `http://${hostOf(clusterIP)}:${config.port}${config.path}`,
    config.expectedStatus,
    config.httpTimeout,
    ctx,
  );
}

/** GET each pod of the deployment at its own address: every replica must answer. */
async function httpToPods(list: readonly Pod[], config: DeploymentConfig, ctx: ProbeContext): Promise<void> {
  const ips = list.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.status?.podIP);
  if (ips.length !== config.replicas || ips.some((ip) => !ip)) {
    throw new StepFailed(`expected ${config.replicas} pods with addresses, found ${ips.filter(Boolean).length}`);
  }
  for (const ip of ips) {
    await httpCheck(
      `http://${hostOf(ip as string)}:${config.port}${config.path}`,
      config.expectedStatus,
      config.httpTimeout,
      ctx,
    );
  }
}
