import { createBackoff, type TestRollup } from '@synthfleet/contracts';
import { ApiCallError, type ApiClient } from './api-client.ts';
import { createDesiredState } from './desired-state.ts';
import type { Logger } from './logger.ts';
import type { Checked } from './objects.ts';
import { createRwLock } from './rw-lock.ts';
import { createSleeper } from './sleeper.ts';
import type { Source } from './source.ts';
import { desiredStatus, sameStatus, statusPatch } from './status.ts';
import { createWorkQueue } from './work-queue.ts';

export type SyncerOptions = {
  api: ApiClient;
  source: Source;
  logger: Logger;
  /** Set with an admin token; a cluster token's cluster is asked of the API. */
  cluster?: string | undefined;
  resyncMs: number;
  statusMs: number;
  concurrency?: number;
};

export type SyncerHealth = {
  cluster: string | null;
  sourceReady: boolean;
  snapshots: number;
  lastSnapshotAt: string | null;
  queued: number;
  statusWrites: number;
  invalid: number;
};

/** A failure the API will repeat however often it is asked: the object itself is the problem. */
const rejectsObject = (err: unknown) => err instanceof ApiCallError && (err.status === 400 || err.status === 413);

/**
 * Mirrors a source's SyntheticTest objects into the control plane and writes roll-ups back.
 * Events go through a per-key queue (upsert, delete); a full snapshot at start and every resync
 * period heals anything missed; a status pass every period writes what changed.
 */
