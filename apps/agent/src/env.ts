import { hostname } from 'node:os';
import {
  ClusterName,
  commaList,
  DnsLabel,
  DnsSubdomain,
  forbiddenExecEnv,
  K8S_FAMILY_NAMES,
  parseEnvWith,
} from '@synthfleet/contracts';
import { z } from 'zod';
import { DEFAULT_SH_LABELS, parseShLabels } from './metrics.ts';

const MiB = 1024 * 1024;
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const AgentEnv = z
  .object({
    SYNTHFLEET_API_URL: z.url({
      protocol: /^https?$/,
      error: 'is required: an http(s) URL of the API such as http://127.0.0.1:8787',
    }),
    SYNTHFLEET_TOKEN: z.string({ error: 'is required: a cluster token from POST /api/v1/tokens' }),
    /** Only needed with an admin token; a cluster token names its cluster. */
    SYNTHFLEET_CLUSTER: ClusterName.optional(),
    NODE_NAME: DnsSubdomain.default(hostname().toLowerCase()),
    POD_NAME: z.string().max(253).optional(),
    POD_NAMESPACE: z.string().max(63).optional(),
    /**
     * The pod's labels as the downward API writes them (`key="value"` lines), as synthetic-heart's
     * agent reads them: tests' `podLabelSelector` match them. Re-read before every poll.
     */
    POD_LABELS_FILE: z.string().min(1).optional(),
    /** synthetic-heart's agent filter: run only tests of these namespaces (comma-separated; empty: all). */
    MATCH_TEST_NAMESPACES: commaList.pipe(z.array(DnsLabel)).default([]),
    /** synthetic-heart's agent filter: run only tests carrying all these labels (`k=v,k2=v2`). */
    MATCH_TEST_LABELS: commaList
      .pipe(z.array(z.string().regex(/^[^=\s]+=[^=]*$/, 'must list key=value pairs')))
      .transform((pairs) =>
        Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])),
      )
      .default({}),
    /** The pod's address (downward API status.podIP): peers reach this agent's heartbeats there. */
    POD_IP: z.string().max(64).optional(),
    PUSHGATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** synthetic-heart's pull mode: serve /metrics alone on this port (its default 2112); off when unset. */
    METRICS_PORT: int(0, 65535).optional(),
    METRICS_HOST: z.string().default('0.0.0.0'),
    /**
     * synthetic-heart's `prometheus.labels` for its syntheticheart_* series: `name=template,…` with
     * {{.Agent.NodeName}}, {{.Agent.PodName}}, {{.Agent.AgentNamespace}}, {{.TestConfig.Name}},
     * {{.TestConfig.Namespace}} and {{.TestConfig.PluginName}}; its chart's default.
     */
    SH_METRIC_LABELS: z
      .string()
      .default(DEFAULT_SH_LABELS)
      .transform((text, ctx) => {
        try {
          return parseShLabels(text);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /** The agent pushes at least this often, results or not: the gateway's push time says it lives. */
    PUSH_KEEPALIVE_SECONDS: int(5, 3600).default(60),
    HEARTBEAT_HOST: z.string().default('0.0.0.0'),
    HEARTBEAT_PORT: int(0, 65535).default(8080),
    /** The URL peers use for this agent's heartbeats; derived from POD_IP and the port when unset. */
    HEARTBEAT_URL: z.url({ protocol: /^https?$/ }).optional(),
    HEARTBEAT_MIN: int(0, 1024 ** 3).default(1),
    HEARTBEAT_MAX: int(1, 1024 ** 3).default(MiB),
    SPOOL_DIR: z.string().min(1).default('.synthfleet/agent'),
    SPOOL_MAX_BYTES: int(64 * 1024, 1024 ** 3).default(64 * MiB),
    MAX_CONCURRENT_RUNS: int(1, 1000).default(16),
    CHANGE_SPREAD_SECONDS: int(0, 86_400).default(30),
    /** Absolute paths (files or directories), separated by ":", that the exec probe may run. */
    EXEC_ALLOW: z
      .string()
      .default('')
      .transform((s) => s.split(':').filter(Boolean)),
    /**
     * Environment variable names (comma-separated) an exec spec's `config.env` may set; none by
     * default. Loader, shell and interpreter variables (BASH_ENV, LD_*, PATH, ...) are refused.
     */
    EXEC_ENV_ALLOW: commaList
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must list variable names')
            .refine((name) => forbiddenExecEnv(name) === undefined, {
              error: (i) => forbiddenExecEnv(String(i.input)),
            }),
        ),
      )
      .default([]),
    RESULT_FLUSH_MS: int(10, 60_000).default(1000),
    /**
     * Kubernetes probe families this agent offers (`pod,deployment,dns,namespace,api`), each only
     * with its RBAC granted (the Helm chart's `k8sProbes` values); none by default.
     */
    K8S_PROBES: commaList
      .pipe(z.array(z.enum(K8S_FAMILY_NAMES, { error: `must list families among ${K8S_FAMILY_NAMES.join(', ')}` })))
      .default([]),
    /** Whether this agent may create Jobs for `job` remedies (needs the chart's `remedies.jobs`). */
    K8S_REMEDY_JOBS: z.stringbool().default(false),
    /** Where k8s probes and remedy Jobs create objects when their config names no namespace. */
    K8S_NAMESPACE: z.string().max(63).optional(),
    /** The Kubernetes API server; in-cluster (KUBERNETES_SERVICE_HOST and the service account) when unset. */
    K8S_API_SERVER: z.url({ protocol: /^https?$/ }).optional(),
    K8S_TOKEN_FILE: z.string().min(1).optional(),
    K8S_CA_FILE: z.string().min(1).optional(),
    /** Leftovers of k8s probes older than this are removed before a collection's first run. */
    K8S_SWEEP_AGE_SECONDS: int(60, 7 * 86_400).default(900),
    SHUTDOWN_GRACE_SECONDS: int(1, 600).default(25),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.HEARTBEAT_MIN > env.HEARTBEAT_MAX) {
      ctx.addIssue({ code: 'custom', path: ['HEARTBEAT_MIN'], message: 'must not exceed HEARTBEAT_MAX' });
    }
    for (const p of env.EXEC_ALLOW) {
      if (!p.startsWith('/'))
        ctx.addIssue({ code: 'custom', path: ['EXEC_ALLOW'], message: `"${p}" is not an absolute path` });
    }
  });
export type AgentEnv = z.infer<typeof AgentEnv>;

/** Reads the agent's configuration; a bad value stops start-up with a message naming the variable. */
export function parseEnv(source: Record<string, string | undefined>): AgentEnv {
  return parseEnvWith(AgentEnv, source, 'agent configuration');
}
