import { FAILING_STATUSES } from '@synthfleet/contracts';
import type { Database } from '@synthfleet/db';
import { type SQL, sql } from 'drizzle-orm';

/** contracts' FAILING_STATUSES as an SQL list: `('fail','error','timeout')`. */
export const FAILED = `(${[...FAILING_STATUSES].map((s) => `'${s}'`).join(',')})`;

type Counts = { failing: string; passing: string; skipped: string; unsupported: string; assigned: string };

/** Failing at the quorum (count or share of the assigned agents; default one), over count columns. */
const failingAt = (c: Pick<Counts, 'failing' | 'assigned'>) =>
  sql.raw(`(${c.failing} > 0 AND CASE
      WHEN tests.quorum_count IS NOT NULL THEN ${c.failing} >= tests.quorum_count
      WHEN tests.quorum_share IS NOT NULL THEN ${c.failing} * 100.0 >= tests.quorum_share * ${c.assigned}
      ELSE 1 END)`);

/** contracts' resultState in SQL over count columns (rollup.test.ts checks that the two agree). */
const stateOf = (c: Counts) => sql`CASE WHEN ${failingAt(c)} THEN 'failing'
    WHEN ${sql.raw(c.failing)} > 0 THEN 'degraded'
    WHEN ${sql.raw(c.passing)} > 0 THEN 'passing'
    WHEN ${sql.raw(c.skipped)} > 0 THEN 'skipped'
    WHEN (${sql.raw(c.assigned)} = 0 AND tests.agents_lacking_plugin > 0) OR ${sql.raw(c.unsupported)} > 0 THEN 'unsupported'
    ELSE 'pending' END`;

/**
 * Recomputes the roll-up columns of the given tests from their assigned agents' latest results,
 * in one statement: what placement runs when assignments change. `state` is contracts'
 * resultState over those results: failing at the quorum, degraded below it, then passing,
 * skipped, unsupported, pending. Ingest keeps the same columns incrementally (rollupFromBatch).
 */
export function rollupQuery(db: Database, testIds: readonly number[], now: number) {
  const ids = sql.join(
    testIds.map((id) => sql`${id}`),
    sql`, `,
  );
  const agg = {
    failing: 'agg.failing',
    passing: 'agg.passing',
    skipped: 'agg.skipped',
    unsupported: 'agg.unsupported',
    assigned: 'agg.assigned',
  };
  return db.run(sql`
    UPDATE tests SET
      assigned_agents = agg.assigned,
      passing_agents = agg.passing,
      failing_agents = agg.failing,
      skipped_agents = agg.skipped,
      unsupported_agents = agg.unsupported,
      last_run_at = coalesce(agg.last_run, tests.last_run_at),
      state = ${stateOf(agg)},
      failing_since = CASE WHEN ${failingAt(agg)} THEN coalesce(tests.failing_since, agg.failing_since, ${now}) ELSE NULL END,
      last_failure_message = coalesce(agg.last_message, tests.last_failure_message)
    FROM (
      SELECT t.id AS test_id,
        count(a.agent_id) AS assigned,
        coalesce(sum(l.status = 'pass'), 0) AS passing,
        coalesce(sum(l.status IN ${sql.raw(FAILED)}), 0) AS failing,
        coalesce(sum(l.status = 'unsupported'), 0) AS unsupported,
        coalesce(sum(l.status = 'skipped'), 0) AS skipped,
        max(l.ended_at) AS last_run,
        min(CASE WHEN l.status IN ${sql.raw(FAILED)} THEN l.failing_since END) AS failing_since,
        (SELECT l2.message FROM latest l2 WHERE l2.test_id = t.id AND l2.status IN ${sql.raw(FAILED)}
           ORDER BY l2.ended_at DESC LIMIT 1) AS last_message
      FROM tests t
      LEFT JOIN assignments a ON a.test_id = t.id
      LEFT JOIN latest l ON l.test_id = a.test_id AND l.agent_id = a.agent_id
      WHERE t.id IN (${ids})
      GROUP BY t.id
    ) AS agg
    WHERE tests.id = agg.test_id`);
}

