/**
 * End-to-end SMS throughput (accepted → at the 8x8 simulator): once without a limit, once while 8x8's request
 * rate limit binds on a queued backlog.
 */
import type { SmsApiCall } from '../../simulators/sms';
import { runPool } from '../load';
import type { RssSampler, RssSummary } from '../rss';
import { perSecond } from '../stats';
import { SMS_PER_CALL, type BenchConfig } from './config';
import { SETTINGS } from '../../../functions/shared/catalogue';
import { summarise, type LatencySummary } from '../stats';
import { sleep } from '../load';
import { acceptSms, acceptSmsBacklog, arrivalsAtSimulator, lastArrival, type BenchStack } from './stack';

export interface ThroughputResult {
  messages: number;
  acceptPerSecond: number;
  endToEndPerSecond: number;
  callsPerMessage: number;
  spanMs: number;
  /** Resident memory while the run lasted (when sampled). */
  rss?: RssSummary;
}

export interface LimitedResult extends RateLimitWindows {
  messages: number;
  /** From resume to the last SMS at 8x8. */
  endToEndPerSecond: number;
  callsPerMessage: number;
  backlogSeconds: number;
  /** 429 answers per 10 s of backlog (from resume to the last SMS at 8x8). */
  rejected429Per10s: number;
}

export interface BacklogResult {
  messages: number;
  /** 8x8 calls (every answer counted) per SMS while the backlog drained. */
  callsPerMessage: number;
  /** 8x8 calls per second while it drained (what the rate-limited run halves). */
  callsPerSecond: number;
  drainPerSecond: number;
  drainSeconds: number;
}

/**
 * 8x8 calls per SMS when a backlog waits on the queue and 8x8 sets no limit: the SMS poller is paused while
 * `count` SMS are accepted, then resumed; every 8x8 call until the last SMS is at 8x8 is counted.
 */
export async function backlogThroughput(
  { stack, sms, api }: BenchStack,
  config: BenchConfig,
  count: number,
): Promise<BacklogResult> {
  sms.reset();
  sms.setFaults({ clear: true, latencyMs: config.simLatencyMs });
  await stack.pauseQueue('sms');
  const ids = await acceptSmsBacklog(api, count, 'Backlog');
  const resumedAt = Date.now();
  stack.resumeQueue('sms');
  const lastAt = lastArrival(await arrivalsAtSimulator(sms, ids, 180_000), resumedAt);
  const drainMs = Math.max(1, lastAt - resumedAt);
  return {
    messages: count,
    callsPerMessage: sms.requests.length / count,
    callsPerSecond: perSecond(sms.requests.length, drainMs),
    drainPerSecond: perSecond(count, drainMs),
    drainSeconds: drainMs / 1000,
  };
}

/**
 * A single SMS on an idle queue, `n` times: each POST /sms waits until the previous SMS is at 8x8 and the worker
 * has settled, so every one meets an idle queue and pays the whole batching window. Measured from the 202 answer
 * to the 8x8 simulator receiving the SMS.
 */
export async function idleLatency({ sms, api }: BenchStack, config: BenchConfig): Promise<LatencySummary> {
  sms.setFaults({ clear: true, latencyMs: config.simLatencyMs });
  const latencies: number[] = [];
  for (let i = 0; i < config.idleN; i++) {
    await sleep(200);
    const { messageId } = await acceptSms(api, i, `Idle ${i}`);
    const acceptedAt = Date.now();
    const arrivals = await arrivalsAtSimulator(sms, [messageId], 30_000);
    latencies.push(arrivals.get(messageId)! - acceptedAt);
  }
  return summarise(latencies);
}

/** `count` SMS accepted by `config.concurrency` callers at once, until every one is at 8x8. */
export async function throughput(
  { sms, api }: BenchStack,
  config: BenchConfig,
  count: number,
  sampler?: RssSampler,
): Promise<ThroughputResult> {
  sms.reset();
  sms.setFaults({ latencyMs: config.simLatencyMs });
  sampler?.start();
  const started = performance.now();
  const startedAt = Date.now();
  const ids = await runPool(
    count,
    config.concurrency,
    async (i) => (await acceptSms(api, i, `Throughput ${i}`)).messageId,
  );
  const acceptedMs = performance.now() - started;
  const lastAt = lastArrival(await arrivalsAtSimulator(sms, ids, 120_000), startedAt);
  const rss = sampler?.stop();
  const spanMs = Math.max(1, lastAt - startedAt);
  return {
    messages: count,
    acceptPerSecond: perSecond(count, acceptedMs),
    endToEndPerSecond: perSecond(count, spanMs),
    callsPerMessage: sms.requests.length / count,
    spanMs,
    ...(rss ? { rss } : {}),
  };
}

/**
 * SMS throughput while 8x8's rate limit binds. The SMS poller is paused while all `count` SMS are accepted, so a
 * real backlog waits on the queue; then it resumes and the bridge, paced at the same limit, drains it against the
 * limit (see rateLimitWindows for what is measured).
 */
