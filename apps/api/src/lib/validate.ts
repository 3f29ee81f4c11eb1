import { describeIssues, ErrorCode, formatIssues } from '@synthfleet/contracts';
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, badRequest } from '../errors.ts';

/** Reads a JSON body and validates it; every failure is a 4xx that names what is wrong. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(type)) {
    throw new ApiError(
      ErrorCode.UnsupportedMediaType,
      `expected Content-Type application/json, got "${type || 'none'}"`,
    );
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON body: ${(err as Error).message}`);
  }
  return parseWith(schema, value, 'body');
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw badRequest(`invalid ${where}: ${formatIssues(issues)}`, issues);
  }
  return result.data;
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return parseWith(schema, c.req.query(), 'query');
}

export function parseParams<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return parseWith(schema, c.req.param(), 'path');
}
