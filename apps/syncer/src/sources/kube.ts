import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { createBackoff } from '@synthfleet/contracts';
import type { Logger } from '../logger.ts';
import type { Checked } from '../objects.ts';
import { createSleeper } from '../sleeper.ts';
import type { Source, SourceSink, StatusTarget } from '../source.ts';

const VERSION = 'v1';
const PLURAL = 'synthetictests';

export type KubeSourceOptions = {
  kubeConfig: KubeConfig;
  groups: readonly string[];
  /** Namespaces to watch; empty watches the whole cluster. */
  namespaces: readonly string[];
  logger: Logger;
  /** How often to look again for a group whose CRD is not installed. */
  recheckMs?: number;
  /** Upper bound of a watch before it is renewed, as client-go does (5–10 min). */
  watchSeconds?: number;
  /**
   * The client ends a watch that received nothing for this long (its own default: 30 s). A
   * quiet cluster is normal, so that end is treated like any stream end: watch again from the
   * last version, no relist, no backoff. Tests shorten it.
   */
  inactivityTimeoutMs?: number;
  random?: () => number;
};

type WatchEnd = { rv: string; gone: boolean; error: unknown; events: number; quiet: boolean };

function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * SyntheticTest objects from a cluster: per group and namespace, list, then watch from the list's
 * resourceVersion (with bookmarks); a 410 relists, a stream that ends is watched again from the
 * last version seen, any other error relists after a capped, jittered backoff. A group whose CRD
 * is not installed counts as empty and is looked for again every `recheckMs`.
 */