export function createSyncer(opts: SyncerOptions) {
  const log = opts.logger;
  /** key → hash of what the API holds, or null when the API is known not to hold it. */
  const sent = new Map<string, string | null>();
  /** key → the API's reason for refusing an object that passed local validation. */
  const rejected = new Map<string, string>();
  const lock = createRwLock();
  let cluster: string | null = opts.cluster ?? null;
  let stopped = false;
  let sourceReady = false;
  let snapshots = 0;
  let lastSnapshotAt: string | null = null;
  let statusWrites = 0;
  const sleeper = createSleeper();
  const sleep = sleeper.sleep;
  let pokeStatus: (() => void) | undefined;
  const reportedInvalid = new Map<string, string>();

  const state = createDesiredState((key) => {
    rejected.delete(key);
    queue.add(key);
  });

  const queue = createWorkQueue({
    concurrency: opts.concurrency ?? 4,
    worker: mirrorKey,
    onError: (key, err, retryInMs) =>
      log.warn({ test: key, err: (err as Error).message, retryInMs }, 'mirroring failed; will retry'),
  });

  let learning: Promise<string> | undefined;
  function clusterName(): Promise<string> {
    if (cluster !== null) return Promise.resolve(cluster);
    learning ??= learnCluster().finally(() => {
      learning = undefined;
    });
    return learning;
  }

  async function learnCluster(): Promise<string> {
    const backoff = createBackoff({ baseMs: 500, maxMs: 30_000 });
    while (cluster === null) {
      if (stopped) throw new Error('stopped');
      try {
        const me = await opts.api.whoami();
        if (me.cluster === null)
          throw new Error(`a ${me.role} token names no cluster: set SYNTHFLEET_CLUSTER or use a cluster token`);
        cluster = me.cluster;
        log.info({ cluster }, 'acting for cluster');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot learn the cluster from the API; will retry');
        await sleep(backoff.next());
      }
    }
    return cluster;
  }

  function reportInvalid(c: Checked | undefined) {
    if (!c) return;
    const message = c.valid ? rejected.get(c.key) : c.message;
    if (message === undefined) {
      reportedInvalid.delete(c.key);
      return;
    }
    if (reportedInvalid.get(c.key) === message) return;
    reportedInvalid.set(c.key, message);
    log.warn(
      { test: c.key, apiVersion: c.apiVersion, reason: message },
      'invalid SyntheticTest: refused (a test the API holds keeps its last valid revision)',
    );
    pokeStatus?.();
  }

  /** What `sent` records for an object the API refused: it may still hold the last valid revision. */
  const REFUSED = 'refused';

  async function mirrorKey(key: string): Promise<void> {
    const name = await clusterName();
    await lock.shared(async () => {
      const c = state.effective(key);
      const [namespace, testName] = key.split('/') as [string, string];
      if (c && !rejected.has(key)) {
        // An invalid object goes up too: the API records why it refuses it and keeps the last
        // valid revision running, marked, instead of the test vanishing.
        const mark = c.valid ? c.hash : `${REFUSED}:${c.message}`;
        if (sent.get(key) === mark) return;
        try {
          const r = await opts.api.upsert(name, namespace, testName, c.object);
          sent.set(key, mark);
          log.info({ test: key, revision: r.revision, changed: r.changed }, 'mirrored');
          return;
        } catch (err) {
          if (!rejectsObject(err)) throw err;
          rejected.set(key, c.valid ? (err as Error).message : c.message);
          sent.set(key, mark);
        }
      }
      if (c) {
        reportInvalid(c);
        return;
      }
      reportedInvalid.delete(key);
      if (sent.get(key) === null) return;
      await opts.api.remove(name, namespace, testName);
      sent.set(key, null);
      log.info({ test: key }, 'removed');
    });
  }

  async function snapshotLoop(): Promise<void> {
    const backoff = createBackoff({ baseMs: 500, maxMs: 30_000 });
    while (!stopped) {
      const name = await clusterName().catch(() => null);
      if (name === null) return;
      try {
        const result = await lock.exclusive(async () => {
          const valid = state.snapshotItems();
          const items = valid.filter((i) => !rejected.has(i.key));
          const refused = [
            ...state.invalidItems(),
            ...valid
              .filter((i) => rejected.has(i.key))
              .map((i) => {
                const [namespace, testName] = i.key.split('/') as [string, string];
                return { key: i.key, namespace, name: testName, reason: rejected.get(i.key) as string };
              }),
          ];
          const r = await opts.api.snapshot(
            name,
            items.map((i) => i.object),
            refused.map(({ namespace, name: n, reason }) => ({ namespace, name: n, reason: reason.slice(0, 4000) })),
          );
          sent.clear();
          for (const key of state.keys()) sent.set(key, null);
          for (const i of items) sent.set(i.key, i.hash);
          for (const i of refused) sent.set(i.key, `${REFUSED}:${i.reason}`);
          return { ...r, items: items.length };
        });
        snapshots++;
        lastSnapshotAt = new Date().toISOString();
        backoff.reset();
        log.info(result, 'snapshot applied');
        for (const c of state.all()) reportInvalid(c);
        // The API answers again: keys waiting out a backoff need not wait any longer.
        queue.retryNow();
        pokeStatus?.();
        await sleep(opts.resyncMs);
      } catch (err) {
        if (rejectsObject(err)) {
          // Some object the API refuses although it passed our checks: find it key by key.
          for (const key of state.keys()) queue.add(key);
        }
        const wait = backoff.next();
        log.warn({ err: (err as Error).message, retryInMs: wait }, 'snapshot failed; will retry');
        await sleep(wait);
      }
    }
  }

  async function statusPass(): Promise<void> {
    const target = opts.source.status;
    if (!target) return;
    let rollups: Map<string, TestRollup> | undefined;
    try {
      if (cluster !== null) {
        const list = await opts.api.rollups(cluster);
        rollups = new Map(list.tests.map((t) => [`${t.namespace}/${t.name}`, t]));
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot read roll-ups; writing only what needs no API');
    }
    const now = new Date();
    for (const object of state.all()) {
      if (stopped) return;
      const shadow = state.shadowedBy(object);
      const notMirrored = shadow
        ? `shadowed by the ${shadow} object of the same name, which is the one mirrored`
        : object.valid
          ? rejected.get(object.key)
          : undefined;
      const isInvalid = !object.valid || notMirrored !== undefined;
      // Without roll-ups, only statuses that do not depend on the API are known.
      if (rollups === undefined && !isInvalid) continue;
      // A roll-up of an older spec than the object's says nothing about this one yet.
      let rollup = rollups?.get(object.key);
      // (An invalid edit's roll-up is of the last valid spec, which is what still runs.)
      if (
        rollup &&
        !isInvalid &&
        object.generation !== undefined &&
        rollup.generation !== null &&
        rollup.generation < object.generation
      )
        rollup = undefined;
      const status = desiredStatus({ object, rollup, notMirrored, now });
      const current = object.raw.status;
      if (sameStatus(current, status)) continue;
      try {
        await target.write(object, statusPatch(current, status));
        statusWrites++;
      } catch (err) {
        log.warn({ test: object.key, err: (err as Error).message }, 'status write failed; next pass retries');
      }
    }
  }

  async function statusLoop(): Promise<void> {
    while (!stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, opts.statusMs);
        function done() {
          clearTimeout(timer);
          pokeStatus = undefined;
          sleeper.remove(done);
          resolve();
        }
        // A poke (a test turned invalid, a snapshot landed) runs the pass soon, not at once,
        // so a burst of events makes one pass.
        pokeStatus = () => {
          clearTimeout(timer);
          pokeStatus = undefined;
          setTimeout(done, 200);
        };
        sleeper.add(done);
      });
      if (stopped) return;
      if (!sourceReady) continue;
      await statusPass().catch((err: unknown) => log.error({ err: (err as Error).message }, 'status pass failed'));
    }
  }

  let loops: Promise<unknown> | undefined;
  let readyWaiters: (() => void)[] = [];

  return {
    start(): void {
      opts.source.start({
        replace: (apiVersion, namespace, objects) => state.replace(apiVersion, namespace, objects),
        upsert: (apiVersion, object) => state.upsert(apiVersion, object),
        remove: (apiVersion, namespace, name) => state.remove(apiVersion, namespace, name),
        ready: () => {
          if (sourceReady) return;
          sourceReady = true;
          log.info({ source: opts.source.describe, objects: state.keys().size }, 'source listed');
          for (const w of readyWaiters) w();
          readyWaiters = [];
        },
      });
      const ready = new Promise<void>((resolve) => {
        if (sourceReady) resolve();
        else readyWaiters.push(resolve);
      });
      loops = Promise.all([ready.then(() => snapshotLoop()), statusLoop()]);
    },
    async stop(): Promise<void> {
      stopped = true;
      queue.stop();
      sleeper.wakeAll();
      for (const w of readyWaiters) w();
      await opts.source.stop();
      await loops;
    },
    health(): SyncerHealth {
      return {
        cluster,
        sourceReady,
        snapshots,
        lastSnapshotAt,
        queued: queue.size,
        statusWrites,
        invalid: new Set([
          ...state
            .all()
            .filter((c) => !c.valid)
            .map((c) => c.key),
          ...rejected.keys(),
        ]).size,
      };
    },
    /** Resolves when the queue has nothing left to do (tests use it to wait for convergence). */
    idle: () => queue.idle(),
    /** Runs a status pass now. */
    writeStatus: () => statusPass(),
  };
}
export type Syncer = ReturnType<typeof createSyncer>;
