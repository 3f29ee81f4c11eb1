/**
 * Many shared holders or one exclusive holder. Per-key mirroring holds it shared; a full snapshot
 * holds it exclusively, so a snapshot built before a delete can never land after it.
 */
export function createRwLock() {
  let readers = 0;
  let writer = false;
  const queue: { exclusive: boolean; wake: () => void }[] = [];

  function drain() {
    while (queue.length > 0) {
      const next = queue[0] as { exclusive: boolean; wake: () => void };
      if (next.exclusive ? writer || readers > 0 : writer) return;
      queue.shift();
      if (next.exclusive) writer = true;
      else readers++;
      next.wake();
      if (next.exclusive) return;
    }
  }

  async function acquire(exclusive: boolean): Promise<void> {
    // Waiting in arrival order keeps a steady stream of shared holders from starving a snapshot.
    await new Promise<void>((wake) => {
      queue.push({ exclusive, wake });
      drain();
    });
  }

  async function hold<T>(exclusive: boolean, f: () => Promise<T>): Promise<T> {
    await acquire(exclusive);
    try {
      return await f();
    } finally {
      if (exclusive) writer = false;
      else readers--;
      drain();
    }
  }

  return {
    shared: <T>(f: () => Promise<T>) => hold(false, f),
    exclusive: <T>(f: () => Promise<T>) => hold(true, f),
  };
}
