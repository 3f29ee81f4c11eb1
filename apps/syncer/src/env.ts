import { ClusterName, commaList, DnsLabel, EnvError, parseEnvWith, TestSource } from '@synthfleet/contracts';
import { z } from 'zod';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The groups whose SyntheticTest objects the syncer understands. */
export const KNOWN_GROUPS = ['synthfleet.dev', 'synheart.infra.webex.com'] as const;

export const SyncerEnv = z.object({
  SYNTHFLEET_API_URL: z.url({
    protocol: /^https?$/,
    error: 'is required: an http(s) URL of the API such as http://127.0.0.1:8787',
  }),
  SYNTHFLEET_TOKEN: z.string({ error: 'is required: a cluster token from POST /api/v1/tokens' }),
  /** Only needed with an admin token; a cluster token names its cluster. */
  SYNTHFLEET_CLUSTER: ClusterName.optional(),
  /** A kubeconfig file; unset means in-cluster credentials (or ~/.kube/config outside a pod). */
  KUBECONFIG: z.string().min(1).optional(),
  /** Namespaces to watch, comma-separated; unset watches all. */
  WATCH_NAMESPACES: commaList.pipe(z.array(DnsLabel)).default([]),
  /** API groups to watch, comma-separated. */
  WATCH_GROUPS: commaList
    .pipe(
      z
        .array(
          z.enum(KNOWN_GROUPS, {
            error: (i) => `unknown group ${JSON.stringify(i.input)}; known: ${KNOWN_GROUPS.join(', ')}`,
          }),
        )
        .min(1, 'names no group'),
    )
    .default([...KNOWN_GROUPS]),
  /**
   * The name this syncer's tests are declared under: a snapshot removes only the tests of its own
   * source, never those declared through the API or by another syncer. Default: `kubernetes`, or
   * `dir` with SYNCER_DIR.
   */
  SYNCER_SOURCE: TestSource.optional(),
  /** A full snapshot is sent this often so anything missed heals. */
  RESYNC_SECONDS: int(5, 86_400).default(300),
  /** Objects' status is refreshed from the API's roll-ups this often. */
  STATUS_SECONDS: int(1, 3600).default(30),
  /** Read SyntheticTest manifests from this directory instead of a cluster (`--dir` does the same). */
  SYNCER_DIR: z.string().min(1).optional(),
  /** Subdirectories of SYNCER_DIR to leave out (relative paths, comma-separated). */
  SYNCER_EXCLUDE: commaList
    .transform((paths) => paths.map((p) => p.replace(/^\.\/|\/+$/g, '')).filter(Boolean))
    .default([]),
  /**
   * The Pushgateway the cluster's agents push to: with it (cluster source only), groups of nodes
   * that left the cluster are removed from it every PUSHGATEWAY_CLEANUP_SECONDS (RBAC: list nodes).
   */
  PUSHGATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
  PUSHGATEWAY_CLEANUP_SECONDS: int(10, 86_400).default(300),
  /** Port for /healthz and /readyz; 0 picks a free one, unset serves none. */
  HEALTH_PORT: int(0, 65535).optional(),
  HEALTH_HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});
export type SyncerEnv = z.infer<typeof SyncerEnv>;

const OWN_VARIABLES = new Set(Object.keys(SyncerEnv.shape));

/**
 * Reads the syncer's configuration from the environment and its arguments (`--dir PATH`); a bad
 * value stops start-up with a message naming the variable.
 */
export function parseEnv(source: Record<string, string | undefined>, argv: readonly string[] = []): SyncerEnv {
  const own: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(source)) if (OWN_VARIABLES.has(k)) own[k] = v;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--dir') {
      const dir = argv[++i];
      if (!dir) throw new EnvError('invalid syncer configuration:\n  --dir: needs a directory');
      own.SYNCER_DIR = dir;
    } else if (arg.startsWith('--dir=')) own.SYNCER_DIR = arg.slice(6);
  }
  return parseEnvWith(SyncerEnv, own, 'syncer configuration');
}
