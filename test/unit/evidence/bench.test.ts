/**
 * The benchmark's own arithmetic (lib/evidence/bench/): which rate-limit windows count and what they add up to,
 * and how BENCH_* variables become the run's sizes. No timing: the calls are built by hand.
 */
import path from 'node:path';
import {
  BUNDLE_BASELINE_BYTES,
  BUNDLE_CAP_EXCEPTIONS,
  benchConfig,
  bundleLimitBytes,
  limitedCount,
  SMS_PER_CALL,
  TARGETS,
} from '../../../lib/evidence/bench/config';
import { medianRound, p99Ratio } from '../../../lib/evidence/bench/accept-latency';
import { acceptRows, bundleRow, coldRow, coldVersusRow } from '../../../lib/evidence/bench/rows';
import type { LatencySummary } from '../../../lib/evidence/stats';
import { rateLimitWindows } from '../../../lib/evidence/bench/throughput';
import type { ColdStartResult } from '../../../lib/evidence/bundles';
import type { SmsApiCall } from '../../../lib/simulators/sms';

let seq = 0;
function call(window: number, status: 200 | 429, sms = 0): SmsApiCall {
  seq += 1;
  return {
    seq,
    endpoint: 'batch',
    receivedAt: new Date(window * 1000).toISOString(),
    headers: {},
    body: {},
    answer: { kind: 'answered', status, body: {} },
    umids: Array.from({ length: sms }, (_, i) => `u${seq}-${i}`),
    rateLimitWindow: window,
  };
}

describe('rateLimitWindows', () => {
  // Limit 2 calls/s, 100 SMS. At 8x8 before each window: 101: 20, 102: 40, 103: 50, 104: 82 — so 104 starts with
  // 18 SMS left, fewer than limit × 10, and is not measured; 100 is the partial first window.
  const calls = [
    call(100, 200, 10),
    call(100, 200, 10),
    call(100, 429),
    call(101, 200, 10),
    call(101, 200, 10),
    call(102, 200, 10),
    call(102, 429),
    call(103, 200, 16),
    call(103, 200, 16),
    call(104, 200, 9),
    call(104, 200, 9),
  ];

  test('measures the whole windows that began with a full backlog, and only those', () => {
    expect(SMS_PER_CALL).toBe(10);
    const w = rateLimitWindows(calls, 100, 2);
    expect(w).toEqual({
      limitUse: 5 / 3 / 2,
      acceptedCallsPerSecond: 5 / 3,
      windows: 3,
      windowsWith429: 1,
      windowsShort: 1,
      rejected429: 2,
      smsPerCall: 100 / 9,
      perWindow: '(2/1) 2/0 1/1 2/0 (2/0)',
    });
  });

  test('falls back to the second of receipt when the simulator recorded no window', () => {
    const withoutWindows = calls.map(({ rateLimitWindow: _unused, ...c }) => c);
    expect(rateLimitWindows(withoutWindows, 100, 2).perWindow).toBe('(2/1) 2/0 1/1 2/0 (2/0)');
  });
});

describe('benchConfig', () => {
  test('defaults keep the documented sizes and run every part', () => {
    const c = benchConfig({});
    expect(c).toMatchObject({
      acceptN: 200,
      acceptWarmUpN: 300,
      acceptRounds: 3,
      directN: 100,
      simLatencyMs: 150,
      throughputN: 800,
      concurrency: 32,
      handoverMessages: 100,
      inboundN: 50,
      coldRuns: 9,
    });
    expect(c.rateLimit).toBeUndefined();
    expect(c.limitedN).toBeUndefined();
    expect([...c.parts]).toEqual(['sms', 'handover', 'bundles', 'cold']);
    // 14 s of full batch calls at the limit.
    expect(limitedCount(c, 7)).toBe(7 * 10 * 14);
  });

  test('reads positive numbers and the part list; anything else keeps the default', () => {
    const c = benchConfig({
      BENCH_ACCEPT_N: '20',
      BENCH_ACCEPT_WARMUP_N: '0',
      BENCH_DIRECT_N: '-5',
      BENCH_THROUGHPUT_N: 'many',
      BENCH_RATE_LIMIT: '3',
      BENCH_LIMITED_N: '120',
      BENCH_PARTS: ' bundles, cold ,',
      BENCH_INBOUND_N: '7',
    });
    expect(c.inboundN).toBe(7);
    expect(c.acceptN).toBe(20);
    // 0 turns the warm-up off: a fresh stack's first calls are measured.
    expect(c.acceptWarmUpN).toBe(0);
    expect(benchConfig({ BENCH_ACCEPT_WARMUP_N: '-1' }).acceptWarmUpN).toBe(300);
    expect(benchConfig({ BENCH_ACCEPT_WARMUP_N: ' ' }).acceptWarmUpN).toBe(300);
    expect(c.directN).toBe(100);
    expect(c.throughputN).toBe(800);
    expect(c.rateLimit).toBe(3);
    expect(limitedCount(c, 3)).toBe(120);
    expect([...c.parts]).toEqual(['bundles', 'cold']);
    // Every function's cold start unless some are named.
    expect(c.coldFunctions).toBeUndefined();
    expect([...benchConfig({ BENCH_COLD_FUNCTIONS: 'sms-inbound, sms-accept' }).coldFunctions!]).toEqual([
      'sms-inbound',
      'sms-accept',
    ]);
    // No other checkout unless one is named; a relative folder is taken from where the bench runs.
    expect(c.coldVersus).toBeUndefined();
    expect(benchConfig({ BENCH_COLD_VERSUS: '../base' }).coldVersus).toBe(path.resolve('../base'));
  });
});

