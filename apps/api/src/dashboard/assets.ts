/**
 * The dashboard's only stylesheet and script, served by the API itself: edge operators run it
 * air-gapped, so nothing comes from a CDN, and the CSP allows nothing but these two files.
 */

export const STYLESHEET = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--card:#f6f8fa;--link:#0b5cad;
--pass:#1a7f37;--fail:#c62828;--stale:#9a6700;--pending:#6e7781;--focus:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0f1419;--fg:#e6edf3;--muted:#9aa4af;--line:#30363d;
--card:#161b22;--link:#58a6ff;--pass:#3fb950;--fail:#f85149;--stale:#d29922;--pending:#8b949e;--focus:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--link)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:6px;z-index:2}
header.top{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:10px 16px;border-bottom:1px solid var(--line);background:var(--card)}
header.top .brand{font-weight:700;text-decoration:none;color:var(--fg)}
header.top nav{display:flex;gap:12px;flex-wrap:wrap}
header.top form{margin-left:auto}
.who{color:var(--muted);font-size:13px}
main,#filters,.page-head{padding:0 16px;max-width:1400px;margin:0 auto}
h1{font-size:22px;margin:16px 0 8px}h2{font-size:17px;margin:20px 0 8px}
.muted{color:var(--muted)}.small{font-size:13px}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;min-width:560px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--card);font-weight:600;font-size:13px}
tr:last-child td{border-bottom:0}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.b-passing,.b-pass,.b-succeeded{background:var(--pass)}.b-failing,.b-fail,.b-error,.b-timeout,.b-failed{background:var(--fail)}
.b-stale,.b-unknown,.b-degraded{background:var(--stale)}.b-maintenance{background:var(--link)}.b-pending,.b-skipped,.b-running{background:var(--pending)}.b-unsupported{background:var(--bg);color:var(--fg);border:1px dashed var(--pending)}.b-live{background:var(--pass)}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:10px}
.tile{border:1px solid var(--line);border-left:6px solid var(--pass);border-radius:6px;padding:8px 12px;background:var(--card)}
.tile.problem{border-left-color:var(--fail)}.tile.silent{border-left-color:var(--stale)}
.tile h3{margin:0 0 4px;font-size:15px}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:12px 0}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select,button{font:inherit;padding:5px 8px;border:1px solid var(--line);border-radius:5px;background:var(--bg);color:var(--fg)}
button{cursor:pointer;background:var(--card)}
.grid{display:flex;flex-wrap:wrap;gap:3px}
.cell{display:block;width:18px;height:18px;border-radius:3px}
.cell.s-pass,.swatch.s-pass{background:var(--pass)}.cell.s-fail,.cell.s-error,.cell.s-timeout,.swatch.s-fail{background:var(--fail)}
.cell.s-skipped,.cell.s-none,.swatch.s-skipped{background:var(--pending)}.cell.s-unsupported,.swatch.s-unsupported{background:var(--bg);border:1px dashed var(--pending)}
a.chip{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;color:#fff;text-decoration:none;background:var(--pending)}a.chip.s-passing{background:var(--pass)}a.chip.s-failing{background:var(--fail)}a.chip.s-degraded,a.chip.s-stale{background:var(--stale)}
p.notice{border:1px solid var(--stale);border-radius:6px;padding:8px 12px}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;max-height:60vh;white-space:pre-wrap;overflow-wrap:anywhere}
.chart{width:100%;max-width:900px;height:auto;border:1px solid var(--line);border-radius:6px;background:var(--card)}
.chart .axis{stroke:var(--line)}.chart text{fill:var(--muted);font-size:11px}
.chart .lat{fill:none;stroke:var(--link);stroke-width:2}.chart .ratio{fill:none;stroke:var(--pass);stroke-width:1.5;stroke-dasharray:4 3}
.chart .pt{fill:var(--link)}.chart .pt.bad{fill:var(--fail)}
.windows{display:flex;gap:10px;margin:6px 0}
.pager{display:flex;gap:16px;margin:10px 0}
.error-box{border:1px solid var(--fail);border-radius:6px;padding:10px;margin:12px 0}
.login{max-width:420px;margin:60px auto;padding:0 16px}
.login input{width:100%;margin:6px 0 12px}
#live-state{font-size:12px;color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:center}.cell.stale,.swatch.stale{background-image:repeating-linear-gradient(45deg,transparent 0 3px,rgba(255,255,255,.75) 3px 6px);outline:1px dashed var(--stale)}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-1px}
ol.incidents{padding-left:22px;margin:6px 0}ol.incidents li{margin:6px 0}.b-silent{background:var(--stale)}
ul.maintenance{padding-left:18px}ul.maintenance li[data-active=true]{font-weight:500}
.slo{border:1px solid var(--line);border-left:6px solid var(--pass);border-radius:6px;padding:4px 12px 10px;margin:12px 0}
.slo.s-low{border-left-color:var(--stale)}.slo.s-exhausted{border-left-color:var(--fail)}.slo h2{margin-top:8px}
.notice-maint{border:1px solid var(--link);border-radius:6px;padding:8px 12px}
form.run-now{display:inline;margin-left:8px}form.run-now button{font-size:14px;vertical-align:3px}
tr.maint td{opacity:.7}a.chip.s-maintenance{background:var(--link)}
table.heatmap{min-width:0;width:auto;border-collapse:separate;border-spacing:2px}
table.heatmap th,table.heatmap td{padding:0;border:0;font-size:11px}
table.heatmap thead th.vh{vertical-align:bottom;height:9em;width:26px;background:none}
table.heatmap thead th.vh span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-height:9em;display:inline-block}
table.heatmap tbody th{padding:0 8px 0 4px;white-space:nowrap;font-weight:500;background:none;border-left:4px solid transparent}
table.heatmap tbody th.q1{border-left-color:#f4a6a0}table.heatmap tbody th.q2{border-left-color:#e8685e}table.heatmap tbody th.q3{border-left-color:#d63b30}table.heatmap tbody th.q4{border-left-color:#9e1c14}
td.h{width:26px;min-width:26px;height:22px;text-align:center;border-radius:3px;color:#fff;font-weight:600}
td.h a{display:block;width:100%;height:22px;line-height:22px;color:inherit;text-decoration:none}
.h-passing{background:var(--pass)}.h-none{background:transparent;outline:1px dotted var(--line)}
.h-failing.q1,.h-degraded.q1{background:#f4a6a0;color:#5c0b05}.h-failing.q2,.h-degraded.q2{background:#e8685e}.h-failing.q3,.h-degraded.q3{background:#d63b30}.h-failing.q4,.h-degraded.q4{background:#9e1c14}
.h-degraded{outline:2px dotted var(--stale)}
.h-stale{background:var(--stale);background-image:repeating-linear-gradient(45deg,transparent 0 3px,rgba(255,255,255,.45) 3px 6px)}
.h-silent{background:#57606a;background-image:repeating-linear-gradient(-45deg,transparent 0 3px,rgba(0,0,0,.35) 3px 6px)}
.h-maintenance{background:var(--link)}.h-unsupported{background:var(--bg);color:var(--fg);outline:1px dashed var(--pending)}
.h-pending,.h-skipped{background:var(--pending)}
span.swatch.h-none{outline:1px dotted var(--pending)}
.heat-wrap{max-height:80vh;overflow:auto}
.region{display:contents}
@media (max-width:600px){
table.tests{min-width:0}table.tests thead{display:none}
table.tests tr{display:grid;grid-template-columns:auto 1fr;gap:2px 8px;padding:8px 10px;border-bottom:1px solid var(--line)}
table.tests td{display:block;padding:0;border:0}table.tests td.c-status{grid-row:span 2}
table.tests td.c-opt{display:none}table.tests td[data-label]{grid-column:2;font-size:13px}
table.tests td[data-label]::before{content:attr(data-label) ": ";color:var(--muted)}
table.tests td.c-detail{grid-column:1 / -1}
.tiles{grid-template-columns:1fr 1fr}.tile{padding:6px 8px}.tile .kv{display:none}
}
.node-group{margin:6px 0 10px}.group-head{margin:4px 0;font-weight:400}
ul.group-bars{list-style:none;padding:0;margin:6px 0}ul.group-bars li{display:grid;grid-template-columns:minmax(90px,max-content) minmax(120px,1fr) max-content;gap:10px;align-items:center;margin:3px 0}
svg.bar{width:100%;height:12px;border-radius:3px;background:var(--card)}svg.bar .b-fail{fill:var(--fail)}svg.bar .b-stale{fill:var(--stale)}svg.bar .b-ok{fill:var(--pass)}
form.filters.inline{margin:4px 0}
.tile.q1{border-left-color:#f4a6a0}.tile.q2{border-left-color:#e8685e;background:color-mix(in srgb,#e8685e 8%,var(--card))}
.tile.q3{border-left-color:#d63b30;background:color-mix(in srgb,#d63b30 14%,var(--card))}.tile.q4{border-left-color:#9e1c14;background:color-mix(in srgb,#9e1c14 22%,var(--card))}
.tile .share{font-size:12px;font-weight:700;color:var(--fail)}
.strip{display:flex;flex-wrap:wrap;gap:3px;margin:8px 0}.strip a.chip{background:var(--pass)}
.strip a.chip.q1{background:#f4a6a0;color:#5c0b05}.strip a.chip.q2{background:#e8685e}.strip a.chip.q3{background:#d63b30}.strip a.chip.q4{background:#9e1c14}.strip a.chip.silent{background:#57606a}
`;

/**
 * Live updates: poll the cheap version endpoint; when it changes, ask this page again naming the
 * regions held and their ETags, and swap in just the regions that changed (304: none did). Relative
 * times ("3m ago") count on here, from the server's clock, so they need no refetch. Polling (not a
 * held connection) works alike on Node and on Workers.
 */
export const SCRIPT = `
(() => {
  const body = document.body;
  const state = document.getElementById('live-state');
  // Not a multiple of Node's 5 s keep-alive timeout, so a poll rarely meets a closing socket.
  const every = Number(body.dataset.refreshMs || 4000);
  let version = body.dataset.version;
  // The server's clock minus ours, so relative times agree with the server's.
  let skew = body.dataset.now ? Number(body.dataset.now) - Date.now() : 0;
  let busy = false;
  // Each request has a bound: one stuck request must not stop live updates for good.
  const get = (url, headers) => fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: headers || {}, signal: AbortSignal.timeout(20000) });
  function span(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    const h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }
  function count(root) {
    const now = Date.now() + skew;
    for (const t of root.querySelectorAll('time[data-ago]')) {
      const at = Date.parse(t.getAttribute('datetime'));
      if (!Number.isNaN(at)) t.textContent = span(now - at) + (t.dataset.ago === 'for' ? '' : ' ago');
    }
  }
  async function refresh(v) {
    const held = [...document.querySelectorAll('[data-region]')].map((r) => r.dataset.region + '=' + r.dataset.etag);
    const r = await get(location.href, held.length ? { 'x-synthfleet-regions': held.join(',') } : {});
    if (r.status === 304) { version = r.headers.get('x-synthfleet-version') || v; return; }
    if (!r.ok) throw new Error('status ' + r.status);
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    if (r.headers.get('x-synthfleet-partial') === '1') {
      for (const fresh of doc.querySelectorAll('[data-region]')) {
        const here = document.querySelector('[data-region="' + fresh.dataset.region + '"]');
        if (here) here.replaceWith(document.adoptNode(fresh));
      }
      version = r.headers.get('x-synthfleet-version') || v;
      const now = Number(r.headers.get('x-synthfleet-now'));
      if (now) skew = now - Date.now();
    } else {
      const fresh = doc.getElementById('live');
      const here = document.getElementById('live');
      if (fresh && here) here.replaceWith(fresh);
      version = doc.body.dataset.version || v;
    }
  }
  async function tick() {
    count(document);
    if (busy || document.hidden) return;
    busy = true;
    try {
      const r = await get('/ui/version');
      if (r.status === 401) { location.reload(); return; }
      if (!r.ok) throw new Error('status ' + r.status);
      const v = (await r.json()).version;
      if (v !== version) await refresh(v);
      count(document);
      if (state) state.textContent = 'live · checked ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (state) state.textContent = 'live updates paused: ' + e.message;
    } finally {
      busy = false;
    }
  }
  setInterval(tick, every);
  document.addEventListener('visibilitychange', tick);
})();
`;

/** A short content hash for cache-busting asset URLs (FNV-1a; no crypto needed). */
export function assetTag(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** The dashboard's icon: a green pulse on a dark tile. */
export const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#161b22"/><path d="M3 17h7l3-8 5 15 3-7h8" fill="none" stroke="#3fb950" stroke-width="3" stroke-linejoin="round" stroke-linecap="round"/></svg>';
