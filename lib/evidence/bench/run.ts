/**
 * One benchmark run (`npm run bench`): bundles every function as the CDK construct does, starts the local stack
 * and measures the parts `config.parts` names, in a fixed order; the rows are reported in that order.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FUNCTIONS, type FunctionName } from '../../../functions/shared/catalogue';
import { bundleFunction, type BundleResult } from '../bundles';
import { sleep } from '../load';
import { machineInfo, type MachineInfo } from '../machine';
import type { ReportRow } from '../report';
import { RssSampler } from '../rss';
import { acceptLatency } from './accept-latency';
import { limitedCount, type BenchConfig } from './config';
import { coldStarts } from './cold-start';
import { handoverLatency } from './handover';
import { acceptRows, bundleRow, coldRow, handoverRows, memoryRow, smsRows } from './rows';
import { destination, openBenchStack, type BenchConversation, type BenchStack } from './stack';
import { limitedThroughput, throughput } from './throughput';

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
  if (config.parts.has('sms')) {
    const sms = await smsPart(s, config, log);
    underLoadMb = sms.underLoadMb;
    rows.push(...sms.rows);
  } else if (config.parts.has('sms-accept')) {
    // The accept latency alone, without the throughput runs (BENCH_PARTS=sms-accept).
    log(acceptLine(config));
    rows.push(...acceptRows(config, await acceptLatency(s, config)));
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
    const runs = await coldStarts(s, bundles, config, workDir, conversations);
    for (const bundle of bundles) rows.push(coldRow(runs.get(bundle.name)!));
  }
  rows.push(memoryRow(rest, underLoadMb));
  return rows;
}

const acceptLine = (config: BenchConfig) =>
  `accept latency: ${config.acceptN} × POST /sms beside ${config.directN} direct 8x8 calls (${config.simLatencyMs} ms simulated)`;

/** Accept latency, then throughput without and with a binding 8x8 rate limit. */
async function smsPart(
  s: BenchStack,
  config: BenchConfig,
  log: BenchLog,
): Promise<{ rows: ReportRow[]; underLoadMb: number }> {
  log(acceptLine(config));
  const accept = await acceptLatency(s, config);

  log(`throughput: ${config.throughputN} SMS, ${config.concurrency} callers, no rate limit`);
  const open = await throughput(s, config, config.throughputN, new RssSampler(100));
  // The limit must bind: by default half the 8x8 call rate the unthrottled run reached on this machine.
  const rateLimit =
    config.rateLimit ?? Math.max(1, Math.floor((open.callsPerMessage * open.endToEndPerSecond) / 2));
  const limitedN = limitedCount(config, rateLimit);
  log(`throughput against a rate limit of ${rateLimit} requests/s: ${limitedN} SMS queued, then delivered`);
  const limited = await limitedThroughput(s, config, limitedN, rateLimit, log);
  s.sms.setFaults({ clear: true, latencyMs: config.simLatencyMs });
  return {
    rows: smsRows(config, accept, open, limited, rateLimit),
    underLoadMb: open.rss?.maxMb ?? Number.NaN,
  };
}
