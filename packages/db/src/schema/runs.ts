import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Run history: one row per test run, keyed by the run id the agent generated. */
export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    testId: integer('test_id').notNull(),
    agentId: text('agent_id').notNull(),
    cluster: text('cluster').notNull(),
    revision: integer('revision'),
    status: text('status', { enum: ['pass', 'fail', 'error', 'timeout', 'skipped', 'unsupported'] }).notNull(),
    marks: integer('marks').notNull(),
    maxMarks: integer('max_marks').notNull(),
    passRatio: real('pass_ratio').notNull(),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at').notNull(),
    durationMs: real('duration_ms').notNull(),
    /** JSON object of detail strings (`_log`, `_error`, …). */
    details: text('details').notNull(),
    /** JSON array of the plugin's extra gauges. */
    gauges: text('gauges').notNull(),
    trigger: text('trigger'),
    /** The run started inside a maintenance window: stored and shown, left out of verdicts and availability. */
    maintenance: integer('maintenance', { mode: 'boolean' }).notNull().default(false),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    // History pages per test (newest first) and per agent, and the retention sweep.
    index('runs_test_time_idx').on(t.testId, t.startedAt, t.id),
    index('runs_agent_time_idx').on(t.agentId, t.startedAt),
    index('runs_received_idx').on(t.receivedAt),
  ],
);
export type RunRow = typeof runs.$inferSelect;

/**
 * One row per result batch being stored, inside its own transaction: the runs table's highest
 * rowid before the batch's inserts, so the batch's later statements (latest state, aggregates,
 * counters) read exactly the runs this batch inserted, not the duplicates it skipped. Deleted by
 * the same transaction.
 */
export const ingestMarks = sqliteTable('ingest_marks', {
  token: text('token').primaryKey(),
  fromRowid: integer('from_rowid').notNull(),
});
