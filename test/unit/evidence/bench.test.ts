/**
 * The benchmark's own arithmetic (lib/evidence/bench/): which rate-limit windows count and what they add up to,
 * and how BENCH_* variables become the run's sizes. No timing: the calls are built by hand.
 */
import { benchConfig, limitedCount, SMS_PER_CALL } from '../../../lib/evidence/bench/config';
import { coldRow } from '../../../lib/evidence/bench/rows';
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
      directN: 100,
      simLatencyMs: 150,
      throughputN: 800,
      concurrency: 32,
      handoverMessages: 100,
      coldRuns: 5,
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
      BENCH_DIRECT_N: '-5',
      BENCH_THROUGHPUT_N: 'many',
      BENCH_RATE_LIMIT: '3',
      BENCH_LIMITED_N: '120',
      BENCH_PARTS: ' bundles, cold ,',
    });
    expect(c.acceptN).toBe(20);
    expect(c.directN).toBe(100);
    expect(c.throughputN).toBe(800);
    expect(c.rateLimit).toBe(3);
    expect(limitedCount(c, 3)).toBe(120);
    expect([...c.parts]).toEqual(['bundles', 'cold']);
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

  test('a median over the target is missed', () => {
    expect(coldRow([run(250, 9), run(210, 7), run(120, 8)]).verdict).toBe('missed');
  });
});
