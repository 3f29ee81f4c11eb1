import { z } from 'zod';
import { parseDuration } from './duration.ts';

/** A Go-style duration string, validated; the value stays a string as written. */
export const Duration = z.string().superRefine((value, ctx) => {
  try {
    parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});
export type Duration = z.infer<typeof Duration>;
