/**
 * The libSQL server double against the real @libsql/client HTTP client (its web build, the one
 * the Worker entry runs): values, batches, interactive transactions over batons, errors, auth and
 * stream expiry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, LibsqlError } from '@libsql/client/web';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HranaServer, startHranaServer } from './support/hrana-server.ts';
import { waitFor } from './support/wait.ts';

let dir: string;
let server: HranaServer;
let clients: Client[] = [];

async function start(opts: { streamIdleMs?: number } = {}) {
  server = await startHranaServer({ path: join(dir, 'db.sqlite'), authToken: 'secret-token', ...opts });
}

function client(authToken = 'secret-token', intMode: 'number' | 'bigint' = 'bigint'): Client {
  const c = createClient({ url: server.url, authToken, intMode });
  clients.push(c);
  return c;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'synthfleet-hrana-'));
});

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('libSQL server double (Hrana 2 over HTTP)', () => {
  it('round-trips every value type, 64-bit integers exactly, with positional and named arguments', async () => {
    await start();
    const db = client();
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, n TEXT)');
    const big = 9007199254740993n; // 2^53 + 1: not representable as a double
    const ins = await db.execute({
      sql: 'INSERT INTO t (i, f, s, b, n) VALUES (?, ?, ?, ?, ?)',
      args: [big, 1.5, 'héllo', new Uint8Array([0, 1, 254, 255]), null],
    });
    expect(ins.rowsAffected).toBe(1);
    expect(ins.lastInsertRowid).toBe(1n);
    await db.execute({ sql: 'INSERT INTO t (i, s) VALUES (:i, $s)', args: { i: -5, s: 'named' } });
    const rs = await db.execute('SELECT i, f, s, b, n FROM t ORDER BY id');
    expect(rs.columns).toEqual(['i', 'f', 's', 'b', 'n']);
    expect(rs.columnTypes).toEqual(['INTEGER', 'REAL', 'TEXT', 'BLOB', 'TEXT']);
    const first = rs.rows[0];
    expect(first?.i).toBe(big);
    expect(first?.f).toBe(1.5);
    expect(first?.s).toBe('héllo');
    expect([...new Uint8Array(first?.b as ArrayBuffer)]).toEqual([0, 1, 254, 255]);
    expect(first?.n).toBeNull();
    expect(rs.rows[1]?.i).toBe(-5n);
    expect(rs.rows[1]?.s).toBe('named');
  });

  it('counts the rows a write with RETURNING changed', async () => {
    await start();
    const db = client(undefined, 'number');
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const ins = await db.execute("INSERT INTO t (v) VALUES ('a'), ('b'), ('c') RETURNING id");
    expect(ins.rows.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(ins.rowsAffected).toBe(3);
    const upd = await db.execute("UPDATE t SET v = 'z' WHERE id > 1 RETURNING id");
    expect(upd.rowsAffected).toBe(2);
  });

  it('pools connections: a stream abandoned mid-transaction is rolled back, never handed on', async () => {
    await start({ streamIdleMs: 5_000 });
    const db = client(undefined, 'number');
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    for (let i = 0; i < 10; i++) {
      const kept = await db.transaction('write');
      await kept.execute({ sql: 'INSERT INTO t (v) VALUES (?)', args: [`kept-${i}`] });
      await kept.commit();
      // Closed without commit: its connection must be rolled back and closed, not pooled, or the
      // next stream would write inside the abandoned transaction.
      const dropped = await db.transaction('write');
      await dropped.execute({ sql: 'INSERT INTO t (v) VALUES (?)', args: [`dropped-${i}`] });
      dropped.close();
      // The client sends its close on its own time; wait until the stream is gone (closed by the
      // client, or by the idle timeout) so the next write does not queue behind its lock.
      await waitFor(() => server.openStreams() === 0, 30_000, 'the abandoned stream to close');
      await db.execute({ sql: 'INSERT INTO t (v) VALUES (?) RETURNING id', args: [`auto-${i}`] });
    }
    const rows = await db.execute("SELECT v FROM t WHERE v NOT LIKE 'dropped-%'");
    expect(rows.rows).toHaveLength(20);
    expect((await db.execute("SELECT count(*) AS n FROM t WHERE v LIKE 'dropped-%'")).rows[0]?.n).toBe(0);
    expect(server.openStreams()).toBe(0);
  });

  it('runs a write batch atomically: a failing step rolls back the steps before it', async () => {
    await start();
    const db = client(undefined, 'number');
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
    const ok = await db.batch(["INSERT INTO t (v) VALUES ('a')", "INSERT INTO t (v) VALUES ('b')"], 'write');
    expect(ok.map((r) => r.rowsAffected)).toEqual([1, 1]);
    const err = await db
      .batch(["INSERT INTO t (v) VALUES ('c')", "INSERT INTO t (v) VALUES ('a')"], 'write')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect((err as LibsqlError).code).toMatch(/SQLITE_CONSTRAINT/);
    expect((err as Error).message).toMatch(/UNIQUE constraint failed: t\.v/);
    const rows = await db.execute('SELECT v FROM t ORDER BY v');
    expect(rows.rows.map((r) => r.v)).toEqual(['a', 'b']);
  });

  it('holds an interactive transaction across requests by baton, isolated from other streams', async () => {
    await start();
    const db = client(undefined, 'number');
    const other = client(undefined, 'number');
    await db.execute('CREATE TABLE t (v TEXT)');
    const tx = await db.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('in-tx')");
    expect((await tx.execute('SELECT count(*) AS n FROM t')).rows[0]?.n).toBe(1);
    // Another stream does not see the uncommitted row.
    expect((await other.execute('SELECT count(*) AS n FROM t')).rows[0]?.n).toBe(0);
    expect(server.openStreams()).toBe(1);
    await tx.commit();
    tx.close();
    expect((await other.execute('SELECT count(*) AS n FROM t')).rows[0]?.n).toBe(1);

    const tx2 = await db.transaction('write');
    await tx2.execute("INSERT INTO t VALUES ('rolled-back')");
    await tx2.rollback();
    tx2.close();
    expect((await other.execute('SELECT v FROM t')).rows.map((r) => r.v)).toEqual(['in-tx']);
  });

  it('answers a statement error in its own result and keeps the stream usable', async () => {
    await start();
    const db = client();
    const err = await db.execute('SELECT * FROM missing_table').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect((err as Error).message).toMatch(/no such table: missing_table/);
    const tx = await db.transaction('write');
    await tx.execute('CREATE TABLE t (v INTEGER NOT NULL)');
    await expect(tx.execute('INSERT INTO t VALUES (NULL)')).rejects.toThrow(/NOT NULL constraint failed/);
    await tx.execute('INSERT INTO t VALUES (7)');
    await tx.commit();
    tx.close();
    expect((await db.execute('SELECT v FROM t')).rows[0]?.v).toBe(7n);
  });

  it('refuses a missing or wrong token and stores nothing', async () => {
    await start();
    const good = client();
    await good.execute('CREATE TABLE t (v TEXT)');
    await expect(client('wrong-token').execute("INSERT INTO t VALUES ('x')")).rejects.toThrow(/401|authentication/i);
    expect((await good.execute('SELECT count(*) AS n FROM t')).rows[0]?.n).toBe(0n);
  });

  it('closes an idle stream, rolls its transaction back, and rejects its baton', async () => {
    await start({ streamIdleMs: 200 });
    const db = client(undefined, 'number');
    await db.execute('CREATE TABLE t (v TEXT)');
    const tx = await db.transaction('write');
    await tx.execute("INSERT INTO t VALUES ('abandoned')");
    await new Promise((r) => setTimeout(r, 600));
    expect(server.openStreams()).toBe(0);
    await expect(tx.execute('SELECT 1')).rejects.toThrow(/baton is not valid/);
    tx.close();
    expect((await db.execute('SELECT count(*) AS n FROM t')).rows[0]?.n).toBe(0);
  });

  it('answers malformed pipelines with 400 naming the problem, and unknown paths with 404', async () => {
    await start();
    const post = (body: string) =>
      fetch(`${server.url}/v2/pipeline`, {
        method: 'POST',
        headers: { authorization: 'Bearer secret-token', 'content-type': 'application/json' },
        body,
      });
    const bad = await post('{not json');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/malformed JSON/);
    const noReqs = await post('{}');
    expect(noReqs.status).toBe(400);
    const unknown = await post(
      JSON.stringify({ requests: [{ type: 'describe', sql: 'SELECT 1' }, { type: 'close' }] }),
    );
    const body = (await unknown.json()) as {
      baton: string | null;
      results: { type: string; error?: { message: string } }[];
    };
    expect(body.baton).toBeNull();
    expect(body.results[0]?.error?.message).toMatch(/"describe" is not supported/);
    expect(body.results[1]?.type).toBe('ok');
    const v3 = await fetch(`${server.url}/v3`, { headers: { authorization: 'Bearer secret-token' } });
    expect(v3.status).toBe(404);
  });
});
