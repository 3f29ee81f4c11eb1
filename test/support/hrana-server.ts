/**
 * A test double of a libSQL server (sqld / Turso) speaking Hrana over HTTP, backed by the real
 * libSQL engine (the `libsql` package `@libsql/client` already depends on) on a database file, so
 * the real `@libsql/client` (its HTTP client, the one Workers use) talks to it exactly as it talks
 * to Turso. No sqld runs on these machines; this is the stand-in for the hosted control plane's
 * database in tests and benchmarks.
 *
 * What it models, as sqld does it:
 * - `GET /v2` (200) and `POST /v2/pipeline` with a JSON body `{baton, requests}` answered with
 *   `{baton, base_url, results}`; `GET /v3` and `/v3-protobuf` answer 404 so a client that probes
 *   for Hrana 3 falls back to 2.
 * - Requests `execute` (positional `args` and `named_args`, `want_rows`), `batch` with step
 *   conditions (`ok`, `error`, `not`, `and`, `or`, `is_autocommit`) answered with `step_results`
 *   and `step_errors`, `sequence`, `store_sql`/`close_sql` (SQL ids per stream, by `sql` or
 *   `sql_id` in statements), `get_autocommit` and `close`. Values as Hrana encodes them: integers
 *   as decimal strings (64-bit exact), floats, text, base64 blobs, null.
 * - Streams: a pipeline without a baton opens a stream, which is a connection of its own (pooled,
 *   as sqld pools them; a connection left inside a transaction is closed, never reused), so an
 *   interactive transaction (BEGIN in one pipeline, COMMIT in a later one) holds its connection
 *   across requests. Every answer carries a fresh baton (the old one stops working) until the
 *   stream is closed; a stream idle longer than `streamIdleMs` is closed and its transaction rolled
 *   back, and its baton then answers 400, as sqld's do. One pipeline per stream at a time.
 * - A statement error is that request's `{type: "error", error: {message, code}}` (the engine's
 *   message and code, e.g. SQLITE_CONSTRAINT_UNIQUE); the pipeline goes on with the next request.
 * - Bearer auth when `authToken` is set (401 otherwise).
 *
 * What it does not model: Hrana 3 (cursors, protobuf, `describe`), WebSockets, JWT verification
 * (the token is compared as a string), replication, `base_url` redirects between instances, the
 * per-namespace URLs of multi-tenant sqld, TLS, and sqld's limits on response size. One difference
 * in waiting: the engine runs synchronously on the double's one thread, so a write that meets
 * another stream's open write transaction waits (busy_timeout, 5 s) with the whole double blocked,
 * and then fails SQLITE_BUSY, where sqld would wait without blocking other streams. The API never
 * holds a transaction across requests (every multi-statement write is one atomic batch), so this
 * only shows when a test holds one open itself.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'libsql';

type HValue =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

type HStmt = {
  sql?: string;
  sql_id?: number;
  args?: HValue[];
  named_args?: { name: string; value: HValue }[];
  want_rows?: boolean;
};

type HCond =
  | { type: 'ok' | 'error'; step: number }
  | { type: 'not'; cond: HCond }
  | { type: 'and' | 'or'; conds: HCond[] }
  | { type: 'is_autocommit' };

type HRequest =
  | { type: 'execute'; stmt: HStmt }
  | { type: 'batch'; batch: { steps: { condition?: HCond | null; stmt: HStmt }[] } }
  | { type: 'sequence'; sql?: string; sql_id?: number }
  | { type: 'store_sql'; sql_id: number; sql: string }
  | { type: 'close_sql'; sql_id: number }
  | { type: 'get_autocommit' }
  | { type: 'close' }
  | { type: string };

type HError = { message: string; code: string };

type StmtResult = {
  cols: { name: string; decltype: string | null }[];
  rows: HValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  rows_read: number;
  rows_written: number;
};

/** A protocol error in a request: answered as that request's error, not a failed pipeline. */
class RequestError extends Error {
  readonly code: string;
  constructor(message: string, code = 'PROTOCOL_ERROR') {
    super(message);
    this.code = code;
  }
}

