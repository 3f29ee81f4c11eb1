import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const agents = sqliteTable(
  'agents',
  {
    id: text('id').primaryKey(),
    cluster: text('cluster').notNull(),
    node: text('node').notNull(),
    pod: text('pod'),
    podNamespace: text('pod_namespace'),
    version: text('version').notNull(),
    /** JSON array of plugin names the agent can run. */
    capabilities: text('capabilities').notNull(),
    heartbeatUrl: text('heartbeat_url'),
    /** JSON object: the agent pod's labels, as it reported them at registration. */
    podLabels: text('pod_labels').notNull().default('{}'),
    /** JSON array: the agent runs only tests of these namespaces (empty: all). */
    matchTestNamespaces: text('match_test_namespaces').notNull().default('[]'),
    /** JSON object: the agent runs only tests carrying these labels. */
    matchTestLabels: text('match_test_labels').notNull().default('{}'),
    registeredAt: integer('registered_at').notNull(),
    lastPollAt: integer('last_poll_at'),
    state: text('state', { enum: ['live', 'stale'] }).notNull(),
    /** Bumped whenever what the agent should run changes; long-polls compare against it. */
    assignmentVersion: integer('assignment_version').notNull(),
    /** Fingerprint of the agent's current assignment set, to bump the version only on real change. */
    assignmentHash: text('assignment_hash').notNull(),
    /** Results the agent holds undelivered (memory and disk spool), as it last reported on a poll. */
    spoolDepth: integer('spool_depth'),
    /** Results the agent dropped since it started (spool full), as it last reported. */
    resultsDropped: integer('results_dropped'),
  },
  (t) => [
    uniqueIndex('agents_cluster_node_uq').on(t.cluster, t.node),
    index('agents_state_poll_idx').on(t.state, t.lastPollAt),
    // The fleet's per-cluster live/stale counts, read from the index alone.
    index('agents_cluster_state_idx').on(t.cluster, t.state, t.registeredAt),
  ],
);
export type AgentRow = typeof agents.$inferSelect;
