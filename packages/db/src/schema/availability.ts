import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Availability aggregates, kept as results arrive: runs counted and runs passed per test and per
 * (test, agent), in buckets of three sizes, so a window's figure sums a few dozen rows however many
 * runs it covers. `agent_id` '' is the test's own total. Sizes (`res`): 0 = 5 minutes (kept 7 h,
 * for the 1 h and 6 h windows and burn rates), 1 = hours (kept 8 days: 24 h and 7 d), 2 = days
 * (kept 31 days: 30 d). Runs in maintenance, skipped and unsupported runs are not counted.
 */
export const availability = sqliteTable(
  'availability',
  {
    testId: integer('test_id').notNull(),
    agentId: text('agent_id').notNull(),
    res: integer('res').notNull(),
    /** Bucket start, epoch ms (a multiple of the bucket size). */
    bucket: integer('bucket').notNull(),
    total: integer('total').notNull(),
    passed: integer('passed').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.testId, t.agentId, t.res, t.bucket] }),
    index('availability_agent_idx').on(t.agentId, t.res, t.bucket),
    index('availability_bucket_idx').on(t.res, t.bucket),
  ],
);
export type AvailabilityRow = typeof availability.$inferSelect;
