import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const clusters = sqliteTable('clusters', {
  name: text('name').primaryKey(),
  createdAt: integer('created_at').notNull(),
  /** Newest result received from the cluster, epoch ms. */
  lastResultAt: integer('last_result_at'),
  /** JSON object: labels an admin set, for fleet tests' cluster selectors (`region=eu-*`). */
  labels: text('labels').notNull().default('{}'),
});
export type ClusterRow = typeof clusters.$inferSelect;
