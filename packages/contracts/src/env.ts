/** A configuration problem the operator must fix; start-up stops with its message. */
export class EnvError extends Error {
  override name = 'EnvError';
}

/** A comma-separated variable as its trimmed, non-empty items. */
export function commaItems(text: string): string[] {
  return text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}
