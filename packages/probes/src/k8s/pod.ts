import { z } from 'zod';
import type { Probe } from '../types.ts';
import { podManifest } from './manifests.ts';
import { common, Image, type K8sRuntime, type Pod, pendingWhy, podTrouble, Tolerations } from './shared.ts';
import { runId, StepFailed, Steps } from './steps.ts';

export const PodConfig = z
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
export type PodConfig = z.infer<typeof PodConfig>;

/** Pod scheduling on this node: create a pod, see it scheduled and running, delete it, see it gone. */
export function createK8sPodProbe(k: K8sRuntime): Probe<PodConfig> {
  const { client, sweeper, nsOf } = k;
  return {
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
}
