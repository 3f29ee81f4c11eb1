import type { Remedy, RemedyOutcome } from '@synthfleet/contracts';
import { parseDuration } from '@synthfleet/contracts/duration';
import type { KubeClient } from '@synthfleet/probes';
import { MANAGED_BY, MANAGER } from '@synthfleet/probes/k8s/steps';
import { sleep } from '@synthfleet/probes/util';
import type { RemedyContext } from './remedy-webhook.ts';

/**
 * Creates a Job from the remedy's template (labelled, with the test, node and run in its
 * containers' environment) in `namespace` unless the remedy names one, and waits for it to
 * complete or fail within the remedy's timeout.
 */
export async function runJobRemedy(
  job: NonNullable<Remedy['job']>,
  ctx: RemedyContext,
  kube: KubeClient,
  namespace: string,
): Promise<RemedyOutcome> {
  const spec = structuredClone(job.spec) as {
    template: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { env?: unknown[] }[] } };
    ttlSecondsAfterFinished?: number;
  };
  const ns = job.namespace ?? namespace;
  const env = [
    { name: 'SYNTHFLEET_CLUSTER', value: ctx.cluster },
    { name: 'SYNTHFLEET_TEST', value: `${ctx.test.namespace}/${ctx.test.name}` },
    { name: 'SYNTHFLEET_NODE', value: ctx.node },
    { name: 'SYNTHFLEET_RUN_ID', value: ctx.run.runId },
    { name: 'SYNTHFLEET_FAILURES', value: String(ctx.failures) },
    { name: 'SYNTHFLEET_REMEDY_ID', value: ctx.grant.remedyId },
  ];
  for (const c of spec.template.spec?.containers ?? []) c.env = [...(c.env ?? []), ...env];
  const labels = {
    [MANAGED_BY]: MANAGER,
    'synthfleet.dev/remedy': ctx.grant.remedyId,
    'synthfleet.dev/test': ctx.test.name.slice(0, 63),
  };
  spec.template.metadata = { ...spec.template.metadata, labels: { ...spec.template.metadata?.labels, ...labels } };
  spec.ttlSecondsAfterFinished ??= 3600;
  const created = await kube.create<{ metadata: { name: string } }>(`/apis/batch/v1/namespaces/${ns}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      generateName: 'synthfleet-remedy-',
      labels,
      annotations: {
        'synthfleet.dev/test': `${ctx.test.namespace}/${ctx.test.name}`,
        'synthfleet.dev/node': ctx.node,
      },
    },
    spec,
  });
  const name = created.metadata.name;
  const details = { job: `${ns}/${name}` };
  const deadline = Date.now() + parseDuration(job.timeout);
  while (Date.now() < deadline) {
    const current = await kube.get<{
      status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
    }>(`/apis/batch/v1/namespaces/${ns}/jobs/${name}`);
    const done = current.status?.conditions?.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    if (done?.type === 'Complete') return { status: 'succeeded', message: `Job ${ns}/${name} completed`, details };
    if (done)
      return {
        status: 'failed',
        message: `Job ${ns}/${name} failed: ${done.reason ?? ''}${done.message ? `: ${done.message}` : ''}`,
        details,
      };
    await sleep(Math.min(1000, Math.max(1, deadline - Date.now())));
  }
  return {
    status: 'failed',
    message: `Job ${ns}/${name} did not finish within ${job.timeout}`,
    details,
  };
}
