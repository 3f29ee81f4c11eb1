import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The latest result per (test, agent), updated on ingest. Reading "current state" from here is
 * ~100x faster than a window query over the run history (performance-notes.md).
 */
export const latest = sqliteTable(
  'latest',
  {
    testId: integer('test_id').notNull(),
    agentId: text('agent_id').notNull(),
    cluster: text('cluster').notNull(),
    runId: text('run_id').notNull(),
    status: text('status', { enum: ['pass', 'fail', 'error', 'timeout', 'skipped', 'unsupported'] }).notNull(),
    marks: integer('marks').notNull(),
    maxMarks: integer('max_marks').notNull(),
    passRatio: real('pass_ratio').notNull(),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at').notNull(),
    durationMs: real('duration_ms').notNull(),
    message: text('message'),
    consecutiveFailures: integer('consecutive_failures').notNull(),
    lastFailedRunId: text('last_failed_run_id'),
    failingSince: integer('failing_since'),
  },
  (t) => [primaryKey({ columns: [t.testId, t.agentId] }), index('latest_agent_idx').on(t.agentId)],
);
export type LatestRow = typeof latest.$inferSelect;
