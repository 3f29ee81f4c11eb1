import type { AssignedTest, Remedy, RemedyGrant, RemedyOutcome, RunResult } from '@synthfleet/contracts';
import { parseDuration } from '@synthfleet/contracts/duration';
import { httpRequest } from './http-request.ts';

export type RemedyContext = {
  test: AssignedTest;
  run: RunResult;
  failures: number;
  grant: RemedyGrant;
  cluster: string;
  node: string;
};

/** What a webhook remedy is sent: the grant, the test, the node and the run that triggered it. */
export function remedyPayload({ test, run, failures, grant, cluster, node }: RemedyContext) {
  return {
    remedyId: grant.remedyId,
    attempt: grant.attempt,
    runsLimit: grant.runsLimit,
    test: { cluster, namespace: test.namespace, name: test.name, revision: test.revision },
    node,
    consecutiveFailures: failures,
    run: {
      runId: run.runId,
      status: run.status,
      marks: run.marks,
      maxMarks: run.maxMarks,
      startTime: run.startTime,
      endTime: run.endTime,
      error: run.details?._error,
    },
  };
}

/** POSTs the payload to the hook; a 2xx answer is success, anything else a failure that says why. */
export async function runWebhookRemedy(
  hook: NonNullable<Remedy['webhook']>,
  ctx: RemedyContext,
): Promise<RemedyOutcome> {
  const body = JSON.stringify(remedyPayload(ctx));
  const res = await httpRequest(new URL(hook.url), {
    method: 'POST',
    body,
    headers: {
      ...hook.headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'synthfleet-agent',
    },
    signal: AbortSignal.timeout(parseDuration(hook.timeout)),
    maxChars: 2000,
  });
  const details = { url: hook.url, status: String(res.status) };
  if (res.status >= 200 && res.status < 300)
    return { status: 'succeeded', message: `webhook answered ${res.status}`, details };
  return {
    status: 'failed',
    message: `webhook answered ${res.status}${res.text ? `: ${res.text.slice(0, 500)}` : ''}`,
    details,
  };
}
