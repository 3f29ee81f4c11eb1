import type { Logger } from './logger.ts';

export type DepartedNodesOptions = {
  /** The Pushgateway the cluster's agents push to. */
  gatewayUrl: string;
  /** The cluster's name once the syncer knows it (null before). */
  cluster: () => string | null;
  /** The names of the cluster's Nodes now, or undefined when they cannot be listed. */
  listNodes: () => Promise<string[] | undefined>;
  logger: Logger;
  everyMs: number;
  /** The agents' Pushgateway job (the agent's is `synthfleet`). */
  job?: string;
};

type GatewayGroups = { status?: string; data?: { labels?: Record<string, string> }[] };

/**
 * Removes from the Pushgateway the groups of nodes that have left the cluster. A stopped agent's
 * group stays in the gateway with its last values (which is how SynthfleetAgentSilent notices a
 * dead node); but a node that was deleted or renamed would then be reported silent forever. So,
 * every `everyMs`, the groups `{job, cluster, instance}` of this cluster whose instance is no Node
 * any more are deleted (`DELETE /metrics/job/J/cluster/C/instance/N`). It never deletes when the
 * Nodes cannot be listed or the list is empty (an RBAC or API problem, not an empty cluster).
 */
export function createDepartedNodesJanitor(opts: DepartedNodesOptions) {
  const job = opts.job ?? 'synthfleet';
  const base = opts.gatewayUrl.replace(/\/+$/, '');
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<string[]> | undefined;

  async function sweepOnce(): Promise<string[]> {
    const cluster = opts.cluster();
    if (!cluster) return [];
    const nodes = await opts.listNodes();
    if (!nodes || nodes.length === 0) return [];
    const res = await fetch(`${base}/api/v1/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${base}/api/v1/metrics: ${res.status}`);
    const groups = ((await res.json()) as GatewayGroups).data ?? [];
    const present = new Set(nodes);
    const gone = groups
      .map((g) => g.labels ?? {})
      .filter((l) => l.job === job && l.cluster === cluster && l.instance && !present.has(l.instance))
      .map((l) => l.instance as string);
    for (const instance of gone) {
      const path = `/metrics/job/${encodeURIComponent(job)}/cluster/${encodeURIComponent(cluster)}/instance/${encodeURIComponent(instance)}`;
      const del = await fetch(`${base}${path}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
      if (!del.ok && del.status !== 404) throw new Error(`DELETE ${base}${path}: ${del.status}`);
      opts.logger.info({ cluster, instance }, 'removed the Pushgateway group of a node that left the cluster');
    }
    return gone;
  }

  function sweep(): Promise<string[]> {
    running ??= sweepOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    sweep,
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        sweep().catch((err) =>
          opts.logger.warn(
            { err: (err as Error).message },
            'cannot clean departed nodes from the Pushgateway; trying again',
          ),
        );
      }, opts.everyMs);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
