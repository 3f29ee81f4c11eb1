import { describe, expect, it } from 'vitest';
import { createKeyedMutex } from './keyed-mutex.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('createKeyedMutex', () => {
  it('runs work for one key one at a time, in arrival order, and other keys alongside', async () => {
    const exclusive = createKeyedMutex();
    const log: string[] = [];
    const job = (key: string, name: string) =>
      exclusive(key, async () => {
        log.push(`${name} start`);
        await tick();
        log.push(`${name} end`);
        return name;
      });
    const results = await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1'), job('a', 'a3')]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3']);
    const aOnly = log.filter((l) => l.startsWith('a'));
    expect(aOnly).toEqual(['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'));
  });

  it('releases the lock when work throws, and the error reaches the caller', async () => {
    const exclusive = createKeyedMutex();
    const failed = exclusive('k', async () => {
      throw new Error('boom');
    });
    const next = exclusive('k', async () => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
