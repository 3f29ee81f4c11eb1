import type { Database } from '@synthfleet/db';
import type { BatchItem } from 'drizzle-orm/batch';

/** Runs queries as one libSQL batch (atomic, one round trip); a no-op when there are none. */
export async function runBatch(db: Database, queries: BatchItem<'sqlite'>[]): Promise<void> {
  const [first, ...rest] = queries;
  if (!first) return;
  await db.batch([first, ...rest]);
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