type Stream = {
  conn: Database.Database;
  sqls: Map<number, string>;
  timer: ReturnType<typeof setTimeout> | undefined;
  busy: boolean;
};

export type HranaServerOptions = {
  /** The database file every stream opens (a temp file in tests). */
  path: string;
  authToken?: string;
  /** An idle stream is closed (and its transaction rolled back) after this long. Default 10 s. */
  streamIdleMs?: number;
};

export type HranaServer = {
  url: string;
  /** Streams open now (each holds a connection). */
  openStreams(): number;
  /** Pipelines answered so far. */
  pipelines(): number;
  close(): Promise<void>;
};

function decodeValue(v: HValue): unknown {
  switch (v.type) {
    case 'null':
      return null;
    case 'integer':
      if (!/^-?\d+$/.test(v.value)) throw new RequestError(`integer value "${v.value}" is not a decimal integer`);
      return BigInt(v.value);
    case 'float':
      return v.value;
    case 'text':
      return v.value;
    case 'blob':
      return Buffer.from(v.base64, 'base64');
    default:
      throw new RequestError(`unknown value type "${(v as { type: string }).type}"`);
  }
}

function encodeValue(v: unknown): HValue {
  if (v === null || v === undefined) return { type: 'null' };
  if (typeof v === 'bigint') return { type: 'integer', value: v.toString() };
  // Integers arrive as bigint (safeIntegers), so a number is a REAL.
  if (typeof v === 'number') return { type: 'float', value: v };
  if (typeof v === 'string') return { type: 'text', value: v };
  if (v instanceof Uint8Array) return { type: 'blob', base64: Buffer.from(v).toString('base64') };
  throw new RequestError(`cannot encode a value of type ${typeof v}`);
}

function errorOf(err: unknown): HError {
  if (err instanceof RequestError) return { message: err.message, code: err.code };
  const e = err as { message?: string; code?: string };
  return { message: e.message ?? String(err), code: typeof e.code === 'string' ? e.code : 'SQLITE_ERROR' };
}

const WRITES = /^\s*(insert|update|delete|replace)\b/i;

