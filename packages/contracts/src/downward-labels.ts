/* Plain code, without zod: the agent reads the labels file before every poll. */

/**
 * Pod labels as Kubernetes' downward API writes them to a file: one `key="value"` a line, the
 * value a Go-quoted string. Lines that are not of that form are skipped.
 */
export function parseDownwardLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^=\s]+)="((?:[^"\\]|\\.)*)"\s*$/.exec(line.trim());
    if (!m) continue;
    const [, key, raw] = m as unknown as [string, string, string];
    out[key] = raw.replace(/\\(["\\nt])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
  }
  return out;
}
