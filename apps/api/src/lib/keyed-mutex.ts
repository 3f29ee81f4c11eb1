/**
 * Serialises async work per key (one reconcile per cluster at a time within a process).
 *
 * Each waiter waits on a promise it created itself, and the holder hands the lock over by settling
 * it. On Workers that matters: a promise's continuations run in the request that created it, so a
 * waiter's work (and its database fetches) stays in the waiter's own request instead of running
 * inside the holder's, where it would be cancelled when the holder's request ends.
 *
 * `maxWaitMs` bounds the wait: past it a waiter proceeds without the lock. On Workers a holder's
 * request can be cancelled mid-work (its client went away), and its release would then never run;
 * serialisation in one isolate is only an optimisation there (other isolates run concurrently), so
 * a bounded wait is the right trade. Unbounded by default (Node: one process, nothing cancels).
 */
export function createKeyedMutex(opts: { maxWaitMs?: number } = {}) {
  type Waiter = { grant: () => void; granted: boolean };
  type Lock = { owner: Waiter; waiters: Waiter[] };
  const locks = new Map<string, Lock>();

  function release(key: string, lock: Lock) {
    const next = lock.waiters.shift();
    if (!next) {
      locks.delete(key);
      return;
    }
    lock.owner = next;
    next.granted = true;
    next.grant();
  }

  return async function runExclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const me: Waiter = { grant: () => {}, granted: false };
    let lock = locks.get(key);
    if (!lock) {
      lock = { owner: me, waiters: [] };
      me.granted = true;
      locks.set(key, lock);
    } else {
      const { promise, resolve } = Promise.withResolvers<void>();
      me.grant = resolve;
      lock.waiters.push(me);
      let timer: ReturnType<typeof setTimeout> | undefined;
      if (opts.maxWaitMs !== undefined) {
        const held = lock;
        timer = setTimeout(() => {
          if (me.granted) return;
          held.waiters.splice(held.waiters.indexOf(me), 1);
          resolve();
        }, opts.maxWaitMs);
      }
      await promise;
      clearTimeout(timer);
    }
    try {
      return await work();
    } finally {
      if (me.granted && lock.owner === me && locks.get(key) === lock) release(key, lock);
    }
  };
}

export type KeyedMutex = ReturnType<typeof createKeyedMutex>;
