/**
 * Serialises async work per key (one reconcile per cluster at a time within a process): each
 * waiter waits on a promise of its own, settled by the holder as it finishes, in arrival order.
 */
export function createKeyedMutex() {
  type Waiter = { grant: () => void };
  type Lock = { owner: Waiter; waiters: Waiter[] };
  const locks = new Map<string, Lock>();

  return async function runExclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const me: Waiter = { grant: () => {} };
    let lock = locks.get(key);
    if (!lock) {
      lock = { owner: me, waiters: [] };
      locks.set(key, lock);
    } else {
      const { promise, resolve } = Promise.withResolvers<void>();
      me.grant = resolve;
      lock.waiters.push(me);
      await promise;
    }
    try {
      return await work();
    } finally {
      const next = lock.waiters.shift();
      if (next) {
        lock.owner = next;
        next.grant();
      } else locks.delete(key);
    }
  };
}

export type KeyedMutex = ReturnType<typeof createKeyedMutex>;

/**
 * No serialisation: the Worker entry's choice. On Workers, work resumed by another request's
 * promise runs as part of that request and is cancelled when it ends (the Worker then hangs), a
 * cancelled holder would never release, and other isolates run concurrently anyway; concurrent
 * reconciles of one cluster each write a consistent batch from what they read, and the next one
 * converges.
 */
export const noMutex: KeyedMutex = (_key, work) => work();
