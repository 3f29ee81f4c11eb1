import { ClusterName, parseEnvWith } from '@synthfleet/contracts';
import { z } from 'zod';
import { type ApiConfig, defaultApiConfig } from './services/context.ts';

// 0 asks the OS for a free port (tests and benchmarks).
const Port = z.coerce.number().int().min(0).max(65535);

export const ApiEnv = z.object({
  PORT: Port.default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  SYNTHFLEET_DATA_DIR: z.string().min(1).default('./.synthfleet'),
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_AUTH_TOKEN: z.string().optional(),
  SYNTHFLEET_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  AGENT_DEADLINE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  POLL_WAIT_MAX_SECONDS: z.coerce.number().int().min(1).max(1800).default(30),
  RETENTION_DAYS: z.coerce.number().min(0.01).max(3650).default(14),
  STALE_RESULT_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(300),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().min(1).max(3600).default(10),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  // Writer quotas (0 turns one off); the defaults are sized for a 5,000-node cluster on one token.
  RATE_TOKEN_WRITES_PER_SECOND: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(defaultApiConfig.tokenWritesPerSecond),
  RATE_AGENT_RUNS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000_000)
    .default(defaultApiConfig.agentRunsPerMinute),
  RATE_TOKEN_RUNS_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000_000)
    .default(defaultApiConfig.tokenRunsPerMinute),
  RATE_SIGNINS_PER_MINUTE: z.coerce.number().int().min(0).max(100_000).default(defaultApiConfig.signInsPerMinute),
  /** synthetic-heart's GET routes answer without a token for this one cluster (its UI sends none). Off when unset. */
  SH_ANONYMOUS_CLUSTER: z.preprocess((v) => (v === '' ? undefined : v), ClusterName.optional()),
  /** A test's "Run now" is refused (429) within this many seconds of the last one. */
  RUN_NOW_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /** Every test's status badge (/badges/…svg) answers without a token; else only tests with spec.badge.public. */
  BADGES_PUBLIC: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  RUN_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .max(8 * 1024 * 1024)
    .default(defaultApiConfig.maxRunBytes),
});
export type ApiEnv = z.infer<typeof ApiEnv>;

export { EnvError } from '@synthfleet/contracts';

/** Validates the environment; a bad value stops start-up with a message naming the variable. */
export function parseEnv(source: Record<string, string | undefined>): ApiEnv {
  return parseEnvWith(ApiEnv, source, 'API configuration');
}

/** The app's configuration from the environment, the same on Node and on Workers. */
export function apiConfigFromEnv(env: ApiEnv): Partial<ApiConfig> {
  const agentDeadlineMs = env.AGENT_DEADLINE_SECONDS * 1000;
  return {
    agentDeadlineMs,
    // A held poll must end well inside the deadline, or a waiting agent would look dead.
    maxPollWaitMs: Math.min(env.POLL_WAIT_MAX_SECONDS * 1000, Math.floor(agentDeadlineMs / 2)),
    retentionMs: env.RETENTION_DAYS * 24 * 3_600_000,
    staleResultMs: env.STALE_RESULT_SECONDS * 1000,
    tokenWritesPerSecond: env.RATE_TOKEN_WRITES_PER_SECOND,
    agentRunsPerMinute: env.RATE_AGENT_RUNS_PER_MINUTE,
    tokenRunsPerMinute: env.RATE_TOKEN_RUNS_PER_MINUTE,
    signInsPerMinute: env.RATE_SIGNINS_PER_MINUTE,
    maxRunBytes: env.RUN_MAX_BYTES,
    shAnonymousCluster: env.SH_ANONYMOUS_CLUSTER ?? null,
    runNowIntervalMs: env.RUN_NOW_INTERVAL_SECONDS * 1000,
    badgesPublic: env.BADGES_PUBLIC,
  };
}
