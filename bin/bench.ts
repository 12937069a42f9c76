/**
 * `npm run bench`: drives the local stack (lib/local/stack.ts) over real HTTP and prints one table, also written to
 * BENCHMARKS.md with the machine and the date (the runs: lib/evidence/bench/). It reports and never fails on time;
 * a missed target is shown as MISSED. Sizes via environment variables (defaults keep the run under ~3 minutes on
 * 2 cores):
 *
 *   BENCH_ACCEPT_N (200)  POST /sms calls for the accept latency, beside BENCH_DIRECT_N (100) direct 8x8 calls
 *     (then both loops again with the SMS poller paused: a diagnostic row of what local delivery adds to the tail)
 *   BENCH_ACCEPT_ROUNDS (3) rounds of those two loops; the accept row reports the round with the median p99 ratio
 *   BENCH_ACCEPT_WARMUP_N (300) SMS sent through the whole pipeline first (accepted, delivered, both receipts taken),
 *     so the accept rows measure warm functions; their own latencies are a diagnostic row
 *   BENCH_SIM_LATENCY_MS (150) simulated 8x8 round trip for both
 *   BENCH_THROUGHPUT_N (800) SMS for the unthrottled throughput; BENCH_CONCURRENCY (32) callers at once
 *   BENCH_IDLE_N (20) single SMS sent one at a time on an idle queue (accepted → at 8x8)
 *   BENCH_BACKLOG_N (1000) SMS queued while the SMS poller is paused, then drained without a rate limit
 *   BENCH_RATE_LIMIT (half the 8x8 call rate its stack reaches draining a backlog unlimited just before) requests/s
 *     for the rate-limited run, on a stack of its own polling 10 SMS a batch; BENCH_LIMITED_N (enough full 8x8 batch calls for 14 s at the limit)
 *     SMS, queued while the SMS poller is paused; BENCH_PACE=0 runs it without telling the bridge the limit
 *   BENCH_PARTS (sms,handover,bundles,cold) which parts to run; `sms` is sms-accept, sms-throughput, sms-idle,
 *     sms-backlog, sms-limited and sms-inbound, each of which may be named alone (e.g. BENCH_PARTS=sms-idle,sms-limited);
 *     `bundles,cold` only the bundle and cold-start rows
 *   BENCH_INBOUND_N (50) inbound SMS per path for sms-inbound: replies into a flow's session, SMS to the SMS bot
 *   BENCH_HANDOVER_MESSAGES (100) agent messages for the webhook and relay latencies
 *   BENCH_OUT (BENCHMARKS.md) where the report is written
 *   BENCH_COLD_RUNS (9) cold starts per function (fresh process each); the row shows the median
 *   BENCH_COLD_PROFILE_DIR (unset) a folder for a CPU profile of each function's first cold start
 *   BENCH_COLD_FUNCTIONS (all) the functions whose cold starts are measured, e.g. sms-inbound,sms-accept
 *   BENCH_COLD_VERSUS (unset) another checkout of this project (e.g. `git worktree add ../base main`, with its
 *                    node_modules): its bundles of the same functions take turns with this checkout's, one
 *                    cold start each per round, and a diagnostic row compares them round by round. Both run
 *                    with this checkout's stack and grants, so run it from the checkout whose grants are wider
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchConfig } from '../lib/evidence/bench/config';
import { benchmarksMarkdown } from '../lib/evidence/bench/markdown';
import { runBench } from '../lib/evidence/bench/run';
import { reportTextTable } from '../lib/evidence/report';
import { rssMb } from '../lib/evidence/rss';
import { round } from '../lib/evidence/stats';
import { projectRoot } from '../lib/paths';

const log = (line: string) => console.log(`[bench] ${line}`);

async function main(): Promise<void> {
  const config = benchConfig(process.env);
  const { rows, machine, seconds } = await runBench(config, log);
  console.log('');
  console.log(reportTextTable(rows));
  console.log('');
  const out = path.resolve(projectRoot(), process.env.BENCH_OUT ?? 'BENCHMARKS.md');
  // The chaos and security sections are written from their own runs (npm run chaos / security): kept as they are.
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const kept = previous.indexOf('\n## Chaos (issue 9)');
  const tail = kept >= 0 ? previous.slice(kept) : '';
  writeFileSync(out, benchmarksMarkdown(rows, machine, seconds, config.simLatencyMs).trimEnd() + '\n' + tail);
  log(
    `written to ${path.relative(process.cwd(), out) || out} (${round(seconds)} s; rss now ${round(rssMb())} MB)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
