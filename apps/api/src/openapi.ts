import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import type { AppEnv } from './app-env.ts';
import { defineRoute, type Route } from './lib/route.ts';

export const DOCUMENT_INFO = {
  title: 'synthfleet control plane',
  version: '1',
  description:
    'Synthetic testing for fleets of Kubernetes clusters. Every error is { error: { code, message, requestId, details? } }. Authenticate with `Authorization: Bearer <token>`.',
};

/**
 * The OpenAPI 3.1 document, generated from the route declarations registered on `app` (and
 * nothing else), once: the declarations do not change after the app is built.
 */
export function createOpenApiDocument(app: OpenAPIHono<AppEnv>): () => Record<string, unknown> {
  let doc: Record<string, unknown> | undefined;
  return () => {
    if (doc) return doc;
    app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
    doc = app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: DOCUMENT_INFO,
      servers: [{ url: '/', description: 'this API' }],
    }) as unknown as Record<string, unknown>;
    return doc;
  };
}

/** The routes that need no token: liveness, this document and its reference page. */
export function publicRoutes(document: () => Record<string, unknown>): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'healthz',
      summary: 'Liveness',
      tag: 'meta',
      roles: 'public',
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
      handler: (c) => c.json({ status: 'ok' as const }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/openapi.json',
      operationId: 'openApiDocument',
      summary: 'This document',
      tag: 'meta',
      roles: 'public',
      responses: { 200: { description: 'The OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
      handler: (c) => c.json(document() as never),
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/docs',
      operationId: 'apiReference',
      summary: 'API reference page',
      tag: 'meta',
      roles: 'public',
      responses: { 200: { description: 'An HTML page', contentType: 'text/plain' } },
      handler: (c) => c.html(apiReferenceHtml(document()), 200, API_REFERENCE_HEADERS),
    }),
  ];
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

export function apiReferenceHtml(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, { summary?: string; description?: string }>>;
  const rows = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) =>
          `<section><h3><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h3><p>${escapeHtml(op.summary ?? '')} — ${escapeHtml(op.description ?? '')}</p><details><summary>schema</summary><pre>${escapeHtml(JSON.stringify(op, null, 2))}</pre></details></section>`,
      ),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>synthfleet API reference</title><style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}h3{margin-bottom:0}</style></head><body><h1>synthfleet API reference</h1><p>Machine-readable: <a href="/api/v1/openapi.json">openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>${rows}</body></html>`;
}
