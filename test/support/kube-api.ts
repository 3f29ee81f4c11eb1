/**
 * A test double of the Kubernetes API server for custom resources, spoken over real HTTP so the
 * real `@kubernetes/client-node` talks to it exactly as it talks to a cluster. No API server runs
 * on these machines; this is the stand-in the syncer's tests and the system tests (test/system/) use.
 *
 * What it models, as the API server does it:
 * - `GET /apis/{group}/{version}[/namespaces/{ns}]/{plural}`: a list whose `metadata.resourceVersion`
 *   is the store's current version; with `?watch=true` a chunked stream of newline-delimited
 *   `{type, object}` events (ADDED, MODIFIED, DELETED) after `resourceVersion`, BOOKMARK events when
 *   `allowWatchBookmarks=true` (on `bookmark()` and every `bookmarkEveryMs`), `timeoutSeconds`, and
 *   an ERROR event carrying a 410 `Status` ("too old resource version") when the version asked for
 *   has left the history window. A watch without a resourceVersion starts with synthetic ADDED
 *   events for every object, as the server does.
 * - One resourceVersion counter for the whole store, rising on every write; `metadata.generation`
 *   rises only when the spec changes; `uid` and `creationTimestamp` are set on create.
 * - `GET …/{plural}/{name}`, and `PUT`/`PATCH …/{name}/status` on the status subresource: the
 *   status changes, the spec and generation never do; PUT checks `metadata.resourceVersion` (409 on
 *   a stale one); PATCH takes `application/merge-patch+json` and `application/json-patch+json`.
 * - Bearer-token auth (401 `Status` otherwise); 404 `Status` for a group/version that is not served
 *   (a CRD that does not exist) and for a missing object.
 * - Faults: `failRequests(n, code)` answers the next n requests with that status; `dropWatches()`
 *   ends every open watch stream at once; `pauseWatches()` stalls them (events are missed);
 *   `compact()` forgets the history so any older resourceVersion gets 410; `forbid(resource)`
 *   answers 403 for one resource (RBAC without a rule for it).
 *
 * What it does not model: admission and the CRD's openAPI validation and pruning (objects are
 * stored as given), field and label selectors, list pagination (`limit`/`continue`), server-side
 * apply and strategic merge patch, finalizers and graceful deletion, RBAC beyond one token and
 * per-resource 403s, protobuf and table output, and TLS (it serves plain HTTP on 127.0.0.1).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    [k: string]: unknown;
  };
  spec?: unknown;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
type HistoryEntry = { rv: number; resource: string; type: EventType; object: KubeObject };
type Watcher = { resource: string; namespace: string | null; res: ServerResponse; bookmarks: boolean; close(): void };

export type KubeApiOptions = {
  /** Resources served, as `group/version/plural`; others answer 404 like a missing CRD. */
  resources: string[];
  token?: string;
  /** How many events the history keeps; older resourceVersions get 410 when asked for. */
  historyWindow?: number;
  bookmarkEveryMs?: number;
};

export type KubeApiDouble = Awaited<ReturnType<typeof startKubeApi>>;

const clone = <T>(v: T): T => structuredClone(v);

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** RFC 7386 merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch: add, replace, remove and test, which is what clients send for status. */
function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be an array of operations');
  let root = clone(doc);
  for (const op of ops as { op: string; path: string; value?: unknown }[]) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (parts.length === 0) {
      if (op.op === 'add' || op.op === 'replace') root = clone(op.value);
      continue;
    }
    let parent = root as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) {
      const next = parent[p];
      if (next === null || typeof next !== 'object') throw new Error(`path ${op.path} does not exist`);
      parent = next as Record<string, unknown>;
    }
    const last = parts.at(-1) as string;
    if (op.op === 'add' || op.op === 'replace') {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`path ${op.path} does not exist`);
      if (Array.isArray(parent) && last === '-') parent.push(clone(op.value));
      else parent[last] = clone(op.value);
    } else if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`path ${op.path} does not exist`);
      delete parent[last];
    } else if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else {
      throw new Error(`patch op "${op.op}" is not supported`);
    }
  }
  return root;
}

