import {
  RejectedList,
  RollupList,
  SnapshotRequest,
  SnapshotResponse,
  SyntheticTestObject,
  UpsertTestResponse,
} from '@synthfleet/contracts';
import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { listRejected } from '../services/dashboard/shared.ts';
import { listRollups } from '../services/test-views.ts';
import { applySnapshot, deleteTest, upsertTest } from '../services/tests.ts';
import { ClusterParams, SourceQuery, TestParams } from './params.ts';

/**
 * The test object is documented as a SyntheticTest but read as any JSON: the service validates it
 * (and keeps the last valid revision of an invalid edit), naming every field that is wrong.
 */
const { $schema: _, ...testObjectSchema } = z.toJSONSchema(SyntheticTestObject, {
  io: 'input',
  unrepresentable: 'any',
});
const AnyTestObject = z.unknown().meta(testObjectSchema);

/** The syncer's side: mirror SyntheticTest objects into the control plane. */
export function clusterTestRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'put',
      path: '/clusters/{cluster}/tests/{namespace}/{name}',
      operationId: 'upsertTest',
      summary:
        'Create (201) or update (200) a test; an invalid edit is refused (400) and marked, the last valid revision keeps running',
      tag: 'syncer',
      roles: ['admin', 'cluster'],
      params: TestParams,
      query: SourceQuery,
      body: AnyTestObject,
      responses: {
        200: { description: 'Updated (the revision moves only when the spec changed)', schema: UpsertTestResponse },
        201: { description: 'Created', schema: UpsertTestResponse },
      },
      // 409: the name is a fleet test's share in this cluster.
      errors: [403, 404, 409],
      handler: async (c, { params: p, query, body }) => {
        const result = await upsertTest(ctx, c.var.principal, p, body, query.source);
        return c.json(result, result.created ? 201 : 200);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/clusters/{cluster}/tests/{namespace}/{name}',
      operationId: 'deleteTest',
      summary: 'Delete a test',
      tag: 'syncer',
      roles: ['admin', 'cluster'],
      params: TestParams,
      responses: { 204: { description: 'Deleted (or was not there)' } },
      errors: [403, 404],
      handler: async (c, { params: p }) => {
        await deleteTest(ctx, c.var.principal, p);
        return c.body(null, 204);
      },
    }),
    defineRoute({
      method: 'put',
      path: '/clusters/{cluster}/tests',
      operationId: 'putSnapshot',
      summary: "Full snapshot of a cluster's tests (removes missing ones this source owns)",
      tag: 'syncer',
      roles: ['admin', 'cluster'],
      params: ClusterParams,
      body: SnapshotRequest,
      responses: { 200: { description: 'What changed', schema: SnapshotResponse } },
      errors: [403, 404],
      handler: async (c, { params, body }) =>
        c.json(await applySnapshot(ctx, c.var.principal, params.cluster, body.items, body.source, body.rejected)),
    }),
    defineRoute({
      method: 'get',
      path: '/clusters/{cluster}/rollups',
      operationId: 'listRollups',
      summary: "Every test's roll-up and nodes, for status write-back",
      tag: 'syncer',
      roles: ['admin', 'viewer', 'cluster'],
      params: ClusterParams,
      responses: { 200: { description: 'Roll-ups', schema: RollupList } },
      errors: [404],
      handler: async (c, { params }) => c.json(await listRollups(ctx, c.var.principal, params.cluster)),
    }),
    defineRoute({
      method: 'get',
      path: '/clusters/{cluster}/rejected',
      operationId: 'listRejected',
      summary: 'Objects the API refused: never-valid ones, and invalid edits whose last valid revision keeps running',
      tag: 'syncer',
      roles: ['admin', 'viewer', 'cluster'],
      params: ClusterParams,
      responses: { 200: { description: 'Refused objects, newest first', schema: RejectedList } },
      errors: [404],
      handler: async (c, { params }) => {
        const list = await listRejected(ctx, c.var.principal, params.cluster);
        return c.json({ objects: list.map((r) => ({ ...r, since: new Date(r.since).toISOString() })) });
      },
    }),
  ];
}
