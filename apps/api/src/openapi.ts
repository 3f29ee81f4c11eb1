import {
  AgentView,
  Assignment,
  ClusterView,
  CreateTokenRequest,
  CreateTokenResponse,
  ErrorEnvelope,
  FleetView,
  RegisterAgentRequest,
  RegisterAgentResponse,
  RemedyClaim,
  RemedyGrant,
  RemedyOutcome,
  RemedyRunList,
  RemedyRunView,
  RollupList,
  RunBatch,
  RunBatchResponse,
  RunPage,
  SnapshotRequest,
  SnapshotResponse,
  SyntheticTest,
  TestDetail,
  TestSummary,
  TokenInfo,
  UpsertTestResponse,
  WhoAmI,
} from '@synthfleet/contracts';
import { z } from 'zod';
import { ClusterQuery, PollQuery, RemedyListQuery, RunListQuery, TestListQuery } from './routes/params.ts';

type Method = 'get' | 'put' | 'post' | 'delete';
type RouteDoc = {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  roles: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  response?: z.ZodType;
  status?: number;
};

const Json = z.record(z.string(), z.unknown());

/** Every public route. A test checks this list against the routes the app really serves. */
export const ROUTES: readonly RouteDoc[] = [
  { method: 'get', path: '/healthz', summary: 'Liveness', tag: 'meta', roles: 'none' },
  { method: 'get', path: '/api/v1/openapi.json', summary: 'This document', tag: 'meta', roles: 'none' },
  { method: 'get', path: '/api/v1/docs', summary: 'API reference page', tag: 'meta', roles: 'none' },
  {
    method: 'post',
    path: '/api/v1/tokens',
    summary: 'Issue a token (secret shown once)',
    tag: 'tokens',
    roles: 'admin',
    body: CreateTokenRequest,
    response: CreateTokenResponse,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/v1/tokens',
    summary: 'List tokens',
    tag: 'tokens',
    roles: 'admin',
    response: z.object({ tokens: z.array(TokenInfo) }),
  },
  {
    method: 'delete',
    path: '/api/v1/tokens/{id}',
    summary: 'Revoke a token',
    tag: 'tokens',
    roles: 'admin',
    status: 204,
  },
  {
    method: 'put',
    path: '/api/v1/clusters/{cluster}/tests/{namespace}/{name}',
    summary: 'Create or update a test',
    tag: 'syncer',
    roles: 'admin, cluster',
    body: SyntheticTest,
    response: UpsertTestResponse,
  },
  {
    method: 'delete',
    path: '/api/v1/clusters/{cluster}/tests/{namespace}/{name}',
    summary: 'Delete a test',
    tag: 'syncer',
    roles: 'admin, cluster',
    status: 204,
  },
  {
    method: 'put',
    path: '/api/v1/clusters/{cluster}/tests',
    summary: "Full snapshot of a cluster's tests (removes missing ones)",
    tag: 'syncer',
    roles: 'admin, cluster',
    body: SnapshotRequest,
    response: SnapshotResponse,
  },
  {
    method: 'get',
    path: '/api/v1/clusters/{cluster}/rollups',
    summary: "Every test's roll-up and nodes, for status write-back",
    tag: 'syncer',
    roles: 'any that sees the cluster',
    response: RollupList,
  },
  {
    method: 'get',
    path: '/api/v1/whoami',
    summary: 'The role and cluster of the calling token',
    tag: 'tokens',
    roles: 'any',
    response: WhoAmI,
  },
  {
    method: 'post',
    path: '/api/v1/agents',
    summary: 'Register an agent',
    tag: 'agent',
    roles: 'admin, cluster',
    body: RegisterAgentRequest,
    response: RegisterAgentResponse,
    status: 201,
  },
  {
    method: 'get',
    path: '/api/v1/agents/{agentId}/assignments',
    summary: 'Long-poll assignments (304 when unchanged after `wait` seconds)',
    tag: 'agent',
    roles: 'any that sees the cluster',
    query: PollQuery,
    response: Assignment,
  },
  {
    method: 'get',
    path: '/api/v1/agents/{agentId}',
    summary: 'One agent',
    tag: 'agent',
    roles: 'any that sees the cluster',
    response: AgentView,
  },
  {
    method: 'post',
    path: '/api/v1/runs',
    summary: 'Send a batch of results (idempotent by runId)',
    tag: 'agent',
    roles: 'admin, cluster',
    body: RunBatch,
    response: RunBatchResponse,
  },
  {
    method: 'post',
    path: '/api/v1/agents/{agentId}/remedies',
    summary: "Claim a run of a test's remedy (granted within runsLimit and resetInterval, else 409)",
    tag: 'agent',
    roles: 'admin, cluster',
    body: RemedyClaim,
    response: RemedyGrant,
    status: 201,
  },
  {
    method: 'put',
    path: '/api/v1/agents/{agentId}/remedies/{remedyId}',
    summary: 'Report how a granted remedy run ended',
    tag: 'agent',
    roles: 'admin, cluster',
    body: RemedyOutcome,
    response: RemedyRunView,
  },
  {
    method: 'get',
    path: '/api/v1/fleet',
    summary: 'Fleet overview, failing first',
    tag: 'dashboard',
    roles: 'any',
    query: ClusterQuery,
    response: FleetView,
  },
  {
    method: 'get',
    path: '/api/v1/clusters',
    summary: 'Clusters',
    tag: 'dashboard',
    roles: 'any',
    response: z.object({ clusters: z.array(ClusterView) }),
  },
  {
    method: 'get',
    path: '/api/v1/clusters/{cluster}',
    summary: 'One cluster',
    tag: 'dashboard',
    roles: 'any',
    response: ClusterView,
  },
  {
    method: 'get',
    path: '/api/v1/clusters/{cluster}/agents',
    summary: "A cluster's agents",
    tag: 'dashboard',
    roles: 'any',
    response: z.object({ agents: z.array(AgentView) }),
  },
  {
    method: 'get',
    path: '/api/v1/tests',
    summary: 'Tests, filtered',
    tag: 'dashboard',
    roles: 'any',
    query: TestListQuery,
    response: z.object({ tests: z.array(TestSummary), nextCursor: z.string().nullable() }),
  },
  {
    method: 'get',
    path: '/api/v1/tests/{cluster}/{namespace}/{name}',
    summary: 'A test with its per-agent state',
    tag: 'dashboard',
    roles: 'any',
    response: TestDetail,
  },
  {
    method: 'get',
    path: '/api/v1/tests/{cluster}/{namespace}/{name}/runs',
    summary: 'Run history, newest first',
    tag: 'dashboard',
    roles: 'any',
    query: RunListQuery,
    response: RunPage,
  },
  {
    method: 'get',
    path: '/api/v1/tests/{cluster}/{namespace}/{name}/remedies',
    summary: "A test's remedy runs, newest first",
    tag: 'dashboard',
    roles: 'any',
    query: RemedyListQuery,
    response: RemedyRunList,
  },
  {
    method: 'get',
    path: '/api/v1/stats',
    summary: 'Long-polls held by this instance',
    tag: 'meta',
    roles: 'admin',
    response: z.object({ heldPolls: z.number().int() }),
  },
  {
    method: 'get',
    path: '/api/v1/ping',
    summary: 'synthetic-heart: overall health',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: Json,
  },
  {
    method: 'get',
    path: '/api/v1/agents',
    summary: 'synthetic-heart: agents by agentId',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: Json,
  },
  {
    method: 'get',
    path: '/api/v1/testconfigs/summary',
    summary: 'synthetic-heart: test configs',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: Json,
  },
  {
    method: 'get',
    path: '/api/v1/testconfig/{name}/{namespace}',
    summary: 'synthetic-heart: one test config',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: Json,
  },
  {
    method: 'get',
    path: '/api/v1/testruns/status',
    summary: 'synthetic-heart: pass ratio per plugin instance',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: z.record(z.string(), z.string()),
  },
  {
    method: 'get',
    path: '/api/v1/testrun/{id}/latest',
    summary: 'synthetic-heart: latest run of a plugin instance (id URL-encoded)',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: Json,
  },
  {
    method: 'get',
    path: '/api/v1/testrun/{id}/lastFailed',
    summary: 'synthetic-heart: last failed run',
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
    response: Json,
  },
  {
    method: 'get',
    path: '/api/v1/testrun/{id}/latest/logs',
    summary: "synthetic-heart: latest run's _log as text",
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
  },
  {
    method: 'get',
    path: '/api/v1/testrun/{id}/lastFailed/logs',
    summary: "synthetic-heart: last failed run's _log as text",
    tag: 'synthetic-heart',
    roles: 'any',
    query: ClusterQuery,
  },
];

