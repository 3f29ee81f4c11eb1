import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { ErrorEnvelope } from '@synthfleet/contracts';
import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { ApiError, forbidden, notFound, RateLimitedError, statusFor } from '../errors.ts';
import type { Principal } from '../services/context.ts';
import { parseWith, readJson } from './validate.ts';

export type Role = Principal['role'];
type Method = 'get' | 'put' | 'post' | 'delete';
type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429;

/** What a route answers on success: a status, and a JSON schema or another content type. */
type Success = { description: string; schema?: z.ZodType; contentType?: 'application/json' | 'text/plain' };

type Infer<S, Else> = S extends z.ZodType ? z.infer<S> : Else;
type Input<P, Q, B> = {
  params: Infer<P, Record<string, never>>;
  query: Infer<Q, Record<string, never>>;
  body: Infer<B, undefined>;
};

type Declaration = {
  method: Method;
  /** OpenAPI style: `/tests/{cluster}/{namespace}/{name}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  description?: string;
  /** Who may call it; `public` needs no token. Others answer 403 (viewer) or 404 (cluster). */
  roles: readonly Role[] | 'public';
  /** Success statuses and what they carry. */
  responses: Partial<Record<200 | 201 | 202 | 204 | 304, Success>>;
  /** The error statuses it may answer (401, 400, 413, 415 and 429 are added where they apply). */
  errors?: readonly ErrorStatus[];
  /** Further paths (Hono syntax) served by the same handler, undocumented (e.g. legacy forms). */
  aliases?: readonly string[];
  /**
   * Answer errors past authentication as `text/plain` messages instead of the JSON envelope, as
   * synthetic-heart's `http.Error` does (its clients show the body as text).
   */
  plainTextErrors?: boolean;
};

/**
 * One route, declared once beside its handler: method, path, params, query, body, every response,
 * and the roles allowed. The OpenAPI document, the input validation, the role check and the
 * generated role and cross-cluster tests all come from this.
 */
export type Route = Declaration & {
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  handler: (c: Context<AppEnv>, input: { params: never; query: never; body: never }) => Response | Promise<Response>;
};

export function defineRoute<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(
  spec: Declaration & {
    params?: P;
    query?: Q;
    body?: B;
    handler: (c: Context<AppEnv>, input: Input<P, Q, B>) => Response | Promise<Response>;
  },
): Route {
  return spec as unknown as Route;
}

const ERROR_TEXT: Record<ErrorStatus, string> = {
  400: 'The input is not valid: the message names each field',
  401: 'No token, or not a valid one',
  403: 'The token may not do this',
  404: 'Not found (or in a cluster this token cannot see)',
  409: 'Conflicts with the current state',
  413: 'The body is too large',
  415: 'The body is not JSON',
  429: 'Over a writer quota; try again after Retry-After seconds',
};

/** The route's declaration as @hono/zod-openapi documents it. */
export function openApiRoute(r: Route) {
  const responses: Record<string, unknown> = {};
  for (const [status, s] of Object.entries(r.responses)) {
    const type = s.contentType ?? 'application/json';
    responses[status] = s.schema
      ? { description: s.description, content: { [type]: { schema: s.schema } } }
      : s.contentType
        ? { description: s.description, content: { [type]: { schema: { type: 'string' } } } }
        : { description: s.description };
  }
  const errors = new Set<ErrorStatus>(r.errors ?? []);
  if (r.roles !== 'public') errors.add(401);
  // Refused by the role check: a viewer is told (403), a cluster token is not (404).
  if (r.roles !== 'public' && !r.roles.includes('viewer')) errors.add(403);
  // A metrics token (a scrape credential) is told so on every route but /metrics.
  if (r.roles !== 'public' && !r.roles.includes('metrics')) errors.add(403);
  if (r.roles !== 'public' && !r.roles.includes('cluster')) errors.add(404);
  if (r.params || r.query || r.body) errors.add(400);
  if (r.body) {
    errors.add(413);
    errors.add(415);
  }
  if (r.method !== 'get' && r.roles !== 'public') errors.add(429);
  for (const status of [...errors].sort()) {
    responses[status] = {
      description: ERROR_TEXT[status],
      content:
        r.plainTextErrors && status !== 401
          ? { 'text/plain': { schema: { type: 'string' } } }
          : { 'application/json': { schema: ErrorEnvelope } },
    };
  }
  const roles = r.roles === 'public' ? 'none (no token)' : r.roles.join(', ');
  return createRoute({
    method: r.method,
    path: r.path,
    operationId: r.operationId,
    summary: r.summary,
    tags: [r.tag],
    description: `${r.description ? `${r.description}\n\n` : ''}Roles: ${roles}.`,
    security: r.roles === 'public' ? [] : [{ bearer: [] }],
    request: {
      ...(r.params ? { params: r.params } : {}),
      ...(r.query ? { query: r.query } : {}),
      ...(r.body ? { body: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
    },
    responses: responses as never,
    'x-roles': r.roles === 'public' ? [] : [...r.roles],
  } as never);
}

export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

function checkRole(r: Route, principal: Principal | undefined): void {
  if (r.roles === 'public' || !principal || r.roles.includes(principal.role)) return;
  // A cluster token is not told that routes beyond its cluster exist.
  if (principal.role === 'cluster') throw notFound('not found');
  throw forbidden(`this needs a token of role ${r.roles.join(' or ')}`);
}

/**
 * The handler of a route as mounted: role check, input validation from the declaration, and
 * (for `plainTextErrors` routes) synthetic-heart's text errors. `declaredPath` false: an alias,
 * whose path parameters its handler reads itself.
 */
export function serveRoute(r: Route, declaredPath = true) {
  const serve = async (c: Context<AppEnv>) => {
    checkRole(r, c.var.principal);
    const params = r.params && declaredPath ? parseWith(r.params, c.req.param(), 'path') : {};
    const query = r.query ? parseWith(r.query, c.req.query(), 'query') : {};
    const body = r.body ? await readJson(c, r.body) : undefined;
    return r.handler(c, { params, query, body } as never);
  };
  if (!r.plainTextErrors) return serve;
  return async (c: Context<AppEnv>) => {
    try {
      return await serve(c);
    } catch (err) {
      if (!(err instanceof ApiError) || err instanceof RateLimitedError) throw err;
      const status = statusFor(err.code);
      if (status >= 500) throw err;
      return c.text(err.message, status as 400);
    }
  };
}

/** Serves each route on `app` (validating its input from the declaration) and documents it. */
export function mountRoutes(app: OpenAPIHono<AppEnv>, routes: readonly Route[]): OpenAPIHono<AppEnv> {
  for (const r of routes) {
    app.openAPIRegistry.registerPath(openApiRoute(r) as never);
    app.on(r.method.toUpperCase(), honoPath(r.path), serveRoute(r));
    for (const alias of r.aliases ?? []) app.on(r.method.toUpperCase(), alias, serveRoute(r, false));
  }
  return app;
}
