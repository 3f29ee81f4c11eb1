import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.ts';

describe('semaphore', () => {
  it('grants in order and never more than the limit', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    const a = await s.acquire();
    const b = await s.acquire();
    const c = s.acquire().then((r) => {
      order.push(3);
      return r;
    });
    const d = s.acquire().then((r) => {
      order.push(4);
      return r;
    });
    expect(s.waiting).toBe(2);
    a();
    (await c)();
    b();
    (await d)();
    expect(order).toEqual([3, 4]);
    expect(s.available).toBe(2);
  });

  it('drops a waiter whose signal aborts, and a double release counts once', async () => {
    const s = new Semaphore(1);
    const held = await s.acquire();
    const ctl = new AbortController();
    const waiting = s.acquire(ctl.signal);
    ctl.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    held();
    held();
    expect(s.available).toBe(1);
  });
});
