/** The benchmark's report rows: one per measurement, with its target and verdict where the task sets one. */
import type { BundleResult, ColdStartResult } from '../bundles';
import { verdict, type ReportRow } from '../report';
import type { RssSummary } from '../rss';
import { formatBytes, formatMs, formatPercent, percentile, round } from '../stats';
import { p99Ratio, type AcceptResult, type CpuLoad } from './accept-latency';
import { queueBatching } from '../../../functions/shared/config';
import type { LatencySummary } from '../stats';
import { bundleLimitBytes, SMS_PER_CALL, TARGETS, type BenchConfig } from './config';

const smsBatching = () => queueBatching('sms', process.env);
import type { HandoverResult } from './handover';
import type { InboundResult } from './inbound';
import type { BacklogResult, LimitedResult, ThroughputResult } from './throughput';

export function throughputRow(config: BenchConfig, open: ThroughputResult): ReportRow {
  return {
    metric: 'SMS end-to-end throughput, no rate limit (accepted → at 8x8)',
    value: `${round(open.endToEndPerSecond)} msg/s`,
    note: `${open.messages} SMS, ${config.concurrency} callers; accept alone ${round(open.acceptPerSecond)} msg/s; ${round(open.callsPerMessage, 3)} 8x8 calls per SMS`,
  };
}

/** How busy the local stack kept the machine during a loop of POST /sms calls. */
function busy(load: CpuLoad): string {
  return `the local stack kept ${round(load.busyCores, 2)} of the machine's ${load.machineCores} cores busy meanwhile`;
}

/**
 * Diagnostic row, no target: accept latency while the local delivery pipeline is idle (accept-latency.ts), so the
 * report tells how much of the accept tail is the local stack's own delivery work sharing the process and cores.
 */
function deliveryPausedRow(paused: NonNullable<AcceptResult['deliveryPaused']>): ReportRow {
  return {
    metric: 'POST /sms accept p50 / p99 with the SMS poller paused (diagnostic)',
    value: `${formatMs(paused.bridge.p50)} / ${formatMs(paused.bridge.p99)}`,
    note: `${paused.bridge.count} calls again while nothing is delivered (the local delivery worker, 8x8 simulator and DynamoDB stand-in share one process and its cores with accept; in AWS they do not; the gap is the delivery of the SMS accepted just before: the worker's batch, its pacer and record writes, and two receipts per SMS (spread over ~2 s, as carriers send them), each an sms-receipt invocation with its DynamoDB calls on the one serial stand-in that also serves accept's); p99 ${round(p99Ratio(paused), 2)}× the direct call's p99 (${formatMs(paused.direct.p99)}) in that run; ${busy(paused.load)}`,
  };
}

/** Which rounds the accept row's figures come from, when there were several. */
function roundsNote(ratios: readonly number[]): string {
  if (ratios.length < 2) return '';
  return ` (the median of ${ratios.length} rounds: ${ratios.map((r) => `${round(r, 2)}×`).join(', ')}, in run order)`;
}

/** POST /sms accept latency beside the direct 8x8 call in the same run (also BENCH_PARTS=sms-accept alone). */
export function acceptRows(config: BenchConfig, accept: AcceptResult): ReportRow[] {
  const ratio = p99Ratio(accept);
  return [
    {
      metric: 'POST /sms accept latency p50 / p99',
      value: `${formatMs(accept.bridge.p50)} / ${formatMs(accept.bridge.p99)}`,
      target: `p99 ≤ ${TARGETS.acceptToDirectP99}× the direct call's`,
      verdict: verdict(ratio <= TARGETS.acceptToDirectP99),
      note: `${accept.bridge.count} calls, one at a time; p99 ${round(ratio, 2)}× the direct call's p99${roundsNote(accept.roundRatios)}; ${busy(accept.load)}`,
    },
    {
      metric: 'POST /sms sent → SMS received by the 8x8 simulator p50 / p99',
      value: `${formatMs(accept.toSimulator.p50)} / ${formatMs(accept.toSimulator.p99)}`,
      note: `the same ${accept.toSimulator.count} SMS: queue, poller, delivery worker and the 8x8 call`,
    },
    {
      metric: `Direct 8x8 send as Cognigy's extension makes it, p50 / p99 (${config.simLatencyMs} ms simulated)`,
      value: `${formatMs(accept.direct.p50)} / ${formatMs(accept.direct.p99)}`,
      note: `with the bridge a flow waits ${round(accept.bridge.p50 / accept.direct.p50, 2)}× as long (p50)`,
    },
    ...(accept.deliveryPaused ? [deliveryPausedRow(accept.deliveryPaused)] : []),
    ...(accept.warmUp ? [warmUpRow(accept.warmUp)] : []),
  ];
}

