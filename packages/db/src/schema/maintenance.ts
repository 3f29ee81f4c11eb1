import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * Maintenance windows: runs of the tests a window selects, while it is open, are stored and shown
 * but left out of verdicts, availability and alerting. A window is one-off (`start`/`end`) or
 * recurring (`schedule`, a cron in `timezone`, open for `duration_ms` from each time it fires). A
 * test's own `spec.maintenance` windows are read from its spec, not stored here.
 */
export const maintenanceWindows = sqliteTable('maintenance_windows', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Selector: null matches every cluster (admin only). */
  cluster: text('cluster'),
  namespace: text('namespace'),
  /** Test name glob (`dns-*`), null: any. */
  name: text('name'),
  /** JSON object of labels the test must carry. */
  labels: text('labels').notNull().default('{}'),
  reason: text('reason').notNull(),
  startAt: integer('start_at'),
  endAt: integer('end_at'),
  schedule: text('schedule'),
  timezone: text('timezone'),
  durationMs: integer('duration_ms'),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at').notNull(),
});
export type MaintenanceWindowRow = typeof maintenanceWindows.$inferSelect;

/** Objects a syncer holds that the API refused (an invalid spec) and that name no live test, with why. */
export const rejections = sqliteTable(
  'rejections',
  {
    cluster: text('cluster').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    source: text('source').notNull(),
    reason: text('reason').notNull(),
    /** First seen with this reason, epoch ms. */
    since: integer('since').notNull(),
  },
  (t) => [primaryKey({ columns: [t.cluster, t.namespace, t.name] })],
);
export type RejectionRow = typeof rejections.$inferSelect;