describe('coldVersusRow', () => {
  const run = (coldMs: number, firstInvokeMs: number, coldCpuMs?: number): ColdStartResult => ({
    name: 'sms-inbound',
    importMs: coldMs - firstInvokeMs,
    firstInvokeMs,
    coldMs,
    warmMs: 30,
    ...(coldCpuMs !== undefined && { coldCpuMs }),
    answers: ['0 batch failures', '0 batch failures'],
  });

  test('compares round by round: the median of the differences and the rounds this checkout was faster', () => {
    // Round 2 was slow for both sides: the medians move, the per-round differences do not.
    const mine = [run(130, 80, 120), run(190, 110, 170), run(135, 85, 125)];
    const theirs = [run(150, 95, 130), run(200, 120, 180), run(130, 90, 140)];
    const row = coldVersusRow(mine, theirs, '/tmp/base');
    expect(row.metric).toBe('Cold start sms-inbound: this checkout vs /tmp/base (diagnostic)');
    expect(row.value).toBe('135 ms vs 150 ms');
    expect(row.verdict).toBeUndefined();
    expect(row.note).toBe(
      '3 rounds in turns; per round −10 ms (median), faster in 2 of 3; import ±0 ms, first event −10 ms, CPU −10 ms',
    );
  });

  test('without CPU figures on both sides the CPU difference is left out', () => {
    const row = coldVersusRow([run(120, 70)], [run(110, 60, 100)], 'base');
    expect(row.note).toBe(
      '1 rounds in turns; per round +10 ms (median), faster in 0 of 1; import ±0 ms, first event +10 ms',
    );
  });
});

describe('coldRow', () => {
  const run = (coldMs: number, warmMs: number): ColdStartResult => ({
    name: 'sms-accept',
    importMs: coldMs / 2,
    firstInvokeMs: coldMs / 2,
    coldMs,
    warmMs,
    answers: ['HTTP 202', 'HTTP 202'],
  });

  test('reports the median round against the target, with the spread', () => {
    const row = coldRow([run(300, 9), run(120, 7), run(150, 8)]);
    expect(row.value).toBe('150 ms vs 8 ms');
    expect(row.verdict).toBe('met');
    expect(row.note).toBe(
      'median of 3 (120 ms–300 ms); import 75 ms + first 75 ms; answers HTTP 202, HTTP 202',
    );
  });

  test('a median over the target (150 ms, issue 13) is missed', () => {
    expect(TARGETS.coldStartMs).toBe(150);
    expect(coldRow([run(250, 9), run(160, 7), run(120, 8)]).verdict).toBe('missed');
  });

  test("the children's CPU time is shown as the median of the rounds", () => {
    const row = coldRow([
      { ...run(300, 9), coldCpuMs: 90 },
      { ...run(120, 7), coldCpuMs: 70 },
      { ...run(150, 8), coldCpuMs: 80 },
    ]);
    expect(row.note).toBe(
      'median of 3 (120 ms–300 ms); import 75 ms + first 75 ms, CPU 80 ms; answers HTTP 202, HTTP 202',
    );
  });
});