/** Diagnostic row, no target: the first POST /sms a fresh local stack answers, while its functions still compile. */
function warmUpRow(warmUp: NonNullable<AcceptResult['warmUp']>): ReportRow {
  return {
    metric: 'POST /sms accept p50 / p99 of a fresh stack, the warm-up (diagnostic)',
    value: `${formatMs(warmUp.bridge.p50)} / ${formatMs(warmUp.bridge.p99)}`,
    note: `the first ${warmUp.bridge.count} calls, one at a time, delivered and both receipts taken before the rows above were measured (BENCH_ACCEPT_WARMUP_N); each function's V8 isolate still compiles its hot code meanwhile, on the same cores; ${busy(warmUp.load)}`,
  };
}

export function idleRow(idle: LatencySummary): ReportRow {
  return {
    metric: 'Single SMS on an idle queue, accepted → at 8x8 p50 / p99',
    value: `${formatMs(idle.p50)} / ${formatMs(idle.p99)}`,
    target: `p99 ≤ ${formatMs(TARGETS.idleToEightByEightP99Ms)}`,
    verdict: verdict(idle.p99 <= TARGETS.idleToEightByEightP99Ms),
    note: `${idle.count} SMS one at a time: the batching window (${smsBatching().batchSize} SMS or ${smsBatching().batchingWindowSeconds} s) is what a lone SMS waits`,
  };
}

export function backlogRow(backlog: BacklogResult): ReportRow {
  return {
    metric: 'SMS backlog drained without a rate limit: 8x8 calls per SMS',
    value: `${round(backlog.callsPerMessage, 3)}`,
    target: `≤ ${TARGETS.backlogCallsPerSms}`,
    verdict: verdict(backlog.callsPerMessage <= TARGETS.backlogCallsPerSms),
    note: `${backlog.messages} SMS queued, then drained in ${round(backlog.drainSeconds)} s (${round(backlog.drainPerSecond)} msg/s, ${round(backlog.callsPerSecond)} 8x8 calls/s)`,
  };
}

export function limitedRow(
  limited: LimitedResult,
  limit: number,
  paced = true,
  calibration?: BacklogResult,
): ReportRow {
  const met =
    limited.windows >= 8 &&
    limited.limitUse >= TARGETS.rateLimitRatio &&
    limited.rejected429Per10s <= TARGETS.rateLimited429Per10s;
  return {
    metric: `SMS throughput at an 8x8 limit of ${limit} requests/s, backlog queued (accepted calls/s ÷ limit; 429 per 10 s)`,
    value: `${formatPercent(limited.limitUse)} (${round(limited.acceptedCallsPerSecond)} calls/s); ${round(limited.rejected429Per10s, 2)} × 429 per 10 s`,
    target: `≥ ${formatPercent(TARGETS.rateLimitRatio)}; ≤ ${TARGETS.rateLimited429Per10s} × 429 per 10 s`,
    // Too few windows measure nothing: then the row is not a pass.
    verdict: verdict(met),
    note:
      `${paced ? `SMS_RATE_LIMIT_PER_SECOND=${limit}` : 'unpaced'}, SMS_QUEUE_BATCH_SIZE=${SMS_PER_CALL}; ` +
      (calibration
        ? `the limit is half the ${round(calibration.callsPerSecond)} 8x8 calls/s the same stack made draining ${calibration.messages} SMS without a limit just before; `
        : 'limit from BENCH_RATE_LIMIT; ') +
      `${limited.messages} SMS queued, then drained in ${round(limited.backlogSeconds)} s (${round(limited.endToEndPerSecond)} msg/s); ` +
      `${limited.windows} whole 1-s windows with a backlog, ${limited.windowsShort} under the limit, 429 answered in ${limited.windowsWith429}; ` +
      `${round(limited.smsPerCall, 1)} SMS per accepted call; ${round(limited.callsPerMessage, 3)} calls per SMS incl. ${limited.rejected429} answered 429`,
  };
}

export function handoverRows(handover: HandoverResult): ReportRow[] {
  return [
    {
      metric: 'Chat Gateway webhook acknowledgement p50 / p99',
      value: `${formatMs(handover.webhookAck.p50)} / ${formatMs(handover.webhookAck.p99)}`,
      target: `p99 ≤ ${TARGETS.webhookAckP99Ms} ms`,
      verdict: verdict(handover.webhookAck.p99 <= TARGETS.webhookAckP99Ms),
      note: `${handover.webhookAck.count} deliveries, as 8x8 times them`,
    },
    {
      metric: 'Agent message → Cognigy notify p50 / p99',
      value: `${formatMs(handover.agentToCognigy.p50)} / ${formatMs(handover.agentToCognigy.p99)}`,
      target: `p50 ≤ ${TARGETS.agentToCognigyP50Ms} ms`,
      verdict: verdict(handover.agentToCognigy.p50 <= TARGETS.agentToCognigyP50Ms),
      note: `${handover.agentToCognigy.count} messages over 5 conversations, one at a time`,
    },
  ];
}

