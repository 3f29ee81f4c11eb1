import { CreateTokenRequest } from '@synthfleet/contracts';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app-env.ts';
import { parseParams, readJson } from '../lib/validate.ts';
import { assertAdmin } from '../services/access.ts';
import type { ServiceContext } from '../services/context.ts';
import { createToken, listTokens, revokeToken } from '../services/tokens.ts';

export function tokenRoutes(ctx: ServiceContext) {
  return new Hono<AppEnv>()
    .post('/tokens', async (c) => {
      assertAdmin(c.var.principal);
      const body = await readJson(c, CreateTokenRequest);
      return c.json(await createToken(ctx, body), 201);
    })
    .get('/tokens', async (c) => {
      assertAdmin(c.var.principal);
      return c.json({ tokens: await listTokens(ctx) });
    })
    .get('/whoami', (c) => {
      const { tokenId, role, cluster } = c.var.principal;
      return c.json({ tokenId, role, cluster });
    })
    .delete('/tokens/:id', async (c) => {
      assertAdmin(c.var.principal);
      const { id } = parseParams(c, z.object({ id: z.string().min(1).max(64) }));
      await revokeToken(ctx, id);
      return c.body(null, 204);
    });
}
