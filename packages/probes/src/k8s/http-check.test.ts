import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeContext } from '../testing/context.ts';
import { type HostileTarget, startHostileTarget } from '../testing/hostile-target.ts';
import { httpCheck } from './http-check.ts';

let hostile: HostileTarget;
beforeAll(async () => {
  hostile = await startHostileTarget();
});
afterAll(() => hostile.close());

describe('k8s HTTP checks', () => {
  it('read an endless body only up to a bound and cancel it, and still judge the status', async () => {
    await httpCheck(`${hostile.url}/endless`, 200, 20_000, probeContext({ timeoutMs: 30_000 }));
    await expect(
      httpCheck(`${hostile.url}/endless/x`, 204, 20_000, probeContext({ timeoutMs: 30_000 })),
    ).rejects.toThrow('status 200, expected 204');
    await waitFor(() => hostile.open() === 0, 10_000, 'hostile.open() toBe(0)');
    expect(hostile.sent).toHaveLength(2);
    for (const bytes of hostile.sent) expect(bytes).toBeLessThan(16 * 1024 * 1024);
  });

  it('fail a step whose answer never finishes its headers at the step deadline', async () => {
    await expect(
      httpCheck(`${hostile.url}/slow-headers`, 200, 500, probeContext({ timeoutMs: 30_000 })),
    ).rejects.toThrow(/GET http:\/\/127\.0\.0\.1:\d+\/slow-headers: /);
  });
});
