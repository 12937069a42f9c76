/**
 * The chaos scenario behind `npm run chaos` and test/chaos/chaos.test.ts: the local stack under a seeded fault
 * profile, then invariant checks over what every party observed.
 *
 * Faults: 8x8 SMS 429 with Retry-After, 5xx, timeouts after acceptance, connection resets and slow answers;
 * duplicated, delayed and out-of-order SMS receipts; duplicated, delayed and reordered Chat Gateway webhook
 * deliveries; failing Chat Gateway API calls; Cognigy Endpoint outages; queue workers that crash mid-batch (the
 * local poller's test hook, the smsInbound consumer's too); 8x8 delivering an inbound SMS again with the same umid,
 * at once (the bridge answers 503 in progress, 8x8 retries) or a moment later; sms-accept killed between its record write and its enqueue (accept-kill.ts).
 * Everything random comes from one seed, so a run can be replayed with `--seed` (timing on a busy machine can still
 * vary which call a fault hits).
 *
 * Invariants (checkInvariants is pure, so a test can prove it flags a constructed violation):
 * - every accepted SMS ends delivered or in a terminal state with its reason; none is lost;
 * - no SMS reaches 8x8 twice, apart from sends whose answer was lost after 8x8 accepted them (counted, shown);
 * - every agent message reaches Cognigy exactly once, in the order 8x8 delivered it, per conversation — apart from
 *   pushes Cognigy accepted whose answer the bridge never got (Cognigy has no idempotency key; counted, shown);
 * - every user message reaches the 8x8 agent exactly once, in order;
 * - a repeated POST /sms with the same clientMessageId answers the first messageId; the API never answers 5xx;
 * - no accepted SMS is stranded, also when sms-accept dies between its record write and its enqueue (the outbox
 *   sweeper or a repeat sends it; lib/evidence/accept-kill.ts); every record of the table ends terminal;
 * - every inbound SMS the bridge acknowledged to 8x8 is processed once per umid however often 8x8 sent it: a reply
 *   reaches its flow's session (repeats only with the same bridgeEventId, dropped by the flow-side dedupe), a bot
 *   text gets exactly one answer SMS per output at the handset (or a failure recorded with its reason), STOP leaves
 *   the number opted out and START lifts it, and a phone's texts reach the bot in the order sent (inbound.ts);
 * - what is left in each DLQ is explained (an SMS in a terminal state: failed with its reason, or a redundant copy
 *   of one that ended through another delivery), and no handover item is left.
 *
 * On ordering: Chat Gateway v1.0 events carry no sequence number and 8x8 does not guarantee their order. The bridge
 * keeps the order in which 8x8 delivered a conversation's events (FIFO queue per conversation); it cannot restore
 * an order 8x8 did not keep without holding every message back, which the latency target rules out. The report
 * counts how many message pairs 8x8 itself delivered out of writing order (the reorder fault).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { QUEUES, SETTINGS, type QueueName } from '../../../functions/shared/catalogue';
import type { WorkerCrashHook } from '../../local/poller';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { seededRandom } from '../../simulators/http';
import { AcceptKiller } from '../accept-kill';
import { WorkerKiller } from '../worker-kill';
import { RecordingProxy } from '../proxy';
import { checkInvariants, type AcceptedSmsObservation, type ChaosObservations } from './invariants';
import {
  eightByEightSmsRequests,
  killedWorkerOutcomes,
  observe,
  faultCounts,
  settle,
  unfinishedRecords,
} from './observe';
import type { ChaosProfile } from './profile';
import { observeInbound, runInbound } from './inbound';
import type { ChaosReport } from './report';
import { planSms, recordingApi, runHandovers, scheduleBackgroundFaults, sendSms } from './workload';

export interface ChaosOptions {
  /** Progress lines (the CLI prints them; the test stays quiet). */
  log?: (line: string) => void;
  /** Functions' log level (default SILENT: expected failures would drown the output). */
  logLevel?: string;
  /** Print the local stack's own reports (failed batches, worker crashes) on stderr. */
  stackLogs?: boolean;
}

/** A seeded worker-crash hook: the listed invocations of the queue's consumer die after part of their batch. */
export function crashHook(invocations: readonly number[], random: () => number): WorkerCrashHook {
  const due = new Set(invocations);
  return {
    afterRecords(invocation, records) {
      if (!due.has(invocation)) return undefined;
      return Math.floor(random() * records);
    },
  };
}

