/**
 * A failed call to the control plane, as the agent and the syncer see it: `status` 0 when the API
 * could not be reached at all, `code` the error envelope's code when it answered with one.
 */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  readonly status: number;
  readonly code: string | undefined;
  /** How long the API asked the caller to wait (`Retry-After`, on a 429 or 503), if it said. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, message: string, code?: string, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** Worth trying again later: the API is down, overloaded, restarting or over a quota. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}
