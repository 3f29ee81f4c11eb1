import { describe, expect, it } from 'vitest';
import { createWorkQueue } from './work-queue.ts';

describe('work queue', () => {
  it('coalesces a burst of one key, never runs a key twice at once, and reruns a key changed mid-run', async () => {
    const runs: string[] = [];
    let active = 0;
    let maxActive = 0;
    let release: (() => void) | undefined;
    const q = createWorkQueue({
      concurrency: 4,
      worker: async (key) => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(key);
        if (runs.length === 1) await new Promise<void>((r) => (release = r));
        active--;
      },
    });
    q.add('a');
    for (let i = 0; i < 10; i++) q.add('a'); // during the first run: one more run, not ten
    q.add('b'); // starts at once (another key, a free slot)
    q.add('b'); // while b runs: one more run after it
    q.add('b'); // coalesced with the one before
    release?.();
    await q.idle();
    expect(runs.sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(maxActive).toBeLessThanOrEqual(2);
  });

  it('retries a failing key with backoff until it succeeds, and reports each failure', async () => {
    let attempts = 0;
    const errors: number[] = [];
    const q = createWorkQueue({
      baseMs: 5,
      maxMs: 20,
      worker: async () => {
        attempts++;
        if (attempts < 4) throw new Error('API down');
      },
      onError: (_key, _err, retryInMs) => errors.push(retryInMs),
    });
    q.add('k');
    await q.idle();
    expect(attempts).toBe(4);
    expect(errors).toHaveLength(3);
    expect(Math.max(...errors)).toBeLessThanOrEqual(20);
  });

  it('runs keys waiting out a backoff at once on retryNow, and stops cleanly', async () => {
    let attempts = 0;
    const q = createWorkQueue({
      baseMs: 60_000,
      maxMs: 60_000,
      worker: async () => {
        attempts++;
        if (attempts === 1) throw new Error('down');
      },
    });
    q.add('k');
    await new Promise((r) => setTimeout(r, 20));
    expect(q.size).toBe(1);
    q.retryNow();
    await q.idle();
    expect(attempts).toBe(2);
    q.stop();
    q.add('k');
    expect(q.size).toBe(0);
  });
});