describe('bundle sizes are held to their size when issue 13 began', () => {
  const bundle = (name: string, bytes: number) => ({ name, file: '', bytes, topInputs: [] }) as never;

  test('a bundle may not grow past its baseline, even under the 500 KB ceiling', () => {
    const baseline = BUNDLE_BASELINE_BYTES['sms-status']!;
    expect(bundleLimitBytes('sms-status')).toBe(baseline);
    expect(bundleRow(bundle('sms-status', baseline)).verdict).toBe('met');
    expect(bundleRow(bundle('sms-status', baseline + 1)).verdict).toBe('missed');
  });

  test('a function without a baseline (added later) is held to the 500 KB ceiling', () => {
    expect(bundleLimitBytes('sms-opt-out-get')).toBe(TARGETS.bundleBytes);
    expect(bundleLimitBytes('__proto__')).toBe(TARGETS.bundleBytes);
  });

  test('a documented exception is held to its own cap, past the ceiling', () => {
    const cap = BUNDLE_CAP_EXCEPTIONS['sms-inbound']!;
    expect(cap).toBeGreaterThan(TARGETS.bundleBytes);
    expect(bundleRow(bundle('sms-inbound', cap)).verdict).toBe('met');
    expect(bundleRow(bundle('sms-inbound', cap + 1)).verdict).toBe('missed');
  });
});

describe('accept latency against the direct 8x8 call', () => {
  const summary = (p50: number, p99: number): LatencySummary => ({
    count: 200,
    p50,
    p90: p99,
    p99,
    min: p50,
    max: p99,
    mean: p50,
  });
  const rows = (bridgeP99: number, directP99: number) =>
    acceptRows(benchConfig({}), {
      bridge: summary(30, bridgeP99),
      load: { busyCores: 1.864, machineCores: 2 },
      direct: summary(150, directP99),
      roundRatios: [bridgeP99 / directP99],
      toSimulator: summary(50, 100),
    });

  test("p99 at most 0.4× the direct call's p99 is met, above it missed", () => {
    expect(rows(80, 200)[0]).toMatchObject({ verdict: 'met', target: "p99 ≤ 0.4× the direct call's" });
    expect(rows(81, 200)[0]?.verdict).toBe('missed');
    expect(rows(81, 200)[0]?.note).toBe(
      "200 calls, one at a time; p99 0.41× the direct call's p99; the local stack kept 1.86 of the machine's 2 cores busy meanwhile",
    );
  });

  test('of several rounds the row reports the median ratio, and says so with every round in run order', () => {
    const round = (bridgeP99: number, directP99: number) => ({
      bridge: summary(30, bridgeP99),
      load: { busyCores: 1.5, machineCores: 2 },
      direct: summary(150, directP99),
    });
    const rounds = [round(90, 200), round(50, 200), round(66, 165)];
    expect(medianRound(rounds)).toBe(rounds[2]);
    // Of an even number, the higher of the middle two.
    expect(medianRound(rounds.slice(0, 2))).toBe(rounds[0]);
    expect(() => medianRound([])).toThrow(RangeError);
    const [row] = acceptRows(benchConfig({}), {
      ...medianRound(rounds),
      roundRatios: rounds.map(p99Ratio),
      toSimulator: summary(50, 100),
    });
    expect(row).toMatchObject({ value: '30 ms / 66 ms', verdict: 'met' });
    expect(row?.note).toBe(
      "200 calls, one at a time; p99 0.4× the direct call's p99 (the median of 3 rounds: 0.45×, 0.25×, 0.4×, in run order); the local stack kept 1.5 of the machine's 2 cores busy meanwhile",
    );
  });

  test('the run with the SMS poller paused is a diagnostic row without a target, with its own ratio', () => {
    const withPaused = acceptRows(benchConfig({}), {
      bridge: summary(30, 300),
      load: { busyCores: 1.9, machineCores: 2 },
      direct: summary(150, 200),
      roundRatios: [1.5],
      toSimulator: summary(50, 100),
      deliveryPaused: {
        bridge: summary(15, 60),
        direct: summary(150, 200),
        load: { busyCores: 0.7, machineCores: 2 },
      },
    });
    expect(withPaused[0]?.verdict).toBe('missed');
    const paused = withPaused.find((r) => r.metric.includes('SMS poller paused'));
    expect(paused).toMatchObject({ value: '15 ms / 60 ms' });
    expect(paused?.verdict).toBeUndefined();
    expect(paused?.target).toBeUndefined();
    expect(paused?.note).toContain(
      "p99 0.3× the direct call's p99 (200 ms) in that run; the local stack kept 0.7 of the machine's 2 cores busy meanwhile",
    );
    expect(rows(80, 200).some((r) => r.metric.includes('SMS poller paused'))).toBe(false);
  });
});
