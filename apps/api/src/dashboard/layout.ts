import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Principal } from '../services/context.ts';
import { formatSpan } from '../services/dashboard/index.ts';
import { assetTag, SCRIPT, STYLESHEET } from './assets.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const CSS_PATH = `/ui/app.${assetTag(STYLESHEET)}.css`;
export const JS_PATH = `/ui/app.${assetTag(SCRIPT)}.js`;

/** The security headers of every dashboard page: nothing loads but our own two files. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function who(principal: Principal): string {
  if (principal.role === 'cluster') return `cluster token · ${principal.cluster}`;
  return `${principal.role} token`;
}

/**
 * The page shell. `live` is the region the script swaps when the data changes; what sits outside
 * it (the filter form) keeps the user's focus and typing.
 */
export function page(opts: {
  title: string;
  principal: Principal | null;
  version?: string;
  head?: Html;
  live: Html;
}): Html {
  const { principal } = opts;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · synthfleet</title>
<link rel="stylesheet" href="${CSS_PATH}">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
${principal ? html`<script src="${JS_PATH}" defer></script>` : ''}
</head>
<body data-version="${opts.version ?? ''}">
<a class="skip" href="#live">Skip to content</a>
<header class="top">
  <a class="brand" href="/">synthfleet</a>
  ${
    principal
      ? html`<nav aria-label="Main"><a href="/">Fleet</a><a href="/heatmap">Heatmap</a><a href="/api/v1/docs">API</a></nav>
  <span class="who">${who(principal)}</span> <span id="live-state" role="status" aria-live="polite"></span>
  <form method="post" action="/logout"><button type="submit">Sign out</button></form>`
      : ''
  }
</header>
${opts.head ?? ''}
<div id="live"><main>${opts.live}</main></div>
</body>
</html>`;
}

export function badge(status: string): Html {
  return html`<span class="badge b-${status}">${status}</span>`;
}

/** "3m 10s ago", or "never". */
/** "1 cluster", "3 clusters". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** An absolute UTC time to the second: 2026-12-01 10:00:00Z. */
export function absolute(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function ago(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  return `${formatSpan(now - Date.parse(iso))} ago`;
}

export function testHref(t: { cluster: string; namespace: string; name: string }): string {
  return `/tests/${encodeURIComponent(t.cluster)}/${encodeURIComponent(t.namespace)}/${encodeURIComponent(t.name)}`;
}

export function clusterHref(cluster: string): string {
  return `/clusters/${encodeURIComponent(cluster)}`;
}

export function agentHref(agentId: string): string {
  return `/agents/${encodeURIComponent(agentId)}`;
}

/** Builds `path?query` from the entries that have a value. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function errorPage(principal: Principal | null, status: number, message: string): Html {
  return page({
    title: status === 404 ? 'Not found' : 'Error',
    principal,
    live: html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1>
<div class="error-box" role="alert">${message}</div>
<p><a href="/">Back to the fleet</a></p>`,
  });
}
