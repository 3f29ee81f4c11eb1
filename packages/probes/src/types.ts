import type { Gauge, Peer, Plugin } from '@synthfleet/contracts';
import type { z } from 'zod';

/** What a probe may know of the agent running it. */
export type ProbeContext = {
  /** Aborted when the run times out, the test is removed or changed, or the agent shuts down. */
  signal: AbortSignal;
  self: { agentId: string; node: string };
  /** Live agents of the same cluster that serve heartbeats (from the assignment). */
  peers: readonly Peer[];
  /** The run's time limit; probes size their own per-request timeouts within it. */
  timeoutMs: number;
};

/**
 * What a probe found. The status is derived from the marks (all marks → pass) unless the probe
 * forces `error` (it could not test at all) or `skipped` (there was nothing to test).
 */
export type ProbeOutcome = {
  marks: number;
  maxMarks: number;
  status?: 'error' | 'skipped' | 'unsupported';
  log: string[];
  error?: string;
  details?: Record<string, string>;
  gauges?: Gauge[];
};

export type Probe<C> = {
  readonly plugin: Plugin;
  readonly config: z.ZodType<C>;
  run(config: C, ctx: ProbeContext): Promise<ProbeOutcome>;
};
