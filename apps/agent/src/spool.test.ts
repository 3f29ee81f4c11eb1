import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';
import { numberedRun } from './testing/fixtures.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'synthfleet-spool-'));
  dirs.push(d);
  return d;
}

const run = numberedRun;

async function drain(spool: Spool): Promise<string[]> {
  const ids: string[] = [];
  while (!spool.empty) {
    ids.push(...((await spool.peek()) ?? []).map((r) => r.runId));
    await spool.commit();
  }
  return ids;
}

describe('spool', () => {
  it('gives runs back oldest first, across segments and across a restart', async () => {
    const dir = tempDir();
    const a = new Spool(dir, 64 * 1024);
    await a.open();
    for (let i = 0; i < 300; i++) await a.append([run(i)]);
    expect(a.depth).toBe(300);
    expect(readdirSync(dir).length).toBeGreaterThan(1);
    const b = new Spool(dir, 64 * 1024);
    await b.open();
    expect(b.depth).toBe(300);
    const ids = await drain(b);
    expect(ids).toEqual(Array.from({ length: 300 }, (_, i) => run(i).runId));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stays within its bound by dropping the oldest runs, and counts them', async () => {
    const dir = tempDir();
    let dropped = 0;
    const spool = new Spool(dir, 64 * 1024, (n) => {
      dropped += n;
    });
    await spool.open();
    for (let i = 0; i < 2000; i++) await spool.append([run(i)]);
    expect(spool.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(dropped).toBe(spool.dropped);
    expect(spool.depth + dropped).toBe(2000);
    const ids = await drain(spool);
    expect(ids.at(-1)).toBe(run(1999).runId);
    expect(ids[0]).toBe(run(dropped).runId);
  });

  it('skips a line cut short by a crash and counts it as dropped', async () => {
    const dir = tempDir();
    const spool = new Spool(dir, 1024 * 1024);
    await spool.open();
    await spool.append([run(1), run(2)]);
    const [file] = readdirSync(dir);
    appendFileSync(join(dir, file as string), '{"runId":"run-00');
    const reopened = new Spool(dir, 1024 * 1024);
    await reopened.open();
    expect(await drain(reopened)).toEqual([run(1).runId, run(2).runId]);
    expect(reopened.dropped).toBe(1);
  });

  it('does not append to the segment being delivered', async () => {
    const spool = new Spool(tempDir(), 1024 * 1024);
    await spool.open();
    await spool.append([run(1)]);
    expect((await spool.peek())?.map((r) => r.runId)).toEqual([run(1).runId]);
    await spool.append([run(2)]);
    await spool.commit();
    expect(await drain(spool)).toEqual([run(2).runId]);
  });

  it('never hands out a segment while it is being written (reads wait for appends)', async () => {
    const spool = new Spool(tempDir(), 1024 * 1024);
    await spool.open();
    const writes = Array.from({ length: 50 }, (_, i) => spool.append([run(i)]));
    const seen: string[] = [];
    while (seen.length < 50) {
      const runs = (await spool.peek()) ?? [];
      seen.push(...runs.map((r) => r.runId));
      await spool.commit();
    }
    await Promise.all(writes);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => run(i).runId));
  });
});
