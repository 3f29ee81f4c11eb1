import { sql } from 'drizzle-orm';
import { index, integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const tests = sqliteTable(
  'tests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    cluster: text('cluster').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    apiVersion: text('api_version').notNull(),
    /** The validated spec as JSON (defaults applied). */
    spec: text('spec').notNull(),
    /** The object as the syncer sent it, for synthetic-heart's rawConfig. */
    raw: text('raw').notNull(),
    specHash: text('spec_hash').notNull(),
    /** metadata.generation from Kubernetes, when known. */
    generation: integer('generation'),
    /** Bumped by the API on every spec change (also across delete and re-create). */
    revision: integer('revision').notNull(),
    plugin: text('plugin').notNull(),
    nodeSelector: text('node_selector').notNull(),
    displayName: text('display_name'),
    importance: text('importance'),
    labels: text('labels').notNull(),
    /** The fleet test this row is its cluster's share of; null for a cluster's own test. */
    fleetTestId: integer('fleet_test_id'),
    /** JSON object: the spec's podLabelSelector (empty: any agent pod). */
    podLabelSelector: text('pod_label_selector').notNull().default('{}'),
    /** Cross-vantage verdict: failing fleet-wide once this many agents fail… */
    quorumCount: integer('quorum_count'),
    /** …or this percentage of the assigned agents (0–100]. */
    quorumShare: real('quorum_share'),
    /** `$` tests: the agent that holds the test while it stays live. */
    pinnedAgentId: text('pinned_agent_id'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /** Tombstone: set when deleted; the row stays so history and revisions survive. */
    deletedAt: integer('deleted_at'),
    // Roll-up of the latest results, kept current on ingest so fleet views read one row per test.
    /** What the latest results say (contracts' resultState, computed in SQL by the API's rollup). */
    state: text('state', {
      enum: ['failing', 'degraded', 'pending', 'unsupported', 'skipped', 'passing'],
    }).notNull(),
    /**
     * Live agents the selectors pick that lack the plugin, as the last full placement counted (a
     * lone agent's registration only raises it to 1). With no agent assigned: `unsupported`.
     */
    agentsLackingPlugin: integer('agents_lacking_plugin').notNull().default(0),
    passingAgents: integer('passing_agents').notNull(),
    failingAgents: integer('failing_agents').notNull(),
    /** Assigned agents whose latest result was skipped / said the agent lacks the plugin. */
    skippedAgents: integer('skipped_agents').notNull().default(0),
    unsupportedAgents: integer('unsupported_agents').notNull().default(0),
    assignedAgents: integer('assigned_agents').notNull(),
    lastRunAt: integer('last_run_at'),
    failingSince: integer('failing_since'),
    lastFailureMessage: text('last_failure_message'),
    /** Remedy runs counted toward the spec's runsLimit since the count last started again. */
    remedyCount: integer('remedy_count').notNull().default(0),
    remedyLastAt: integer('remedy_last_at'),
    /**
     * Who declared the test: a syncer's source (`SYNCER_SOURCE`, e.g. `kubernetes` or `dir`) or
     * `api` (a PUT without one). A snapshot removes only the tests its source owns; `syncer` (rows
     * from before sources were recorded) is owned by any syncer's snapshot.
     */
    source: text('source').notNull().default('syncer'),
    /**
     * The newest edit of this test that the API refused (an invalid spec from its syncer), with
     * why; the stored spec (the last valid revision) keeps running. Cleared by a valid edit.
     */
    rejectedReason: text('rejected_reason'),
    rejectedSince: integer('rejected_since'),
    /** The newest "Run now" request (POST …/run): agents run the test once when this changes. */
    runRequestId: text('run_request_id'),
    runRequestedAt: integer('run_requested_at'),
    /** The current or next maintenance window over this test (kept by services/maintenance.ts). */
    maintenanceFrom: integer('maintenance_from'),
    maintenanceUntil: integer('maintenance_until'),
    maintenanceReason: text('maintenance_reason'),
    /** JSON of spec.maintenance (the test's own recurring windows), null when it has none. */
    maintenanceSpec: text('maintenance_spec'),
    /** Runs counted for availability (outside maintenance; pass, fail, error, timeout), ever: Prometheus counters. */
    runsCounted: integer('runs_counted').notNull().default(0),
    runsFailed: integer('runs_failed').notNull().default(0),
    /** spec.slo: the objective in percent of runs passing over a window (ms). */
    sloObjective: real('slo_objective'),
    sloWindowMs: integer('slo_window_ms'),
    /** spec.badge: the status badge may be read without a token (or BADGES_PUBLIC for all). */
    badgePublic: integer('badge_public', { mode: 'boolean' }).notNull().default(false),
    /**
     * How long the test may go without a result (contracts' resultAllowanceMs of its spec, before
     * the STALE_RESULT_SECONDS floor): fleet views judge staleness without parsing every spec.
     * Null on rows stored before it was kept (their spec is read instead).
     */
    allowanceMs: integer('allowance_ms'),
  },
  (t) => [
    uniqueIndex('tests_identity_uq').on(t.cluster, t.namespace, t.name),
    index('tests_live_state_idx').on(t.state, t.cluster).where(sql`${t.deletedAt} IS NULL`),
    // The few rows fleet views list apart, found without a scan of every test.
    index('tests_rejected_idx').on(t.cluster).where(sql`${t.rejectedReason} IS NOT NULL AND ${t.deletedAt} IS NULL`),
    index('tests_maintenance_spec_idx')
      .on(t.cluster)
      .where(sql`${t.maintenanceSpec} IS NOT NULL AND ${t.deletedAt} IS NULL`),
    // The dashboard's change fingerprint (count, live count, newest change) from an index alone.
    index('tests_updated_idx').on(t.updatedAt, t.deletedAt, t.cluster),
  ],
);
export type TestRow = typeof tests.$inferSelect;
