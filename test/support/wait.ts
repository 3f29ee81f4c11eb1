/**
 * Polls `check` until it holds. Bounded: after `timeoutMs` it fails with `what`, so a broken
 * system makes a failing test, never a hanging one. The bound is generous for a loaded machine;
 * nothing asserts how fast the condition came.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 45_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not met within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
