import { z } from 'zod';
import { commaItems, EnvError } from './env.ts';

/** A comma-separated variable as its trimmed, non-empty items. */
export const commaList = z.string().transform(commaItems);

/**
 * Reads an app's environment with its schema. Empty values count as unset; a bad value throws an
 * EnvError whose message names every variable that is wrong.
 */
export function parseEnvWith<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
  what: string,
): z.infer<S> {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new EnvError(`invalid ${what}:\n  ${lines.join('\n  ')}`);
}
