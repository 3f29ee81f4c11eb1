import { SYNTHETIC_HEART_API_VERSION, type TestRollup, type Verdict } from '@synthfleet/contracts';
import type { Checked } from './objects.ts';

export type Phase =
  | 'Passing'
  | 'Failing'
  | 'Degraded'
  | 'Stale'
  | 'Maintenance'
  | 'Pending'
  | 'Skipped'
  | 'Unsupported'
  | 'Invalid';

/** The resource's phase is the test's verdict (contracts' verdict.ts), capitalised. */
const PHASE: Record<Verdict, Phase> = {
  passing: 'Passing',
  failing: 'Failing',
  degraded: 'Degraded',
  stale: 'Stale',
  maintenance: 'Maintenance',
  pending: 'Pending',
  skipped: 'Skipped',
  unsupported: 'Unsupported',
};

/** At most this many node names go into the status; the counts say how many there are. */
const MAX_NODES = 50;

export type StatusInput = {
  object: Checked;
  rollup: TestRollup | undefined;
  /** Why the object is not mirrored although it parsed: another group's object wins, or the API said no. */
  notMirrored: string | undefined;
  now: Date;
};

type Condition = { type: string; status: string; reason: string; message: string; lastTransitionTime: string };

function existingCondition(object: Checked, type: string): Condition | undefined {
  const conditions = (object.raw.status as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c) => (c as Condition | null)?.type === type) as Condition | undefined;
}

/**
 * The status an object should carry. Built from the object's current status where nothing
 * changed (a condition keeps its lastTransitionTime), so an unchanged roll-up yields an equal
 * status and no write.
 */
export function desiredStatus({ object, rollup, notMirrored, now }: StatusInput): Record<string, unknown> {
  const invalid = !object.valid ? object.message : notMirrored;
  // An invalid edit of a test the API holds: its last valid revision keeps running.
  const invalidMessage =
    invalid !== undefined && rollup !== undefined && !notMirrored?.startsWith('shadowed')
      ? `${invalid}; the last valid spec (revision ${rollup.revision}) keeps running until this is fixed or deleted`
      : invalid;
  const phase: Phase =
    invalidMessage !== undefined ? 'Invalid' : rollup === undefined ? 'Pending' : PHASE[rollup.state];
  const unsupportedMessage = `Unsupported: no agent offers plugin "${object.raw.spec && typeof object.raw.spec === 'object' ? String((object.raw.spec as { plugin?: unknown }).plugin) : ''}"`;

  if (object.apiVersion === SYNTHETIC_HEART_API_VERSION) {
    // synthetic-heart's own status fields only, so its CRD's schema keeps what we write.
    const status: Record<string, unknown> = {
      deployed: invalidMessage === undefined && (rollup?.assignedAgents ?? 0) > 0,
      message:
        invalidMessage ??
        (phase === 'Failing'
          ? `Failing: ${rollup?.lastFailureMessage ?? 'see the dashboard'}`
          : phase === 'Unsupported'
            ? unsupportedMessage
            : (phase === 'Stale' || phase === 'Maintenance') && rollup?.stateReason
              ? `${phase}: ${rollup.stateReason}`
              : phase),
    };
    if (rollup && rollup.nodes.length > 0) status.agent = rollup.nodes.slice(0, MAX_NODES).join(',');
    return status;
  }

  const validStatus = invalidMessage === undefined ? 'True' : 'False';
  const reason = invalidMessage === undefined ? 'Accepted' : object.valid ? 'NotMirrored' : 'InvalidSpec';
  const message = invalidMessage ?? 'the spec is valid and mirrored to the control plane';
  const before = existingCondition(object, 'Valid');
  const condition: Condition = {
    type: 'Valid',
    status: validStatus,
    reason,
    message,
    lastTransitionTime:
      before && before.status === validStatus && typeof before.lastTransitionTime === 'string'
        ? before.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const status: Record<string, unknown> = { phase, conditions: [condition] };
  if (object.generation !== undefined) status.observedGeneration = object.generation;
  if (invalidMessage === undefined && rollup) {
    status.passingAgents = rollup.passingAgents;
    status.failingAgents = rollup.failingAgents;
    status.assignedAgents = rollup.assignedAgents;
    status.nodes = rollup.nodes.slice(0, MAX_NODES);
    if (rollup.lastRunAt) status.lastRunTime = rollup.lastRunAt.replace(/\.\d{3}Z$/, 'Z');
    if (rollup.failingSince) status.failingSince = rollup.failingSince.replace(/\.\d{3}Z$/, 'Z');
    if (rollup.lastFailureMessage) status.lastFailureMessage = rollup.lastFailureMessage.slice(0, 1024);
  }
  if (phase === 'Unsupported') status.message = unsupportedMessage;
  if ((phase === 'Stale' || phase === 'Maintenance') && rollup?.stateReason)
    status.message = `${phase}: ${rollup.stateReason}`;
  if (phase === 'Invalid') status.message = invalidMessage;
  return status;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

/** A merge patch that turns `current` into `desired`: top-level keys no longer wanted become null. */
export function statusPatch(current: unknown, desired: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...desired };
  if (current !== null && typeof current === 'object') {
    for (const k of Object.keys(current)) if (!(k in desired)) patch[k] = null;
  }
  return patch;
}