export function createKubeSource(opts: KubeSourceOptions): Source {
  const custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  const watcher = new Watch(opts.kubeConfig);
  if (opts.inactivityTimeoutMs !== undefined) {
    // The client keeps this private with no option to set it; it is a plain field at runtime.
    (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.inactivityTimeoutMs;
  }
  const random = opts.random ?? Math.random;
  const log = opts.logger;
  const scopes: { group: string; namespace: string | null }[] = opts.groups.flatMap((group) =>
    opts.namespaces.length === 0
      ? [{ group, namespace: null }]
      : opts.namespaces.map((namespace): { group: string; namespace: string | null } => ({ group, namespace })),
  );
  let stopped = false;
  const controllers = new Set<AbortController>();
  let running: Promise<unknown> | undefined;

  const { sleep, wakeAll } = createSleeper();

  function watchOnce(sink: SourceSink, group: string, namespace: string | null, from: string): Promise<WatchEnd> {
    const apiVersion = `${group}/${VERSION}`;
    const path = namespace
      ? `/apis/${group}/${VERSION}/namespaces/${namespace}/${PLURAL}`
      : `/apis/${group}/${VERSION}/${PLURAL}`;
    return new Promise((resolve) => {
      const end: WatchEnd = { rv: from, gone: false, error: null, events: 0, quiet: false };
      let controller: AbortController | undefined;
      let finished = false;
      const finish = (err: unknown) => {
        if (finished) return;
        finished = true;
        if (controller) controllers.delete(controller);
        if (err && statusCode(err) === 410) end.gone = true;
        // The client's inactivity timeout on a quiet watch: an ordinary end of the stream.
        else if (err && (err as { name?: string }).name === 'TimeoutError') end.quiet = true;
        else if (err && !end.error) end.error = err;
        resolve(end);
      };
      const timeoutSeconds = Math.round((opts.watchSeconds ?? 300) * (1 + random()));
      watcher
        .watch(
          path,
          { allowWatchBookmarks: true, resourceVersion: from, timeoutSeconds },
          (
            type,
            object: {
              metadata?: { resourceVersion?: string; namespace?: string; name?: string };
              code?: number;
              message?: string;
            },
          ) => {
            end.events++;
            const rv = object?.metadata?.resourceVersion;
            switch (type) {
              case 'ADDED':
              case 'MODIFIED':
                sink.upsert(apiVersion, object);
                break;
              case 'DELETED':
                if (object?.metadata?.name)
                  sink.remove(apiVersion, object.metadata.namespace ?? 'default', object.metadata.name);
                break;
              case 'BOOKMARK':
                break;
              case 'ERROR':
                if (object?.code === 410) end.gone = true;
                else end.error = new Error(`watch error: ${object?.message ?? JSON.stringify(object)}`);
                controller?.abort();
                return;
              default:
                return;
            }
            if (rv) end.rv = rv;
          },
          finish,
        )
        .then((c) => {
          controller = c;
          if (finished || stopped) c.abort();
          else controllers.add(c);
        })
        .catch(finish);
    });
  }

  async function runScope(sink: SourceSink, group: string, namespace: string | null, listed: () => void) {
    const apiVersion = `${group}/${VERSION}`;
    const backoff = createBackoff({ baseMs: 1000, maxMs: 30_000, random });
    const scope = { group, namespace: namespace ?? '*' };
    let missingLogged = false;
    while (!stopped) {
      let rv: string;
      try {
        const list = (
          namespace
            ? await custom.listNamespacedCustomObject({ group, version: VERSION, namespace, plural: PLURAL })
            : await custom.listClusterCustomObject({ group, version: VERSION, plural: PLURAL })
        ) as { metadata?: { resourceVersion?: string }; items?: unknown[] };
        rv = list.metadata?.resourceVersion ?? '';
        const items = (list.items ?? []).map((item) =>
          item && typeof item === 'object' && !('apiVersion' in item)
            ? { apiVersion, kind: 'SyntheticTest', ...item }
            : item,
        );
        sink.replace(apiVersion, namespace, items);
        listed();
        missingLogged = false;
        log.debug({ ...scope, resourceVersion: rv, items: items.length }, 'listed');
      } catch (err) {
        if (statusCode(err) === 404) {
          // The CRD is not installed (synthetic-heart's, typically): nothing of it exists.
          sink.replace(apiVersion, namespace, []);
          listed();
          if (!missingLogged) log.info(scope, 'this group is not served here; looking again later');
          missingLogged = true;
          await sleep(opts.recheckMs ?? 300_000);
          continue;
        }
        if (statusCode(err) === 403) {
          // RBAC does not let us read this group. Nothing of it can be mirrored, but it must not
          // hold back the rest: count the scope as listed (what it held before stays as it was).
          listed();
          const wait = backoff.next();
          log.error({ ...scope, retryInMs: wait }, 'forbidden to list this group; check the ClusterRole');
          await sleep(wait);
          continue;
        }
        const wait = backoff.next();
        log.warn({ ...scope, err: (err as Error).message, retryInMs: wait }, 'list failed; will retry');
        await sleep(wait);
        continue;
      }
      // Watch from the list's version; renew the watch from the last version seen until it is gone.
      while (!stopped) {
        const started = Date.now();
        const end = await watchOnce(sink, group, namespace, rv);
        rv = end.rv;
        if (stopped) return;
        if (end.gone) {
          log.info({ ...scope, resourceVersion: rv }, 'watch expired (410); relisting');
          // A server that answers 410 at once again and again must not be hammered.
          if (Date.now() - started < 1000) await sleep(backoff.next());
          break;
        }
        if (end.error) {
          const wait = backoff.next();
          log.warn(
            { ...scope, err: (end.error as Error).message ?? String(end.error), retryInMs: wait },
            'watch failed; relisting after backoff',
          );
          await sleep(wait);
          break;
        }
        if (end.events > 0 || end.quiet) backoff.reset();
        else if (Date.now() - started < 1000) await sleep(backoff.next());
        log.debug({ ...scope, resourceVersion: rv }, 'watch ended; watching again');
      }
    }
  }

  const status: StatusTarget = {
    async write(object: Checked, patch: Record<string, unknown>) {
      const [group, version] = object.apiVersion.split('/') as [string, string];
      try {
        await custom.patchNamespacedCustomObjectStatus(
          { group, version, namespace: object.namespace, plural: PLURAL, name: object.name, body: { status: patch } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      } catch (err) {
        // Deleted since we looked: its status no longer matters.
        if (statusCode(err) === 404) return;
        throw err;
      }
    },
  };

  return {
    describe: `cluster (${opts.groups.join(', ')}; namespaces: ${opts.namespaces.join(', ') || 'all'})`,
    start(sink) {
      let pending = scopes.length;
      let announced = false;
      const done = new Set<number>();
      running = Promise.all(
        scopes.map((s, i) =>
          runScope(sink, s.group, s.namespace, () => {
            if (done.has(i)) return;
            done.add(i);
            pending--;
            if (pending === 0 && !announced) {
              announced = true;
              sink.ready();
            }
          }),
        ),
      );
    },
    async stop() {
      stopped = true;
      for (const c of controllers) c.abort();
      wakeAll();
      await running;
    },
    status,
  };
}