export async function limitedThroughput(
  { stack, sms, api }: BenchStack,
  config: BenchConfig,
  count: number,
  rateLimit: number,
  log: (line: string) => void,
): Promise<LimitedResult> {
  sms.reset();
  sms.setFaults({ latencyMs: config.simLatencyMs, rateLimit: { perSecond: rateLimit } });
  // The bridge is told 8x8's limit, as an operator sets SMS_RATE_LIMIT_PER_SECOND to the sub-account's.
  if (config.paceAtLimit)
    stack.updateFunctionSettings('sms-deliver', { [SETTINGS.smsRateLimitPerSecond]: String(rateLimit) });
  try {
    await stack.pauseQueue('sms');
    const ids = await acceptSmsBacklog(api, count, 'Limited');
    const resumedAt = Date.now();
    stack.resumeQueue('sms');
    const lastAt = lastArrival(await arrivalsAtSimulator(sms, ids, 300_000), resumedAt);
    const windows = rateLimitWindows(sms.requests, count, rateLimit);
    log(`accepted/429 calls per window: ${windows.perWindow} (unmeasured in brackets)`);
    const backlogSeconds = (lastAt - resumedAt) / 1000;
    return {
      ...windows,
      messages: count,
      endToEndPerSecond: perSecond(count, Math.max(1, lastAt - resumedAt)),
      callsPerMessage: sms.requests.length / count,
      backlogSeconds,
      rejected429Per10s: (windows.rejected429 * 10) / Math.max(1, backlogSeconds),
    };
  } finally {
    if (config.paceAtLimit)
      stack.updateFunctionSettings('sms-deliver', { [SETTINGS.smsRateLimitPerSecond]: undefined });
  }
}

export interface RateLimitWindows {
  /** Accepted 8x8 calls per measured window ÷ the limit. */
  limitUse: number;
  acceptedCallsPerSecond: number;
  /** Whole one-second windows measured: a backlog of at least `limit` full batches existed at their start. */
  windows: number;
  /** Of those, windows in which 8x8 answered 429 (the bridge asked for more than the limit). */
  windowsWith429: number;
  /** Measured windows with fewer accepted calls than the limit. */
  windowsShort: number;
  rejected429: number;
  /** SMS per accepted 8x8 call (mean). */
  smsPerCall: number;
  /** Accepted/429 calls of every window, the unmeasured ones in brackets. */
  perWindow: string;
}

/**
 * How much of the limit the bridge used. Measured are the simulator's own one-second rate-limit windows (the
 * second that counted each call, after its simulated latency) from the first whole window after the first call, as
 * long as at least `limit` full batches (limit × 10 SMS) had not yet reached 8x8 at the window's start: so the
 * bridge had the SMS to fill each measured window, and every window with fewer accepted calls than the limit is
 * the bridge's loss.
 */
export function rateLimitWindows(
  calls: readonly SmsApiCall[],
  count: number,
  rateLimit: number,
): RateLimitWindows {
  const answered = (status: number) =>
    calls.filter((c) => c.answer.kind === 'answered' && c.answer.status === status);
  const accepted = answered(200);
  const rejected = answered(429);
  const windowOf = (c: SmsApiCall) => c.rateLimitWindow ?? Math.floor(Date.parse(c.receivedAt) / 1000);
  const acceptedIn = countBy(accepted, windowOf, () => 1);
  const smsIn = countBy(accepted, windowOf, (c) => c.umids.length);
  const rejectedIn = countBy(rejected, windowOf, () => 1);
  const first = Math.min(...calls.map(windowOf));
  const last = Math.max(...calls.map(windowOf));
  // Start from the first whole window after the first call; stop at the first window whose start had fewer than
  // `limit` full batches left (the tail, when the bridge no longer had the SMS to fill a window). A full batch is
  // one poll batch of the SMS queue (SMS_PER_CALL), what one 8x8 call carries under a backlog.
  const measured: number[] = [];
  let atEightByEight = smsIn.get(first) ?? 0;
  for (let w = first + 1; w <= last; w++) {
    if (count - atEightByEight < rateLimit * SMS_PER_CALL) break;
    measured.push(w);
    atEightByEight += smsIn.get(w) ?? 0;
  }
  const perWindow: string[] = [];
  for (let w = first; w <= last; w++) {
    const counts = `${acceptedIn.get(w) ?? 0}/${rejectedIn.get(w) ?? 0}`;
    perWindow.push(measured.includes(w) ? counts : `(${counts})`);
  }
  const used = measured.reduce((sum, w) => sum + (acceptedIn.get(w) ?? 0), 0);
  const windows = Math.max(1, measured.length);
  return {
    limitUse: used / windows / rateLimit,
    acceptedCallsPerSecond: used / windows,
    windows: measured.length,
    windowsWith429: measured.filter((w) => (rejectedIn.get(w) ?? 0) > 0).length,
    windowsShort: measured.filter((w) => (acceptedIn.get(w) ?? 0) < rateLimit).length,
    rejected429: rejected.length,
    smsPerCall: accepted.reduce((sum, c) => sum + c.umids.length, 0) / Math.max(1, accepted.length),
    perWindow: perWindow.join(' '),
  };
}

/** Sum of `weight` per key. */
function countBy<T>(items: readonly T[], key: (item: T) => number, weight: (item: T) => number) {
  const sums = new Map<number, number>();
  for (const item of items) sums.set(key(item), (sums.get(key(item)) ?? 0) + weight(item));
  return sums;
}
