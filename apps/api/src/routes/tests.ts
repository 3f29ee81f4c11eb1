import { RunPage, TestDetail, TestPage } from '@synthfleet/contracts';
import { defineRoute, type Role } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { getTest, listRuns, listTests } from '../services/test-views.ts';
import { RunListQuery, TestListQuery, TestParams } from './params.ts';

const READERS: readonly Role[] = ['admin', 'viewer', 'cluster'];

/** Tests and their run history, as the dashboard reads them. */
export function testRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'get',
      path: '/tests',
      operationId: 'listTests',
      summary: 'Tests, filtered',
      tag: 'dashboard',
      roles: READERS,
      query: TestListQuery,
      responses: {
        200: {
          description: 'A page of tests',
          schema: TestPage,
        },
      },
      handler: async (c, { query }) => c.json(await listTests(ctx, c.var.principal, query)),
    }),
    defineRoute({
      method: 'get',
      path: '/tests/{cluster}/{namespace}/{name}',
      operationId: 'getTest',
      summary: 'A test with its per-agent state',
      tag: 'dashboard',
      roles: READERS,
      params: TestParams,
      responses: { 200: { description: 'The test', schema: TestDetail } },
      errors: [404],
      handler: async (c, { params: p }) => c.json(await getTest(ctx, c.var.principal, p)),
    }),
    defineRoute({
      method: 'get',
      path: '/tests/{cluster}/{namespace}/{name}/runs',
      operationId: 'listRuns',
      summary: 'Run history, newest first',
      tag: 'dashboard',
      roles: READERS,
      params: TestParams,
      query: RunListQuery,
      responses: { 200: { description: 'A page of runs', schema: RunPage } },
      errors: [404],
      handler: async (c, { params: p, query: q }) =>
        c.json(
          await listRuns(ctx, c.var.principal, p, {
            limit: q.limit,
            cursor: q.cursor,
            agentId: q.agent,
          }),
        ),
    }),
  ];
}
