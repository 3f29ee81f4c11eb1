import { AVAILABILITY_WINDOWS, type TestKey, type Verdict } from '@synthfleet/contracts';
import { tests } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { notFound } from '../errors.ts';
import { assertCanRead } from './access.ts';
import { countedOver } from './availability.ts';
import type { Principal, ServiceContext } from './context.ts';
import { verdictClock, verdictColumns, verdictOf } from './test-views.ts';

/*
 * Status badges (GET /badges/{cluster}/{namespace}/{name}.svg): a test's verdict, or its
 * availability over a window, as a small SVG to embed in a README or a wiki. Private unless the
 * operator opts in (spec.badge.public on the test, or BADGES_PUBLIC for all): a private badge
 * needs a token (or a dashboard session), and is "not found" without one, so a badge URL reveals
 * no test that is not meant to be seen.
 */

const COLOURS: Record<Verdict | 'availability-good' | 'availability-low' | 'none', string> = {
  passing: '#1a7f37',
  failing: '#c62828',
  degraded: '#9a6700',
  stale: '#9a6700',
  maintenance: '#0b5cad',
  pending: '#6e7781',
  skipped: '#6e7781',
  unsupported: '#6e7781',
  'availability-good': '#1a7f37',
  'availability-low': '#c62828',
  none: '#6e7781',
};

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);

/** Text width at 11 px Verdana, near enough for a badge (shields.io measures the same way). */
const width = (s: string) => Math.round(s.length * 6.6 + 10);

export function badgeSvg(label: string, value: string, colour: string): string {
  const l = escapeXml(label.slice(0, 60));
  const v = escapeXml(value.slice(0, 40));
  const lw = width(label.slice(0, 60));
  const vw = width(value.slice(0, 40));
  const w = lw + vw;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${l}: ${v}"><title>${l}: ${v}</title><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${colour}"/><g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11"><text x="${lw / 2}" y="14">${l}</text><text x="${lw + vw / 2}" y="14">${v}</text></g></svg>`;
}

export type BadgeKind = { kind: 'state' } | { kind: 'availability'; window: keyof typeof AVAILABILITY_WINDOWS };

/** The badge, or a not-found error (unknown test, or a private badge without a credential that may read it). */
export async function testBadge(
  ctx: ServiceContext,
  principal: Principal | undefined,
  key: TestKey,
  kind: BadgeKind,
): Promise<string> {
  const row = await ctx.db
    .select({
      id: tests.id,
      name: tests.name,
      displayName: tests.displayName,
      badgePublic: tests.badgePublic,
      ...verdictColumns,
    })
    .from(tests)
    .where(
      and(
        eq(tests.cluster, key.cluster),
        eq(tests.namespace, key.namespace),
        eq(tests.name, key.name),
        isNull(tests.deletedAt),
      ),
    )
    .get();
  const open = ctx.config.badgesPublic || row?.badgePublic === true;
  if (!open) {
    if (!principal) throw notFound(`badge "${key.cluster}/${key.namespace}/${key.name}" was not found`);
    assertCanRead(principal, key.cluster);
  }
  if (!row) throw notFound(`test "${key.cluster}/${key.namespace}/${key.name}" was not found`);
  const label = row.displayName ?? row.name;
  if (kind.kind === 'state') {
    const v = verdictOf(row, verdictClock(ctx)).state;
    return badgeSvg(label, v, COLOURS[v]);
  }
  const counted = await countedOver(ctx, { testId: row.id }, { w: AVAILABILITY_WINDOWS[kind.window] }, ctx.clock.now());
  const c = counted.w ?? { total: 0, passed: 0 };
  if (c.total === 0) return badgeSvg(`${label} ${kind.window}`, 'no runs', COLOURS.none);
  const pct = (c.passed / c.total) * 100;
  const text = `${pct >= 99.995 ? '100' : pct.toFixed(pct >= 99 ? 2 : 1)} %`;
  return badgeSvg(`${label} ${kind.window}`, text, COLOURS[pct >= 99 ? 'availability-good' : 'availability-low']);
}