export async function startKubeApi(options: KubeApiOptions) {
  const token = options.token ?? `kube-${randomUUID()}`;
  const windowSize = options.historyWindow ?? 1000;
  const served = new Set(options.resources);
  /** resource ("group/version/plural") → "ns/name" → object */
  const store = new Map<string, Map<string, KubeObject>>();
  for (const r of served) store.set(r, new Map());
  const history: HistoryEntry[] = [];
  /** Versions at or below this are gone from the history (410). */
  let compactedTo = 0;
  let rv = 0;
  const watchers = new Set<Watcher>();
  let failures: { left: number; code: number } = { left: 0, code: 500 };
  const requests: { method: string; path: string }[] = [];
  let statusWrites = 0;
  let paused = false;
  const forbidden = new Set<string>();

  const kindOf = (resource: string) => (resource.endsWith('synthetictests') ? 'SyntheticTest' : 'Object');
  const apiVersionOf = (resource: string) => resource.split('/').slice(0, 2).join('/');

  function send(res: ServerResponse, code: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function record(resource: string, type: EventType, object: KubeObject) {
    history.push({ rv, resource, type, object: clone(object) });
    while (history.length > windowSize) {
      const dropped = history.shift();
      if (dropped) compactedTo = dropped.rv;
    }
    if (paused) return;
    for (const w of watchers) {
      if (w.resource !== resource) continue;
      if (w.namespace !== null && w.namespace !== object.metadata.namespace) continue;
      w.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  function bucket(resource: string): Map<string, KubeObject> {
    const b = store.get(resource);
    if (!b) throw new Error(`resource ${resource} is not served by this double`);
    return b;
  }

  /** Creates or replaces an object as `kubectl apply` would; the generation rises with the spec. */
  function apply(
    resource: string,
    input: {
      apiVersion?: string;
      kind?: string;
      metadata: { name: string; namespace?: string; [k: string]: unknown };
      spec?: unknown;
    },
  ): KubeObject {
    const b = bucket(resource);
    const namespace = input.metadata.namespace ?? 'default';
    const key = `${namespace}/${input.metadata.name}`;
    const existing = b.get(key);
    rv++;
    const object: KubeObject = {
      ...clone(input),
      apiVersion: input.apiVersion ?? apiVersionOf(resource),
      kind: input.kind ?? kindOf(resource),
      metadata: {
        ...clone(input.metadata),
        name: input.metadata.name,
        namespace,
        uid: existing?.metadata.uid ?? randomUUID(),
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString(),
        generation: existing
          ? JSON.stringify(existing.spec) === JSON.stringify(input.spec)
            ? existing.metadata.generation
            : (existing.metadata.generation ?? 1) + 1
          : 1,
        resourceVersion: String(rv),
      },
    };
    // The main resource never changes the status: that is the subresource's job.
    if (existing?.status !== undefined) object.status = clone(existing.status);
    else delete object.status;
    b.set(key, object);
    record(resource, existing ? 'MODIFIED' : 'ADDED', object);
    return clone(object);
  }

  function remove(resource: string, namespace: string, name: string): boolean {
    const b = bucket(resource);
    const existing = b.get(`${namespace}/${name}`);
    if (!existing) return false;
    b.delete(`${namespace}/${name}`);
    rv++;
    record(resource, 'DELETED', { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } });
    return true;
  }

  function writeStatus(resource: string, key: string, next: Record<string, unknown> | undefined): KubeObject {
    const b = bucket(resource);
    const existing = b.get(key) as KubeObject;
    rv++;
    statusWrites++;
    const object: KubeObject = {
      ...existing,
      metadata: { ...existing.metadata, resourceVersion: String(rv) },
    };
    if (next === undefined) delete object.status;
    else object.status = clone(next);
    b.set(key, object);
    record(resource, 'MODIFIED', object);
    return clone(object);
  }

  function list(resource: string, namespace: string | null): KubeObject[] {
    return [...bucket(resource).values()]
      .filter((o) => namespace === null || o.metadata.namespace === namespace)
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map(clone);
  }

  function startWatch(
    req: IncomingMessage,
    res: ServerResponse,
    resource: string,
    namespace: string | null,
    q: URLSearchParams,
  ) {
    const from = q.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The API server sends the headers at once; a client waits for them before it sees a stream.
    res.flushHeaders();
    const line = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    if (from && from !== '0') {
      const since = Number(from);
      if (!Number.isSafeInteger(since) || since < compactedTo) {
        line('ERROR', status(410, 'Expired', `too old resource version: ${from} (${compactedTo + 1})`));
        res.end();
        return;
      }
      for (const e of history) {
        if (e.rv <= since || e.resource !== resource) continue;
        if (namespace !== null && e.object.metadata.namespace !== namespace) continue;
        line(e.type, e.object);
      }
    } else {
      for (const o of list(resource, namespace)) line('ADDED', o);
    }
    let timer: NodeJS.Timeout | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    const watcher: Watcher = {
      resource,
      namespace,
      res,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
      close() {
        clearTimeout(timer);
        clearInterval(bookmarkTimer);
        watchers.delete(watcher);
        res.end();
      },
    };
    watchers.add(watcher);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timer = setTimeout(() => watcher.close(), timeout * 1000);
    if (watcher.bookmarks && options.bookmarkEveryMs)
      bookmarkTimer = setInterval(() => bookmarkTo(watcher), options.bookmarkEveryMs);
    req.on('close', () => watcher.close());
  }

  function bookmarkTo(w: Watcher) {
    if (!w.bookmarks) return;
    w.res.write(
      `${JSON.stringify({
        type: 'BOOKMARK',
        object: {
          apiVersion: apiVersionOf(w.resource),
          kind: kindOf(w.resource),
          metadata: { resourceVersion: String(rv) },
        },
      })}\n`,
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://kube');
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search });
    if (req.headers.authorization !== `Bearer ${token}`) {
      send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (failures.left > 0) {
      failures.left--;
      send(res, failures.code, status(failures.code, 'InternalError', 'injected failure'));
      return;
    }
    // /apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/status]]
    const m = url.pathname.match(
      /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+)(\/status)?)?$/,
    );
    if (!m) {
      send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const [, group, version, namespace, plural, name, sub] = m;
    const resource = `${group}/${version}/${plural}`;
    if (!served.has(resource)) {
      send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    if (forbidden.has(resource)) {
      send(res, 403, status(403, 'Forbidden', `${plural}.${group} is forbidden: the token's role does not allow it`));
      return;
    }
    const ns = namespace ?? null;
    if (!name) {
      if (req.method !== 'GET') {
        send(res, 405, status(405, 'MethodNotAllowed', 'only GET is modelled on collections'));
        return;
      }
      if (url.searchParams.get('watch') === 'true') {
        startWatch(req, res, resource, ns, url.searchParams);
        return;
      }
      send(res, 200, {
        apiVersion: apiVersionOf(resource),
        kind: `${kindOf(resource)}List`,
        metadata: { resourceVersion: String(rv) },
        items: list(resource, ns),
      });
      return;
    }
    if (ns === null) {
      send(res, 404, status(404, 'NotFound', 'namespaced objects are addressed under /namespaces/{ns}'));
      return;
    }
    const key = `${ns}/${name}`;
    const existing = bucket(resource).get(key);
    if (!existing) {
      send(res, 404, status(404, 'NotFound', `${plural}.${group} "${name}" not found`));
      return;
    }
    if (!sub) {
      if (req.method === 'GET') send(res, 200, existing);
      else send(res, 405, status(405, 'MethodNotAllowed', 'write objects through the double, not over HTTP'));
      return;
    }
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      send(res, 400, status(400, 'BadRequest', 'body is not JSON'));
      return;
    }
    if (req.method === 'PUT') {
      const given = (body as KubeObject).metadata?.resourceVersion;
      if (given !== undefined && given !== existing.metadata.resourceVersion) {
        send(
          res,
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${plural}.${group} "${name}": the object has been modified`,
          ),
        );
        return;
      }
      send(res, 200, writeStatus(resource, key, (body as KubeObject).status));
      return;
    }
    if (req.method === 'PATCH') {
      const type = (req.headers['content-type'] ?? '').split(';')[0];
      let patched: KubeObject;
      try {
        if (type === 'application/merge-patch+json') patched = mergePatch(clone(existing), body) as KubeObject;
        else if (type === 'application/json-patch+json') patched = jsonPatch(existing, body) as KubeObject;
        else {
          send(res, 415, status(415, 'UnsupportedMediaType', `the patch type "${type}" is not modelled`));
          return;
        }
      } catch (err) {
        send(res, 422, status(422, 'Invalid', (err as Error).message));
        return;
      }
      send(res, 200, writeStatus(resource, key, patched.status));
      return;
    }
    send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed on status`));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, status(500, 'InternalError', String(err)));
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    apply,
    remove,
    get: (resource: string, namespace: string, name: string) => {
      const o = bucket(resource).get(`${namespace}/${name}`);
      return o ? clone(o) : undefined;
    },
    list: (resource: string) => list(resource, null),
    resourceVersion: () => rv,
    /** Status writes received through the subresource since start. */
    statusWrites: () => statusWrites,
    requests: () => [...requests],
    openWatches: () => watchers.size,
    /** Sends a BOOKMARK with the current version to every watch that allows bookmarks. */
    bookmark: () => {
      for (const w of watchers) bookmarkTo(w);
    },
    /** Forgets all history: any watch from an older resourceVersion now gets 410. */
    compact: () => {
      history.length = 0;
      compactedTo = rv;
    },
    /** Ends every watch stream, as an API server restart or a load balancer timeout would. */
    dropWatches: () => {
      paused = false;
      for (const w of [...watchers]) w.close();
    },
    /**
     * Open watches stop receiving events (a stalled connection): what changes meanwhile is only
     * in the history, until `dropWatches()` makes the clients watch again.
     */
    pauseWatches: () => {
      paused = true;
    },
    /** Every request for this resource answers 403, as RBAC without a rule for it would. */
    forbid: (resource: string, on = true) => {
      if (on) forbidden.add(resource);
      else forbidden.delete(resource);
    },
    failRequests: (count: number, code = 500) => {
      failures = { left: count, code };
    },
    /** Writes a kubeconfig for this server into `dir` and returns its path. */
    writeKubeconfig(dir: string): string {
      const file = join(dir, 'kubeconfig.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          // The client refuses plain HTTP unless told to skip TLS verification, as for `kubectl proxy`.
          `- name: double\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true`,
          'users:',
          `- name: double\n  user:\n    token: ${token}`,
          'contexts:',
          '- name: double\n  context:\n    cluster: double\n    user: double',
          'current-context: double',
          '',
        ].join('\n'),
      );
      return file;
    },
    async close() {
      for (const w of [...watchers]) w.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
