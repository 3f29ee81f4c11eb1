import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Every remedy run an agent was granted, with its outcome once the agent reports it. */
export const remedyRuns = sqliteTable(
  'remedy_runs',
  {
    id: text('id').primaryKey(),
    testId: integer('test_id').notNull(),
    cluster: text('cluster').notNull(),
    revision: integer('revision').notNull(),
    agentId: text('agent_id').notNull(),
    node: text('node').notNull(),
    kind: text('kind', { enum: ['webhook', 'job'] }).notNull(),
    triggerRunId: text('trigger_run_id').notNull(),
    failures: integer('failures').notNull(),
    /** Its place in the count toward runsLimit. */
    attempt: integer('attempt').notNull(),
    /** `unknown`: the agent reported no outcome by `deadlineAt` (it may have died mid-remedy). */
    status: text('status', { enum: ['running', 'succeeded', 'failed', 'unknown'] }).notNull(),
    message: text('message'),
    /** JSON object of detail strings. */
    details: text('details').notNull(),
    startedAt: integer('started_at').notNull(),
    /** When a run still `running` becomes `unknown`: the remedy's timeout plus a grace for reporting. */
    deadlineAt: integer('deadline_at').notNull(),
    endedAt: integer('ended_at'),
  },
  (t) => [
    index('remedy_runs_test_time_idx').on(t.testId, t.startedAt),
    index('remedy_runs_status_deadline_idx').on(t.status, t.deadlineAt),
  ],
);
export type RemedyRunRow = typeof remedyRuns.$inferSelect;
