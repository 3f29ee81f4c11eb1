import { z } from 'zod';
import { Duration } from './duration-schema.ts';
import { DnsLabel, DnsSubdomain } from './names.ts';

/**
 * What to do when a test keeps failing (active-monitor's remedies): after `after` consecutive
 * failed runs on one agent, that agent runs the remedy (again after every further `after`
 * failures while the streak lasts), at most `runsLimit` times for the test across the fleet; once
 * the limit is reached, the count starts again when `resetInterval` has passed since the last
 * remedy run. Without `runsLimit` there is no limit (as in active-monitor).
 */
export const Remedy = z
  .object({
    after: z.number().int().min(1).max(1000).default(3),
    runsLimit: z.number().int().min(1).max(1_000_000).optional(),
    resetInterval: Duration.optional(),
    webhook: z
      .object({
        url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
        headers: z.record(z.string().min(1).max(256), z.string().max(4096)).optional(),
        timeout: Duration.default('10s'),
      })
      .strict()
      .optional(),
    job: z
      .object({
        /** Where the Job is created; the agent's namespace when unset. */
        namespace: DnsLabel.optional(),
        /** A batch/v1 JobSpec (`template` at least), as in a Job manifest. */
        spec: z
          .record(z.string(), z.unknown())
          .refine((s) => s.template !== null && typeof s.template === 'object', 'must have a pod template'),
        /** How long to wait for the Job to complete. */
        timeout: Duration.default('5m'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.webhook === undefined) === (r.job === undefined))
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of webhook or job' });
    if (r.resetInterval !== undefined && r.runsLimit === undefined)
      ctx.addIssue({ code: 'custom', path: ['resetInterval'], message: 'only means something with runsLimit' });
  });
export type Remedy = z.infer<typeof Remedy>;

export const RemedyKind = z.enum(['webhook', 'job']);
export type RemedyKind = z.infer<typeof RemedyKind>;

/** An agent asks to run a test's remedy; the API grants it within the test's limits. */
export const RemedyClaim = z
  .object({
    namespace: DnsSubdomain,
    name: DnsSubdomain,
    revision: z.number().int().min(1),
    /** The failed run that reached the threshold. */
    runId: z.string().min(8).max(100),
    /** The streak of consecutive failures on this agent. */
    failures: z.number().int().min(1),
  })
  .strict();
export type RemedyClaim = z.infer<typeof RemedyClaim>;

export const RemedyGrant = z.object({
  remedyId: z.string(),
  kind: RemedyKind,
  /** This remedy run's place in the count toward runsLimit. */
  attempt: z.number().int(),
  runsLimit: z.number().int().nullable(),
});
export type RemedyGrant = z.infer<typeof RemedyGrant>;

export const RemedyOutcome = z
  .object({
    status: z.enum(['succeeded', 'failed']),
    message: z.string().max(4000),
    /** What the remedy touched: the webhook's status code, the Job's name. */
    details: z.record(z.string().max(100), z.string().max(2000)).optional(),
  })
  .strict();
export type RemedyOutcome = z.infer<typeof RemedyOutcome>;

export const RemedyRunView = z.object({
  id: z.string(),
  cluster: z.string(),
  namespace: z.string(),
  name: z.string(),
  revision: z.number().int(),
  agentId: z.string(),
  node: z.string(),
  kind: RemedyKind,
  triggerRunId: z.string(),
  failures: z.number().int(),
  attempt: z.number().int(),
  /** `unknown`: the agent reported no outcome by `deadline` (a later report still replaces it). */
  status: z.enum(['running', 'succeeded', 'failed', 'unknown']),
  message: z.string().nullable(),
  details: z.record(z.string(), z.string()),
  startedAt: z.string(),
  /** When a run still `running` is recorded as `unknown`: the remedy's timeout plus 5 minutes. */
  deadline: z.string(),
  endedAt: z.string().nullable(),
});
export type RemedyRunView = z.infer<typeof RemedyRunView>;

export const RemedyRunList = z.object({ remedies: z.array(RemedyRunView) });
export type RemedyRunList = z.infer<typeof RemedyRunList>;
