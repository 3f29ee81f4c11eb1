/**
 * Renders a Helm chart's templates without a `helm` binary (none exists on these machines), so the
 * tests can check what the chart really produces.
 *
 * It implements the part of Go's text/template and Helm's functions that the synthfleet chart
 * uses: actions with `{{-`/`-}}` trimming; fields of `.Values`, `.Release`, `.Chart` and the dot;
 * pipelines; parenthesised sub-expressions; string and number literals; `if`/`else`/`with`/`end`
 * (with `with` rebinding the dot); `define` and `include`; and the functions `quote`, `toYaml`,
 * `nindent`, `indent`, `default`, `join`, `printf` (%s and %d), `not`, `and`, `or`, `eq`, `fail`.
 *
 * What it does not model: `range`, variables (`$x :=`), `tpl`, `lookup`, `required`, the rest of
 * Sprig, `.Capabilities`, `.Files`, subcharts, and Go's exact number formatting. A template that
 * uses any of these fails to render here with a message saying so, rather than rendering wrongly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYamlString } from 'yaml';

type Node =
  | { t: 'text'; v: string }
  | { t: 'action'; expr: string }
  | { t: 'if'; expr: string; yes: Node[]; no: Node[] }
  | { t: 'with'; expr: string; yes: Node[]; no: Node[] }
  | { t: 'define'; name: string; body: Node[] };

class RenderError extends Error {
  override name = 'RenderError';
}

/** Splits a template into text and actions, applying `{{-` and `-}}` whitespace trimming. */
function lex(src: string): ({ t: 'text'; v: string } | { t: 'action'; v: string })[] {
  const out: ({ t: 'text'; v: string } | { t: 'action'; v: string })[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ t: 'text', v: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    const trimLeft = src[open + 2] === '-' && /\s/.test(src[open + 3] ?? '');
    if (trimLeft) text = text.replace(/\s+$/, '');
    out.push({ t: 'text', v: text });
    const close = src.indexOf('}}', open);
    if (close < 0) throw new RenderError('unclosed action');
    const trimRight = src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '');
    const body = src.slice(open + (trimLeft ? 3 : 2), trimRight ? close - 1 : close).trim();
    out.push({ t: 'action', v: body });
    i = close + 2;
    if (trimRight) while (i < src.length && /\s/.test(src[i] as string)) i++;
  }
  return out;
}

function parseTemplate(src: string): Node[] {
  const tokens = lex(src);
  let pos = 0;
  function block(stopAt: string[]): { nodes: Node[]; stop: string } {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++] as { t: 'text' | 'action'; v: string };
      if (tok.t === 'text') {
        if (tok.v) nodes.push({ t: 'text', v: tok.v });
        continue;
      }
      const v = tok.v;
      if (v.startsWith('/*')) continue;
      const word = v.split(/\s+/)[0] as string;
      if (stopAt.includes(word)) return { nodes, stop: word };
      if (word === 'if' || word === 'with') {
        const expr = v.slice(word.length).trim();
        const first = block(['else', 'end']);
        const second = first.stop === 'else' ? block(['end']).nodes : [];
        nodes.push({ t: word, expr, yes: first.nodes, no: second });
      } else if (word === 'define') {
        const name = JSON.parse(v.slice(6).trim()) as string;
        nodes.push({ t: 'define', name, body: block(['end']).nodes });
      } else if (['range', 'block', 'template', 'else', 'end'].includes(word) || v.startsWith('$')) {
        throw new RenderError(`"${v}" is not supported by this renderer`);
      } else {
        nodes.push({ t: 'action', expr: v });
      }
    }
    if (stopAt.length > 0) throw new RenderError(`missing {{ end }} (wanted one of ${stopAt.join(', ')})`);
    return { nodes, stop: '' };
  }
  return block([]).nodes;
}

type Scope = { root: Record<string, unknown>; dot: unknown; defines: Map<string, Node[]> };

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Splits an expression into words, keeping strings and parenthesised groups whole. */
function words(expr: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== '"') j += expr[j] === '\\' ? 2 : 1;
      out.push(expr.slice(i, j + 1));
      i = j + 1;
    } else if (c === '(') {
      let depth = 0;
      let j = i;
      for (; j < expr.length; j++) {
        if (expr[j] === '(') depth++;
        else if (expr[j] === ')' && --depth === 0) break;
      }
      out.push(expr.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < expr.length && !/\s/.test(expr[j] as string)) j++;
      out.push(expr.slice(i, j));
      i = j;
    }
  }
  return out;
}

