import { CreateTokenResponse, ErrorEnvelope, TokenList } from '@synthfleet/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapAdmin } from '../services/tokens.ts';
import { createTestApi, type TestApi } from '../testing/harness.ts';

let api: TestApi;
beforeEach(async () => {
  api = await createTestApi();
});
afterEach(() => api.close());

describe('tokens and auth', () => {
  it('rejects a missing, malformed or unknown token with 401 in the error envelope', async () => {
    for (const token of [null, 'short', 'sfa_this-token-does-not-exist']) {
      const r = await api.request('GET', '/api/v1/fleet', { token });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: { code: 'UNAUTHORIZED', requestId: expect.any(String) } });
    }
    const bad = await api.request('GET', '/api/v1/fleet', { token: null, headers: { authorization: 'Basic abc' } });
    expect(bad.status).toBe(401);
    expect(ErrorEnvelope.parse(bad.body).error.message).toMatch(/Bearer/);
  });

  it('issues a token whose secret is shown once and stored only as a hash', async () => {
    const r = await api.request('POST', '/api/v1/tokens', {
      body: { role: 'cluster', cluster: 'edge-1', name: 'edge' },
    });
    expect(r.status).toBe(201);
    const created = CreateTokenResponse.parse(r.body);
    expect(created).toMatchObject({ role: 'cluster', cluster: 'edge-1' });
    expect(created.token).toMatch(/^sfc_/);
    const list = await api.request('GET', '/api/v1/tokens');
    expect(list.text).not.toContain(created.token);
    expect(TokenList.parse(list.body).tokens.map((t) => t.id)).toContain(created.id);
    const rows = await api.ctx.db.query.tokens.findMany();
    expect(JSON.stringify(rows)).not.toContain(created.token);
    // The new token works for its cluster.
    const agents = await api.request('GET', '/api/v1/clusters/edge-1/agents', { token: created.token });
    expect(agents.status).toBe(200);
  });

  it('validates token requests and names the field', async () => {
    const r1 = await api.request('POST', '/api/v1/tokens', { body: { role: 'cluster' } });
    expect(r1.status).toBe(400);
    expect(r1.body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/cluster/) } });
    const r2 = await api.request('POST', '/api/v1/tokens', { body: { role: 'root' } });
    expect(r2.status).toBe(400);
    expect(ErrorEnvelope.parse(r2.body).error.message).toMatch(/role/);
    const r3 = await api.request('POST', '/api/v1/tokens', { body: { role: 'viewer', cluster: 'a' } });
    expect(r3.status).toBe(400);
  });

  it('lets only admins manage tokens; a revoked token stops working', async () => {
    const viewer = await api.token('viewer');
    const cluster = await api.token('cluster', 'edge-1');
    expect((await api.request('GET', '/api/v1/fleet', { token: viewer })).status).toBe(200);
    expect((await api.request('POST', '/api/v1/tokens', { token: viewer, body: { role: 'admin' } })).status).toBe(403);
    expect((await api.request('GET', '/api/v1/tokens', { token: cluster })).status).toBe(404);
    const list = TokenList.parse((await api.request('GET', '/api/v1/tokens')).body);
    const viewerId = list.tokens.find((t) => t.role === 'viewer')?.id;
    expect((await api.request('DELETE', `/api/v1/tokens/${viewerId}`)).status).toBe(204);
    expect((await api.request('DELETE', `/api/v1/tokens/${viewerId}`)).status).toBe(404);
    // Auth lookups are cached for a few seconds; past that the revoked token is refused.
    api.clock.advance(6_000);
    const again = await api.request('GET', '/api/v1/fleet', { token: viewer });
    expect(again.status).toBe(401);
  });

  it('bootstraps an admin token once on an empty database, and accepts a configured one', async () => {
    const other = await createTestApi();
    try {
      // The harness already created a token, so nothing new is made.
      expect(await bootstrapAdmin(other.ctx, undefined)).toEqual({ created: false });
      const configured = 'configured-admin-token-0123456789';
      expect(await bootstrapAdmin(other.ctx, configured)).toEqual({ created: true });
      expect(await bootstrapAdmin(other.ctx, configured)).toEqual({ created: false });
      expect((await other.request('GET', '/api/v1/tokens', { token: configured })).status).toBe(200);
    } finally {
      other.close();
    }
  });
});