export async function runChaos(profile: ChaosProfile, options: ChaosOptions = {}): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(profile.seed);
  const began = Date.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const killer = new AcceptKiller(
    profile.faults.acceptKills?.share ?? 0,
    seededRandom(profile.seed * 47 + 5),
  );
  const workerKiller = new WorkerKiller(
    profile.faults.workerKills?.share ?? 0,
    seededRandom(profile.seed * 53 + 7),
  );
  const stack = await startChaosStack(profile, options, killer, workerKiller);
  // Cognigy is reached through a recording proxy, to tell a push whose answer was lost from one that was not.
  const cognigyProxy = stack.urls.cognigySimulator
    ? new RecordingProxy(stack.urls.cognigySimulator)
    : undefined;
  try {
    const sms = stack.sms;
    const chat = stack.chatGateway;
    const cognigy = stack.cognigy;
    if (!sms || !chat || !cognigy || !cognigyProxy)
      throw new Error('The chaos run needs the 8x8 and Cognigy simulators');
    // Before any function has read (and cached) the secret.
    stack.secretsManager.setSecret(stack.secretNames.cognigy, {
      endpointBaseUrl: await cognigyProxy.start(),
    });
    await stack.warmUp();
    killer.arm(stack.queues.sms.url);

    const api5xx: ChaosObservations['api5xx'] = [];
    const api = recordingApi(stack, api5xx);

    // Faults on from the start.
    const f = profile.faults;
    sms.setFaults({ profile: { ...f.eightByEight, seed: profile.seed } });
    sms.setReceiptBehaviour({ duplicate: f.receipts.duplicate, outOfOrder: f.receipts.outOfOrder });
    if (f.cognigySlow)
      cognigy.setSlowAnswers({ ...f.cognigySlow, random: seededRandom(profile.seed * 59 + 11) });
    chat.webhookFaults = {
      duplicate: f.webhook.duplicate,
      reorder: f.webhook.reorder,
      delayMs: f.webhook.delayMs,
    };

    const plans = planSms(profile, sms, random);

    log(
      `seed ${profile.seed}: ${plans.length} SMS, ${profile.handover.conversations} handovers, faults on; stack at ${stack.urls.gateway}`,
    );
    const accepted: AcceptedSmsObservation[] = [];
    const idempotencyMismatches: ChaosObservations['sms']['idempotencyMismatches'] = [];
    const killed: NonNullable<ChaosObservations['outbox']>['killed'] = [];
    const smsWork = sendSms(profile, stack, plans, api, killer, random, {
      accepted,
      mismatches: idempotencyMismatches,
      api5xx,
      killed,
    });

    let messagesStarted!: () => void;
    const started = new Promise<void>((resolve) => (messagesStarted = resolve));
    // Outages and API failures are timed from the first handover message, so they meet traffic.
    const chaosTimers = scheduleBackgroundFaults(profile, stack, random, log, started);
    const handoverWork = runHandovers(profile, stack, api, random, log, messagesStarted);
    if (profile.handover.conversations === 0) messagesStarted();
    // Handsets text the bridge while the same faults are on (Cognigy outages and slow answers, worker crashes).
    const inboundWork = runInbound(profile, stack, api, log);
    const [, conversations, inboundRun] = await Promise.all([smsWork, handoverWork, inboundWork]);
    await chaosTimers.done;
    log(`workload sent: ${accepted.length} SMS accepted; waiting for everything to settle`);

    const settled = await settle(profile, stack, accepted, conversations, api);
    log(settled ? 'settled' : `not settled after ${profile.settleTimeoutMs} ms; checking what there is`);

    const observations = await observe(
      stack,
      accepted,
      idempotencyMismatches,
      conversations,
      api5xx,
      api,
      cognigyProxy,
    );
    // Stranded records are scanned in every run: a killed worker must not strand one either.
    observations.outbox = { killed, stranded: await unfinishedRecords(stack) };
    observations.workerKills = await killedWorkerOutcomes(stack, workerKiller);
    if (profile.inbound) observations.inbound = await observeInbound(stack, inboundRun, api);
    const invariants = checkInvariants(observations);
    const faults = {
      ...faultCounts(stack, chaosTimers.chatGatewayFaults),
      acceptKills: killer.kills,
      workerKills: workerKiller.kills,
      cognigySlowAnswers: cognigy.slowAnswerCount,
      eightByEightSmsRequests: eightByEightSmsRequests(stack),
    };
    loopDelay.disable();
    return {
      profile,
      observations,
      invariants,
      faults,
      settled,
      eventLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      durationMs: Date.now() - began,
      ok: invariants.every((i) => i.ok),
    };
  } finally {
    loopDelay.disable();
    await stack.stop();
    await cognigyProxy?.stop();
  }
}

/** The local stack with the profile's settings, queue tuning, worker crashes and fast simulator retries. */
function startChaosStack(
  profile: ChaosProfile,
  options: ChaosOptions,
  killer: AcceptKiller,
  workerKiller: WorkerKiller,
): Promise<LocalStack> {
  const crashes = Object.fromEntries(
    Object.entries(profile.faults.crashes).map(([queue, list]) => [
      queue,
      crashHook(list ?? [], seededRandom(profile.seed * 31 + queue.length)),
    ]),
  ) as Partial<Record<QueueName, WorkerCrashHook>>;
  const visibility = Object.fromEntries(
    (Object.keys(QUEUES) as QueueName[]).map((q) => [q, profile.stack.visibilityTimeoutSeconds]),
  ) as Record<QueueName, number>;

  return startLocalStack({
    port: 0,
    quiet: !options.stackLogs,
    env: { LOG_LEVEL: options.logLevel ?? 'SILENT' },
    settings: {
      [SETTINGS.upstreamTimeoutMs]: String(profile.stack.upstreamTimeoutMs),
      [SETTINGS.retryBaseDelaySeconds]: String(profile.stack.retryBaseDelaySeconds),
      [SETTINGS.retryMaxDelaySeconds]: String(profile.stack.retryMaxDelaySeconds),
      // The outbox sweeper at a run's pace: records older than 2 s, every second (production: 60 s, every minute).
      [SETTINGS.smsSweepAgeSeconds]: '2',
    },
    scheduleIntervalMs: { 'sms-sweeper': 1_000 },
    holdSqsCalls: killer.hold,
    holdDynamoDbCalls: workerKiller.hold,
    maxReceiveCount: profile.stack.maxReceiveCount,
    visibilityTimeoutSeconds: visibility,
    workerCrashes: crashes,
    simulators: {
      // 8x8's receipt retries (1, 10, 30, 90 s) at a twentieth, so a run waits seconds, not minutes.
      sms: { receiptRetryScale: 0.05, receiptDelayMs: profile.faults.receipts.delayMs },
      chatGateway: {
        retryDelaysMs: [100, 500, 1000, 2000, 4000],
        timeoutFaultHoldMs: profile.stack.upstreamTimeoutMs * 3,
      },
    },
  });
}
