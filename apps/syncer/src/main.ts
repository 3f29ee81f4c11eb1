import { EnvError } from '@synthfleet/contracts';
import { createApiClient } from './api-client.ts';
import { createDepartedNodesJanitor } from './departed-nodes.ts';
import { parseEnv, type SyncerEnv } from './env.ts';
import { startHealthServer } from './health-server.ts';
import { createLogger } from './logger.ts';
import type { Source } from './source.ts';
import { createFileSource } from './sources/file.ts';
import { createSyncer } from './syncer.ts';

let env: SyncerEnv;
try {
  env = parseEnv(process.env, process.argv.slice(2));
} catch (err) {
  if (!(err instanceof EnvError)) throw err;
  process.stderr.write(`synthfleet syncer: ${err.message}\n`);
  process.exit(1);
}

const logger = createLogger(env.LOG_LEVEL);
const apiVersions = env.WATCH_GROUPS.map((g) => `${g}/v1`);
let source: Source;
let janitor: ReturnType<typeof createDepartedNodesJanitor> | undefined;
if (env.SYNCER_DIR) {
  source = createFileSource({ dir: env.SYNCER_DIR, exclude: env.SYNCER_EXCLUDE, apiVersions, logger });
} else {
  // The Kubernetes client is large; the file source never loads it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { createKubeSource } = await import('./sources/kube.ts');
  const kubeConfig = new KubeConfig();
  try {
    if (env.KUBECONFIG) kubeConfig.loadFromFile(env.KUBECONFIG);
    else kubeConfig.loadFromDefault();
    if (!kubeConfig.getCurrentCluster()) throw new Error('it names no current cluster');
  } catch (err) {
    process.stderr.write(
      `synthfleet syncer: cannot load Kubernetes credentials (${env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG}` : 'in-cluster or ~/.kube/config'}): ${(err as Error).message}\n`,
    );
    process.exit(1);
  }
  source = createKubeSource({ kubeConfig, groups: env.WATCH_GROUPS, namespaces: env.WATCH_NAMESPACES, logger });
  if (env.PUSHGATEWAY_URL) {
    const { createNodeLister } = await import('./sources/nodes.ts');
    janitor = createDepartedNodesJanitor({
      gatewayUrl: env.PUSHGATEWAY_URL,
      cluster: () => syncer.health().cluster,
      listNodes: createNodeLister(kubeConfig, logger),
      logger,
      everyMs: env.PUSHGATEWAY_CLEANUP_SECONDS * 1000,
    });
  }
}

const syncer = createSyncer({
  api: createApiClient({
    baseUrl: env.SYNTHFLEET_API_URL,
    token: env.SYNTHFLEET_TOKEN,
    source: env.SYNCER_SOURCE ?? (env.SYNCER_DIR ? 'dir' : 'kubernetes'),
  }),
  source,
  logger,
  cluster: env.SYNTHFLEET_CLUSTER,
  resyncMs: env.RESYNC_SECONDS * 1000,
  statusMs: env.STATUS_SECONDS * 1000,
});

const health =
  env.HEALTH_PORT === undefined ? undefined : await startHealthServer(env.HEALTH_HOST, env.HEALTH_PORT, syncer.health);
logger.info({ source: source.describe, healthPort: health?.port }, 'syncer starting');
syncer.start();
janitor?.start();

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  setTimeout(() => process.exit(1), 10_000).unref();
  janitor?.stop();
  await syncer.stop();
  await health?.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
