/**
 * Serialises async work per key (one reconcile per cluster at a time within a process): each
 * waiter waits on a promise of its own, settled by the holder as it finishes, in arrival order.
 */
export function createKeyedMutex() {
  // A key is held while it is in the map; its value is the queue of waiters' grants.
  const waiting = new Map<string, (() => void)[]>();

  return async function runExclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    let queue = waiting.get(key);
    if (!queue) {
      queue = [];
      waiting.set(key, queue);
    } else {
      const { promise, resolve } = Promise.withResolvers<void>();
      queue.push(resolve);
      await promise;
    }
    try {
      return await work();
    } finally {
      const next = queue.shift();
      if (next) next();
      else waiting.delete(key);
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
