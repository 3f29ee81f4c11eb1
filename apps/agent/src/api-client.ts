import type {
  Assignment,
  RegisterAgentRequest,
  RegisterAgentResponse,
  RemedyClaim,
  RemedyGrant,
  RemedyOutcome,
  RunBatch,
  RunBatchResponse,
} from '@synthfleet/contracts';
import { ApiCallError } from '@synthfleet/contracts/api-call-error';
import { httpFor } from '@synthfleet/probes/util';
import type { z } from 'zod';
import { type Answer, httpRequest } from './http-request.ts';
import { errorOf, parseAssignment, parseRegisterAnswer, schemas, WireError } from './wire.ts';

/** `Retry-After` in seconds (the API's form; an HTTP date is taken too), capped at 10 minutes. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = /^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 600_000) : undefined;
}

export type PollResult = { kind: 'assignment'; assignment: Assignment } | { kind: 'not-modified' };

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(opts: { baseUrl: string; token: string }) {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const agent = new (httpFor(base).Agent)({ keepAlive: true, maxSockets: 4 });

  async function call(
    path: string,
    init: { method: string; body?: string; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Answer> {
    const signals = [AbortSignal.timeout(init.timeoutMs)];
    if (init.signal) signals.push(init.signal);
    let res: Answer;
    try {
      res = await httpRequest(
        new URL(`${base}${path}`),
        {
          method: init.method,
          body: init.body,
          signal: AbortSignal.any(signals),
          headers: {
            authorization: `Bearer ${opts.token}`,
            ...(init.body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(init.body)) }),
          },
        },
        agent,
      );
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ApiCallError(0, `API unreachable at ${base}: ${code ?? (err as Error).message}`);
    }
    if (res.status >= 400) {
      let message = `${res.status} ${res.statusText}`;
      let code: string | undefined;
      let body: unknown;
      try {
        body = JSON.parse(res.text);
      } catch {
        // not JSON (a proxy's page): keep the status line
      }
      const error = errorOf(body);
      if (error) {
        message = `${res.status} ${error.code}: ${error.message}`;
        code = error.code;
      }
      throw new ApiCallError(res.status, message, code, retryAfterMs(res.headers['retry-after']));
    }
    return res;
  }

  /** The answer's JSON through `read` (a plain check, or a zod schema's); 502 when it is not what the API sends. */
  async function json<T>(res: Answer, what: string, read: (body: unknown) => T | Promise<T>): Promise<T> {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new ApiCallError(502, `${what}: the API answered with something that is not JSON`);
    }
    try {
      return await read(body);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      throw new ApiCallError(502, `${what}: unexpected answer (${err.message})`);
    }
  }

  /** A reader for a schema from schema-set.ts (loaded on first use). */
  const withSchema =
    <T>(pick: (s: Awaited<ReturnType<typeof schemas>>) => z.ZodType<T>) =>
    async (body: unknown): Promise<T> => {
      const parsed = pick(await schemas()).safeParse(body);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      throw new WireError(issue?.path.join('.') ?? '', issue?.message ?? 'not valid');
    };

  return {
    async register(req: RegisterAgentRequest, signal?: AbortSignal): Promise<RegisterAgentResponse> {
      const res = await call('/api/v1/agents', {
        method: 'POST',
        body: JSON.stringify(req),
        timeoutMs: 15_000,
        signal,
      });
      return json(res, 'register', parseRegisterAnswer);
    },

    /** Long-polls for a new assignment; `known` undefined asks for the current one at once. */
    async poll(
      agentId: string,
      known: number | undefined,
      waitSeconds: number,
      signal?: AbortSignal,
      report?: { spool: number; dropped: number },
    ): Promise<PollResult> {
      const params = new URLSearchParams();
      if (known !== undefined) {
        params.set('version', String(known));
        params.set('wait', String(waitSeconds));
      }
      if (report) {
        params.set('spool', String(report.spool));
        params.set('dropped', String(report.dropped));
      }
      const q = params.size ? `?${params}` : '';
      const res = await call(`/api/v1/agents/${encodeURIComponent(agentId)}/assignments${q}`, {
        method: 'GET',
        timeoutMs: (waitSeconds + 15) * 1000,
        signal,
      });
      if (res.status === 304) return { kind: 'not-modified' };
      return { kind: 'assignment', assignment: await json(res, 'assignment', parseAssignment) };
    },

    /** Asks to run a test's remedy: a grant, or an ApiCallError 409 when its limit is reached. */
    async claimRemedy(agentId: string, claim: RemedyClaim, signal?: AbortSignal): Promise<RemedyGrant> {
      const res = await call(`/api/v1/agents/${encodeURIComponent(agentId)}/remedies`, {
        method: 'POST',
        body: JSON.stringify(claim),
        timeoutMs: 15_000,
        signal,
      });
      return json(
        res,
        'remedy claim',
        withSchema((s) => s.RemedyGrant),
      );
    },

    async finishRemedy(agentId: string, remedyId: string, outcome: RemedyOutcome, signal?: AbortSignal) {
      await call(`/api/v1/agents/${encodeURIComponent(agentId)}/remedies/${encodeURIComponent(remedyId)}`, {
        method: 'PUT',
        body: JSON.stringify(outcome),
        timeoutMs: 15_000,
        signal,
      });
    },

    async sendRuns(batch: RunBatch, signal?: AbortSignal): Promise<RunBatchResponse> {
      const res = await call('/api/v1/runs', {
        method: 'POST',
        body: JSON.stringify(batch),
        timeoutMs: 30_000,
        signal,
      });
      return json(
        res,
        'runs',
        withSchema((s) => s.RunBatchResponse),
      );
    },
  };
}
