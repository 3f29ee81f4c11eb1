/**
 * Capped exponential backoff with equal jitter: the n-th consecutive failure waits a random time in
 * [base·2ⁿ/2, base·2ⁿ] capped at `maxMs`, so a fleet that lost its API does not reconnect in step
 * and never spins in a hot loop.
 */
export function createBackoff(opts: { baseMs?: number; maxMs?: number; random?: () => number } = {}) {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const random = opts.random ?? Math.random;
  let failures = 0;
  return {
    next(): number {
      const ceiling = Math.min(max, base * 2 ** Math.min(failures, 30));
      failures++;
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    },
    reset(): void {
      failures = 0;
    },
    get failures() {
      return failures;
    },
  };
}
export type Backoff = ReturnType<typeof createBackoff>;
