import type { Gauge, Plugin, PluginConfig, RunStatus } from '@synthfleet/contracts';
import { parseProbeConfig } from './config.ts';
import { curl } from './curl.ts';
import { dnsProbe } from './dns.ts';
import { createExecProbe } from './exec.ts';
import { heartbeat } from './heartbeat.ts';
import { httpPing } from './http-ping.ts';
import { createK8sProbes, type K8sProbeOptions } from './k8s/probes.ts';
import { netDial } from './net-dial.ts';
import { ping, pingBinary } from './ping.ts';
import type { Probe, ProbeContext, ProbeOutcome } from './types.ts';

export type ProbeSetOptions = {
  /** Programs the exec probe may run; without any, this agent does not offer exec. */
  execAllow?: readonly string[];
  /** Environment variable names an exec spec may set (see ExecOptions.envAllow). */
  execEnvAllow?: readonly string[];
  /** Whether the system can ping; detected when not given. */
  canPing?: boolean;
  /** Kubernetes access: the agent then offers the k8s probes of the families allowed. */
  k8s?: K8sProbeOptions;
};

// biome-ignore lint/suspicious/noExplicitAny: each probe's config type is its own; the set is keyed by plugin
type AnyProbe = Probe<any>;

export type ProbeSet = ReadonlyMap<Plugin, AnyProbe>;

/** The probes this agent can run; their plugins are the capabilities it registers with. */
export function createProbeSet(options: ProbeSetOptions = {}): ProbeSet {
  const set = new Map<Plugin, AnyProbe>();
  for (const p of [httpPing, dnsProbe, netDial, heartbeat, curl] as AnyProbe[]) set.set(p.plugin, p);
  if (options.canPing ?? pingBinary() !== undefined) set.set('ping', ping);
  if (options.execAllow && options.execAllow.length > 0)
    set.set('exec', createExecProbe({ allow: options.execAllow, envAllow: options.execEnvAllow }));
  if (options.k8s) for (const p of createK8sProbes(options.k8s)) set.set(p.plugin, p);
  return set;
}

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
  const probe = probes.get(plugin as Plugin);
  if (!probe) {
    const have = [...probes.keys()].join(', ');
    return toReport({
      marks: 0,
      maxMarks: 1,
      status: 'unsupported',
      log: [],
      error: `plugin "${plugin}" is not offered by this agent (it runs: ${have})`,
    });
  }
  let config: unknown;
  try {
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
