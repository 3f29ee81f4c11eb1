import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';

/**
 * The names of the cluster's Nodes, or undefined when they cannot be listed (no `list nodes` in
 * the syncer's ClusterRole, the API server away): the caller must then assume nothing.
 */
export function createNodeLister(kubeConfig: KubeConfig, logger: Logger): () => Promise<string[] | undefined> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return async () => {
    try {
      return (await core.listNode()).items.flatMap((n) => (n.metadata?.name ? [n.metadata.name] : []));
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        'cannot list nodes (RBAC: list nodes); departed nodes stay in the Pushgateway',
      );
      return undefined;
    }
  };
}
