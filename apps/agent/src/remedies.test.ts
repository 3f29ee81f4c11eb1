import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { RemedyClaim, RunResult } from '@synthfleet/contracts';
import { ApiCallError } from '@synthfleet/contracts';
import { waitFor } from '@synthfleet/test-support/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { Remedies } from './remedies.ts';
import { assigned, numberedRun, quietLogger } from './testing/fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function remedies(streakFile?: string) {
  const claims: RemedyClaim[] = [];
  const r = new Remedies({
    // Refused, as past runsLimit: the test is about when the agent asks, not what runs.
    claim: async (c) => {
      claims.push(c);
      throw new ApiCallError(409, 'reached its remedy runsLimit');
    },
    finish: async () => {},
    namespace: 'default',
    node: 'node-1',
    cluster: () => 'edge',
    logger: quietLogger,
    streakFile,
  });
  return { r, claims };
}

const web = (revision = 1) =>
  assigned(
    'web',
    { plugin: 'httpPing', repeat: '1m', remedy: { after: 3, webhook: { url: 'http://127.0.0.1:9/' } } },
    revision,
  );
const failed = (i: number): RunResult => ({ ...numberedRun(i), name: 'web', status: 'fail', marks: 0 });

describe('remedy streaks', () => {
  it('asks for a remedy at every `after`-th failure in a row, and a pass starts the count again', async () => {
    const { r, claims } = remedies();
    // Failures 1-3 (claim), a pass, failures 5-7 (claim at the third of the new streak).
    for (let i = 1; i <= 7; i++) {
      r.onResult(web(), i === 4 ? numberedRun(i) : failed(i));
      // A remedy under way holds further claims for the test: let each claim finish first.
      await waitFor(() => r.running === 0, undefined, 'r.running toBe(0)');
    }
    await waitFor(
      () =>
        isDeepStrictEqual(
          claims.map((c) => [c.runId, c.failures]),
          [
            [failed(3).runId, 3],
            [failed(7).runId, 3],
          ],
        ),
      undefined,
      'toEqual([ [failed(3).runId, 3], [failed(7).runId, 3], ])',
    );
  });

  it('keeps a streak across an agent restart, but not across a new revision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synthfleet-streaks-'));
    dirs.push(dir);
    const file = join(dir, 'remedy-streaks.json');
    const first = remedies(file);
    first.r.onResult(web(), failed(1));
    first.r.onResult(web(), failed(2));
    await first.r.saved();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'default/web': { revision: 1, failures: 2 } });

    const restarted = remedies(file);
    restarted.r.onResult(web(), failed(3));
    await waitFor(
      () =>
        isDeepStrictEqual(
          restarted.claims.map((c) => c.failures),
          [3],
        ),
      undefined,
      'toEqual([3])',
    );

    const edited = remedies(file);
    edited.r.onResult(web(2), failed(4));
    await edited.r.saved();
    expect(edited.claims).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'default/web': { revision: 2, failures: 1 } });

    // A test no longer assigned here leaves no streak behind.
    edited.r.onRemoved(web(2));
    await edited.r.saved();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({});
  });

  it('starts from zero when the saved streaks are unreadable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synthfleet-streaks-'));
    dirs.push(dir);
    const file = join(dir, 'remedy-streaks.json');
    writeFileSync(file, '{"default/web": {"revision": "x"}, ');
    const { r, claims } = remedies(file);
    for (let i = 1; i <= 2; i++) r.onResult(web(), failed(i));
    await r.saved();
    expect(claims).toEqual([]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'default/web': { revision: 1, failures: 2 } });
  });
});
