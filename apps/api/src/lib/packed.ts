import type { Database } from '@synthfleet/db';
import { Column, is, type SQL, sql } from 'drizzle-orm';
import type { SelectResultFields } from 'drizzle-orm/query-builders/select.types';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';

/**
 * The rows of a wide scan, packed by SQLite into one JSON array and unpacked with one JSON.parse.
 * @libsql/client builds every row it returns with an Object.defineProperty per column: over
 * 20,000 tests that cost 500 ms where the query itself took 60 (bench/fleet.ts). Use it for scans
 * of thousands of narrow rows; a page of whole rows reads fine the ordinary way.
 */
const IDENTITY = Column.prototype.mapFromDriverValue;

export async function selectPacked<F extends Record<string, Column | SQL>>(
  db: Database,
  fields: F,
  from: SQLiteTable,
  where?: SQL,
): Promise<SelectResultFields<F>[]> {
  const entries = Object.entries(fields);
  // Objects straight from JSON.parse: keys in the JSON text cost less than a second pass.
  const pairs = entries.map(([k, f]) => sql`${k}, ${f}`);
  const row = await db
    .select({ v: sql<string | null>`json_group_array(json_object(${sql.join(pairs, sql`, `)}))` })
    .from(from)
    .where(where)
    .get();
  const out = JSON.parse(row?.v ?? '[]') as Record<string, unknown>[];
  // Columns that map driver values (booleans, JSON modes) map them; the rest are as SQLite gave them.
  const maps = entries.filter(([, f]) => is(f, Column) && f.mapFromDriverValue !== IDENTITY) as [string, Column][];
  if (maps.length)
    for (const o of out)
      for (const [k, f] of maps) {
        const v = o[k];
        if (v !== null && v !== undefined) o[k] = f.mapFromDriverValue(v);
      }
  return out as SelectResultFields<F>[];
}
