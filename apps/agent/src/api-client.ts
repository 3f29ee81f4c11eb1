import {
  Assignment,
  ErrorEnvelope,
  type RegisterAgentRequest,
  RegisterAgentResponse,
  type RunBatch,
  RunBatchResponse,
} from '@synthfleet/contracts';
import type { z } from 'zod';

/** A failed call: `status` 0 when the API could not be reached at all. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  /** Worth trying again later: the API is down, overloaded or restarting. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export type PollResult = { kind: 'assignment'; assignment: Assignment } | { kind: 'not-modified' };

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(opts: { baseUrl: string; token: string; fetch?: typeof fetch }) {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, '');

  async function call(
    path: string,
    init: RequestInit & { timeoutMs: number; signal?: AbortSignal },
  ): Promise<Response> {
    const signals = [AbortSignal.timeout(init.timeoutMs)];
    if (init.signal) signals.push(init.signal);
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        ...init,
        signal: AbortSignal.any(signals),
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', ...init.headers },
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new ApiError(0, `API unreachable at ${base}: ${cause ?? (err as Error).message}`);
    }
    if (res.status >= 400) {
      const text = await res.text().catch(() => '');
      let message = `${res.status} ${res.statusText}`;
      let code: string | undefined;
      try {
        const env = ErrorEnvelope.parse(JSON.parse(text));
        message = `${res.status} ${env.error.code}: ${env.error.message}`;
        code = env.error.code;
      } catch {
        // not our envelope (a proxy's page): keep the status line
      }
      throw new ApiError(res.status, message, code);
    }
    return res;
  }

  async function json<T>(res: Response, schema: z.ZodType<T>, what: string): Promise<T> {
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new ApiError(502, `${what}: the API answered with something that is not JSON`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiError(502, `${what}: unexpected answer (${issue?.path.join('.')}: ${issue?.message})`);
    }
    return parsed.data;
  }

  return {
    async register(req: RegisterAgentRequest, signal?: AbortSignal): Promise<RegisterAgentResponse> {
      const res = await call('/api/v1/agents', {
        method: 'POST',
        body: JSON.stringify(req),
        timeoutMs: 15_000,
        signal,
      });
      return json(res, RegisterAgentResponse, 'register');
    },

    /** Long-polls for a new assignment; `known` undefined asks for the current one at once. */
    async poll(
      agentId: string,
      known: number | undefined,
      waitSeconds: number,
      signal?: AbortSignal,
    ): Promise<PollResult> {
      const q = known === undefined ? '' : `?version=${known}&wait=${waitSeconds}`;
      const res = await call(`/api/v1/agents/${encodeURIComponent(agentId)}/assignments${q}`, {
        method: 'GET',
        timeoutMs: (waitSeconds + 15) * 1000,
        signal,
      });
      if (res.status === 304) return { kind: 'not-modified' };
      return { kind: 'assignment', assignment: await json(res, Assignment, 'assignment') };
    },

    async sendRuns(batch: RunBatch, signal?: AbortSignal): Promise<RunBatchResponse> {
      const res = await call('/api/v1/runs', {
        method: 'POST',
        body: JSON.stringify(batch),
        timeoutMs: 30_000,
        signal,
      });
      return json(res, RunBatchResponse, 'runs');
    },
  };
}
