import {
  goGlob,
  inMaintenance,
  type MaintenanceList,
  type MaintenanceRecurrence,
  type MaintenanceRequest,
  type MaintenanceView,
  parseDuration,
} from '@synthfleet/contracts';
import { type MaintenanceWindowRow, maintenanceWindows, tests } from '@synthfleet/db';
import { Cron } from 'croner';
import { and, eq, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { badRequest, forbidden, notFound } from '../errors.ts';
import { chunk, runBatch } from '../lib/batch.ts';
import { selectPacked } from '../lib/packed.ts';
import { assertCanWrite } from './access.ts';
import type { Principal, ServiceContext } from './context.ts';

/*
 * Maintenance windows. Each live test's row holds the span of its current (or else next) window
 * (maintenance_from/until/reason), kept here whenever windows or tests change and on every sweep;
 * the verdict reads it (the test is `maintenance` inside it) and ingest marks the runs that start
 * inside it, which then count toward no verdict, availability or SLO.
 */

export type Span = { from: number; until: number; reason: string | null };

/** How far ahead a recurring window's next opening is looked for. */
const LOOKAHEAD_MS = 31 * 86_400_000;

/** A recurring window's span that is open at `now`, or else its next one (within the lookahead). */
export function recurringSpan(
  r: { schedule: string; durationMs: number; timezone?: string | null | undefined },
  now: number,
): { from: number; until: number } | null {
  const cron = new Cron(r.schedule.trim(), { paused: true, ...(r.timezone ? { timezone: r.timezone } : {}) });
  // The first opening after now - duration is the one whose window holds now, if any does.
  const fire = cron.nextRun(new Date(now - r.durationMs));
  if (!fire || fire.getTime() > now + LOOKAHEAD_MS) return null;
  return { from: fire.getTime(), until: fire.getTime() + r.durationMs };
}

/** A stored window's current-or-next span (null: over, or nothing within the lookahead). */
export function windowSpan(w: MaintenanceWindowRow, now: number): { from: number; until: number } | null {
  const recurrence = recurrenceOf(w);
  if (recurrence) return recurringSpan(recurrence, now);
  if (w.startAt === null || w.endAt === null || w.endAt <= now) return null;
  return { from: w.startAt, until: w.endAt };
}

type SelectableTest = { cluster: string; namespace: string; name: string; labels: Record<string, string> };

type Selector = MaintenanceView['selector'];

/** Whether a window's selector picks a test: each part given must match. */
export function selectorPicks(s: Selector, t: SelectableTest): boolean {
  if (s.cluster !== null && s.cluster !== t.cluster) return false;
  if (s.namespace !== null && s.namespace !== t.namespace) return false;
  if (s.name !== null && !goGlob(s.name).test(t.name)) return false;
  return Object.entries(s.labels).every(([k, v]) => t.labels[k] === v);
}

const selectorOf = (w: MaintenanceWindowRow): Selector => ({
  cluster: w.cluster,
  namespace: w.namespace,
  name: w.name,
  labels: JSON.parse(w.labels) as Record<string, string>,
});

/**
 * The span a test is under: the open window (when several are open, until the last of them
 * closes), or else the one that opens first. Null when nothing is open or due.
 */
export function pickSpan(spans: readonly Span[], now: number): Span | null {
  const open = spans.filter((s) => inMaintenance(s.from, s.until, now));
  if (open.length > 0) {
    const last = open.reduce((a, b) => (b.until > a.until ? b : a));
    return { from: Math.min(...open.map((s) => s.from)), until: last.until, reason: last.reason };
  }
  const next = spans.filter((s) => s.from > now).sort((a, b) => a.from - b.from)[0];
  return next ?? null;
}

/** A test's own spec.maintenance windows, from its `maintenance_spec` column, as recurrences. */
function specRecurrences(json: string | null): (Recurrence & { m: MaintenanceRecurrence })[] {
  if (json === null) return [];
  return (JSON.parse(json) as MaintenanceRecurrence[]).map((m) => ({
    schedule: m.schedule,
    durationMs: parseDuration(m.duration),
    timezone: m.timezone,
    m,
  }));
}

function specSpans(json: string | null, now: number): Span[] {
  const out: Span[] = [];
  for (const r of specRecurrences(json)) {
    const span = recurringSpan(r, now);
    if (span) out.push({ ...span, reason: r.m.reason ?? 'spec.maintenance' });
  }
  return out;
}

/**
 * Brings the maintenance span of every live test (of one cluster, or all) up to date; writes
 * only the rows whose span changed. Cheap when there are no windows: only rows still holding a
 * span are read then.
 */
export async function refreshMaintenance(ctx: ServiceContext, cluster?: string): Promise<number> {
  const now = ctx.clock.now();
  const windows = (await ctx.db.select().from(maintenanceWindows)).filter(
    (w) => cluster === undefined || w.cluster === null || w.cluster === cluster,
  );
  const live: SQL[] = [isNull(tests.deletedAt)];
  if (cluster !== undefined) live.push(eq(tests.cluster, cluster));
  // Only tests that hold a span, declare their own windows, or sit where a window reaches (its
  // cluster and namespace; name globs and labels are matched below) need a look: a window over
  // one cluster of a thousand reads that cluster's tests, not the fleet's.
  const reach = windows.map((w) =>
    w.cluster === null
      ? sql`1`
      : and(eq(tests.cluster, w.cluster), w.namespace === null ? undefined : eq(tests.namespace, w.namespace)),
  );
  live.push(or(isNotNull(tests.maintenanceFrom), isNotNull(tests.maintenanceSpec), ...reach) as SQL);
  const rows = await selectPacked(
    ctx.db,
    {
      id: tests.id,
      cluster: tests.cluster,
      namespace: tests.namespace,
      name: tests.name,
      labels: tests.labels,
      spec: tests.maintenanceSpec,
      from: tests.maintenanceFrom,
      until: tests.maintenanceUntil,
      reason: tests.maintenanceReason,
    },
    tests,
    and(...live),
  );
  const windowSpans = windows.map((w) => ({ w, span: windowSpan(w, now) }));
  const writes: BatchItem<'sqlite'>[] = [];
  for (const t of rows) {
    const labels = JSON.parse(t.labels) as Record<string, string>;
    const spans = specSpans(t.spec, now);
    for (const { w, span } of windowSpans) {
      if (span && selectorPicks(selectorOf(w), { ...t, labels })) spans.push({ ...span, reason: w.reason });
    }
    const picked = pickSpan(spans, now);
    const next = { from: picked?.from ?? null, until: picked?.until ?? null, reason: picked?.reason ?? null };
    if (next.from === t.from && next.until === t.until && next.reason === t.reason) continue;
    writes.push(
      ctx.db
        .update(tests)
        .set({ maintenanceFrom: next.from, maintenanceUntil: next.until, maintenanceReason: next.reason })
        .where(eq(tests.id, t.id)),
    );
  }
  for (const part of chunk(writes, 500)) await runBatch(ctx.db, part);
  return writes.length;
}

const iso = (ms: number) => new Date(ms).toISOString();
const spanOf = (s: { from: number; until: number }) => ({ start: iso(s.from), end: iso(s.until) });

type Recurrence = { schedule: string; durationMs: number; timezone?: string | null | undefined };

/**
 * What a window looks like at `now`: whether it is open, the open span, and the next one (for a
 * recurring window that is open, the opening after this one closes).
 */
function spansAt(
  span: { from: number; until: number } | null,
  recurrence: Recurrence | null,
  now: number,
): Pick<MaintenanceView, 'active' | 'current' | 'next'> {
  if (!span) return { active: false, current: null, next: null };
  if (!inMaintenance(span.from, span.until, now)) return { active: false, current: null, next: spanOf(span) };
  const after = recurrence ? recurringSpan(recurrence, span.until) : null;
  return { active: true, current: spanOf(span), next: after && after.from >= span.until ? spanOf(after) : null };
}

const recurrenceOf = (w: MaintenanceWindowRow): Recurrence | null =>
  w.schedule !== null && w.durationMs !== null
    ? { schedule: w.schedule, durationMs: w.durationMs, timezone: w.timezone }
    : null;

function viewOf(w: MaintenanceWindowRow, now: number): MaintenanceView {
  return {
    id: w.id,
    selector: selectorOf(w),
    reason: w.reason,
    start: w.startAt === null ? null : iso(w.startAt),
    end: w.endAt === null ? null : iso(w.endAt),
    schedule: w.schedule,
    duration: w.durationMs === null ? null : `${w.durationMs / 60_000}m`,
    timezone: w.timezone,
    test: null,
    createdBy: w.createdBy,
    createdAt: iso(w.createdAt),
    ...spansAt(windowSpan(w, now), recurrenceOf(w), now),
  };
}

function describePrincipal(p: Principal): string {
  return p.cluster ? `${p.role}:${p.cluster} (token ${p.tokenId})` : `${p.role} (token ${p.tokenId})`;
}

/** POST /maintenance: admin anywhere; a cluster token within its own cluster only. */
export async function createWindow(
  ctx: ServiceContext,
  principal: Principal,
  body: MaintenanceRequest,
): Promise<MaintenanceView> {
  const cluster = principal.role === 'cluster' ? (body.cluster ?? principal.cluster) : (body.cluster ?? null);
  if (cluster === null) {
    if (principal.role !== 'admin') throw forbidden('only an admin token may open a window over every cluster');
  } else assertCanWrite(principal, cluster);
  const now = ctx.clock.now();
  const schedule = body.schedule?.trim() ?? null;
  const durationMs = body.duration ? parseDuration(body.duration) : null;
  // A cron croner refuses (a field out of range) is a bad request, not a stored window.
  if (schedule !== null && durationMs !== null) {
    try {
      recurringSpan({ schedule, durationMs, timezone: body.timezone }, now);
    } catch (err) {
      throw badRequest(`schedule is not a cron that can run: ${(err as Error).message}`, [
        { path: 'schedule', message: (err as Error).message },
      ]);
    }
  }
  const [row] = await ctx.db
    .insert(maintenanceWindows)
    .values({
      cluster,
      namespace: body.namespace ?? null,
      name: body.name ?? null,
      labels: JSON.stringify(body.labels ?? {}),
      reason: body.reason,
      startAt: body.start ? Date.parse(body.start) : null,
      endAt: body.end ? Date.parse(body.end) : null,
      schedule,
      timezone: body.timezone ?? null,
      durationMs,
      createdBy: describePrincipal(principal),
      createdAt: now,
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  await refreshMaintenance(ctx, cluster ?? undefined);
  ctx.logger.info({ window: row.id, cluster, reason: row.reason }, 'maintenance window opened');
  return viewOf(row, now);
}

/** Active and upcoming windows the principal may see, with the tests' own spec.maintenance ones. */
export async function listWindows(ctx: ServiceContext, principal: Principal): Promise<MaintenanceList> {
  const now = ctx.clock.now();
  const own = principal.role === 'cluster' ? principal.cluster : null;
  const stored = await ctx.db
    .select()
    .from(maintenanceWindows)
    .where(own === null ? undefined : or(isNull(maintenanceWindows.cluster), eq(maintenanceWindows.cluster, own)));
  const views = stored.map((w) => viewOf(w, now)).filter((v) => v.active || v.next !== null);
  const testRows = await ctx.db
    .select({
      cluster: tests.cluster,
      namespace: tests.namespace,
      name: tests.name,
      spec: tests.maintenanceSpec,
      createdAt: tests.createdAt,
    })
    .from(tests)
    .where(
      and(isNull(tests.deletedAt), isNotNull(tests.maintenanceSpec), own === null ? undefined : eq(tests.cluster, own)),
    );
  for (const t of testRows) {
    for (const r of specRecurrences(t.spec)) {
      const m = r.m;
      const span = recurringSpan(r, now);
      if (!span) continue;
      views.push({
        id: null,
        selector: { cluster: t.cluster, namespace: t.namespace, name: t.name, labels: {} },
        reason: m.reason ?? 'spec.maintenance',
        start: null,
        end: null,
        schedule: m.schedule,
        duration: m.duration,
        timezone: m.timezone ?? null,
        test: `${t.cluster}/${t.namespace}/${t.name}`,
        createdBy: 'spec.maintenance',
        createdAt: iso(t.createdAt),
        ...spansAt(span, r, now),
      });
    }
  }
  views.sort(
    (a, b) =>
      Number(b.active) - Number(a.active) ||
      (a.current?.start ?? a.next?.start ?? '').localeCompare(b.current?.start ?? b.next?.start ?? ''),
  );
  return { windows: views };
}

export async function deleteWindow(ctx: ServiceContext, principal: Principal, id: number): Promise<void> {
  const row = await ctx.db.query.maintenanceWindows.findFirst({ where: eq(maintenanceWindows.id, id) });
  if (!row) throw notFound(`maintenance window ${id} was not found`);
  if (row.cluster === null) {
    if (principal.role !== 'admin') throw forbidden('only an admin token may close a window over every cluster');
  } else assertCanWrite(principal, row.cluster);
  await ctx.db.delete(maintenanceWindows).where(eq(maintenanceWindows.id, id));
  await refreshMaintenance(ctx, row.cluster ?? undefined);
}

/** Active windows first, for the dashboard (overview, cluster and test pages). */
export async function windowsFor(
  ctx: ServiceContext,
  principal: Principal,
  filter: { cluster?: string; test?: SelectableTest } = {},
): Promise<MaintenanceView[]> {
  const { windows } = await listWindows(ctx, principal);
  return windows.filter((v) => {
    if (filter.test) {
      const t = filter.test;
      if (v.test !== null) return v.test === `${t.cluster}/${t.namespace}/${t.name}`;
      return selectorPicks(v.selector, t);
    }
    if (filter.cluster) return v.selector.cluster === null || v.selector.cluster === filter.cluster;
    return true;
  });
}
