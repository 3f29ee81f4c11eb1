import { DnsLabel, DnsSubdomain } from '@synthfleet/contracts';
import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { defineRoute, type Role, type Route } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import {
  shAgents,
  shPing,
  shPluginHealth,
  shPluginStatuses,
  shTestConfig,
  shTestConfigSummary,
  shTestRun,
  shTestRunStatus,
} from '../services/synthetic-heart.ts';
import {
  ShAgents,
  ShConfigSummaries,
  ShPing,
  ShPluginState,
  ShStatusMap,
  ShTestConfigResponse,
  ShTestRun,
} from '../services/synthetic-heart-shapes.ts';
import { ClusterQuery } from './params.ts';

const READERS: readonly Role[] = ['admin', 'viewer', 'cluster'];
const TestConfigParams = z.object({ name: DnsSubdomain, namespace: DnsLabel });
const RunIdParams = z.object({ id: z.string().min(1).max(1000) });

const fourParts = (c: Context<AppEnv>) =>
  [c.req.param('a'), c.req.param('b'), c.req.param('c'), c.req.param('d')].join('/');

/** synthetic-heart's REST API, same paths and shapes, `?cluster=` to scope. */
export function syntheticHeartRoutes(ctx: ServiceContext): Route[] {
  const simple = (
    path: string,
    operationId: string,
    summary: string,
    schema: z.ZodType,
    read: (principal: Parameters<typeof shPing>[1], cluster: string | undefined) => Promise<unknown>,
  ) =>
    defineRoute({
      method: 'get',
      path,
      operationId,
      summary: `synthetic-heart: ${summary}`,
      tag: 'synthetic-heart',
      roles: READERS,
      query: ClusterQuery,
      responses: { 200: { description: "synthetic-heart's shape", schema } },
      errors: [404],
      plainTextErrors: true,
      handler: async (c, { query }) => c.json((await read(c.var.principal, query.cluster)) as never),
    });
  const routes: Route[] = [
    simple('/ping', 'shPing', 'overall health', ShPing, (p, cl) => shPing(ctx, p, cl)),
    simple('/agents', 'shAgents', 'agents by agentId', ShAgents, (p, cl) => shAgents(ctx, p, cl)),
    simple('/testconfigs/summary', 'shTestConfigSummary', 'test configs', ShConfigSummaries, (p, cl) =>
      shTestConfigSummary(ctx, p, cl),
    ),
    simple('/testruns/status', 'shTestRunStatus', 'pass ratio per plugin instance', ShStatusMap, (p, cl) =>
      shTestRunStatus(ctx, p, cl),
    ),
    simple('/plugins/status', 'shPluginStatuses', 'routine status per plugin instance', ShStatusMap, (p, cl) =>
      shPluginStatuses(ctx, p, cl),
    ),
    defineRoute({
      method: 'get',
      path: '/testconfig/{name}/{namespace}',
      operationId: 'shTestConfig',
      summary: 'synthetic-heart: one test config',
      tag: 'synthetic-heart',
      roles: READERS,
      params: TestConfigParams,
      query: ClusterQuery,
      responses: { 200: { description: "synthetic-heart's shape", schema: ShTestConfigResponse } },
      errors: [404],
      plainTextErrors: true,
      handler: async (c, { params: p, query }) =>
        c.json((await shTestConfig(ctx, c.var.principal, p.name, p.namespace, query.cluster)) as never),
    }),
  ];
  // The plugin id holds slashes: accept it URL-encoded as one segment or as four plain segments.
  for (const which of ['latest', 'lastFailed'] as const) {
    for (const logs of [false, true]) {
      const suffix = `${which}${logs ? '/logs' : ''}`;
      routes.push(
        defineRoute({
          method: 'get',
          path: `/testrun/{id}/${suffix}`,
          operationId: `shTestRun${which === 'latest' ? 'Latest' : 'LastFailed'}${logs ? 'Logs' : ''}`,
          summary: `synthetic-heart: ${which === 'latest' ? 'latest' : 'last failed'} run of a plugin instance${logs ? ', its _log as text' : ''} (id URL-encoded, or as its four segments)`,
          tag: 'synthetic-heart',
          roles: READERS,
          params: RunIdParams,
          query: ClusterQuery,
          responses: logs
            ? { 200: { description: "The run's `_log`", contentType: 'text/plain' } }
            : { 200: { description: "synthetic-heart's shape", schema: ShTestRun } },
          errors: [404],
          plainTextErrors: true,
          aliases: [`/testrun/:a/:b/:c/:d/${suffix}`],
          handler: async (c, { query }) => {
            const id = c.req.param('id') ?? fourParts(c);
            const result = await shTestRun(ctx, c.var.principal, id, which, query.cluster);
            return logs ? c.text(result.details._log ?? '') : c.json(result as never);
          },
        }),
      );
    }
  }
  for (const which of ['health', 'lastUnhealthy'] as const) {
    routes.push(
      defineRoute({
        method: 'get',
        path: `/plugin/{id}/${which}`,
        operationId: which === 'health' ? 'shPluginHealth' : 'shPluginLastUnhealthy',
        summary: `synthetic-heart: ${which === 'health' ? 'the routine state' : 'the last time it was not running'} of a plugin instance (id URL-encoded, or as its four segments)`,
        tag: 'synthetic-heart',
        roles: READERS,
        params: RunIdParams,
        query: ClusterQuery,
        responses: { 200: { description: "synthetic-heart's PluginState", schema: ShPluginState } },
        errors: [404],
        plainTextErrors: true,
        aliases: [`/plugin/:a/:b/:c/:d/${which}`],
        handler: async (c, { query }) => {
          const id = c.req.param('id') ?? fourParts(c);
          return c.json(await shPluginHealth(ctx, c.var.principal, id, which, query.cluster));
        },
      }),
    );
  }
  return routes;
}
