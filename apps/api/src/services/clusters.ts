import { clusters } from '@synthfleet/db';
import type { ServiceContext } from './context.ts';

/** Records a cluster the first time anything names it. */
export function ensureClusterQuery(ctx: ServiceContext, name: string) {
  return ctx.db.insert(clusters).values({ name, createdAt: ctx.clock.now() }).onConflictDoNothing();
}

export async function ensureCluster(ctx: ServiceContext, name: string): Promise<void> {
  await ensureClusterQuery(ctx, name);
}
