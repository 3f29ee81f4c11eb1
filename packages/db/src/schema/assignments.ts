import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Where each test runs now: one row per (test, agent). */
export const assignments = sqliteTable(
  'assignments',
  {
    testId: integer('test_id').notNull(),
    agentId: text('agent_id').notNull(),
    cluster: text('cluster').notNull(),
    assignedAt: integer('assigned_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.testId, t.agentId] }), index('assignments_agent_idx').on(t.agentId)],
);
export type AssignmentRow = typeof assignments.$inferSelect;
