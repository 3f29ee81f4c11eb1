import { integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Tests declared once for many clusters. Each selected cluster gets an ordinary test row (with
 * `tests.fleet_test_id` pointing here) that its agents run; the fleet verdict is made from those
 * rows' verdicts with this row's quorum of clusters.
 */
export const fleetTests = sqliteTable(
  'fleet_tests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    /** The object as given, for GET. */
    raw: text('raw').notNull(),
    /** JSON array of cluster selectors: name globs, or `label=glob`. */
    clusters: text('clusters').notNull(),
    /** Failing once this many selected clusters fail… */
    quorumCount: integer('quorum_count'),
    /** …or this percentage of them; neither: all of them. */
    quorumShare: real('quorum_share'),
    revision: integer('revision').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    deletedAt: integer('deleted_at'),
  },
  (t) => [uniqueIndex('fleet_tests_identity_uq').on(t.namespace, t.name)],
);
export type FleetTestRow = typeof fleetTests.$inferSelect;