export async function startHranaServer(options: HranaServerOptions): Promise<HranaServer> {
  const idleMs = options.streamIdleMs ?? 10_000;
  const streams = new Map<string, Stream>();
  let pipelineCount = 0;

  // The first connection sets the file up as a server would: WAL, so streams read while one writes.
  const setup = new Database(options.path);
  setup.exec('PRAGMA journal_mode=WAL');
  setup.close();

  // Connections are pooled as sqld pools them: opening one costs ~7 ms here, and @libsql/client's
  // HTTP client opens a stream for every statement outside a transaction.
  const idle: InstanceType<typeof Database>[] = [];
  const POOL_MAX = 16;

  const openStream = (): Stream => {
    let conn = idle.pop();
    if (!conn) {
      conn = new Database(options.path);
      conn.exec('PRAGMA busy_timeout=5000');
    }
    return { conn, sqls: new Map(), timer: undefined, busy: false };
  };

  const closeStream = (s: Stream, reuse = true) => {
    if (s.timer) clearTimeout(s.timer);
    try {
      // A connection left inside a transaction is rolled back and closed, as sqld does for an
      // abandoned stream; a clean one goes back to the pool.
      if (s.conn.inTransaction) {
        // ROLLBACK first: close() alone leaves the connection (and its write lock) alive until its
        // prepared statements are garbage-collected.
        try {
          s.conn.exec('ROLLBACK');
        } finally {
          s.conn.close();
        }
      } else if (reuse && idle.length < POOL_MAX) idle.push(s.conn);
      else s.conn.close();
    } catch {
      // already closed
    }
  };

  const sqlOf = (s: Stream, stmt: { sql?: string; sql_id?: number }): string => {
    if (typeof stmt.sql === 'string') return stmt.sql;
    if (typeof stmt.sql_id === 'number') {
      const sql = s.sqls.get(stmt.sql_id);
      if (sql === undefined) throw new RequestError(`SQL text with id ${stmt.sql_id} is not stored in this stream`);
      return sql;
    }
    throw new RequestError('a statement needs "sql" or "sql_id"');
  };

  const execute = (s: Stream, stmt: HStmt): StmtResult => {
    const sql = sqlOf(s, stmt);
    const prepared = s.conn.prepare(sql);
    const positional = (stmt.args ?? []).map(decodeValue);
    const named = stmt.named_args ?? [];
    let params: unknown[] | Record<string, unknown>[] = positional;
    if (named.length > 0) {
      if (positional.length > 0) throw new RequestError('a statement cannot mix positional and named arguments');
      // The engine takes names without their prefix (`:`, `@` or `$`).
      params = [Object.fromEntries(named.map((a) => [a.name.replace(/^[:@$]/, ''), decodeValue(a.value)]))];
    }
    if (prepared.reader) {
      prepared.raw(true).safeIntegers(true);
      const rows = prepared.all(...params) as unknown[][];
      const cols = (prepared.columns() as { name: string; type: string | null }[]).map((c) => ({
        name: c.name,
        decltype: c.type ?? null,
      }));
      // A write with RETURNING is a reader too: its row count comes from changes().
      const changed = WRITES.test(sql)
        ? Number((s.conn.prepare('SELECT changes()').raw(true).get() as unknown[])[0])
        : 0;
      return {
        cols,
        rows: stmt.want_rows === false ? [] : rows.map((r) => r.map(encodeValue)),
        affected_row_count: changed,
        last_insert_rowid: null,
        rows_read: rows.length,
        rows_written: changed,
      };
    }
    prepared.safeIntegers(true);
    const info = prepared.run(...params) as { changes: number | bigint; lastInsertRowid: number | bigint };
    const changes = Number(info.changes);
    return {
      cols: [],
      rows: [],
      affected_row_count: changes,
      last_insert_rowid: info.lastInsertRowid === undefined ? null : String(info.lastInsertRowid),
      rows_read: 0,
      rows_written: changes,
    };
  };

  const holds = (
    cond: HCond | null | undefined,
    results: (StmtResult | null)[],
    errors: (HError | null)[],
    s: Stream,
  ): boolean => {
    if (!cond) return true;
    switch (cond.type) {
      case 'ok':
        return results[(cond as { step: number }).step] != null;
      case 'error':
        return errors[(cond as { step: number }).step] != null;
      case 'not':
        return !holds((cond as { cond: HCond }).cond, results, errors, s);
      case 'and':
        return (cond as { conds: HCond[] }).conds.every((c) => holds(c, results, errors, s));
      case 'or':
        return (cond as { conds: HCond[] }).conds.some((c) => holds(c, results, errors, s));
      case 'is_autocommit':
        return !s.conn.inTransaction;
      default:
        throw new RequestError(`unknown batch condition "${(cond as { type: string }).type}"`);
    }
  };

  const handle = (s: Stream, req: HRequest): { response: Record<string, unknown>; closed?: boolean } => {
    switch (req.type) {
      case 'execute':
        return { response: { type: 'execute', result: execute(s, (req as { stmt: HStmt }).stmt) } };
      case 'batch': {
        const steps = (req as { batch: { steps: { condition?: HCond | null; stmt: HStmt }[] } }).batch?.steps;
        if (!Array.isArray(steps)) throw new RequestError('a batch needs "steps"');
        const results: (StmtResult | null)[] = [];
        const errors: (HError | null)[] = [];
        steps.forEach((step, i) => {
          results[i] = null;
          errors[i] = null;
          if (!holds(step.condition, results, errors, s)) return;
          try {
            results[i] = execute(s, step.stmt);
          } catch (err) {
            errors[i] = errorOf(err);
          }
        });
        return { response: { type: 'batch', result: { step_results: results, step_errors: errors } } };
      }
      case 'sequence':
        s.conn.exec(sqlOf(s, req as { sql?: string; sql_id?: number }));
        return { response: { type: 'sequence' } };
      case 'store_sql': {
        const { sql_id, sql } = req as { sql_id: number; sql: string };
        if (typeof sql_id !== 'number' || typeof sql !== 'string')
          throw new RequestError('store_sql needs sql_id and sql');
        if (s.sqls.has(sql_id)) throw new RequestError(`SQL text with id ${sql_id} is already stored`);
        s.sqls.set(sql_id, sql);
        return { response: { type: 'store_sql' } };
      }
      case 'close_sql':
        s.sqls.delete((req as { sql_id: number }).sql_id);
        return { response: { type: 'close_sql' } };
      case 'get_autocommit':
        return { response: { type: 'get_autocommit', is_autocommit: !s.conn.inTransaction } };
      case 'close':
        return { response: { type: 'close' }, closed: true };
      default:
        throw new RequestError(`request type "${req.type}" is not supported (Hrana 2 over HTTP)`);
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const pipeline = (body: { baton?: string | null; requests?: HRequest[] }) => {
    if (!Array.isArray(body.requests)) return { status: 400, body: { message: 'the body needs "requests"' } };
    let stream: Stream;
    let batonKey: string | undefined;
    if (body.baton) {
      const found = streams.get(body.baton);
      if (!found)
        return { status: 400, body: { message: 'the baton is not valid (the stream expired or was closed)' } };
      if (found.busy) return { status: 400, body: { message: 'the stream is busy with another pipeline' } };
      stream = found;
      batonKey = body.baton;
      streams.delete(batonKey);
      if (stream.timer) clearTimeout(stream.timer);
    } else {
      stream = openStream();
    }
    stream.busy = true;
    pipelineCount++;
    const results: unknown[] = [];
    let closed = false;
    for (const req of body.requests) {
      if (closed) {
        results.push({ type: 'error', error: { message: 'the stream is closed', code: 'STREAM_CLOSED' } });
        continue;
      }
      try {
        const r = handle(stream, req);
        results.push({ type: 'ok', response: r.response });
        if (r.closed) closed = true;
      } catch (err) {
        results.push({ type: 'error', error: errorOf(err) });
      }
    }
    stream.busy = false;
    if (closed) {
      closeStream(stream);
      return { status: 200, body: { baton: null, base_url: null, results } };
    }
    const baton = randomBytes(18).toString('base64url');
    streams.set(baton, stream);
    stream.timer = setTimeout(() => {
      if (streams.get(baton) === stream) {
        streams.delete(baton);
        closeStream(stream);
      }
    }, idleMs);
    stream.timer.unref?.();
    return { status: 200, body: { baton, base_url: null, results } };
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (options.authToken !== undefined && req.headers.authorization !== `Bearer ${options.authToken}`) {
      req.resume();
      return send(res, 401, { message: 'authentication failed: a valid Bearer token is required' });
    }
    if (req.method === 'GET' && (path === '/v2' || path === '/health')) {
      req.resume();
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'POST' || path !== '/v2/pipeline') {
      req.resume();
      return send(res, 404, { message: `no route for ${req.method} ${path}` });
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: { baton?: string | null; requests?: HRequest[] };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        return send(res, 400, { message: `malformed JSON body: ${(err as Error).message}` });
      }
      const r = pipeline(body);
      send(res, r.status, r.body);
    });
  });

  // No idle timeout on kept-alive connections, as sqld (hyper) has none: with Node's default 5 s the
  // server can close a connection just as the client sends on it again, which the client sees as
  // ECONNRESET / "fetch failed" (the client closes idle connections itself after 4 s).
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    openStreams: () => streams.size,
    pipelines: () => pipelineCount,
    close: async () => {
      for (const s of streams.values()) closeStream(s, false);
      streams.clear();
      for (const conn of idle.splice(0)) conn.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
