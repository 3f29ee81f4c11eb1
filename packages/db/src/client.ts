import { type Client, createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import * as schema from './schema/index.ts';

export type Database = ReturnType<typeof drizzle<typeof schema>>;

export type DatabaseHandle = {
  readonly db: Database;
  readonly client: Client;
  readonly url: string;
  /** Re-applies the per-connection settings (the client opens a new connection after a transaction). */
  tune(): Promise<void>;
  close(): void;
};

export type DatabaseOptions = {
  url: string;
  authToken?: string | undefined;
  /**
   * Remote URLs only: how many statements the client sends at once; the rest queue inside the
   * client (@libsql/client's default is 20). The Worker entry lifts the cap: a queued statement is
   * started by whichever statement finishes first, so on Workers it would run inside another
   * request, whose end cancels it (the Worker then hangs).
   */
  concurrency?: number;
};

const SUPPORTED = /^(file:|libsql:|https?:|wss?:|:memory:$)/;

export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError';
}

/**
 * Opens a libSQL database: `file:` and `:memory:` embedded, `libsql:`/`http(s):`/`ws(s):` remote
 * (Turso or sqld). Embedded files get WAL and synchronous=NORMAL: one fsync per transaction in the
 * default journal caps writes at ~1k rows/s on these machines (performance-notes.md).
 */
export async function createDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const url = options.url;
  if (!SUPPORTED.test(url)) {
    throw new DatabaseUrlError(
      `DATABASE_URL "${redactUrl(url)}" is not a libSQL URL; use file:PATH, :memory:, libsql://, http(s):// or ws(s)://`,
    );
  }
  const embedded = url.startsWith('file:') || url === ':memory:';
  const client = createClient({
    url,
    authToken: options.authToken,
    ...(options.concurrency !== undefined && !embedded ? { concurrency: options.concurrency } : {}),
  });
  const tune = async () => {
    if (!embedded) return;
    if (url.startsWith('file:')) await client.execute('PRAGMA journal_mode=WAL');
    await client.execute('PRAGMA synchronous=NORMAL');
    await client.execute('PRAGMA busy_timeout=5000');
  };
  await tune();
  const db = drizzle(client, { schema });
  return { db, client, url, tune, close: () => client.close() };
}

/** Strips credentials from a URL before it is logged or shown. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&](authToken|token)=)[^&]*/gi, '$1***');
}
