import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@synthfleet/contracts';
import { ApiCallError, createBackoff } from '@synthfleet/contracts';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { retryAfterMs } from './api-client.ts';
import { Reporter, type ReporterOptions } from './reporter.ts';
import { Spool } from './spool.ts';
import { numberedRun, quietLogger } from './testing/fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const run = numberedRun;

async function setup(send: (runs: RunResult[]) => Promise<void>, onDelivery?: ReporterOptions['onDelivery']) {
  const dir = mkdtempSync(join(tmpdir(), 'synthfleet-reporter-'));
  dirs.push(dir);
  const spool = new Spool(dir, 1024 * 1024);
  await spool.open();
  const reporter = new Reporter({
    spool,
    logger: quietLogger,
    flushMs: 20,
    batchMax: 50,
    backoff: createBackoff({ baseMs: 20, maxMs: 40 }),
    agentId: () => 'agent-1',
    api: {
      sendRuns: async ({ runs }) => {
        await send(runs);
        return { accepted: runs.length, duplicates: 0, rejected: [] };
      },
    },
    onDelivery,
  });
  return { spool, reporter, dir };
}

describe('reporter', () => {
  it('delivers in batches', async () => {
    const batches: number[] = [];
    const { reporter } = await setup(async (runs) => {
      batches.push(runs.length);
    });
    for (let i = 0; i < 120; i++) reporter.submit(run(i));
    await waitFor(
      async () => (await batches.reduce((a, b) => a + b, 0)) === 120,
      15_000,
      'batches.reduce((a, b) => a + b, 0) toBe(120)',
    );
    expect(Math.max(...batches)).toBeLessThanOrEqual(50);
  });

  it('spools while the API is down and delivers everything once, in order, when it is back', async () => {
    let up = false;
    const got: string[] = [];
    const { reporter, spool } = await setup(async (runs) => {
      if (!up) throw new ApiCallError(0, 'API unreachable');
      got.push(...runs.map((r) => r.runId));
    });
    for (let i = 0; i < 30; i++) {
      reporter.submit(run(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => spool.depth === 30, 15_000, 'spool.depth toBe(30)');
    up = true;
    for (let i = 30; i < 40; i++) reporter.submit(run(i));
    await waitFor(() => got.length === 40, 15_000, 'got.length toBe(40)');
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => run(i).runId));
    expect(spool.empty).toBe(true);
  });

  it('keeps undelivered runs on disk across a restart', async () => {
    const { reporter, dir } = await setup(async () => {
      throw new ApiCallError(503, 'unavailable');
    });
    for (let i = 0; i < 5; i++) reporter.submit(run(i));
    await reporter.close(200);
    const again = new Spool(dir, 1024 * 1024);
    await again.open();
    expect(again.depth).toBe(5);
  });

  it('splits a batch the API finds too large, and drops one it refuses as malformed', async () => {
    const sizes: number[] = [];
    const { reporter, spool } = await setup(async (runs) => {
      sizes.push(runs.length);
      if (runs.length > 10) throw new ApiCallError(413, 'too large');
      if (runs.some((r) => r.runId === run(3).runId)) throw new ApiCallError(400, 'bad');
    });
    for (let i = 0; i < 40; i++) reporter.submit(run(i));
    await reporter.flush();
    expect(sizes.filter((s) => s <= 10).reduce((a, b) => a + b, 0)).toBe(40);
    expect(spool.empty).toBe(true);
  });

  it('keeps what a 429 refused in the spool, waits the Retry-After, then delivers it all once', async () => {
    const attempts: number[] = [];
    const got: string[] = [];
    let refusals = 2;
    let rateLimited = 0;
    const { reporter, spool } = await setup(
      async (runs) => {
        attempts.push(Date.now());
        if (refusals-- > 0) throw new ApiCallError(429, 'over its runs per minute', 'RATE_LIMITED', 400);
        got.push(...runs.map((r) => r.runId));
      },
      (e) => {
        rateLimited += e.rateLimited ?? 0;
      },
    );
    for (let i = 0; i < 10; i++) reporter.submit(run(i));
    await waitFor(() => got.length === 10, 15_000, 'every run delivered');
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => run(i).runId));
    expect(rateLimited).toBe(20);
    // Each retry came no sooner than the API asked, not at the 20-40 ms backoff.
    expect(attempts).toHaveLength(3);
    expect((attempts[1] as number) - (attempts[0] as number)).toBeGreaterThanOrEqual(390);
    expect((attempts[2] as number) - (attempts[1] as number)).toBeGreaterThanOrEqual(390);
    expect(spool.empty).toBe(true);
  });
});

describe('Retry-After', () => {
  it('reads seconds or an HTTP date, and ignores nonsense', () => {
    expect(retryAfterMs('18')).toBe(18_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs('99999')).toBe(600_000);
    const date = new Date(Date.now() + 30_000).toUTCString();
    expect(retryAfterMs(date)).toBeGreaterThan(25_000);
  });
});
