import { z } from 'zod';
import { PodLabelSelector } from './agent-selector.ts';
import { parseDuration } from './duration.ts';
import { Duration } from './duration-schema.ts';
import { execEnvIssues } from './exec-env.ts';
import { DnsLabel, DnsSubdomain } from './names.ts';
import { NodeSelectorString } from './node-selector.ts';
import { PLUGINS } from './plugins.ts';
import { Remedy } from './remedy.ts';
import { Slo } from './slo.ts';

export const SYNTHFLEET_API_VERSION = 'synthfleet.dev/v1';
export const SYNTHETIC_HEART_API_VERSION = 'synheart.infra.webex.com/v1';
export const ApiVersion = z.enum([SYNTHFLEET_API_VERSION, SYNTHETIC_HEART_API_VERSION]);
export type ApiVersion = z.infer<typeof ApiVersion>;

export const Plugin = z.enum(PLUGINS, {
  error: (issue) => `unknown plugin ${JSON.stringify(issue.input)}; known plugins: ${PLUGINS.join(', ')}`,
});
export type Plugin = z.infer<typeof Plugin>;

/**
 * A plugin name as a spec may hold it. synthetic-heart's plugins are whatever its agents
 * discovered (built-ins plus e.g. Python plugins such as `json-ping.py`), so its group's objects
 * may name any plugin; one no agent offers leaves the test `unsupported`. synthfleet's own group
 * accepts only PLUGINS (checked on the object).
 */
export const PluginName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    'plugin name must be letters, digits, ".", "_" and "-", at most 100 characters',
  );

export function isKnownPlugin(name: string): name is Plugin {
  return (PLUGINS as readonly string[]).includes(name);
}

export const Importance = z.enum(['critical', 'high', 'medium', 'low']);
export type Importance = z.infer<typeof Importance>;

const CRON_FIELD = /^[0-9A-Za-z*?,/#LW-]+$/;
const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** A cron expression: five fields (or six with seconds first), or a macro such as `@hourly`. */
export const CronSchedule = z
  .string()
  .max(200)
  .superRefine((value, ctx) => {
    const text = value.trim();
    if (CRON_MACROS.has(text)) return;
    if (text.startsWith('@every ')) {
      try {
        parseDuration(text.slice(7));
        return;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return;
      }
    }
    const fields = text.split(/\s+/);
    if (fields.length < 5 || fields.length > 6) {
      ctx.addIssue({
        code: 'custom',
        message: `cron schedule "${value}" must have 5 or 6 fields, has ${fields.length}`,
      });
      return;
    }
    for (const f of fields) {
      if (!CRON_FIELD.test(f)) ctx.addIssue({ code: 'custom', message: `cron field "${f}" is not valid` });
    }
  });

/** synthetic-heart (and its own chart's examples) writes `""` for "not set": the default applies. */
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const Timeouts = z
  .object({
    init: z.preprocess(unsetIfEmpty, Duration.default('10s')),
    run: z.preprocess(unsetIfEmpty, Duration.default('10s')),
    finish: z.preprocess(unsetIfEmpty, Duration.default('10s')),
  })
  .strict();
export type Timeouts = z.infer<typeof Timeouts>;

/** A share (`"60%"`) or a count (`2`) of agents that must see a failure for the fleet verdict. */
export const Quorum = z.union([
  z.number().int().min(1, 'quorum count must be at least 1'),
  z
    .string()
    .regex(/^(100|[1-9]?\d)(\.\d+)?%$/, 'quorum share must look like "60%"')
    .refine((s) => Number.parseFloat(s) > 0, 'quorum share must be above 0%'),
]);
export type Quorum = z.infer<typeof Quorum>;

const MAX_CONFIG_CHARS = 64 * 1024;

export const PluginConfig = z.union([
  z.string().max(MAX_CONFIG_CHARS, `config must be at most ${MAX_CONFIG_CHARS} characters`),
  z.record(z.string(), z.unknown()).refine((v) => JSON.stringify(v).length <= MAX_CONFIG_CHARS, {
    message: `config must serialise to at most ${MAX_CONFIG_CHARS} characters`,
  }),
]);
export type PluginConfig = z.infer<typeof PluginConfig>;

export const Labels = z.record(
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/, 'label key is not valid'),
  z.string().max(63),
);

/** An IANA time zone name (`Europe/Berlin`), as Intl knows it. */
export const TimeZone = z
  .string()
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not a time zone Intl knows (e.g. "UTC", "Europe/Berlin")');

