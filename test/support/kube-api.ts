/**
 * A test double of the Kubernetes API server, spoken over real HTTP so the real
 * `@kubernetes/client-node` (the syncer) and the agent's own Kubernetes client (the k8s probes)
 * talk to it exactly as they talk to a cluster. No API server runs on these machines; this is the
 * stand-in the syncer's tests, the k8s probe tests and the system tests (test/system/) use.
 * Resources are named `group/version/plural`, the core group as `core` (`core/v1/pods`, served
 * under `/api/v1`); `namespaces` and `nodes` are cluster-scoped. What the cluster's controllers do
 * (scheduling, pods starting, endpoints, rollouts, namespace termination, jobs) is simulated by
 * `kube-controller.ts` on top of this store.
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
 * - Writes on the main resource: `POST` on a collection creates (409 AlreadyExists, `generateName`,
 *   404 when the namespace does not exist or 403 while it terminates, when namespaces are served),
 *   `PUT` replaces (409 on a stale resourceVersion), `PATCH` merge or JSON patch; none of them
 *   changes the status. `DELETE` removes at once unless a deletion hook takes the object over
 *   (graceful deletion: `metadata.deletionTimestamp` set, removed later by the controller).
 * - `labelSelector` on lists and watches: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`.
 * - Bearer-token auth (401 `Status` otherwise); 404 `Status` for a group/version that is not served
 *   (a CRD that does not exist) and for a missing object.
 * - Faults: `failRequests(n, code)` answers the next n requests with that status; `dropWatches()`
 *   ends every open watch stream at once; `pauseWatches()` stalls them (events are missed);
 *   `compact()` forgets the history so any older resourceVersion gets 410; `forbid(resource)`
 *   answers 403 for one resource (RBAC without a rule for it).
 *
 * What it does not model: admission and the CRD's openAPI validation and pruning (objects are
 * stored as given), field selectors, list pagination (`limit`/`continue`), server-side apply and
 * strategic merge patch, finalizers, RBAC beyond one token and per-resource 403s, protobuf and table
 * output, and TLS (it serves plain HTTP on 127.0.0.1).
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
type Watcher = {
  resource: string;
  namespace: string | null;
  selector: Requirement[];
  res: ServerResponse;
  bookmarks: boolean;
  close(): void;
};

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

const KINDS: Record<string, string> = {
  synthetictests: 'SyntheticTest',
  pods: 'Pod',
  services: 'Service',
  namespaces: 'Namespace',
  nodes: 'Node',
  deployments: 'Deployment',
  jobs: 'Job',
  endpointslices: 'EndpointSlice',
  configmaps: 'ConfigMap',
};
const CLUSTER_SCOPED = new Set(['namespaces', 'nodes']);
const NAMESPACES = 'core/v1/namespaces';

const pluralOf = (resource: string) => resource.split('/')[2] ?? '';
const isClusterScoped = (resource: string) => CLUSTER_SCOPED.has(pluralOf(resource));

type Requirement = { key: string; op: 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

/** Parses a label selector as the API server does for the forms clients send. */
export function parseLabelSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  // Split on commas that are not inside parentheses.
  const parts = text.match(/([^,(]+(\([^)]*\))?)+/g) ?? [];
  for (const raw of parts) {
    const part = raw.trim();
    if (!part) continue;
    let m = part.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/);
    if (m) {
      out.push({
        key: m[1] as string,
        op: m[2] as 'in' | 'notin',
        values: (m[3] as string)
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      });
      continue;
    }
    m = part.match(/^([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)$/);
    if (m) {
      out.push({ key: m[1] as string, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3] as string] });
      continue;
    }
    m = part.match(/^(!?)([^\s!=]+)$/);
    if (m) {
      out.push({ key: m[2] as string, op: m[1] ? '!exists' : 'exists', values: [] });
      continue;
    }
    throw new Error(`unable to parse requirement: "${part}"`);
  }
  return out;
}

export function matchesLabels(labels: Record<string, string> | undefined, selector: Requirement[]): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    if (r.op === 'exists') return has;
    if (r.op === '!exists') return !has;
    if (r.op === 'in') return has && r.values.includes(l[r.key] as string);
    return !has || !r.values.includes(l[r.key] as string);
  });
}

