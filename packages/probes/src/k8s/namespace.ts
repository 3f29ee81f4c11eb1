import { z } from 'zod';
import type { Probe } from '../types.ts';
import { common, type K8sRuntime, type Pod } from './shared.ts';
import { probeLabels, runId, StepFailed, Steps } from './steps.ts';

export const NamespaceConfig = z
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
export type NamespaceConfig = z.infer<typeof NamespaceConfig>;

/** Namespace lifecycle: create, Active, empty, delete, gone. */
export function createK8sNamespaceProbe(k: K8sRuntime): Probe<NamespaceConfig> {
  const { client, sweeper } = k;
  return {
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
}
