import { z } from 'zod';
import { Span } from '../config.ts';
import type { Probe } from '../types.ts';
import { seconds } from '../util.ts';
import { type K8sRuntime, Namespace } from './shared.ts';
import { StepFailed, Steps } from './steps.ts';

export const ApiConfig = z
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
export type ApiConfig = z.infer<typeof ApiConfig>;

/** API server latency: a list and a get, median and max over repeats. */
export function createK8sApiProbe(k: K8sRuntime): Probe<ApiConfig> {
  const { client, nsOf } = k;
  return {
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
}