function schemaOf(schema: z.ZodType, io: 'input' | 'output') {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
}

let cached: unknown;

/** The OpenAPI 3.1 document, generated from the zod schemas the routes validate with. */
export function openApiDocument(): unknown {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = r.query
      ? Object.entries(r.query.shape).map(([name, s]) => ({
          name,
          in: 'query',
          required: !(s as z.ZodType).safeParse(undefined).success,
          schema: schemaOf(s as z.ZodType, 'input'),
        }))
      : [];
    const status = String(r.status ?? 200);
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      description: `Roles: ${r.roles}.`,
      parameters: [...params, ...query],
      responses: {
        [status]: r.response
          ? { description: 'OK', content: { 'application/json': { schema: schemaOf(r.response, 'output') } } }
          : { description: 'OK' },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: schemaOf(ErrorEnvelope, 'output') } },
        },
      },
    };
    if (r.roles !== 'none') op.security = [{ bearer: [] }];
    if (r.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } };
    }
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method] = op;
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'synthfleet control plane',
      version: '1',
      description:
        'Synthetic testing for fleets of Kubernetes clusters. Errors: { error: { code, message, requestId, details? } }.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
  return cached;
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A self-contained reference page (no external scripts: edge operators run air-gapped). */
/** The reference page runs no script and loads nothing: its one inline style sheet is all it needs. */
export const API_REFERENCE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

export function apiReferenceHtml(): string {
  const rows = ROUTES.map((r) => {
    const doc = (openApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths[r.path]?.[r.method];
    return `<section><h3><code>${r.method.toUpperCase()} ${escapeHtml(r.path)}</code></h3><p>${escapeHtml(r.summary)} — roles: ${escapeHtml(r.roles)}</p><details><summary>schema</summary><pre>${escapeHtml(JSON.stringify(doc, null, 2))}</pre></details></section>`;
  }).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>synthfleet API reference</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}h3{margin-bottom:0}</style></head><body><h1>synthfleet API reference</h1><p>Machine-readable: <a href="/api/v1/openapi.json">openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>${rows}</body></html>`;
}
