/* A run's statuses, apart from the schemas: the agent's idle start reads them without zod. */

/** `unsupported`: the agent does not offer the plugin; like `skipped`, never a failure. */
export const RUN_STATUSES = ['pass', 'fail', 'error', 'timeout', 'skipped', 'unsupported'] as const;

/** The statuses that count as a failure (a failing streak, a failing test); `skipped` does not. */
export const FAILING_STATUSES: ReadonlySet<string> = new Set<(typeof RUN_STATUSES)[number]>([
  'fail',
  'error',
  'timeout',
]);
