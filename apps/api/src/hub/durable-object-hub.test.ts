import { Assignment } from '@synthfleet/contracts';
import { describe, expect, it } from 'vitest';
import { createTestApi, syntheticTest } from '../testing/harness.ts';
import { ClusterHub, createDurableObjectHub, type DurableObjectNamespace } from './durable-object-hub.ts';

/**
 * Durable Object routing as Workers does it: one object per name, reached through a stub's fetch.
 * Objects are the real ClusterHub class; requests are real Request objects with abort signals.
 * (The same class runs under workerd in the Worker tests.)
 */
function fakeNamespace(opts: { delayMs?: number } = {}) {
  const objects = new Map<string, ClusterHub>();
  const ns: DurableObjectNamespace = {
    idFromName: (name) => name,
    get: (id) => ({
      async fetch(input, init) {
        const name = id as string;
        let obj = objects.get(name);
        if (!obj) {
          obj = new ClusterHub();
          objects.set(name, obj);
        }
        // A request can reach the object late (another machine): model that delay.
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        // The caller's signal itself, not one a Node Request follows: undici's Request holds its
        // own controller weakly, so after a GC an abort may never reach request.signal.
        const { signal, ...rest } = init ?? {};
        const request = new Request(input, rest);
        if (signal) Object.defineProperty(request, 'signal', { value: signal });
        return obj.fetch(request);
      },
    }),
  };
  const held = async (name: string) =>
    ((await (await ns.get(name).fetch('https://cluster-hub/held')).json()) as { held: number }).held;
  return { ns, objects, held };
}

describe('Durable Object hub', () => {
  it('wakes a waiting poll with the new version, and only the affected agent', async () => {
    const { ns, held } = fakeNamespace();
    const hub = createDurableObjectHub(ns);
    const a = hub.subscribe('edge-1', 'agent-a', 10_000, 1);
    const b = hub.subscribe('edge-1', 'agent-b', 300, 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(await held('edge-1')).toBe(2);
    await hub.wake('edge-1', new Map([['agent-a', { version: 2, hash: 'h2' }]]));
    expect(await a.done).toEqual({ version: 2, hash: 'h2' });
    expect(await b.done).toBeUndefined(); // ran out
    expect(await held('edge-1')).toBe(0);
    expect(hub.held()).toBe(0);
  });

  it('answers at once a poll that reaches the object after its wake', async () => {
    const { ns } = fakeNamespace({ delayMs: 100 });
    const hub = createDurableObjectHub(ns);
    // The wake lands first (no delay on this stub's side matters: both are delayed equally, so
    // send the wake, then subscribe as if the route had read the old version just before).
    await hub.wake('edge-1', new Map([['agent-a', { version: 7, hash: 'h7' }]]));
    const started = Date.now();
    const sub = hub.subscribe('edge-1', 'agent-a', 20_000, 6);
    expect(await sub.done).toEqual({ version: 7, hash: 'h7' });
    expect(Date.now() - started).toBeLessThan(15_000);
    // A poll already holding that version waits as usual.
    const current = hub.subscribe('edge-1', 'agent-a', 200, 7);
    expect(await current.done).toBeUndefined();
  });

  it('keeps clusters apart and releases a cancelled poll in the object', async () => {
    const { ns, held, objects } = fakeNamespace();
    const hub = createDurableObjectHub(ns);
    const other = hub.subscribe('edge-2', 'agent-a', 300, 1);
    const cancelled = hub.subscribe('edge-1', 'agent-a', 60_000, 1);
    await new Promise((r) => setTimeout(r, 50));
    await hub.wake('edge-1', new Map([['agent-x', { version: 3, hash: 'h' }]]));
    cancelled.cancel();
    expect(await cancelled.done).toBeUndefined();
    await new Promise((r) => setTimeout(r, 20));
    expect(await held('edge-1')).toBe(0);
    expect(await other.done).toBeUndefined();
    expect([...objects.keys()].sort()).toEqual(['edge-1', 'edge-2']);
  });

  it('answers bad internal requests with 400 and names what is missing', async () => {
    const hubObject = new ClusterHub();
    const noAgent = await hubObject.fetch(new Request('https://cluster-hub/wait?timeout=10', { method: 'POST' }));
    expect(noAgent.status).toBe(400);
    const badWake = await hubObject.fetch(new Request('https://cluster-hub/wake', { method: 'POST', body: '{' }));
    expect(badWake.status).toBe(400);
    expect(((await badWake.json()) as { error: string }).error).toMatch(/not JSON/);
  });

  it('serves the API long-poll: a poll held in one request is woken by a test change made in another', async () => {
    const { ns } = fakeNamespace({ delayMs: 5 });
    const api = await createTestApi({ hub: createDurableObjectHub(ns) });
    try {
      const t = await api.token('cluster', 'edge-1');
      const agentId = await api.register(t, 'node-a');
      const first = Assignment.parse((await api.poll(t, agentId)).body);
      const pending = api.poll(t, agentId, first.version, 30);
      await new Promise((r) => setTimeout(r, 200));
      expect((await api.putTest(t, 'edge-1', syntheticTest('web'))).status).toBe(201);
      const woken = await pending;
      expect(woken.status).toBe(200);
      const body = Assignment.parse(woken.body);
      expect(body.version).toBeGreaterThan(first.version);
      expect(body.tests.map((x) => x.name)).toEqual(['web']);
      // Nothing changes: the poll ends with 304 when its wait runs out.
      const idle = await api.poll(t, agentId, body.version, 1);
      expect(idle.status).toBe(304);
    } finally {
      await api.close();
    }
  });
});
