/** Sleeps that a stop can cut short: every loop of the syncer waits through one of these. */
export function createSleeper() {
  const sleepers = new Set<() => void>();
  let stopped = false;
  return {
    sleep(ms: number): Promise<void> {
      return new Promise((resolve) => {
        if (stopped) return resolve();
        const wake = () => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        sleepers.add(wake);
      });
    },
    /** Registers a custom waiter that `wakeAll` should end too. */
    add(wake: () => void): void {
      sleepers.add(wake);
    },
    remove(wake: () => void): void {
      sleepers.delete(wake);
    },
    /** Ends every sleep now and every later one at once. */
    wakeAll(): void {
      stopped = true;
      for (const wake of [...sleepers]) wake();
    },
  };
}
