import type { AssignmentHub, Subscription, Wake } from './hub.ts';

type Waiter = { resolve: (w: Wake | undefined) => void; timer: ReturnType<typeof setTimeout> };

export function createInProcessHub(): AssignmentHub {
  const waiters = new Map<string, Set<Waiter>>();
  let count = 0;

  const remove = (agentId: string, waiter: Waiter) => {
    const set = waiters.get(agentId);
    if (set?.delete(waiter)) {
      count--;
      clearTimeout(waiter.timer);
      if (set.size === 0) waiters.delete(agentId);
    }
  };

  return {
    subscribe(_cluster, agentId, timeoutMs): Subscription {
      let waiter!: Waiter;
      const done = new Promise<Wake | undefined>((resolve) => {
        waiter = {
          resolve,
          timer: setTimeout(() => {
            remove(agentId, waiter);
            resolve(undefined);
          }, timeoutMs),
        };
      });
      let set = waiters.get(agentId);
      if (!set) {
        set = new Set();
        waiters.set(agentId, set);
      }
      set.add(waiter);
      count++;
      return {
        done,
        cancel: () => {
          remove(agentId, waiter);
          waiter.resolve(undefined);
        },
      };
    },
    async wake(_cluster, wakes) {
      for (const [agentId, wake] of wakes) {
        const set = waiters.get(agentId);
        if (!set) continue;
        for (const waiter of [...set]) {
          remove(agentId, waiter);
          waiter.resolve(wake);
        }
      }
    },
    held: () => count,
  };
}
