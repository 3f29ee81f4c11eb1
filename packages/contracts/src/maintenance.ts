import { z } from 'zod';
import { goGlob } from './agent-selector.ts';
import { parseDuration } from './duration.ts';
import { Duration } from './duration-schema.ts';
import { ClusterName, DnsLabel } from './names.ts';
import { CronSchedule, Labels, TimeZone } from './synthetic-test.ts';

/*
 * Maintenance windows (POST /api/v1/maintenance): a selector of tests, a reason, and either a
 * one-off span (`start`/`end`) or a recurring one (`schedule`, a cron, open `duration` from each
 * time it fires). Runs of a selected test that start inside an open window are stored and shown,
 * marked, and left out of verdicts, availability and alerting.
 */

const MAX_SPAN_MS = 31 * 86_400_000;

const NameGlob = z
  .string()
  .min(1)
  .max(253)
  .refine((g) => {
    try {
      goGlob(g);
      return true;
    } catch {
      return false;
    }
  }, 'name must be a glob of test names (`dns-*`, `edge-?`)');

export const MaintenanceRequest = z
  .object({
    cluster: ClusterName.optional().describe(
      'The cluster (a cluster token: its own, implied). Omitted: every cluster (admin).',
    ),
    namespace: DnsLabel.optional(),
    name: NameGlob.optional().describe('Test name glob; omitted: every test the rest selects.'),
    labels: Labels.optional().describe('Labels the test must carry, all of them.'),
    reason: z.string().trim().min(1, 'reason is required').max(500),
    start: z.iso.datetime({ offset: true }).optional(),
    end: z.iso.datetime({ offset: true }).optional(),
    schedule: CronSchedule.optional(),
    duration: Duration.optional(),
    timezone: TimeZone.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const once = m.start !== undefined || m.end !== undefined;
    const recurring = m.schedule !== undefined || m.duration !== undefined;
    if (once && recurring) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message: 'give either start/end or schedule/duration, not both',
      });
      return;
    }
    if (!once && !recurring) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: 'give start and end, or schedule and duration' });
      return;
    }
    if (once) {
      if (m.start === undefined)
        ctx.addIssue({ code: 'custom', path: ['start'], message: 'start is required with end' });
      if (m.end === undefined) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end is required with start' });
      if (m.start !== undefined && m.end !== undefined) {
        const span = Date.parse(m.end) - Date.parse(m.start);
        if (span <= 0) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
        else if (span > MAX_SPAN_MS)
          ctx.addIssue({ code: 'custom', path: ['end'], message: 'a window lasts at most 31 days' });
      }
      if (m.timezone !== undefined)
        ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'timezone applies to a schedule only' });
      return;
    }
    if (m.schedule === undefined)
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: 'schedule is required with duration' });
    else if (m.schedule.trim().startsWith('@every'))
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message: 'a maintenance schedule must be a cron, not @every',
      });
    if (m.duration === undefined)
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'duration is required with schedule' });
    else {
      try {
        const ms = parseDuration(m.duration);
        if (ms < 60_000 || ms > 7 * 86_400_000)
          ctx.addIssue({ code: 'custom', path: ['duration'], message: 'duration must be between 1m and 168h' });
      } catch {
        // the Duration schema has already reported this
      }
    }
  });
export type MaintenanceRequest = z.infer<typeof MaintenanceRequest>;

const Span = z.object({ start: z.string(), end: z.string() });

export const MaintenanceView = z.object({
  id: z.number().int().nullable().describe("null for a test's own spec.maintenance window (it follows the test)."),
  selector: z.object({
    cluster: z.string().nullable(),
    namespace: z.string().nullable(),
    name: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
  }),
  reason: z.string(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  schedule: z.string().nullable(),
  duration: z.string().nullable(),
  timezone: z.string().nullable(),
  test: z.string().nullable().describe("Set for a test's own spec.maintenance window: cluster/namespace/name."),
  createdBy: z.string(),
  createdAt: z.string(),
  active: z.boolean(),
  current: Span.nullable().describe('The open window, if one is open now.'),
  next: Span.nullable().describe('The next window to open, within 31 days.'),
});
export type MaintenanceView = z.infer<typeof MaintenanceView>;

export const MaintenanceList = z.object({ windows: z.array(MaintenanceView) });
export type MaintenanceList = z.infer<typeof MaintenanceList>;
