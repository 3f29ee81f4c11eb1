import { ErrorEnvelope } from '@synthfleet/contracts';
import type { Route } from '../lib/route.ts';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

/**
 * Checks one answer against the route declarations and the OpenAPI document generated from them:
 * the status is documented for that operation, and a JSON body matches the declared schema (the
 * error envelope for errors). Answers of undeclared paths (the dashboard, unknown routes) pass.
 * Returns what is wrong, or undefined.
 */
export function contractProblem(
  routes: readonly Route[],
  document: Doc,
  method: string,
  url: string,
  status: number,
  contentType: string,
  body: unknown,
): string | undefined {
  const path = new URL(url, 'http://x').pathname;
  const route = routes.find(
    (r) => r.method === method.toLowerCase() && new RegExp(`^${r.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(path),
  );
  if (!route) return undefined;
  const op = document.paths[route.path]?.[route.method];
  const where = `${method} ${route.path} answered ${status}`;
  if (!op) return `${where}: the operation is not in the document`;
  if (!(String(status) in op.responses))
    return `${where}, which the document does not list (${Object.keys(op.responses).join(', ')})`;
  if (!contentType.includes('application/json')) return undefined;
  const declared = status < 400 ? route.responses[status as 200]?.schema : ErrorEnvelope;
  if (!declared) return `${where} with a JSON body the declaration does not describe`;
  const parsed = declared.safeParse(body);
  if (parsed.success) return undefined;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return `${where} with a body that does not match its schema: ${issues.join('; ')}`;
}
