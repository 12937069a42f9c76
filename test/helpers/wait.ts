/**
 * Waiting helpers for integration tests: poll a condition until it holds, without asserting on elapsed time.
 * A timeout is only a guard against a hung test; its message says what never happened.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between probes (default 25 ms). */
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, last?: unknown) {
    const detail = last === undefined ? '' : `; last value: ${describe(last)}`;
    super(`Timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    this.name = 'WaitTimeoutError';
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value).slice(0, 500);
  } catch {
    return String(value);
  }
}

/**
 * Resolves with the first value of `probe` that is neither undefined, null nor false. A probe that throws counts as
 * "not yet" (the last error is reported on timeout).
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, last);
    await sleep(intervalMs);
  }
}

/** Waits until `items()` has at least `count` entries and returns them (the whole list at that moment). */
export function waitForCount<T>(
  what: string,
  count: number,
  items: () => readonly T[] | Promise<readonly T[]>,
  options: WaitOptions = {},
): Promise<readonly T[]> {
  return waitFor(
    `${count} × ${what}`,
    async () => {
      const list = await items();
      return list.length >= count ? list : undefined;
    },
    options,
  );
}

/** p-th percentile (0–100) by nearest rank; for printed measurements, never for assertions. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}
