/** POST /sms accept latency beside a direct 8x8 call, and how long the same SMS take to reach 8x8. */
import os from 'node:os';
import { callJson } from '../load';
import { summarise, type LatencySummary } from '../stats';
import type { BenchConfig } from './config';
import { acceptSms, arrivalsAtSimulator, destination, receiptsAcknowledged, type BenchStack } from './stack';

/** How busy the bench's process (the whole local stack) kept the machine while the POST /sms calls ran. */
export interface CpuLoad {
  /** CPU time of every thread of the process ÷ wall time: cores kept busy on average. */
  busyCores: number;
  /** Cores the machine offers (os.availableParallelism). */
  machineCores: number;
}

/** One round of the two loops: POST /sms calls beside direct 8x8 calls. */
export interface AcceptRound {
  bridge: LatencySummary;
  /** While the POST /sms calls of `bridge` ran. */
  load: CpuLoad;
  direct: LatencySummary;
}

/** bridge p99 ÷ direct p99 of a round: the row's measure. */
export const p99Ratio = (round: AcceptRound): number => round.bridge.p99 / round.direct.p99;

/** The round with the median p99 ratio (of an even number, the higher of the middle two). */
export function medianRound<T extends AcceptRound>(rounds: readonly T[]): T {
  if (rounds.length === 0) throw new RangeError('No accept rounds to choose from');
  const sorted = [...rounds].sort((a, b) => p99Ratio(a) - p99Ratio(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

export interface AcceptResult extends AcceptRound {
  /** Every round's p99 ratio, in run order; `bridge`, `load` and `direct` are those of the median round. */
  roundRatios: number[];
  /**
   * Diagnostic (no target): the warm-up's POST /sms calls, the first a fresh stack answers (undefined when
   * BENCH_ACCEPT_WARMUP_N=0, and the measured loops are then those first calls).
   */
  warmUp?: { bridge: LatencySummary; load: CpuLoad };
  /** From sending POST /sms to the SMS arriving at the 8x8 simulator (queue, poller, worker, 8x8 call), all rounds. */
  toSimulator: LatencySummary;
  /**
   * Diagnostic (no target): the same two loops again while the SMS queue's poller is paused, so nothing is delivered
   * meanwhile. The local stack runs the delivery worker, the 8x8 simulator and the DynamoDB/SQS stand-ins in one
   * process on the same cores as the accept path; in AWS each runs on its own instances. The gap between the two
   * runs is what the local delivery pipeline adds to the accept tail.
   */
  deliveryPaused?: AcceptRound;
}

export async function acceptLatency(s: BenchStack, config: BenchConfig): Promise<AcceptResult> {
  s.sms.setFaults({ clear: true, latencyMs: config.simLatencyMs });
  const warmUp = config.acceptWarmUpN > 0 ? await warmPipeline(s, config.acceptWarmUpN) : undefined;
  const rounds: AcceptRound[] = [];
  const toSimulator: number[] = [];
  for (let round = 0; round < config.acceptRounds; round++) {
    const sentAt = new Map<string, number>();
    // Both loops run at once, one request in flight each (a flow waits for its HTTP Request node), so they share
    // the machine's conditions.
    const [bridge, direct] = await Promise.all([
      bridgeSends(s, config.acceptN, sentAt),
      directSends(s.smsCredentials, config.directN),
    ]);
    const ids = [...sentAt.keys()];
    const arrivals = await arrivalsAtSimulator(s.sms, ids, 60_000);
    for (const [id, at] of sentAt) toSimulator.push(arrivals.get(id)! - at);
    // The next round (or the paused loops) starts as this one did: nothing of this round still being receipted.
    await receiptsAcknowledged(s.sms, ids, 60_000);
    rounds.push({ bridge: summarise(bridge.latencies), load: bridge.load, direct: summarise(direct) });
  }
  const deliveryPaused = await withDeliveryPaused(s, config);
  return {
    ...(warmUp ? { warmUp } : {}),
    ...medianRound(rounds),
    roundRatios: rounds.map(p99Ratio),
    toSimulator: summarise(toSimulator),
    deliveryPaused,
  };
}

/**
 * `n` SMS through the whole pipeline before anything is measured: accepted one at a time, delivered to the 8x8
 * simulator, both receipts taken by the bridge. Each function of a fresh local stack runs in its own V8 isolate
 * and compiles its hot code during its first few hundred events; on this 2-core bench V8's compiler threads took
 * about a quarter of the process's CPU during the first 200 calls (measured per thread), on the cores the measured
 * calls need. A Lambda environment serving flows is long past that; the cold-start rows measure the first event.
 */
async function warmPipeline(s: BenchStack, n: number): Promise<NonNullable<AcceptResult['warmUp']>> {
  const sentAt = new Map<string, number>();
  const loop = await bridgeSends(s, n, sentAt, 'Bench warm-up');
  const ids = [...sentAt.keys()];
  await arrivalsAtSimulator(s.sms, ids, 60_000);
  await receiptsAcknowledged(s.sms, ids, 60_000);
  return { bridge: summarise(loop.latencies), load: loop.load };
}

/** The loops of acceptLatency with the SMS poller paused; its SMS are then delivered before the next part. */
async function withDeliveryPaused(
  s: BenchStack,
  config: BenchConfig,
): Promise<NonNullable<AcceptResult['deliveryPaused']>> {
  const sentAt = new Map<string, number>();
  await s.stack.pauseQueue('sms');
  let loops: [BridgeLoop, number[]];
  try {
    loops = await Promise.all([
      bridgeSends(s, config.acceptN, sentAt),
      directSends(s.smsCredentials, config.directN),
    ]);
  } finally {
    s.stack.resumeQueue('sms');
  }
  await arrivalsAtSimulator(s.sms, [...sentAt.keys()], 60_000);
  return { bridge: summarise(loops[0].latencies), direct: summarise(loops[1]), load: loops[0].load };
}

interface BridgeLoop {
  latencies: number[];
  load: CpuLoad;
}

/**
 * `n` POST /sms one after another; their latencies, how busy the process kept the machine meanwhile (every thread:
 * gateway, functions, stand-ins, simulators), and when each messageId was sent into `sentAt`.
 */
async function bridgeSends(
  { api }: BenchStack,
  n: number,
  sentAt: Map<string, number>,
  text = 'Bench accept',
): Promise<BridgeLoop> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < n; i++) {
    const at = Date.now();
    const { messageId, ms } = await acceptSms(api, i, `${text} ${i}`);
    latencies.push(ms);
    sentAt.set(messageId, at);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - began;
  return {
    latencies,
    load: { busyCores: (cpu.user + cpu.system) / 1000 / wallMs, machineCores: os.availableParallelism() },
  };
}

/** `n` direct 8x8 sends one after another, with the body Cognigy's 8x8 extension sends. */
async function directSends(credentials: BenchStack['smsCredentials'], n: number): Promise<number[]> {
  const url = `${credentials.baseUrl}/api/v1/subaccounts/${credentials.subAccountId}/messages`;
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    // Country null when empty, encoding AUTO: as the extension sends it.
    const answer = await callJson(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${credentials.apiKey}` },
      body: { destination: destination(i + 500_000), text: `Direct ${i}`, country: null, encoding: 'AUTO' },
    });
    if (answer.status !== 200) throw new Error(`8x8 simulator answered ${answer.status}: ${answer.text}`);
    latencies.push(answer.ms);
  }
  return latencies;
}
