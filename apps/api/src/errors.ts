import { ErrorCode, type FieldIssue } from '@synthfleet/contracts';

/** A typed service error. Services throw these and know nothing of HTTP. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (message: string, details?: FieldIssue[] | unknown) =>
  new ApiError(ErrorCode.BadRequest, message, details);
export const notFound = (message: string) => new ApiError(ErrorCode.NotFound, message);
export const forbidden = (message: string) => new ApiError(ErrorCode.Forbidden, message);
export const conflict = (message: string) => new ApiError(ErrorCode.Conflict, message);
export const unauthorized = (message: string) => new ApiError(ErrorCode.Unauthorized, message);

/** A writer over its quota: answered 429 with `Retry-After` (whole seconds, at least 1). */
export class RateLimitedError extends ApiError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterMs: number) {
    super(ErrorCode.RateLimited, message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

/** The one place that maps error codes to HTTP statuses; exhaustive over ErrorCode. */
export function statusFor(code: ErrorCode): 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 503 {
  switch (code) {
    case ErrorCode.BadRequest:
      return 400;
    case ErrorCode.Unauthorized:
      return 401;
    case ErrorCode.Forbidden:
      return 403;
    case ErrorCode.NotFound:
      return 404;
    case ErrorCode.MethodNotAllowed:
      return 405;
    case ErrorCode.Conflict:
      return 409;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.RateLimited:
      return 429;
    case ErrorCode.Internal:
      return 500;
    case ErrorCode.Unavailable:
      return 503;
  }
}