export type ChangeListener = (resource: string, type: EventType, object: KubeObject) => void;
/** Takes over an object's deletion (returns true) or lets the double remove it at once. */
export type DeleteHook = (resource: string, object: KubeObject) => boolean;

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
  const listeners = new Set<ChangeListener>();
  let deleteHook: DeleteHook | undefined;

  const kindOf = (resource: string) => KINDS[pluralOf(resource)] ?? 'Object';
  const apiVersionOf = (resource: string) => {
    const [group, version] = resource.split('/');
    return group === 'core' ? (version as string) : `${group}/${version}`;
  };
  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;

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
    for (const l of listeners) l(resource, type, clone(object));
    if (paused) return;
    for (const w of watchers) {
      if (w.resource !== resource) continue;
      if (w.namespace !== null && w.namespace !== object.metadata.namespace) continue;
      if (!matchesLabels(object.metadata.labels as Record<string, string>, w.selector)) continue;
      w.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  function bucket(resource: string): Map<string, KubeObject> {
    const b = store.get(resource);
    if (!b) throw new Error(`resource ${resource} is not served by this double`);
    return b;
  }

  function namespaceOf(resource: string, given: string | undefined): string {
    return isClusterScoped(resource) ? '' : (given ?? 'default');
  }

  /** Creates or replaces an object as `kubectl apply` would; the generation rises with the spec. */
  function apply(
    resource: string,
    input: {
      apiVersion?: string;
      kind?: string;
      metadata: { name: string; namespace?: string; [k: string]: unknown };
      spec?: unknown;
      [k: string]: unknown;
    },
  ): KubeObject {
    const b = bucket(resource);
    const namespace = namespaceOf(resource, input.metadata.namespace);
    const key = keyOf(namespace, input.metadata.name);
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
        creationTimestamp:
          existing?.metadata.creationTimestamp ??
          (input.metadata.creationTimestamp as string | undefined) ??
          new Date().toISOString(),
        generation: existing
          ? JSON.stringify(existing.spec) === JSON.stringify(input.spec)
            ? existing.metadata.generation
            : (existing.metadata.generation ?? 1) + 1
          : 1,
        resourceVersion: String(rv),
      },
    };
    if (existing?.metadata.deletionTimestamp) object.metadata.deletionTimestamp = existing.metadata.deletionTimestamp;
    if (isClusterScoped(resource)) delete (object.metadata as { namespace?: string }).namespace;
    // The main resource never changes the status: that is the subresource's job.
    if (existing?.status !== undefined) object.status = clone(existing.status);
    else delete object.status;
    b.set(key, object);
    record(resource, existing ? 'MODIFIED' : 'ADDED', object);
    return clone(object);
  }

  function remove(resource: string, namespace: string, name: string): boolean {
    const b = bucket(resource);
    const key = keyOf(namespaceOf(resource, namespace), name);
    const existing = b.get(key);
    if (!existing) return false;
    b.delete(key);
    rv++;
    record(resource, 'DELETED', { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } });
    return true;
  }

  /** A write by the system (a controller): metadata and status as given, spec unchanged. */
  function update(resource: string, object: KubeObject): KubeObject {
    const b = bucket(resource);
    const key = keyOf(namespaceOf(resource, object.metadata.namespace), object.metadata.name);
    const existing = b.get(key);
    if (!existing) throw new Error(`${resource} ${key} does not exist`);
    rv++;
    const next: KubeObject = clone({
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(rv) },
    });
    b.set(key, next);
    record(resource, 'MODIFIED', next);
    return clone(next);
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

  function list(resource: string, namespace: string | null, selector: Requirement[] = []): KubeObject[] {
    return [...bucket(resource).values()]
      .filter((o) => namespace === null || o.metadata.namespace === namespace)
      .filter((o) => matchesLabels(o.metadata.labels as Record<string, string>, selector))
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map(clone);
  }

  function startWatch(
    req: IncomingMessage,
    res: ServerResponse,
    resource: string,
    namespace: string | null,
    q: URLSearchParams,
    selector: Requirement[],
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
        if (!matchesLabels(e.object.metadata.labels as Record<string, string>, selector)) continue;
        line(e.type, e.object);
      }
    } else {
      for (const o of list(resource, namespace, selector)) line('ADDED', o);
    }
    let timer: NodeJS.Timeout | undefined;
    let bookmarkTimer: NodeJS.Timeout | undefined;
    const watcher: Watcher = {
      resource,
      namespace,
      selector,
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

  const notFound = () => status(404, 'NotFound', 'the server could not find the requested resource');

  /** Splits a request path into resource, namespace, name and subresource. */
  function route(pathname: string) {
    const m = pathname.match(/^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))((?:\/[^/]+)*)$/);
    if (!m) return undefined;
    const group = m[1] ? 'core' : (m[2] as string);
    const version = (m[1] ?? m[3]) as string;
    const segs = (m[4] ?? '').split('/').slice(1).map(decodeURIComponent);
    let namespace: string | null = null;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      namespace = segs[1] as string;
      segs.splice(0, 2);
    }
    const [plural, name, sub, ...rest] = segs;
    if (!plural || rest.length > 0) return undefined;
    return { resource: `${group}/${version}/${plural}`, plural, group, namespace, name, sub };
  }

  async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown | undefined> {
    const text = await readBody(req);
    try {
      return JSON.parse(text);
    } catch {
      send(res, 400, status(400, 'BadRequest', 'body is not JSON'));
      return undefined;
    }
  }

  function patchOf(req: IncomingMessage, res: ServerResponse, existing: KubeObject, body: unknown) {
    const type = (req.headers['content-type'] ?? '').split(';')[0];
    try {
      if (type === 'application/merge-patch+json') return mergePatch(clone(existing), body) as KubeObject;
      if (type === 'application/json-patch+json') return jsonPatch(existing, body) as KubeObject;
      send(res, 415, status(415, 'UnsupportedMediaType', `the patch type "${type}" is not modelled`));
    } catch (err) {
      send(res, 422, status(422, 'Invalid', (err as Error).message));
    }
    return undefined;
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
    const r = route(url.pathname);
    if (!r || !served.has(r.resource)) {
      send(res, 404, notFound());
      return;
    }
    const { resource, plural, group, name, sub } = r;
    const what = group === 'core' ? plural : `${plural}.${group}`;
    if (forbidden.has(resource)) {
      send(res, 403, status(403, 'Forbidden', `${what} is forbidden: the token's role does not allow it`));
      return;
    }
    const clusterScoped = isClusterScoped(resource);
    if (clusterScoped && r.namespace !== null) {
      send(res, 404, notFound());
      return;
    }
    const ns = r.namespace;
    if (!name) {
      if (req.method === 'POST') {
        await create(req, res, resource, what, ns);
        return;
      }
      if (req.method !== 'GET') {
        send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed on a collection`));
        return;
      }
      let selector: Requirement[];
      try {
        selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
      } catch (err) {
        send(res, 400, status(400, 'BadRequest', (err as Error).message));
        return;
      }
      if (url.searchParams.get('watch') === 'true') {
        startWatch(req, res, resource, ns, url.searchParams, selector);
        return;
      }
      send(res, 200, {
        apiVersion: apiVersionOf(resource),
        kind: `${kindOf(resource)}List`,
        metadata: { resourceVersion: String(rv) },
        items: list(resource, ns, selector),
      });
      return;
    }
    if (ns === null && !clusterScoped) {
      send(res, 404, status(404, 'NotFound', 'namespaced objects are addressed under /namespaces/{ns}'));
      return;
    }
    const key = keyOf(ns ?? '', name);
    const existing = bucket(resource).get(key);
    if (!existing) {
      send(res, 404, status(404, 'NotFound', `${what} "${name}" not found`));
      return;
    }
    const conflict = () =>
      send(
        res,
        409,
        status(409, 'Conflict', `Operation cannot be fulfilled on ${what} "${name}": the object has been modified`),
      );
    if (!sub) {
      if (req.method === 'GET') {
        send(res, 200, existing);
        return;
      }
      if (req.method === 'DELETE') {
        if (!deleteHook?.(resource, clone(existing))) remove(resource, ns ?? '', name);
        send(res, 200, bucket(resource).get(key) ?? status200(what, name));
        return;
      }
      if (req.method === 'PUT' || req.method === 'PATCH') {
        const body = await readJson(req, res);
        if (body === undefined) return;
        let next: KubeObject | undefined;
        if (req.method === 'PUT') {
          const given = (body as KubeObject).metadata?.resourceVersion;
          if (given !== undefined && given !== existing.metadata.resourceVersion) return conflict();
          next = body as KubeObject;
        } else next = patchOf(req, res, existing, body);
        if (!next) return;
        const { status: _ignored, ...rest } = next;
        send(res, 200, apply(resource, { ...rest, metadata: { ...rest.metadata, name, namespace: ns ?? undefined } }));
        return;
      }
      send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed on ${what}`));
      return;
    }
    if (sub !== 'status' && !(sub === 'scale' && req.method === 'GET')) {
      send(res, 404, notFound());
      return;
    }
    const body = await readJson(req, res);
    if (body === undefined) return;
    if (req.method === 'PUT') {
      const given = (body as KubeObject).metadata?.resourceVersion;
      if (given !== undefined && given !== existing.metadata.resourceVersion) return conflict();
      send(res, 200, writeStatus(resource, key, (body as KubeObject).status));
      return;
    }
    if (req.method === 'PATCH') {
      const patched = patchOf(req, res, existing, body);
      if (patched) send(res, 200, writeStatus(resource, key, patched.status));
      return;
    }
    send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not allowed on status`));
  }

  function status200(what: string, name: string) {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: what } };
  }

  async function create(req: IncomingMessage, res: ServerResponse, resource: string, what: string, ns: string | null) {
    const body = (await readJson(req, res)) as KubeObject | undefined;
    if (body === undefined) return;
    if (!body || typeof body !== 'object' || !body.metadata || typeof body.metadata !== 'object') {
      send(res, 400, status(400, 'BadRequest', 'the object has no metadata'));
      return;
    }
    const meta = body.metadata as KubeObject['metadata'] & { generateName?: string };
    let name = meta.name;
    if (!name && typeof meta.generateName === 'string')
      name = `${meta.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    if (!name) {
      send(
        res,
        422,
        status(422, 'Invalid', `${what} is invalid: metadata.name: Required value: name or generateName is required`),
      );
      return;
    }
    if (isClusterScoped(resource) === false) {
      const namespace = ns ?? meta.namespace ?? 'default';
      if (served.has(NAMESPACES) && resource !== NAMESPACES) {
        const space = bucket(NAMESPACES).get(keyOf('', namespace));
        if (!space) {
          send(res, 404, status(404, 'NotFound', `namespaces "${namespace}" not found`));
          return;
        }
        if (space.metadata.deletionTimestamp) {
          send(
            res,
            403,
            status(
              403,
              'Forbidden',
              `${what} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
            ),
          );
          return;
        }
      }
      meta.namespace = namespace;
    }
    if (bucket(resource).has(keyOf(namespaceOf(resource, meta.namespace), name))) {
      send(res, 409, status(409, 'AlreadyExists', `${what} "${name}" already exists`));
      return;
    }
    const { status: _ignored, ...rest } = body;
    send(res, 201, apply(resource, { ...rest, metadata: { ...meta, name } }));
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
    update,
    get: (resource: string, namespace: string, name: string) => {
      const o = bucket(resource).get(keyOf(namespaceOf(resource, namespace), name));
      return o ? clone(o) : undefined;
    },
    list: (resource: string, namespace: string | null = null, labelSelector = '') =>
      list(resource, namespace, parseLabelSelector(labelSelector)),
    /** Every resource this double serves. */
    resources: () => [...served],
    /** Called after every write, with the object as stored. */
    onChange(listener: ChangeListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Lets a controller take over deletions (graceful deletion, namespace termination). */
    setDeleteHook(hook: DeleteHook | undefined) {
      deleteHook = hook;
    },
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