function splitPipeline(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inStr = false;
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' && expr[i - 1] !== '\\') inStr = !inStr;
    if (inStr) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(expr.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts;
}

function field(base: unknown, path: string): unknown {
  let v = base;
  for (const k of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function evalArg(word: string, scope: Scope): unknown {
  if (word.startsWith('"')) return JSON.parse(word);
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (word.startsWith('(')) return evalPipeline(word.slice(1, -1), scope);
  if (word === '.') return scope.dot;
  if (word.startsWith('.Values') || word.startsWith('.Release') || word.startsWith('.Chart')) {
    return field(scope.root, word.slice(1));
  }
  if (word.startsWith('.')) return field(scope.dot, word.slice(1));
  return callFn(word, [], scope);
}

function callFn(name: string, args: unknown[], scope: Scope): unknown {
  switch (name) {
    case 'quote':
      return JSON.stringify(str(args[0]));
    case 'toYaml': {
      const v = args[0];
      if (v === undefined || v === null) return '';
      return toYamlString(v, { lineWidth: 0 }).replace(/\n$/, '');
    }
    case 'nindent':
      return `\n${str(args[1])
        .split('\n')
        .map((l) => ' '.repeat(Number(args[0])) + l)
        .join('\n')}`;
    case 'indent':
      return str(args[1])
        .split('\n')
        .map((l) => ' '.repeat(Number(args[0])) + l)
        .join('\n');
    case 'default':
      return truthy(args[1]) ? args[1] : args[0];
    case 'join':
      return ((args[1] as unknown[]) ?? []).map(str).join(str(args[0]));
    case 'printf': {
      let k = 1;
      return str(args[0]).replace(/%[sd]/g, () => str(args[k++]));
    }
    case 'not':
      return !truthy(args[0]);
    case 'and':
      return args.every(truthy) ? args.at(-1) : args.find((a) => !truthy(a));
    case 'or':
      return args.find(truthy) ?? args.at(-1);
    case 'eq':
      return args.slice(1).some((a) => a === args[0]);
    case 'fail':
      throw new RenderError(`fail: ${str(args[0])}`);
    case 'include': {
      const body = scope.defines.get(str(args[0]));
      if (!body) throw new RenderError(`include: no template named "${str(args[0])}"`);
      return renderNodes(body, { ...scope, dot: args[1] });
    }
    default:
      throw new RenderError(`function "${name}" is not supported by this renderer`);
  }
}

function evalCommand(cmd: string, scope: Scope, piped: unknown[]): unknown {
  const [head, ...rest] = words(cmd);
  if (head === undefined) throw new RenderError('empty command');
  const isFn = /^[a-zA-Z]/.test(head) && !['true', 'false'].includes(head);
  if (!isFn) {
    if (rest.length > 0 || piped.length > 0) throw new RenderError(`"${cmd}" cannot take arguments`);
    return evalArg(head, scope);
  }
  return callFn(head, [...rest.map((w) => evalArg(w, scope)), ...piped], scope);
}

function evalPipeline(expr: string, scope: Scope): unknown {
  let value: unknown;
  let first = true;
  for (const cmd of splitPipeline(expr)) {
    value = evalCommand(cmd, scope, first ? [] : [value]);
    first = false;
  }
  return value;
}

function renderNodes(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.v;
    else if (n.t === 'define') scope.defines.set(n.name, n.body);
    else if (n.t === 'action') out += str(evalPipeline(n.expr, scope));
    else if (n.t === 'if') out += renderNodes(truthy(evalPipeline(n.expr, scope)) ? n.yes : n.no, scope);
    else {
      const v = evalPipeline(n.expr, scope);
      out += truthy(v) ? renderNodes(n.yes, { ...scope, dot: v }) : renderNodes(n.no, scope);
    }
  }
  return out;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (
    base &&
    over &&
    typeof base === 'object' &&
    typeof over === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(over)
  ) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return over;
}

export type RenderedChart = { files: Record<string, string>; objects: Record<string, unknown>[] };

/**
 * Renders every template of a chart with its values.yaml merged with `values`, as
 * `helm template <release> <chart> --namespace <ns>` would, and parses the output's objects.
 */
export function renderChart(
  chartDir: string,
  opts: { release: string; namespace: string; values?: Record<string, unknown> },
): RenderedChart {
  const chart = parseYaml(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const defaults = parseYaml(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const root = {
    Values: deepMerge(defaults, opts.values ?? {}),
    Release: { Name: opts.release, Namespace: opts.namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const scope: Scope = { root, dot: root, defines: new Map() };
  const dir = join(chartDir, 'templates');
  const names = readdirSync(dir).sort();
  // Helpers first, as Helm loads every template before rendering any.
  for (const name of names.filter((n) => n.startsWith('_')))
    renderNodes(parseTemplate(readFileSync(join(dir, name), 'utf8')), scope);
  const files: Record<string, string> = {};
  const objects: Record<string, unknown>[] = [];
  for (const name of names.filter((n) => !n.startsWith('_') && /\.ya?ml$/.test(n))) {
    let text: string;
    try {
      text = renderNodes(parseTemplate(readFileSync(join(dir, name), 'utf8')), scope);
    } catch (err) {
      throw new RenderError(`${name}: ${(err as Error).message}`);
    }
    files[name] = text;
    for (const doc of text.split(/^---\s*$/m)) {
      const parsed = parseYaml(doc) as Record<string, unknown> | null;
      if (parsed) objects.push(parsed);
    }
  }
  return { files, objects };
}
