import type { ProbeContext } from '../types.ts';
import { errorMessage, timeoutSignal } from '../util.ts';
import { StepFailed } from './steps.ts';

/** The body of a pod's or service's answer is read (and timed) up to this much, then cancelled. */
const READ_AT_MOST = 64 * 1024;

/**
 * GET `url` and expect `expected`. The body is read up to 64 KiB and the request then cancelled,
 * so a pod that answers with an endless or huge body holds neither the agent's memory nor the step.
 */
export async function httpCheck(url: string, expected: number, timeoutMs: number, ctx: ProbeContext): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { signal: timeoutSignal(ctx.signal, timeoutMs), redirect: 'manual' });
    const reader = res.body?.getReader();
    if (reader) {
      try {
        for (let read = 0; read < READ_AT_MOST; ) {
          const chunk = await reader.read();
          if (chunk.done) break;
          read += chunk.value.byteLength;
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    }
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    throw new StepFailed(`GET ${url}: ${errorMessage((err as Error).cause ?? err)}`);
  }
  if (res.status !== expected) throw new StepFailed(`GET ${url}: status ${res.status}, expected ${expected}`);
}
