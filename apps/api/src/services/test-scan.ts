import { tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { selectPacked } from '../lib/packed.ts';
import type { ServiceContext } from './context.ts';
import { type VerdictClock, verdictColumns, verdictOf } from './test-views.ts';

/*
 * Every live test of a scope, in the few columns the fleet views need: the cluster tiles' counts,
 * the overview's problem-first list, the incidents and the heatmap all derive from this one scan.
 * A page asks for them together; the concurrent asks share one read (nothing is kept after it
 * settles, so no view ever sees an older scan than its request).
 */

const scanColumns = {
  id: tests.id,
  cluster: tests.cluster,
  namespace: tests.namespace,
  name: tests.name,
  displayName: tests.displayName,
  plugin: tests.plugin,
  importance: tests.importance,
  failingAgents: tests.failingAgents,
  failingSince: tests.failingSince,
  ...verdictColumns,
};
type Scan = Awaited<ReturnType<typeof read>>;
export type ScannedTest = Scan[number];

function read(ctx: ServiceContext, scope: string | null) {
  return selectPacked(
    ctx.db,
    scanColumns,
    tests,
    and(isNull(tests.deletedAt), scope === null ? undefined : eq(tests.cluster, scope)),
  );
}

const inflight = new WeakMap<object, Map<string, Promise<Scan>>>();

/** The live tests of one cluster (or all, for null); concurrent calls share one read. */
export function scanTests(ctx: ServiceContext, scope: string | null): Promise<Scan> {
  let byScope = inflight.get(ctx.db);
  if (!byScope) {
    byScope = new Map();
    inflight.set(ctx.db, byScope);
  }
  const key = scope ?? '\u0000all';
  const pending = byScope.get(key);
  if (pending) return pending;
  const p = read(ctx, scope).finally(() => byScope.delete(key));
  byScope.set(key, p);
  return p;
}

type Memo = { now: number; thresholdMs: number; v: ReturnType<typeof verdictOf> };
/** Where a scanned row keeps its verdict (a property, not a map: 20,000 lookups a page). */
const VERDICT = Symbol('verdict');

/**
 * A scanned test's verdict, computed once however many of a page's views ask. The views read the
 * clock apart by milliseconds: a verdict within a second of the asked time is the same answer.
 */
export function scannedVerdict(row: ScannedTest, at: VerdictClock): ReturnType<typeof verdictOf> {
  const holder = row as ScannedTest & { [VERDICT]?: Memo };
  const hit = holder[VERDICT];
  if (hit && Math.abs(hit.now - at.now) < 1000 && hit.thresholdMs === at.thresholdMs) return hit.v;
  const v = verdictOf(row, at);
  holder[VERDICT] = { now: at.now, thresholdMs: at.thresholdMs, v };
  return v;
}

const IMPORTANCE_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
/** 0 critical … 3 low, 4 none: the fleet's order of importance. */
export const importanceOrder = (importance: string | null) => IMPORTANCE_RANK[importance ?? ''] ?? 4;

/** Importance, then failing since (oldest first; never-failed first, as SQL orders NULL), then identity. */
export function compareScanned(a: ScannedTest, b: ScannedTest): number {
  return (
    importanceOrder(a.importance) - importanceOrder(b.importance) ||
    (a.failingSince ?? -Infinity) - (b.failingSince ?? -Infinity) ||
    (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0) ||
    (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}