/** Inbound SMS → Cognigy (issue 14): no target was set, the rows report. */
export function inboundRows(inbound: InboundResult): ReportRow[] {
  const pair = (l: LatencySummary) => `${formatMs(l.p50)} / ${formatMs(l.p99)}`;
  return [
    {
      metric: 'Inbound SMS → Cognigy inject (reply to a flow) p50 / p99',
      value: pair(inbound.replyToInject),
      note: `${inbound.replyToInject.count} replies, one at a time: handset texts → 8x8's webhook → smsInbound FIFO queue → reply-window lookup → inject recorded by the Cognigy simulator`,
    },
    {
      metric: 'Inbound SMS → Cognigy REST Endpoint call (SMS bot) p50 / p99',
      value: pair(inbound.botToRest),
      note: `${inbound.botToRest.count} SMS from numbers no flow texted, one at a time; until the bot's answer is at the handset (through the SMS queue and 8x8): ${pair(inbound.botToHandset)}`,
    },
  ];
}

export function bundleRow(b: BundleResult): ReportRow {
  return {
    metric: `Bundle ${b.name} (minified ESM)`,
    value: formatBytes(b.bytes),
    target: `≤ ${formatBytes(bundleLimitBytes(b.name))}`,
    verdict: verdict(b.bytes <= bundleLimitBytes(b.name)),
    note: b.topInputs
      .slice(0, 3)
      .map((t) => `${t.path} ${formatBytes(t.bytes)}`)
      .join(', '),
  };
}

/** The median round of a function's cold starts (by import + first event), with the spread in the note. */
export function coldRow(runs: ColdStartResult[]): ReportRow {
  const sorted = [...runs].sort((a, b) => a.coldMs - b.coldMs);
  const c = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const warm = percentile(
    runs.map((r) => r.warmMs),
    50,
  );
  const spread =
    runs.length > 1
      ? `median of ${runs.length} (${formatMs(sorted[0]!.coldMs)}–${formatMs(sorted[sorted.length - 1]!.coldMs)}); `
      : '';
  return {
    metric: `Cold start ${c.name} (import + first event) vs warm`,
    value: `${formatMs(c.coldMs)} vs ${formatMs(warm)}`,
    target: `≤ ${TARGETS.coldStartMs} ms`,
    verdict: verdict(c.coldMs <= TARGETS.coldStartMs),
    note: `${spread}import ${formatMs(c.importMs)} + first ${formatMs(c.firstInvokeMs)}${cpu(runs)}; answers ${c.answers.join(', ')}`,
  };
}

/**
 * BENCH_COLD_VERSUS: this checkout's cold starts (`mine`) against another checkout's (`theirs`), taken in turns in
 * the same rounds. The medians, and per round the difference (mine − theirs): its median and how many rounds this
 * checkout was faster, which say more than two medians on a machine whose load moves between rounds.
 */
export function coldVersusRow(
  mine: readonly ColdStartResult[],
  theirs: readonly ColdStartResult[],
  versus: string,
): ReportRow {
  const rounds = Math.min(mine.length, theirs.length);
  const median = (values: number[]) => percentile(values, 50);
  const paired = (pick: (r: ColdStartResult) => number | undefined) => {
    const diffs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = pick(mine[i]!);
      const b = pick(theirs[i]!);
      if (a !== undefined && b !== undefined) diffs.push(a - b);
    }
    return diffs;
  };
  const signed = (ms: number) => `${ms > 0 ? '+' : ms < 0 ? '−' : '±'}${formatMs(Math.abs(ms))}`;
  const cold = paired((r) => r.coldMs);
  const first = paired((r) => r.firstInvokeMs);
  const importMs = paired((r) => r.importMs);
  const cpuMs = paired((r) => r.coldCpuMs);
  return {
    metric: `Cold start ${mine[0]?.name ?? '?'}: this checkout vs ${versus} (diagnostic)`,
    value: `${formatMs(median(mine.map((r) => r.coldMs)))} vs ${formatMs(median(theirs.map((r) => r.coldMs)))}`,
    note:
      `${rounds} rounds in turns; per round ${signed(median(cold))} (median), faster in ` +
      `${cold.filter((d) => d < 0).length} of ${cold.length}; import ${signed(median(importMs))}, first event ` +
      `${signed(median(first))}${cpuMs.length > 0 ? `, CPU ${signed(median(cpuMs))}` : ''}`,
  };
}

/** The median CPU time of the rounds' import + first event, when the children measured it. */
function cpu(runs: ColdStartResult[]): string {
  const values = runs.flatMap((r) => (r.coldCpuMs === undefined ? [] : [r.coldCpuMs]));
  return values.length > 0 ? `, CPU ${formatMs(percentile(values, 50))}` : '';
}

export function memoryRow(rest: RssSummary, underLoadMb: number): ReportRow {
  return {
    metric: 'Local stack resident memory at rest / under load',
    value: `${round(rest.meanMb)} MB / ${Number.isFinite(underLoadMb) ? `${round(underLoadMb)} MB` : 'n/a'}`,
    note: 'one process: gateway, pollers, simulators; each function and the SQS and DynamoDB stand-ins on worker threads',
  };
}
