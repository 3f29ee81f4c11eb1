import { z } from 'zod';

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
});
export type ApiEnv = z.infer<typeof ApiEnv>;

export class EnvError extends Error {
  override name = 'EnvError';
}

/** Validates the environment; a bad value stops start-up with a message naming the variable. */
export function parseEnv(source: Record<string, string | undefined>): ApiEnv {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = ApiEnv.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new EnvError(`invalid environment: ${lines.join('; ')}`);
  }
  return result.data;
}
