import { CreateTokenRequest, CreateTokenResponse, TokenList, WhoAmI } from '@synthfleet/contracts';
import { z } from 'zod';
import { defineRoute } from '../lib/route.ts';
import type { ServiceContext } from '../services/context.ts';
import { createToken, listTokens, revokeToken } from '../services/tokens.ts';

const TokenParams = z.object({ id: z.string().min(1).max(64) });

export function tokenRoutes(ctx: ServiceContext) {
  return [
    defineRoute({
      method: 'post',
      path: '/tokens',
      operationId: 'createToken',
      summary: 'Issue a token (secret shown once)',
      tag: 'tokens',
      roles: ['admin'],
      body: CreateTokenRequest,
      responses: { 201: { description: 'The token, with its secret', schema: CreateTokenResponse } },
      handler: async (c, { body }) => c.json(await createToken(ctx, body), 201),
    }),
    defineRoute({
      method: 'get',
      path: '/tokens',
      operationId: 'listTokens',
      summary: 'List tokens',
      tag: 'tokens',
      roles: ['admin'],
      responses: {
        200: { description: 'Live tokens (never their secrets)', schema: TokenList },
      },
      handler: async (c) => c.json({ tokens: await listTokens(ctx) }),
    }),
    defineRoute({
      method: 'get',
      path: '/whoami',
      operationId: 'whoAmI',
      summary: 'The role and cluster of the calling token',
      tag: 'tokens',
      roles: ['admin', 'viewer', 'cluster'],
      responses: { 200: { description: 'The caller', schema: WhoAmI } },
      handler: (c) => {
        const { tokenId, role, cluster } = c.var.principal;
        return c.json({ tokenId, role, cluster });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/tokens/{id}',
      operationId: 'revokeToken',
      summary: 'Revoke a token',
      tag: 'tokens',
      roles: ['admin'],
      params: TokenParams,
      responses: { 204: { description: 'Revoked' } },
      errors: [404],
      handler: async (c, { params }) => {
        await revokeToken(ctx, params.id);
        return c.body(null, 204);
      },
    }),
  ];
}
