import { hostname } from 'node:os';
import type { K8sFamily } from '@synthfleet/contracts';
import { dnsLabelProblem, dnsSubdomainProblem } from '@synthfleet/contracts/dns-names';
import { commaItems, EnvError } from '@synthfleet/contracts/env';
import { forbiddenExecEnv } from '@synthfleet/contracts/exec-env';
import { K8S_FAMILY_NAMES } from '@synthfleet/contracts/plugins';
import { DEFAULT_SH_LABELS, parseShLabels, type ShLabel } from './metrics.ts';

/*
 * The agent's configuration, checked by plain code rather than a schema library: an idle agent
 * then never loads zod (about 9 MB of RSS with the schemas built on it; see scripts/build-agent.ts).
 * Each variable is a reader: it gets the value (empty counts as unset) and a way to say what is
 * wrong, and returns the value the agent uses.
 */

type Say = (message: string, item?: number) => void;
type Field<T> = (raw: string | undefined, say: Say) => T;

const MiB = 1024 * 1024;
const HTTP_URL = 'must be an http(s) URL';

function int(min: number, max: number): Field<number | undefined>;
function int(min: number, max: number, fallback: number): Field<number>;
function int(min: number, max: number, fallback?: number): Field<number | undefined> {
  return (raw, say) => {
    if (raw === undefined) return fallback;
    const n = /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= min && n <= max) return n;
    say(`must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
    return fallback;
  };
}

function text(opts: { max?: number; fallback: string }): Field<string>;
function text(opts?: { max?: number }): Field<string | undefined>;
function text(opts: { max?: number; fallback?: string } = {}): Field<string | undefined> {
  return (raw, say) => {
    if (raw === undefined) return opts.fallback;
    if (opts.max !== undefined && raw.length > opts.max) say(`must be at most ${opts.max} characters`);
    return raw;
  };
}

function httpUrl(required?: string): Field<string | undefined> {
  return (raw, say) => {
    if (raw === undefined) {
      if (required) say(required);
      return undefined;
    }
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) say(required ?? HTTP_URL);
    return raw;
  };
}

function checked(problem: (value: string) => string | undefined, fallback?: () => string): Field<string | undefined> {
  return (raw, say) => {
    const value = raw ?? fallback?.();
    if (value === undefined) return undefined;
    const wrong = problem(value);
    if (wrong) say(wrong);
    return value;
  };
}

/** A comma-separated list whose items each pass `problem` (an item's issue names its index). */
function list(problem: (item: string) => string | undefined): Field<string[]> {
  return (raw, say) => {
    const items = raw === undefined ? [] : commaItems(raw);
    items.forEach((item, i) => {
      const wrong = problem(item);
      if (wrong) say(wrong, i);
    });
    return items;
  };
}

const TRUE = new Set(['true', '1', 'yes', 'on', 'y', 'enabled']);
const FALSE = new Set(['false', '0', 'no', 'off', 'n', 'disabled']);

function bool(fallback: boolean): Field<boolean> {
  return (raw, say) => {
    if (raw === undefined) return fallback;
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    say('must be true or false');
    return fallback;
  };
}

function oneOf<const T extends string>(values: readonly T[], fallback: T): Field<T> {
  return (raw, say) => {
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    say(`must be one of ${values.join(', ')}`);
    return fallback;
  };
}

const FIELDS = {
  SYNTHFLEET_API_URL: httpUrl('is required: an http(s) URL of the API such as http://127.0.0.1:8787') as Field<string>,
  SYNTHFLEET_TOKEN: ((raw, say) => {
    if (raw === undefined) say('is required: a cluster token from POST /api/v1/tokens');
    return raw ?? '';
  }) as Field<string>,
  /** Only needed with an admin token; a cluster token names its cluster. */
  SYNTHFLEET_CLUSTER: checked(dnsLabelProblem),
  NODE_NAME: checked(dnsSubdomainProblem, () => hostname().toLowerCase()) as Field<string>,
  POD_NAME: text({ max: 253 }),
  POD_NAMESPACE: text({ max: 63 }),
  /**
   * The pod's labels as the downward API writes them (`key="value"` lines), as synthetic-heart's
   * agent reads them: tests' `podLabelSelector` match them. Re-read before every poll.
   */
  POD_LABELS_FILE: text(),
  /** synthetic-heart's agent filter: run only tests of these namespaces (comma-separated; empty: all). */
  MATCH_TEST_NAMESPACES: list(dnsLabelProblem),
  /** synthetic-heart's agent filter: run only tests carrying all these labels (`k=v,k2=v2`). */
  MATCH_TEST_LABELS: ((raw, say) => {
    const pairs = list((p) => (/^[^=\s]+=[^=]*$/.test(p) ? undefined : 'must list key=value pairs'))(raw, say);
    return Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  }) as Field<Record<string, string>>,
  /** The pod's address (downward API status.podIP): peers reach this agent's heartbeats there. */
  POD_IP: text({ max: 64 }),
  PUSHGATEWAY_URL: httpUrl(),
  /** synthetic-heart's pull mode: serve /metrics alone on this port (its default 2112); off when unset. */
  METRICS_PORT: int(0, 65535),
  METRICS_HOST: text({ fallback: '0.0.0.0' }),
  /**
   * synthetic-heart's `prometheus.labels` for its syntheticheart_* series: `name=template,…` with
   * {{.Agent.NodeName}}, {{.Agent.PodName}}, {{.Agent.AgentNamespace}}, {{.TestConfig.Name}},
   * {{.TestConfig.Namespace}} and {{.TestConfig.PluginName}}; its chart's default.
   */
  SH_METRIC_LABELS: ((raw, say) => {
    try {
      return parseShLabels(raw ?? DEFAULT_SH_LABELS);
    } catch (err) {
      say((err as Error).message);
      return parseShLabels(DEFAULT_SH_LABELS);
    }
  }) as Field<ShLabel[]>,
  /** The agent pushes at least this often, results or not: the gateway's push time says it lives. */
  PUSH_KEEPALIVE_SECONDS: int(5, 3600, 60),
  HEARTBEAT_HOST: text({ fallback: '0.0.0.0' }),
  HEARTBEAT_PORT: int(0, 65535, 8080),
  /** The URL peers use for this agent's heartbeats; derived from POD_IP and the port when unset. */
  HEARTBEAT_URL: httpUrl(),
  HEARTBEAT_MIN: int(0, 1024 ** 3, 1),
  HEARTBEAT_MAX: int(1, 1024 ** 3, MiB),
  SPOOL_DIR: text({ fallback: '.synthfleet/agent' }),
  SPOOL_MAX_BYTES: int(64 * 1024, 1024 ** 3, 64 * MiB),
  MAX_CONCURRENT_RUNS: int(1, 1000, 16),
  CHANGE_SPREAD_SECONDS: int(0, 86_400, 30),
  /** Absolute paths (files or directories), separated by ":", that the exec probe may run. */
  EXEC_ALLOW: ((raw, say) => {
    const paths = (raw ?? '').split(':').filter(Boolean);
    for (const p of paths) if (!p.startsWith('/')) say(`"${p}" is not an absolute path`);
    return paths;
  }) as Field<string[]>,
  /**
   * Environment variable names (comma-separated) an exec spec's `config.env` may set; none by
   * default. Loader, shell and interpreter variables (BASH_ENV, LD_*, PATH, ...) are refused.
   */
  EXEC_ENV_ALLOW: list((name) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? forbiddenExecEnv(name) : 'must list variable names',
  ),
  RESULT_FLUSH_MS: int(10, 60_000, 1000),
  /**
   * Kubernetes probe families this agent offers (`pod,deployment,dns,namespace,api`), each only
   * with its RBAC granted (the Helm chart's `k8sProbes` values); none by default.
   */
  K8S_PROBES: list((f) =>
    (K8S_FAMILY_NAMES as readonly string[]).includes(f)
      ? undefined
      : `must list families among ${K8S_FAMILY_NAMES.join(', ')}`,
  ) as Field<K8sFamily[]>,
  /** Whether this agent may create Jobs for `job` remedies (needs the chart's `remedies.jobs`). */
  K8S_REMEDY_JOBS: bool(false),
  /** Where k8s probes and remedy Jobs create objects when their config names no namespace. */
  K8S_NAMESPACE: text({ max: 63 }),
  /** The Kubernetes API server; in-cluster (KUBERNETES_SERVICE_HOST and the service account) when unset. */
  K8S_API_SERVER: httpUrl(),
  K8S_TOKEN_FILE: text(),
  K8S_CA_FILE: text(),
  /** Leftovers of k8s probes older than this are removed before a collection's first run. */
  K8S_SWEEP_AGE_SECONDS: int(60, 7 * 86_400, 900),
  SHUTDOWN_GRACE_SECONDS: int(1, 600, 25),
  LOG_LEVEL: oneOf(['debug', 'info', 'warn', 'error', 'silent'], 'info'),
} satisfies Record<string, Field<unknown>>;

export type AgentEnv = { readonly [K in keyof typeof FIELDS]: ReturnType<(typeof FIELDS)[K]> };

/** Every variable the agent reads (the chart's and the docs' names are checked against it). */
export const AGENT_ENV_VARIABLES: readonly string[] = Object.keys(FIELDS);

/** Reads the agent's configuration; a bad value stops start-up with a message naming every variable that is wrong. */
export function parseEnv(source: Record<string, string | undefined>): AgentEnv {
  const problems: string[] = [];
  const env: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(FIELDS) as [string, Field<unknown>][]) {
    const raw = source[name] === '' ? undefined : source[name];
    env[name] = read(raw, (message, item) =>
      problems.push(`${name}${item === undefined ? '' : `.${item}`}: ${message}`),
    );
  }
  const parsed = env as AgentEnv;
  if (problems.length === 0 && parsed.HEARTBEAT_MIN > parsed.HEARTBEAT_MAX)
    problems.push('HEARTBEAT_MIN: must not exceed HEARTBEAT_MAX');
  if (problems.length > 0) throw new EnvError(`invalid agent configuration:\n  ${problems.join('\n  ')}`);
  return parsed;
}
