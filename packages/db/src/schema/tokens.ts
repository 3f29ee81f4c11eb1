import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const tokens = sqliteTable(
  'tokens',
  {
    id: text('id').primaryKey(),
    /** SHA-256 of the secret, hex. The secret itself is never stored. */
    hash: text('hash').notNull().unique(),
    role: text('role', { enum: ['admin', 'viewer', 'cluster', 'metrics'] }).notNull(),
    cluster: text('cluster'),
    name: text('name'),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('tokens_cluster_idx').on(t.cluster)],
);
export type TokenRow = typeof tokens.$inferSelect;
