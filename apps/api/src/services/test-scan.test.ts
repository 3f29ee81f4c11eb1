import { tests } from '@synthfleet/db';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApi, syntheticTest, type TestApi } from '../testing/harness.ts';
import { listClusters } from './fleet.ts';
import { scannedVerdict, scanTests } from './test-scan.ts';

let api: TestApi;
beforeEach(async () => {
  api = await createTestApi({ config: { staleResultMs: 60_000 } });
});
afterEach(() => api.close());

describe('the fleet views’ shared scan', () => {
  it('keeps each test’s result allowance, and judges a row stored before it from its spec alike', async () => {
    const token = await api.token('cluster', 'edge-1');
    await api.register(token, 'node-a');
    // Every 10 minutes, 20 s to run: two periods and the timeout, 20m 20s.
    await api.putTest(token, 'edge-1', syntheticTest('slow', { repeat: '10m', timeouts: { run: '20s' } }));
    await api.putTest(token, 'edge-1', syntheticTest('legacy', { repeat: '10m', timeouts: { run: '20s' } }));
    const rows = await api.ctx.db.select({ name: tests.name, allowanceMs: tests.allowanceMs }).from(tests);
    expect(rows.map((r) => r.allowanceMs)).toEqual([1_220_000, 1_220_000]);
    await api.ctx.db.update(tests).set({ allowanceMs: null }).where(eq(tests.name, 'legacy'));
    const verdicts = async () => {
      const scanned = await scanTests(api.ctx, null);
      const at = { now: api.clock.now(), thresholdMs: 60_000 };
      return Object.fromEntries(scanned.map((t) => [t.name, scannedVerdict(t, at).state]));
    };
    // Past STALE_RESULT_SECONDS (1 min) yet inside the allowance: no result yet is no problem.
    api.clock.advance(20 * 60_000);
    expect(await verdicts()).toEqual({ slow: 'pending', legacy: 'pending' });
    api.clock.advance(30_000);
    expect(await verdicts()).toEqual({ slow: 'stale', legacy: 'stale' });
    const [cluster] = await listClusters(api.ctx, { tokenId: 'test', role: 'admin', cluster: null });
    expect(cluster?.tests.stale).toBe(2);
  });

  it('shares one read among the views that ask at once', async () => {
    const token = await api.token('cluster', 'edge-1');
    await api.putTest(token, 'edge-1', syntheticTest('a'));
    const one = scanTests(api.ctx, null);
    const two = scanTests(api.ctx, null);
    expect(two).toBe(one);
    await one;
    // Settled: the next ask reads again (no view sees an older scan than its request).
    expect(scanTests(api.ctx, null)).not.toBe(one);
  });
});
