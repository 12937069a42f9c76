/**
 * One benchmark run (`npm run bench`): bundles every function as the CDK construct does, starts the local stack
 * and measures the parts `config.parts` names, in a fixed order; the rows are reported in that order.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FUNCTIONS, SETTINGS, type FunctionName } from '../../../functions/shared/catalogue';
import { bundleFunction, type BundleResult } from '../bundles';
import { sleep } from '../load';
import { machineInfo, type MachineInfo } from '../machine';
import type { ReportRow } from '../report';
import { RssSampler } from '../rss';
import { acceptLatency } from './accept-latency';
import { hasSmsPart, limitedCount, SMS_PER_CALL, type BenchConfig } from './config';
import { coldStarts } from './cold-start';
import { handoverLatency } from './handover';
import { inboundLatency } from './inbound';
import {
  acceptRows,
  backlogRow,
  bundleRow,
  coldRow,
  coldVersusRow,
  handoverRows,
  idleRow,
  inboundRows,
  limitedRow,
  memoryRow,
  throughputRow,
} from './rows';
import { destination, openBenchStack, type BenchConversation, type BenchStack } from './stack';
import {
  backlogThroughput,
  idleLatency,
  limitedThroughput,
  throughput,
  type BacklogResult,
} from './throughput';

export type BenchLog = (line: string) => void;

export interface BenchReport {
  rows: ReportRow[];
  machine: MachineInfo;
  seconds: number;
}

export async function runBench(config: BenchConfig, log: BenchLog): Promise<BenchReport> {
  const machine = machineInfo();
  const began = performance.now();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'bridge-bench-'));
  let rows: ReportRow[];
  try {
    const bundles: BundleResult[] = [];
    if (config.parts.has('bundles') || config.parts.has('cold')) {
      log('bundling every function with the CDK construct’s esbuild options');
      for (const name of Object.keys(FUNCTIONS) as FunctionName[])
        bundles.push(await bundleFunction(name, workDir));
    }
    log('starting the local stack');
    const s = await openBenchStack();
    try {
      rows = await measure(s, config, bundles, workDir, log);
    } finally {
      await s.stack.stop();
    }
    // Its own stack (one runs per process at a time), reported after the backlog row.
    if (hasSmsPart(config, 'limited')) {
      const row = await limitedPart(config, log);
      const after = rows.findIndex((r) => r.metric.startsWith('SMS backlog drained'));
      rows.splice(after >= 0 ? after + 1 : rows.length - 1, 0, row);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  return { rows, machine, seconds: (performance.now() - began) / 1000 };
}

async function measure(
  s: BenchStack,
  config: BenchConfig,
  bundles: BundleResult[],
  workDir: string,
  log: BenchLog,
): Promise<ReportRow[]> {
  await s.stack.warmUp();
  // Warm every route once so the first measured request does not pay for JIT and connection set-up.
  await s.api('POST', '/sms', { destination: destination(1), text: 'warm up' });
  await s.api('GET', `/sms/${randomUUID()}`);
  await sleep(1_000);
  const atRest = new RssSampler(100).start();
  await sleep(2_000);
  const rest = atRest.stop();
  const rows: ReportRow[] = [];

  let underLoadMb = Number.NaN;
  if (SMS_PARTS.some((part) => hasSmsPart(config, part))) {
    const sms = await smsPart(s, config, log);
    underLoadMb = sms.underLoadMb;
    rows.push(...sms.rows);
  }
  let conversations: BenchConversation[] | undefined;
  if (config.parts.has('handover')) {
    log(`handover: ${config.handoverMessages} agent messages`);
    const handover = await handoverLatency(s, config);
    conversations = handover.conversations;
    rows.push(...handoverRows(handover));
  }
  if (config.parts.has('bundles')) rows.push(...bundles.map(bundleRow));
  if (config.parts.has('cold')) {
    log(`cold starts: ${config.coldRuns} rounds of one fresh node process per function`);
    const chosen = bundles.filter((b) => config.coldFunctions?.has(b.name) ?? true);
    const versusBundles = new Map<FunctionName, BundleResult>();
    if (config.coldVersus) {
      log(
        `cold starts: each function also bundled from ${config.coldVersus}, taking turns with this checkout's`,
      );
      for (const bundle of chosen)
        versusBundles.set(
          bundle.name,
          await bundleFunction(bundle.name, path.join(workDir, 'versus'), config.coldVersus),
        );
    }
    const { runs, versus } = await coldStarts(s, chosen, config, workDir, conversations, versusBundles);
    for (const bundle of chosen) {
      rows.push(coldRow(runs.get(bundle.name)!));
      const theirs = versus.get(bundle.name);
      if (theirs) rows.push(coldVersusRow(runs.get(bundle.name)!, theirs, config.coldVersus!));
    }
  }
  rows.push(memoryRow(rest, underLoadMb));
  return rows;
}

/** The SMS parts, in the order they run (BENCH_PARTS=sms runs all, sms-<part> one). */
const SMS_PARTS = ['accept', 'throughput', 'idle', 'backlog', 'limited', 'inbound'] as const;

