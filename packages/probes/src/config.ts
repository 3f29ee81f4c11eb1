import type { PluginConfig } from '@synthfleet/contracts';
import { parseDuration } from '@synthfleet/contracts/duration';
import { z } from 'zod';

/** A time span given as a Go duration (`"1m30s"`) or as a number of seconds (synthetic-heart style). */
export const Span = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return Math.round(value * 1000);
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export class ProbeConfigError extends Error {
  override name = 'ProbeConfigError';
}

/**
 * Turns a test's `config` (a YAML string as synthetic-heart hands to its plugins, or an object)
 * into the plugin's typed config, with an error that names the field.
 */
export async function parseProbeConfig<C>(
  plugin: string,
  raw: PluginConfig | undefined,
  schema: z.ZodType<C>,
): Promise<C> {
  let value: unknown = raw ?? {};
  if (typeof raw === 'string') {
    try {
      // Loaded on first use: only synthetic-heart style (string) configs need a YAML parser, and
      // an agent that never sees one keeps its memory.
      value = raw.trim() === '' ? {} : (await import('yaml')).parse(raw);
    } catch (err) {
      throw new ProbeConfigError(`${plugin} config is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (i) => `${i.path.length ? `config.${i.path.join('.')}` : 'config'}: ${i.message}`,
  );
  throw new ProbeConfigError(`${plugin} ${issues.join('; ')}`);
}
