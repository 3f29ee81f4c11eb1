import { html, raw } from 'hono/html';
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
  /** The server's clock when rendered (epoch ms): relative times count from it. */
  now?: number;
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
<body data-version="${opts.version ?? ''}" data-now="${opts.now ?? ''}">
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

/** "1 cluster", "3 clusters". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** An absolute UTC time to the second: 2026-12-01 10:00:00Z. */
export function absolute(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/**
 * "3m 10s ago" (or "never"), as a <time> the page's script keeps counting: a region's content then
 * changes only when the time itself does, so live updates need not refetch it every tick.
 */
export function ago(iso: string | null, now: number): Html | string {
  if (iso === null) return 'never';
  return html`<time datetime="${iso}" data-ago>${formatSpan(now - Date.parse(iso))} ago</time>`;
}

/** "12m 3s" since `iso` (how long something has lasted), counted on like `ago`. */
export function lasting(iso: string | null, now: number): Html | string {
  if (iso === null) return '';
  return html`<time datetime="${iso}" data-ago="for">${formatSpan(now - Date.parse(iso))}</time>`;
}

/*
 * Regions: the parts of a page that live updates fetch on their own. Each carries an ETag of its
 * content (relative times count to the minute: the script counts the seconds), and a refetch
 * sends the ETags it holds: the answer carries just the regions that changed, or 304.
 */
const REGION = /<div class="region" data-region="([\w-]+)" data-etag="(\w+)">([\s\S]*?)<\/div><!--\/region:\1-->/g;

/** A region's ETag: its content with each relative time cut to its minute. */
export function regionTag(content: string): string {
  return assetTag(
    content.replace(/<time datetime="([^"]+)" data-ago(?:="for")?>[^<]*<\/time>/g, (_, iso: string) =>
      iso.slice(0, 16),
    ),
  );
}

/** Wraps a live part of a page (never nested in another region). */
export async function region(name: string, content: Html | string): Promise<HtmlEscapedString> {
  const text = String(await content);
  return raw(
    `<div class="region" data-region="${name}" data-etag="${regionTag(text)}">${text}</div><!--/region:${name}-->`,
  );
}

/**
 * The regions of a rendered page whose ETags differ from what the client holds (name → ETag),
 * as one HTML fragment; '' when none did.
 */
export function changedRegions(page: string, held: Map<string, string>): string {
  let out = '';
  for (const m of page.matchAll(REGION)) if (held.get(m[1] as string) !== m[2]) out += m[0];
  return out;
}

/** The client's `x-synthfleet-regions` header: `name=etag,name=etag`. */
export function parseHeldRegions(header: string): Map<string, string> {
  const held = new Map<string, string>();
  for (const part of header.split(',').slice(0, 64)) {
    const m = /^\s*([\w-]{1,40})=(\w{1,16})\s*$/.exec(part);
    if (m) held.set(m[1] as string, m[2] as string);
  }
  return held;
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
