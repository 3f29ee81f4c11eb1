import { createBackoff } from '@synthfleet/contracts';

export type WorkQueueOptions = {
  worker: (key: string) => Promise<void>;
  concurrency?: number;
  baseMs?: number;
  maxMs?: number;
  onError?: (key: string, err: unknown, retryInMs: number) => void;
};

/**
 * A per-key work queue like client-go's: a key is queued at most once however many events name
 * it (bursts coalesce), never runs twice at once (an event during its run queues one more run),
 * and a failed key is retried with its own capped exponential backoff, forever, so an API that is
 * down for minutes loses nothing.
 */
export function createWorkQueue(opts: WorkQueueOptions) {
  const concurrency = opts.concurrency ?? 4;
  const pending = new Set<string>();
  const running = new Set<string>();
  const dirty = new Set<string>();
  /** Keys waiting out a backoff, with the timer that queues them again. */
  const waiting = new Map<string, NodeJS.Timeout>();
  const failures = new Map<string, ReturnType<typeof createBackoff>>();
  let idleWaiters: (() => void)[] = [];
  let stopped = false;

  function settleIdle() {
    if (pending.size || running.size || waiting.size) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  }

  function pump() {
    while (!stopped && running.size < concurrency && pending.size > 0) {
      const key = pending.values().next().value as string;
      pending.delete(key);
      running.add(key);
      void run(key);
    }
    settleIdle();
  }

  async function run(key: string) {
    let failed = false;
    try {
      await opts.worker(key);
      failures.delete(key);
    } catch (err) {
      failed = true;
      const backoff = failures.get(key) ?? createBackoff({ baseMs: opts.baseMs ?? 200, maxMs: opts.maxMs ?? 30_000 });
      failures.set(key, backoff);
      const delay = backoff.next();
      opts.onError?.(key, err, delay);
      if (!stopped) {
        const timer = setTimeout(() => {
          waiting.delete(key);
          pending.add(key);
          pump();
        }, delay);
        waiting.set(key, timer);
      }
    } finally {
      running.delete(key);
      // A key that failed runs again after its backoff, and then sees the newest state anyway.
      if (dirty.delete(key) && !failed) pending.add(key);
      pump();
    }
  }

  return {
    add(key: string) {
      if (stopped) return;
      if (running.has(key)) dirty.add(key);
      else if (!waiting.has(key)) pending.add(key);
      pump();
    },
    /** Runs a key that is waiting out a backoff now (e.g. when the API is known to be back). */
    retryNow() {
      for (const [key, timer] of waiting) {
        clearTimeout(timer);
        waiting.delete(key);
        pending.add(key);
      }
      pump();
    },
    get size() {
      return pending.size + running.size + waiting.size;
    },
    /** Resolves once nothing is queued, running or waiting to retry. */
    idle(): Promise<void> {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    stop() {
      stopped = true;
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
      pending.clear();
    },
  };
}
export type WorkQueue = ReturnType<typeof createWorkQueue>;
