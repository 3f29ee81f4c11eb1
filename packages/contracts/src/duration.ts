/** Milliseconds per Go duration unit. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  '\u00b5s': 1e-3, // micro sign
  '\u03bcs': 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// Written as escapes: one non-ASCII character makes V8 hold a whole bundle as two-byte source.
const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;

export class DurationError extends Error {
  override name = 'DurationError';
}

/**
 * Parses a Go-style duration (`90s`, `1m30s`, `1h`, `1.5h`, `250ms`) into whole milliseconds.
 * Negative durations are rejected: nothing in a SyntheticTest may run backwards in time.
 * Sub-millisecond remainders are rounded up so a non-zero duration never becomes 0 ms.
 */
export function parseDuration(input: string): number {
  const text = input.trim();
  if (text === '') throw new DurationError('duration is empty; expected e.g. "30s", "1m30s" or "1h"');
  if (text === '0') return 0;
  if (text.startsWith('-')) throw new DurationError(`duration "${input}" is negative`);
  let rest = text.startsWith('+') ? text.slice(1) : text;
  let total = 0;
  while (rest.length > 0) {
    const m = PART.exec(rest);
    if (!m) {
      const hasUnit = /^[\d.]+$/.test(rest);
      throw new DurationError(
        hasUnit
          ? `duration "${input}" is missing a unit after "${rest}"; use ns, us, ms, s, m or h`
          : `duration "${input}" is not a Go duration; expected e.g. "30s", "1m30s" or "1h"`,
      );
    }
    const [whole, num, unit] = m as unknown as [string, string, string];
    const ms = UNIT_MS[unit];
    if (ms === undefined) throw new DurationError(`duration "${input}" has an unknown unit "${unit}"`);
    total += Number(num) * ms;
    rest = rest.slice(whole.length);
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) {
    throw new DurationError(`duration "${input}" is too large`);
  }
  const ms = Math.ceil(total - 1e-9);
  return Math.max(ms, 0);
}

/** Formats milliseconds as the shortest Go-style duration (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new DurationError(`cannot format ${ms} ms as a duration`);
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}