/**
 * Accept latency, throughput, a lone SMS on an idle queue, a backlog drained without a rate limit, and inbound SMS
 * to Cognigy (the rate-limited run is on a stack of its own, limitedPart).
 */
async function smsPart(
  s: BenchStack,
  config: BenchConfig,
  log: BenchLog,
): Promise<{ rows: ReportRow[]; underLoadMb: number }> {
  const rows: ReportRow[] = [];
  let underLoadMb = Number.NaN;
  if (hasSmsPart(config, 'accept')) {
    log(
      `accept latency: ${config.acceptWarmUpN} SMS to warm up, then ${config.acceptN} × POST /sms beside ${config.directN} direct 8x8 calls (${config.simLatencyMs} ms simulated)`,
    );
    rows.push(...acceptRows(config, await acceptLatency(s, config)));
  }
  if (hasSmsPart(config, 'throughput')) {
    log(`throughput: ${config.throughputN} SMS, ${config.concurrency} callers, no rate limit`);
    const open = await throughput(s, config, config.throughputN, new RssSampler(100));
    underLoadMb = open.rss?.maxMb ?? Number.NaN;
    rows.push(throughputRow(config, open));
  }
  if (hasSmsPart(config, 'idle')) {
    log(`idle queue: ${config.idleN} single SMS, each after the previous reached 8x8`);
    rows.push(idleRow(await idleLatency(s, config)));
  }
  if (hasSmsPart(config, 'backlog')) {
    log(`backlog: ${config.backlogN} SMS queued, then drained without a rate limit`);
    rows.push(backlogRow(await backlogThroughput(s, config, config.backlogN)));
  }
  s.sms.setFaults({ clear: true, latencyMs: config.simLatencyMs });
  if (hasSmsPart(config, 'inbound')) {
    log(`inbound SMS → Cognigy: ${config.inboundN} replies to flows, ${config.inboundN} SMS to the SMS bot`);
    rows.push(...inboundRows(await inboundLatency(s, config)));
  }
  return { rows, underLoadMb };
}

/**
 * The rate-limited run on a stack of its own that polls SMS_PER_CALL SMS a batch. The limit must bind, and the stack
 * must be able to reach it: by default half the 8x8 call rate this same stack reached just before, draining a
 * backlog without a limit (the calibration). The main stack's backlog run polls 100 SMS a batch, so its drain rate
 * says little about a stack that makes ten times as many calls per SMS (on this machine it overstated it: a limit
 * picked from it was above what the batch-of-10 stack could drain, so the row measured the machine, not the pacer).
 */
async function limitedPart(config: BenchConfig, log: BenchLog): Promise<ReportRow> {
  const s = await openBenchStack({ [SETTINGS.smsQueueBatchSize]: String(SMS_PER_CALL) });
  try {
    await s.stack.warmUp();
    let calibration: BacklogResult | undefined;
    if (config.rateLimit === undefined) {
      const n = calibrationCount(config);
      log(`calibration: ${n} SMS queued on the rate-limited run's stack, then drained without a rate limit`);
      calibration = await backlogThroughput(s, config, n);
      log(
        `calibration: ${calibration.callsPerSecond.toFixed(1)} 8x8 calls/s (${calibration.drainPerSecond.toFixed(0)} SMS/s)`,
      );
    }
    const rateLimit = config.rateLimit ?? Math.max(1, Math.floor((calibration?.callsPerSecond ?? 4) / 2));
    const limitedN = limitedCount(config, rateLimit);
    log(
      `throughput against a rate limit of ${rateLimit} requests/s (a stack polling ${SMS_PER_CALL} SMS a batch): ${limitedN} SMS queued, then delivered`,
    );
    return limitedRow(
      await limitedThroughput(s, config, limitedN, rateLimit, log),
      rateLimit,
      config.paceAtLimit,
      calibration,
    );
  } finally {
    await s.stack.stop();
  }
}

/** SMS in the calibration backlog: enough full batch calls for a few seconds at the stack's speed. */
function calibrationCount(config: BenchConfig): number {
  return Math.min(config.backlogN, 600);
}
