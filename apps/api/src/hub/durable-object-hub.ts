import type { AssignmentHub, Subscription, Wake } from './hub.ts';

/**
 * The few Workers runtime types this file needs, declared here so the Node typecheck does not
 * pull in @cloudflare/workers-types (whose globals clash with @types/node).
 */
export type DurableObjectStub = { fetch(input: string, init?: RequestInit): Promise<Response> };
export type DurableObjectNamespace = {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
};

/** Wakes remembered per agent, so a poll registering after its wake still sees it. */
const REMEMBERED_WAKES = 20_000;
/** Bounds one wait even if the caller asks for more: a Worker request is not held forever. */
const MAX_WAIT_MS = 15 * 60_000;

type Waiter = { known: number | undefined; resolve: (w: Wake | undefined) => void };

/**
 * One per cluster: holds that cluster's agents' long-polls and wakes exactly the affected ones.
 * Every Worker instance reaches the same object by the cluster's name, so a change written through
 * any instance wakes polls held through any other.
 *
 * A poll's wait reaches this object asynchronously, after the Worker has subscribed but possibly
 * after it has read the version and a change has landed. So the object remembers the last wake of
 * each agent, and a wait that arrives holding an older version is answered at once.
 *
 * The protocol (internal, Worker to object): `POST /wait?agent=A&known=V&timeout=MS` answers 200
 * with the wake as JSON, or 204 when the wait ran out; `POST /wake` with `{"wakes": [[agentId,
 * {version, hash}], …]}` answers `{"woken": n}`; `GET /held` answers `{"held": n}`.
 */
export class ClusterHub {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly latest = new Map<string, Wake>();
  private count = 0;

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/wait' && request.method === 'POST') return this.wait(url, request.signal);
    if (url.pathname === '/wake' && request.method === 'POST') {
      let body: { wakes?: [string, Wake][] };
      try {
        body = (await request.json()) as { wakes?: [string, Wake][] };
      } catch {
        return Response.json({ error: 'the body is not JSON' }, { status: 400 });
      }
      if (!Array.isArray(body.wakes)) return Response.json({ error: 'the body needs "wakes"' }, { status: 400 });
      return Response.json({ woken: this.wake(body.wakes) });
    }
    if (url.pathname === '/held') return Response.json({ held: this.count });
    return Response.json({ error: `no route for ${request.method} ${url.pathname}` }, { status: 404 });
  }

  private wait(url: URL, signal: AbortSignal | undefined): Promise<Response> | Response {
    const agent = url.searchParams.get('agent');
    const knownRaw = url.searchParams.get('known');
    const timeout = Math.min(Number(url.searchParams.get('timeout') ?? 0), MAX_WAIT_MS);
    if (!agent || !Number.isFinite(timeout) || timeout <= 0) {
      return Response.json({ error: 'wait needs agent and a positive timeout' }, { status: 400 });
    }
    const known = knownRaw === null || knownRaw === '' ? undefined : Number(knownRaw);
    const seen = this.latest.get(agent);
    if (known !== undefined && seen?.version !== undefined && seen.version !== known) return Response.json(seen);
    return new Promise<Response>((resolve) => {
      let set = this.waiters.get(agent);
      if (!set) {
        set = new Set();
        this.waiters.set(agent, set);
      }
      const waiter: Waiter = {
        known,
        resolve: (w) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (set.delete(waiter)) this.count--;
          if (set.size === 0 && this.waiters.get(agent) === set) this.waiters.delete(agent);
          resolve(w ? Response.json(w) : new Response(null, { status: 204 }));
        },
      };
      const onAbort = () => waiter.resolve(undefined);
      const timer = setTimeout(() => waiter.resolve(undefined), timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
      this.count++;
    });
  }

  private wake(wakes: [string, Wake][]): number {
    let woken = 0;
    for (const [agent, wake] of wakes) {
      this.latest.delete(agent);
      this.latest.set(agent, wake);
      if (this.latest.size > REMEMBERED_WAKES) {
        const oldest = this.latest.keys().next().value as string;
        this.latest.delete(oldest);
      }
      const set = this.waiters.get(agent);
      if (!set) continue;
      for (const waiter of [...set]) {
        if (waiter.known !== undefined && wake.version === waiter.known) continue;
        waiter.resolve(wake);
        woken++;
      }
    }
    return woken;
  }
}

/**
 * The Worker side of the hub: subscriptions and wakes go to the cluster's Durable Object. `held`
 * counts the polls this isolate is holding (the objects hold the fleet's).
 */
export function createDurableObjectHub(namespace: DurableObjectNamespace): AssignmentHub {
  let held = 0;
  const stubFor = (cluster: string) => namespace.get(namespace.idFromName(cluster));
  return {
    subscribe(cluster, agentId, timeoutMs, known): Subscription {
      const abort = new AbortController();
      const query = new URLSearchParams({ agent: agentId, timeout: String(timeoutMs) });
      if (known !== undefined) query.set('known', String(known));
      held++;
      let settled = false;
      const done = stubFor(cluster)
        .fetch(`https://cluster-hub/wait?${query}`, { method: 'POST', signal: abort.signal })
        .then(async (res) => (res.status === 200 ? ((await res.json()) as Wake) : undefined))
        .catch(() => undefined)
        .finally(() => {
          if (!settled) {
            settled = true;
            held--;
          }
        });
      return { done, cancel: () => abort.abort() };
    },
    async wake(cluster, wakes) {
      const res = await stubFor(cluster).fetch('https://cluster-hub/wake', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ wakes: [...wakes] }),
      });
      if (!res.ok) throw new Error(`cluster hub for "${cluster}" answered ${res.status} to a wake`);
      await res.arrayBuffer();
    },
    held: () => held,
  };
}
