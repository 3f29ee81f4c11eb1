import type { AssignedTest, Gauge, RunResult } from '@synthfleet/contracts';
import type { Logger } from './logger.ts';
import type { AgentMetrics, Pusher, TestLabels } from './metrics.ts';
import type { Remedies } from './remedies.ts';
import type { Reporter } from './reporter.ts';

const labelsOf = (t: AssignedTest): TestLabels => ({ namespace: t.namespace, test: t.name, plugin: t.spec.plugin });

/**
 * Where a finished run goes, in one room: the agent's metrics (and the Pushgateway), the reporter
 * (which delivers it to the API), the remedy streaks; and what a removed test leaves behind.
 */
export function createResultRouter(deps: {
  metrics: AgentMetrics;
  reporter: Reporter;
  remedies: Remedies;
  pusher: Pusher | undefined;
  logger: Logger;
  /** Called after each result and removal, to refresh the spool gauges. */
  changed: () => void;
}) {
  const { metrics, reporter, remedies, pusher, logger } = deps;
  return {
    onResult(test: AssignedTest, run: RunResult, gauges: readonly Gauge[]): void {
      metrics.recordRun(labelsOf(test), run, gauges);
      reporter.submit(run);
      remedies.onResult(test, run);
      deps.changed();
      pusher?.schedule();
      logger.debug({ test: test.key, status: run.status, runId: run.runId }, 'run finished');
    },
    onRemoved(test: AssignedTest): void {
      metrics.removeTest(labelsOf(test));
      remedies.onRemoved(test);
    },
  };
}
