import { TestDetail } from '@synthfleet/contracts';
import { describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { contractProblem } from './testing/contract.ts';
import { createTestApi, runResult, syntheticTest } from './testing/harness.ts';

/** What this test reads of the OpenAPI document. */
const OpenApiShape = z.object({
  openapi: z.string(),
  servers: z.array(z.unknown()),
  paths: z.record(
    z.string(),
    z.record(
      z.string(),
      z.object({
        requestBody: z.unknown().optional(),
        operationId: z.string().optional(),
        security: z.array(z.unknown()).optional(),
      }),
    ),
  ),
});

describe('the app as a whole', () => {
  it('runs on the database its test project names: an embedded file, or a libSQL server over HTTP', async () => {
    const api = await createTestApi();
    try {
      // Over HTTP in the libsql-http project and inside workerd (where the manager hands out copies).
      const overHttp = process.env.SYNTHFLEET_TEST_DATABASE === 'hrana' || inject('databaseManagerUrl') !== undefined;
      expect(api.databaseUrl).toMatch(overHttp ? /^http:\/\/127\.0\.0\.1:\d+$/ : /^file:/);
      // The migrations went through it: a write and a read back.
      const t = await api.token('cluster', 'edge-1');
      expect((await api.putTest(t, 'edge-1', syntheticTest('db-check'))).status).toBe(201);
      const read = await api.request('GET', '/api/v1/tests/edge-1/default/db-check', { token: t });
      expect(TestDetail.parse(read.body).name).toBe('db-check');
    } finally {
      await api.close();
    }
  });

  it('serves an OpenAPI document generated from the declarations: exactly the API routes the app serves', async () => {
    const api = await createTestApi();
    try {
      const r = await api.request('GET', '/api/v1/openapi.json', { token: null });
      expect(r.status).toBe(200);
      const doc = OpenApiShape.parse(r.body);
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.servers).toEqual([{ url: '/', description: 'this API' }]);
      expect(doc.paths['/api/v1/runs']?.post?.requestBody).toBeDefined();
      const key = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{\w+\}|:\w+/g, ':p')}`;
      const documented = new Set(
        Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => key(m, path))),
      );
      const aliases = new Set(api.routes.flatMap((d) => (d.aliases ?? []).map((a) => key(d.method, `/api/v1${a}`))));
      const served = new Set(
        api.app.routes
          .filter((x) => x.method !== 'ALL' && (x.path.startsWith('/api/') || x.path === '/healthz'))
          .map((x) => key(x.method, x.path)),
      );
      for (const k of documented) expect(served, k).toContain(k);
      for (const k of served) if (!aliases.has(k)) expect(documented, k).toContain(k);
      // Every operation has an id, and the public ones say they need no token.
      const ops = Object.values(doc.paths).flatMap((o) => Object.values(o));
      expect(ops.every((o) => typeof o.operationId === 'string')).toBe(true);
      expect(new Set(ops.map((o) => o.operationId)).size).toBe(ops.length);
      for (const path of ['/healthz', '/api/v1/openapi.json', '/api/v1/docs'])
        expect(doc.paths[path]?.get?.security).toEqual([]);
      const docs = await api.request('GET', '/api/v1/docs', { token: null });
      expect(docs.status).toBe(200);
      expect(docs.text).toContain('/api/v1/agents/{agentId}/assignments');
      expect(docs.text).not.toMatch(/<script|<link|src="http|href="http/);
      expect((await api.request('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    } finally {
      api.close();
    }
  });

  it('checks every answer the suite receives against the document: its status is listed, its body matches', async () => {
    const api = await createTestApi();
    try {
      const doc = api.document() as never;
      const check = (method: string, path: string, status: number, body: unknown) =>
        contractProblem(api.routes, doc, method, path, status, 'application/json', body);
      const me = (await api.request('GET', '/api/v1/whoami')).body;
      expect(check('GET', '/api/v1/whoami', 200, me)).toBeUndefined();
      expect(check('GET', '/api/v1/whoami', 418, me)).toContain(
        'GET /api/v1/whoami answered 418, which the document does not list',
      );
      expect(check('GET', '/api/v1/whoami', 200, { role: 'root' })).toContain('does not match its schema');
      expect(
        check('GET', '/api/v1/tests/a/b/c?x=1', 404, { error: { code: 'NOT_FOUND', message: 'm', requestId: 'r' } }),
      ).toBeUndefined();
      expect(check('GET', '/api/v1/tests/a/b/c', 404, { message: 'not our envelope' })).toContain('does not match');
      expect(check('PUT', '/api/v1/clusters/e/tests/default/t', 304, undefined)).toContain('does not list');
      // Paths that are not API routes (the dashboard) are not the document's business.
      expect(check('GET', '/clusters/edge-1', 200, {})).toBeUndefined();
    } finally {
      await api.close();
    }
  });

  it('sends nosniff on every answer, and the reference page a CSP that runs no script and cannot be framed', async () => {
    const api = await createTestApi();
    try {
      for (const path of [
        '/healthz',
        '/api/v1/openapi.json',
        '/api/v1/docs',
        '/api/v1/nothing-here',
        '/api/v1/fleet',
      ]) {
        const res = await api.app.request(path);
        expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      }
      const docs = await api.app.request('/api/v1/docs');
      const csp = docs.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('script-src');
    } finally {
      await api.close();
    }
  });

  it('answers unknown routes, wrong media types and oversized bodies in the error envelope', async () => {
    const api = await createTestApi({ config: { maxBodyBytes: 2048, maxBatchBodyBytes: 4096 } });
    try {
      const missing = await api.request('GET', '/api/v1/nothing-here');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({
        error: { code: 'NOT_FOUND', message: 'no route for GET /api/v1/nothing-here' },
      });
      const wrongType = await api.request('POST', '/api/v1/tokens', {
        raw: 'role=admin',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(wrongType.status).toBe(415);
      const big = await api.request('POST', '/api/v1/tokens', {
        raw: JSON.stringify({ role: 'viewer', name: 'x'.repeat(5000) }),
      });
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
      const bigBatch = await api.request('POST', '/api/v1/runs', {
        raw: JSON.stringify({ agentId: 'a', runs: 'y'.repeat(5000) }),
      });
      expect(bigBatch.status).toBe(413);
      const rid = await api.request('GET', '/api/v1/nothing', { headers: { 'x-request-id': 'trace-123' } });
      expect(rid.headers.get('x-request-id')).toBe('trace-123');
      expect(rid.body).toMatchObject({ error: { requestId: 'trace-123' } });
    } finally {
      api.close();
    }
  });

  it("gives a cluster token a 404 on every route that names another cluster's objects, and leaks nothing in lists", async () => {
    const api = await createTestApi();
    try {
      const own = await api.token('cluster', 'edge-1');
      const wrong = await api.token('cluster', 'edge-2');
      const agentId = await api.register(own, 'secret-node');
      await api.putTest(own, 'edge-1', syntheticTest('secret-test'));
      await api.request('POST', '/api/v1/runs', {
        token: own,
        body: { agentId, runs: [runResult('secret-test', 'fail', api.clock.now())] },
      });
      const targeted: [string, string, unknown?][] = [
        ['PUT', '/api/v1/clusters/edge-1/tests/default/secret-test', syntheticTest('secret-test')],
        ['DELETE', '/api/v1/clusters/edge-1/tests/default/secret-test'],
        ['PUT', '/api/v1/clusters/edge-1/tests', { items: [] }],
        ['POST', '/api/v1/agents', { cluster: 'edge-1', node: 'n', version: '1' }],
        ['GET', `/api/v1/agents/${agentId}/assignments`],
        ['GET', `/api/v1/agents/${agentId}`],
        ['POST', '/api/v1/runs', { agentId, runs: [runResult('secret-test', 'pass', api.clock.now())] }],
        ['GET', '/api/v1/clusters/edge-1'],
        ['GET', '/api/v1/clusters/edge-1/agents'],
        ['GET', '/api/v1/tests/edge-1/default/secret-test'],
        ['GET', '/api/v1/tests/edge-1/default/secret-test/runs'],
        ['GET', '/api/v1/agents?cluster=edge-1'],
        ['GET', '/api/v1/testconfigs/summary?cluster=edge-1'],
        ['GET', '/api/v1/testconfig/secret-test/default?cluster=edge-1'],
        ['GET', '/api/v1/testruns/status?cluster=edge-1'],
        [
          'GET',
          `/api/v1/testrun/${encodeURIComponent('secret-test/default/secret-node/default')}/latest?cluster=edge-1`,
        ],
        ['GET', '/api/v1/tokens'],
      ];
      for (const [method, path, body] of targeted) {
        const r = await api.request(method, path, { token: wrong, body });
        expect(r.status, `${method} ${path}`).toBe(404);
        // synthetic-heart's routes answer errors as it does: text/plain.
        if (/\/api\/v1\/(testconfig|testrun|testruns|agents\?)/.test(path)) {
          expect(r.headers.get('content-type'), `${method} ${path}`).toMatch(/^text\/plain/);
          expect(r.text, `${method} ${path}`).toMatch(/not found/);
        } else {
          expect(r.body, `${method} ${path}`).toMatchObject({ error: { code: 'NOT_FOUND' } });
        }
        // Nothing beyond what the caller named: the answer is the same as for an object that does not exist.
        if (!path.includes('secret-node')) expect(r.text, `${method} ${path}`).not.toContain('secret-node');
        expect(r.text, `${method} ${path}`).not.toMatch(/went fail|httpPing/);
      }
      for (const path of [
        '/api/v1/fleet',
        '/api/v1/clusters',
        '/api/v1/tests',
        '/api/v1/tests?cluster=edge-1',
        '/api/v1/ping',
        '/api/v1/testruns/status',
        '/api/v1/agents',
        '/api/v1/testconfigs/summary',
      ]) {
        const r = await api.request('GET', path, { token: wrong });
        expect(r.status, path).toBe(200);
        expect(r.text, path).not.toContain('secret');
        expect(r.text, path).not.toContain('edge-1');
      }
      // And nothing of edge-1 changed.
      const still = await api.request('GET', '/api/v1/tests/edge-1/default/secret-test', { token: own });
      expect(still.body).toMatchObject({ revision: 1, state: 'failing' });
    } finally {
      api.close();
    }
  });
});