/** A recurring maintenance window: opens when the cron fires and stays open for `duration`. */
export const MaintenanceRecurrence = z
  .object({
    schedule: CronSchedule.describe('Cron (5 or 6 fields, or a macro) for when each window opens.'),
    duration: Duration.describe('How long each window stays open (e.g. "30m").'),
    timezone: TimeZone.optional().describe('The zone the cron is read in (default UTC).'),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.schedule.trim().startsWith('@every'))
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message: 'a maintenance schedule must be a cron, not @every',
      });
    try {
      const ms = parseDuration(m.duration);
      if (ms < 60_000 || ms > 7 * 86_400_000)
        ctx.addIssue({ code: 'custom', path: ['duration'], message: 'duration must be between 1m and 168h' });
    } catch {
      // the Duration schema has already reported this
    }
  });
export type MaintenanceRecurrence = z.infer<typeof MaintenanceRecurrence>;

export const SyntheticTestSpec = z
  .object({
    plugin: PluginName,
    repeat: Duration.optional(),
    schedule: CronSchedule.optional(),
    node: NodeSelectorString.default('$'),
    podLabelSelector: PodLabelSelector.optional(),
    displayName: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    importance: Importance.optional(),
    labels: Labels.optional(),
    dependsOn: z.array(DnsSubdomain).max(50).optional(),
    timeouts: Timeouts.default({ init: '10s', run: '10s', finish: '10s' }),
    pluginRestartPolicy: z.enum(['always', 'never', 'onError']).optional(),
    logWaitTime: Duration.optional(),
    config: PluginConfig.optional(),
    quorum: Quorum.optional(),
    remedy: Remedy.optional(),
    slo: Slo.optional().describe('Objective: percent of runs passing over a window (default 30d).'),
    maintenance: z
      .array(MaintenanceRecurrence)
      .max(10)
      .optional()
      .describe("The test's own recurring maintenance windows."),
    badge: z
      .object({ public: z.boolean() })
      .strict()
      .optional()
      .describe('public: the status badge may be read without a token.'),
  })
  .superRefine((spec, ctx) => {
    // A YAML string config is checked where it is parsed (the API and the agent): zod alone here.
    if (spec.plugin === 'exec') {
      for (const issue of execEnvIssues(spec.config)) ctx.addIssue({ code: 'custom', ...issue });
    }
    if (spec.repeat === undefined && spec.schedule === undefined) {
      ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'repeat is required unless schedule is set' });
    }
    if (spec.repeat !== undefined) {
      try {
        if (parseDuration(spec.repeat) < 1000) {
          ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'repeat must be at least 1s' });
        }
      } catch {
        // the Duration schema has already reported this
      }
    }
  });
export type SyntheticTestSpec = z.infer<typeof SyntheticTestSpec>;
export type SyntheticTestSpecInput = z.input<typeof SyntheticTestSpec>;

export const ObjectMeta = z.object({
  name: DnsSubdomain,
  namespace: DnsLabel.default('default'),
  uid: z.string().max(128).optional(),
  generation: z.number().int().nonnegative().optional(),
  resourceVersion: z.string().max(128).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  creationTimestamp: z.string().optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

/**
 * An omitted `spec.node` means one agent (`$`) in synthfleet's group; synthetic-heart runs a test
 * with an empty node selector on every agent, so its group's objects keep that meaning (`*`).
 */
function defaultNodeForGroup(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const o = value as { apiVersion?: unknown; spec?: unknown };
  if (o.apiVersion !== SYNTHETIC_HEART_API_VERSION || !o.spec || typeof o.spec !== 'object') return value;
  const spec = o.spec as { node?: unknown };
  if (spec.node !== undefined && spec.node !== '') return value;
  return { ...o, spec: { ...spec, node: '*' } };
}

/** The object's shape (for documents and JSON Schema); parse with SyntheticTest. */
export const SyntheticTestObject = z
  .object({
    apiVersion: ApiVersion,
    kind: z.literal('SyntheticTest', { error: 'kind must be "SyntheticTest"' }),
    metadata: ObjectMeta,
    spec: SyntheticTestSpec,
    status: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((o, ctx) => {
    if (o.apiVersion === SYNTHFLEET_API_VERSION && !isKnownPlugin(o.spec.plugin)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', 'plugin'],
        message: `unknown plugin ${JSON.stringify(o.spec.plugin)}; known plugins: ${PLUGINS.join(', ')} (objects of ${SYNTHETIC_HEART_API_VERSION} may name any plugin)`,
      });
    }
  });

/** A SyntheticTest object as it comes from Kubernetes or a manifest, in either group. */
export const SyntheticTest = z.preprocess(defaultNodeForGroup, SyntheticTestObject);
export type SyntheticTest = z.infer<typeof SyntheticTestObject>;
export type SyntheticTestInput = z.input<typeof SyntheticTestObject>;

export function runTimeoutMs(spec: SyntheticTestSpec): number {
  return parseDuration(spec.timeouts.run);
}