/**
 * The roll-up kept incrementally by an ingest batch, at a cost that does not grow with the agents
 * a test runs on (a full recompute reads every assigned agent's latest row on every batch). In
 * the batch's transaction, around its latest-state upsert (runs.ts), for the runs `inserted`
 * selects:
 * - `counts`, before the upsert: for each (test, assigned agent) whose latest state the batch
 *   moves on (its newest run is not older than the stored one), the old status leaves its count
 *   and the new one joins;
 * - `state`, after it: the state from the counts, the newest result time, when a failure began
 *   (read from the latest rows only when the test turns failing) and the newest failure message.
 */
export function rollupFromBatch(db: Database, mark: SQL, now: number) {
  const inserted = (alias = '') => sql`${sql.raw(alias ? `${alias}.rowid` : 'rowid')} > ${mark}`;
  const delta = (cond: (col: string) => string) =>
    sql.raw(
      `sum(CASE WHEN ${cond('n.status')} THEN 1 ELSE 0 END) - sum(CASE WHEN ${cond('l.status')} THEN 1 ELSE 0 END)`,
    );
  const counts = db.run(sql`
    UPDATE tests SET
      passing_agents = passing_agents + d.passing,
      failing_agents = failing_agents + d.failing,
      skipped_agents = skipped_agents + d.skipped,
      unsupported_agents = unsupported_agents + d.unsupported
    FROM (
      SELECT n.test_id,
        ${delta((c) => `${c} = 'pass'`)} AS passing,
        ${delta((c) => `${c} IN ${FAILED}`)} AS failing,
        ${delta((c) => `${c} = 'skipped'`)} AS skipped,
        ${delta((c) => `${c} = 'unsupported'`)} AS unsupported
      FROM (
        SELECT test_id, agent_id, status, started_at FROM (
          SELECT test_id, agent_id, status, started_at,
            row_number() OVER (PARTITION BY test_id, agent_id ORDER BY started_at DESC, rowid DESC) AS newest
          FROM runs WHERE ${inserted()}
        ) WHERE newest = 1
      ) AS n
      JOIN assignments a ON a.test_id = n.test_id AND a.agent_id = n.agent_id
      LEFT JOIN latest l ON l.test_id = n.test_id AND l.agent_id = n.agent_id
      WHERE l.started_at IS NULL OR n.started_at >= l.started_at
      GROUP BY n.test_id
    ) AS d
    WHERE tests.id = d.test_id`);
  const cols = {
    failing: 'tests.failing_agents',
    passing: 'tests.passing_agents',
    skipped: 'tests.skipped_agents',
    unsupported: 'tests.unsupported_agents',
    assigned: 'tests.assigned_agents',
  };
  const turning = failingAt(cols);
  const state = db.run(sql`
    UPDATE tests SET
      last_run_at = max(coalesce(tests.last_run_at, 0), b.last_run),
      state = ${stateOf(cols)},
      failing_since = CASE WHEN ${turning} THEN coalesce(tests.failing_since,
          (SELECT min(l.failing_since) FROM latest l JOIN assignments a ON a.test_id = l.test_id AND a.agent_id = l.agent_id
             WHERE l.test_id = tests.id AND l.status IN ${sql.raw(FAILED)}), ${now}) ELSE NULL END,
      last_failure_message = coalesce(b.last_message, tests.last_failure_message)
    FROM (
      SELECT r.test_id, max(r.ended_at) AS last_run,
        (SELECT l2.message FROM latest l2 WHERE l2.test_id = r.test_id AND l2.status IN ${sql.raw(FAILED)}
           AND l2.run_id IN (SELECT id FROM runs WHERE ${inserted()}) ORDER BY l2.ended_at DESC LIMIT 1) AS last_message
      FROM runs r JOIN assignments a ON a.test_id = r.test_id AND a.agent_id = r.agent_id
      WHERE ${inserted('r')}
      GROUP BY r.test_id
    ) AS b
    WHERE tests.id = b.test_id`);
  return { counts, state };
}
