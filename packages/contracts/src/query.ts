import { z } from 'zod';

/**
 * A whole number in a query string: decimal digits only. `Number()` (and so `z.coerce`) would also
 * take `0x10`, `1e3`, ` 16 ` or `0b1`, which no client means and a fuzzer finds.
 */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,16}$/, 'must be a whole number in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
