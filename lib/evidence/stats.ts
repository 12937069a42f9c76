/**
 * Measurement arithmetic shared by the benchmark and the chaos run: percentiles, summaries and rates. Pure
 * functions; the numbers they produce are printed and written to BENCHMARKS.md, never asserted on in tests.
 */

/** p-th percentile (0–100) by nearest rank, the definition load-testing tools report; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function summarise(values: readonly number[]): LatencySummary {
  const count = values.length;
  const mean = count === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / count;
  return {
    count,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    min: count === 0 ? Number.NaN : Math.min(...values),
    max: count === 0 ? Number.NaN : Math.max(...values),
    mean,
  };
}

/** Events per second over a span in milliseconds (NaN for an empty span). */
export function perSecond(count: number, spanMs: number): number {
  return spanMs > 0 ? (count * 1000) / spanMs : Number.NaN;
}

/** Rounds for display: 1 decimal under 100, whole numbers above. */
export function round(value: number, decimals?: number): number {
  if (!Number.isFinite(value)) return value;
  const d = decimals ?? (Math.abs(value) < 100 ? 1 : 0);
  const f = 10 ** d;
  return Math.round(value * f) / f;
}

export function formatMs(value: number): string {
  return Number.isFinite(value) ? `${round(value)} ms` : 'n/a';
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${round(bytes / 1024)} KB`;
  return `${round(bytes / (1024 * 1024))} MB`;
}

export function formatPercent(ratio: number): string {
  return Number.isFinite(ratio) ? `${round(ratio * 100)} %` : 'n/a';
}
