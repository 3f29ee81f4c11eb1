import type { AssignedTest, RunResult, SyntheticTestSpecInput } from '@synthfleet/contracts';
import { SyntheticTestSpec } from '@synthfleet/contracts';
import { type Probe, type ProbeSet, probeSetOf } from '@synthfleet/probes';
import { z } from 'zod';
import type { Logger } from '../logger.ts';

export const quietLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quietLogger;
  },
} as unknown as Logger;

export function assigned(name: string, spec: SyntheticTestSpecInput, revision = 1): AssignedTest {
  return {
    key: `edge/default/${name}`,
    namespace: 'default',
    name,
    revision,
    apiVersion: 'synthfleet.dev/v1',
    spec: SyntheticTestSpec.parse(spec),
  };
}

/**
 * Scripted probes for scheduler tests: `exec` behaves as its config says (pass, fail, or hang and
 * ignore the signal), and counts how many run at once.
 */
export function scriptedProbes() {
  const stats = { running: 0, maxRunning: 0, started: 0, configs: [] as unknown[] };
  const probe: Probe<{ outcome: string; ms: number }> = {
    plugin: 'exec',
    config: z.object({ outcome: z.enum(['pass', 'fail', 'hang']).default('pass'), ms: z.number().default(0) }),
    async run(config) {
      stats.started++;
      stats.configs.push(config);
      stats.running++;
      stats.maxRunning = Math.max(stats.maxRunning, stats.running);
      try {
        if (config.outcome === 'hang') await new Promise(() => {});
        await new Promise((r) => setTimeout(r, config.ms));
        return { marks: config.outcome === 'pass' ? 1 : 0, maxMarks: 1, log: [`did ${config.outcome}`] };
      } finally {
        stats.running--;
      }
    },
  };
  const probes: ProbeSet = probeSetOf(probe);
  return { probes, stats };
}

/** The i-th of a sequence of passing runs, one second apart, with ids that sort in order. */
export function numberedRun(i: number): RunResult {
  const t = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
  return {
    runId: `run-${String(i).padStart(6, '0')}`,
    namespace: 'default',
    name: 't',
    status: 'pass',
    marks: 1,
    maxMarks: 1,
    startTime: t,
    endTime: t,
  };
}
