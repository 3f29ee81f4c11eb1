import { SnapshotRequest } from '@synthfleet/contracts';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { parseParams, readJson } from '../lib/validate.ts';
import type { ServiceContext } from '../services/context.ts';
import { listRollups } from '../services/test-views.ts';
import { applySnapshot, deleteTest, upsertTest } from '../services/tests.ts';
import { ClusterParams, TestParams } from './params.ts';

/** The syncer's side: mirror SyntheticTest objects into the control plane. */
export function clusterTestRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>()
    .put('/clusters/:cluster/tests/:namespace/:name', async (c) => {
      const p = parseParams(c, TestParams);
      const body = await readJson(c, z.unknown());
      const result = await upsertTest(ctx, c.var.principal, p.cluster, p.namespace, p.name, body);
      return c.json(result, result.created ? 201 : 200);
    })
    .delete('/clusters/:cluster/tests/:namespace/:name', async (c) => {
      const p = parseParams(c, TestParams);
      await deleteTest(ctx, c.var.principal, p.cluster, p.namespace, p.name);
      return c.body(null, 204);
    })
    .put('/clusters/:cluster/tests', async (c) => {
      const { cluster } = parseParams(c, ClusterParams);
      const body = await readJson(c, SnapshotRequest);
      return c.json(await applySnapshot(ctx, c.var.principal, cluster, body.items));
    })
    .get('/clusters/:cluster/rollups', async (c) => {
      const { cluster } = parseParams(c, ClusterParams);
      return c.json(await listRollups(ctx, c.var.principal, cluster));
    });
}
