import type { CreateTokenRequest, CreateTokenResponse, TokenInfo } from '@synthfleet/contracts';
import { type TokenRow, tokens } from '@synthfleet/db';
import { and, eq, isNull } from 'drizzle-orm';
import { notFound, unauthorized } from '../errors.ts';
import { sha256Hex } from '../lib/hash.ts';
import { randomToken } from '../lib/random-token.ts';
import { ensureCluster } from './clusters.ts';
import type { Principal, ServiceContext } from './context.ts';

const PREFIX = { admin: 'sfa', viewer: 'sfv', cluster: 'sfc', metrics: 'sfm' } as const;

export const hashToken = sha256Hex;

function toInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    role: row.role,
    cluster: row.cluster,
    name: row.name,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

export async function createToken(ctx: ServiceContext, req: CreateTokenRequest): Promise<CreateTokenResponse> {
  const secret = `${PREFIX[req.role]}_${randomToken(32)}`;
  return insertToken(ctx, req, secret);
}

async function insertToken(ctx: ServiceContext, req: CreateTokenRequest, secret: string): Promise<CreateTokenResponse> {
  if (req.cluster) await ensureCluster(ctx, req.cluster);
  const row: TokenRow = {
    id: crypto.randomUUID(),
    hash: await hashToken(secret),
    role: req.role,
    cluster: req.cluster ?? null,
    name: req.name ?? null,
    createdAt: ctx.clock.now(),
    revokedAt: null,
  };
  await ctx.db.insert(tokens).values(row);
  return { ...toInfo(row), token: secret };
}

export async function listTokens(ctx: ServiceContext): Promise<TokenInfo[]> {
  const rows = await ctx.db.select().from(tokens).where(isNull(tokens.revokedAt)).orderBy(tokens.createdAt);
  return rows.map(toInfo);
}

export async function revokeToken(ctx: ServiceContext, id: string): Promise<void> {
  const done = await ctx.db
    .update(tokens)
    .set({ revokedAt: ctx.clock.now() })
    .where(and(eq(tokens.id, id), isNull(tokens.revokedAt)))
    .returning({ id: tokens.id });
  if (done.length === 0) throw notFound(`token "${id}" was not found`);
}

/** Resolves a bearer secret to its principal, or throws 401. */
export async function authenticate(ctx: ServiceContext, secret: string): Promise<Principal> {
  const hash = await hashToken(secret);
  const row = await ctx.db.query.tokens.findFirst({ where: and(eq(tokens.hash, hash), isNull(tokens.revokedAt)) });
  if (!row) throw unauthorized('the bearer token is not valid');
  return { tokenId: row.id, role: row.role, cluster: row.cluster };
}

/**
 * First start: with no token at all, create an admin token and return its secret (shown once);
 * with SYNTHFLEET_ADMIN_TOKEN set, make sure that secret is an admin token.
 */
export async function bootstrapAdmin(
  ctx: ServiceContext,
  configured: string | undefined,
): Promise<{ created: boolean; secret?: string }> {
  if (configured) {
    const hash = await hashToken(configured);
    const existing = await ctx.db.query.tokens.findFirst({ where: eq(tokens.hash, hash) });
    if (existing && existing.role === 'admin' && existing.revokedAt === null) return { created: false };
    if (existing) {
      await ctx.db
        .update(tokens)
        .set({ role: 'admin', cluster: null, revokedAt: null })
        .where(eq(tokens.id, existing.id));
      return { created: false };
    }
    try {
      await insertToken(ctx, { role: 'admin', name: 'SYNTHFLEET_ADMIN_TOKEN' }, configured);
    } catch (err) {
      // Another instance starting at the same moment may have stored it first (unique hash).
      const raced = await ctx.db.query.tokens.findFirst({ where: eq(tokens.hash, hash) });
      if (raced?.role === 'admin' && raced.revokedAt === null) return { created: false };
      throw err;
    }
    return { created: true };
  }
  const any = await ctx.db.select({ id: tokens.id }).from(tokens).limit(1);
  if (any.length > 0) return { created: false };
  const created = await createToken(ctx, { role: 'admin', name: 'bootstrap' });
  return { created: true, secret: created.token };
}
