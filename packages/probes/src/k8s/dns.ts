import { z } from 'zod';
import { Span } from '../config.ts';
import { dnsProbe } from '../dns.ts';
import type { Probe, ProbeOutcome } from '../types.ts';
import { errorMessage } from '../util.ts';
import { hostOf, type K8sRuntime, type Service } from './shared.ts';
import { StepFailed, Steps } from './steps.ts';

const DnsName = z.union([
  z.string().min(1).max(253),
  z.object({ name: z.string().min(1).max(253), expect: z.array(z.string()).optional() }).strict(),
]);

export const K8sDnsConfig = z
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
export type K8sDnsConfig = z.infer<typeof K8sDnsConfig>;

/** Cluster DNS: the resolver found through the API, `kubernetes.default.svc` and the configured names, services at their ClusterIP. */
export function createK8sDnsProbe(k: K8sRuntime): Probe<K8sDnsConfig> {
  const { client } = k;
  return {
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
}
