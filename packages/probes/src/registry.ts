import type { Gauge, Plugin, PluginConfig, RunStatus } from '@synthfleet/contracts';
import { parseProbeConfig } from './config.ts';
import type { AnyProbe, ProbeSet } from './probe-set.ts';
import type { ProbeContext, ProbeOutcome } from './types.ts';

export type ProbeReport = {
  status: Exclude<RunStatus, 'timeout'>;
  marks: number;
  maxMarks: number;
  details: Record<string, string>;
  gauges: Gauge[];
};

/**
 * All of a run's details together stay within this many characters (the API refuses a run over
 * its RUN_MAX_BYTES, 128 KiB by default): `_error` first, then `_log`, then the probe's own keys
 * in order; what does not fit is cut, and a key with no room left is dropped.
 */
const DETAILS_BUDGET = 64 * 1024;
const CUT = '\n… (truncated)';

function clip(text: string, room: number): string {
  return text.length <= room ? text : `${text.slice(0, Math.max(0, room - CUT.length))}${CUT}`;
}

function boundDetails(entries: [string, string][]): Record<string, string> {
  const details: Record<string, string> = {};
  let left = DETAILS_BUDGET;
  for (const [k, v] of entries) {
    const room = left - k.length;
    if (room < CUT.length + 1) {
      details._truncated = 'details over the size a run may carry were dropped';
      break;
    }
    details[k] = clip(v, room);
    left -= k.length + (details[k] as string).length;
  }
  return details;
}

export function toReport(outcome: ProbeOutcome): ProbeReport {
  let status: ProbeReport['status'];
  let error = outcome.error;
  if (outcome.status) status = outcome.status;
  else if (outcome.maxMarks === 0) {
    status = 'error';
    error ??= 'the probe awarded no marks at all';
  } else status = outcome.marks >= outcome.maxMarks ? 'pass' : 'fail';
  const merged: Record<string, string> = { ...outcome.details };
  if (outcome.log.length) merged._log = outcome.log.join('\n');
  if (error) merged._error = error;
  const { _error, _log, ...own } = merged;
  const details = boundDetails([
    ...(_error !== undefined ? [['_error', _error] as [string, string]] : []),
    ...(_log !== undefined ? [['_log', _log] as [string, string]] : []),
    ...Object.entries(own),
  ]);
  return {
    status,
    marks: Math.min(outcome.marks, outcome.maxMarks),
    maxMarks: outcome.maxMarks,
    details,
    gauges: outcome.gauges ?? [],
  };
}

/**
 * Parses the test's config for its plugin and runs the probe. A plugin this agent lacks is an
 * `unsupported` report (never a failure); a bad config or a probe that throws become an `error` report that says why; a cancelled run rethrows
 * the signal's reason so the caller can tell a timeout from a failure.
 */
export async function runProbe(
  probes: ProbeSet,
  plugin: string,
  rawConfig: PluginConfig | undefined,
  ctx: ProbeContext,
): Promise<ProbeReport> {
  const load = probes.get(plugin as Plugin);
  if (!load) {
    const have = [...probes.keys()].join(', ');
    return toReport({
      marks: 0,
      maxMarks: 1,
      status: 'unsupported',
      log: [],
      error: `plugin "${plugin}" is not offered by this agent (it runs: ${have})`,
    });
  }
  let probe: AnyProbe;
  let config: unknown;
  try {
    probe = await load();
    config = await parseProbeConfig(plugin, rawConfig, probe.config);
  } catch (err) {
    return toReport({ marks: 0, maxMarks: 1, status: 'error', log: [], error: (err as Error).message });
  }
  ctx.signal.throwIfAborted();
  try {
    return toReport(await probe.run(config, ctx));
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return toReport({
      marks: 0,
      maxMarks: 1,
      status: 'error',
      log: [],
      error: `${plugin} probe crashed: ${(err as Error).stack ?? err}`,
    });
  }
}
