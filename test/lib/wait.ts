// The one polling helper of the tests: wait for a condition, never sleep-and-hope.

import { inspect } from 'node:util';

/** What a probe returns while the condition does not hold yet. */
type NotYet = null | undefined | false | 0 | '';

/**
 * Polls `probe` until it returns a truthy value and returns that value. The timeout only keeps a
 * broken build from hanging the run: it is generous (the suite runs on busy machines too) and is
 * never a speed assertion. On timeout the error names what was awaited and the probe's last value.
 * A probe that throws ends the wait with its error.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 20): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Exclude<T, NotYet>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${inspect(value, { depth: 3, breakLength: Infinity })})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
