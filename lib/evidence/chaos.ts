/**
 * The chaos scenario behind `npm run chaos` and test/chaos/chaos.test.ts: the local stack under a seeded fault
 * profile, then invariant checks over what every party observed.
 *
 * Faults: 8x8 SMS 429 with Retry-After, 5xx, timeouts after acceptance, connection resets and slow answers;
 * duplicated, delayed and out-of-order SMS receipts; duplicated, delayed and reordered Chat Gateway webhook
 * deliveries; failing Chat Gateway API calls; Cognigy Endpoint outages; queue workers that crash mid-batch (the
 * local poller's test hook); sms-accept killed between its record write and its enqueue (accept-kill.ts). Everything random comes from one seed, so a run can be replayed with `--seed`
 * (timing on a busy machine can still vary which call a fault hits).
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
 * - what is left in each DLQ is explained (an SMS in a terminal state: failed with its reason, or a redundant copy
 *   of one that ended through another delivery), and no handover item is left.
 *
 * On ordering: Chat Gateway v1.0 events carry no sequence number and 8x8 does not guarantee their order. The bridge
 * keeps the order in which 8x8 delivered a conversation's events (FIFO queue per conversation); it cannot restore
 * an order 8x8 did not keep without holding every message back, which the latency target rules out. The report
 * counts how many message pairs 8x8 itself delivered out of writing order (the reorder fault).
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { localDynamoDbClient, localSqsClient } from '../local/aws';
import type { WorkerCrashHook } from '../local/poller';
import { startLocalStack, type LocalStack } from '../local/stack';
import { QUEUES, SETTINGS, type QueueName } from '../../functions/shared/catalogue';
import type { ApiFault } from '../simulators/chat-gateway';
import { seededRandom } from '../simulators/http';
import { AcceptKiller } from './accept-kill';
import { callJson, runPool, sleep } from './load';
import { RecordingProxy } from './proxy';

// ---------------------------------------------------------------------------------------------------------------
// Profile

export interface ChaosProfile {
  seed: number;
  sms: {
    count: number;
    /** Callers sending SMS at once. */
    concurrency: number;
    /** Share of SMS to destinations the operator cannot reach (8x8 receipt `undelivered`). */
    undeliverableShare: number;
    /** Share of SMS whose content 8x8's operator rejects (receipt `rejected`). */
    rejectedShare: number;
    /** Share of POST /sms sent twice with the same clientMessageId (a flow retrying). */
    repeatShare: number;
  };
  handover: {
    conversations: number;
    agentMessagesPerConversation: number;
    userMessagesPerConversation: number;
    /** Longest pause between two actions of one conversation. */
    maxGapMs: number;
  };
  faults: {
    /** 8x8 SMS API: probabilities per call, as the simulator's failure profile. */
    eightByEight: {
      p429: number;
      p5xx: number;
      pTimeout: number;
      pReset: number;
      pSlow: number;
      slowMs: number;
    };
    receipts: { duplicate: boolean; outOfOrder: boolean; delayMs: number };
    webhook: { duplicate: boolean; reorder: boolean; delayMs: number };
    /** Chat Gateway API calls (the user's messages to the agent) that fail: 429, 5xx or no answer. */
    chatGatewayApiFailures: number;
    /** Cognigy Endpoint outages during the run. */
    cognigyOutages: { count: number; durationMs: number; statuses: (429 | 500 | 502 | 503)[] };
    /** Queue-worker crashes mid-batch, per queue: the Nth invocations that die, after a random part of the batch. */
    crashes: Partial<Record<QueueName, number[]>>;
    /**
     * sms-accept invocations killed between the record write and the enqueue (lib/evidence/accept-kill.ts): `share`
     * of POST /sms calls; `retriedShare` of the killed ones the flow sends again (the others only the sweeper saves).
     */
    acceptKills?: { share: number; retriedShare: number };
  };
  stack: {
    upstreamTimeoutMs: number;
    retryBaseDelaySeconds: number;
    retryMaxDelaySeconds: number;
    /** Per queue; at least the batch size × upstream timeout, so a slow batch is not redelivered while running. */
    visibilityTimeoutSeconds: number;
    maxReceiveCount: Partial<Record<QueueName, number>>;
  };
  /** How long to wait for everything to settle after the workload. */
  settleTimeoutMs: number;
}

/** The profile of `npm run chaos` (about a minute). */
export const DEFAULT_CHAOS_PROFILE: ChaosProfile = {
  seed: 1,
  sms: { count: 200, concurrency: 8, undeliverableShare: 0.1, rejectedShare: 0.05, repeatShare: 0.1 },
  handover: {
    conversations: 6,
    agentMessagesPerConversation: 15,
    userMessagesPerConversation: 6,
    maxGapMs: 120,
  },
  faults: {
    eightByEight: { p429: 0.1, p5xx: 0.1, pTimeout: 0.05, pReset: 0.05, pSlow: 0.1, slowMs: 300 },
    receipts: { duplicate: true, outOfOrder: true, delayMs: 50 },
    webhook: { duplicate: true, reorder: true, delayMs: 20 },
    chatGatewayApiFailures: 8,
    cognigyOutages: { count: 3, durationMs: 1500, statuses: [503, 500, 429] },
    crashes: { sms: [2, 9], handoverInbound: [3, 12], handoverOutbound: [2] },
    acceptKills: { share: 0.1, retriedShare: 0.5 },
  },
  stack: {
    // The production default: the whole stack shares one thread, and on a loaded machine a shorter timeout would
    // turn the machine's own delays into upstream timeouts (and their ambiguous resends).
    upstreamTimeoutMs: 5000,
    retryBaseDelaySeconds: 1,
    retryMaxDelaySeconds: 2,
    visibilityTimeoutSeconds: 20,
    // Low enough that an unlucky SMS exhausts its retries, so the SMS DLQ has something to explain.
    maxReceiveCount: { sms: 4 },
  },
  settleTimeoutMs: 90_000,
};

/** The short profile `npm test` runs (test/chaos/chaos.test.ts). */
export const SMALL_CHAOS_PROFILE: ChaosProfile = {
  ...DEFAULT_CHAOS_PROFILE,
  sms: { count: 24, concurrency: 6, undeliverableShare: 0.15, rejectedShare: 0.1, repeatShare: 0.2 },
  handover: {
    conversations: 3,
    agentMessagesPerConversation: 6,
    userMessagesPerConversation: 3,
    maxGapMs: 80,
  },
  faults: {
    ...DEFAULT_CHAOS_PROFILE.faults,
    eightByEight: { p429: 0.15, p5xx: 0.15, pTimeout: 0.1, pReset: 0.05, pSlow: 0.1, slowMs: 300 },
    chatGatewayApiFailures: 3,
    cognigyOutages: { count: 2, durationMs: 800, statuses: [503, 429] },
    crashes: { sms: [1], handoverInbound: [2], handoverOutbound: [1] },
    acceptKills: { share: 0.25, retriedShare: 0.5 },
  },
  stack: { ...DEFAULT_CHAOS_PROFILE.stack, visibilityTimeoutSeconds: 12, maxReceiveCount: {} },
  settleTimeoutMs: 60_000,
};

// ---------------------------------------------------------------------------------------------------------------
// Observations and invariants (pure)

export interface AcceptedSmsObservation {
  messageId: string;
  clientMessageId: string;
  /** Public status code from GET /sms/{messageId}; undefined when the record was not found. */
  status?: string;
  reason?: string;
  errorCode?: string | number;
}

export interface EightByEightAcceptance {
  clientMessageId: string | null;
  /** The answer reached the bridge (false: timed out or reset after 8x8 accepted). */
  answered: boolean;
  callSeq: number;
}

export interface AgentMessageObservation {
  text: string;
  /** Pushes of this message that Cognigy accepted but whose answer the bridge never got (it gave up first). */
  lostAnswers?: number;
  /** When 8x8's first successful delivery of the event started and ended (epoch ms); undefined if none did. */
  deliveredFrom?: number;
  deliveredUntil?: number;
}

export interface ChaosObservations {
  sms: {
    accepted: AcceptedSmsObservation[];
    eightByEight: EightByEightAcceptance[];
    /** Repeated POST /sms whose answer named another messageId than the first. */
    idempotencyMismatches: { clientMessageId: string; first: string; repeat: string }[];
  };
  agent: { conversationId: string; sent: AgentMessageObservation[]; received: string[] }[];
  user: { conversationId: string; sent: string[]; received: string[] }[];
  /** Answers of the bridge's API with status ≥ 500 (not counting the injected accept kills). */
  api5xx: { request: string; status: number }[];
  dlq: DlqEntry[];
  /**
   * The outbox under accept kills: the SMS whose accept died after the record write (their outcome is in
   * sms.accepted too), and every record of the messages table that is not in a terminal state at the end.
   */
  outbox?: {
    killed: { messageId: string; clientMessageId: string; retried: boolean }[];
    stranded: { messageId: string; status: string }[];
  };
}

export interface DlqEntry {
  queue: QueueName;
  /** What the message is about (messageId, conversation and event type, ...). */
  subject: string;
  /** Why it is there, from the record it concerns. */
  reason: string;
  /** For SMS: the record's public status (a DLQ'd SMS must show FAILED). */
  status?: string;
}

export interface InvariantResult {
  id: string;
  title: string;
  ok: boolean;
  /** Counts behind the verdict, for the report. */
  summary: string;
  violations: string[];
}

const TERMINAL = new Set(['DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED']);

function invariant(id: string, title: string, summary: string, violations: string[]): InvariantResult {
  return { id, title, ok: violations.length === 0, summary, violations };
}

export function checkInvariants(obs: ChaosObservations): InvariantResult[] {
  const results: InvariantResult[] = [];

  // 1. Every accepted SMS ends in a terminal state with its reason.
  {
    const violations: string[] = [];
    const byStatus: Record<string, number> = {};
    for (const sms of obs.sms.accepted) {
      const status = sms.status ?? 'LOST';
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (sms.status === undefined) violations.push(`${sms.messageId} (${sms.clientMessageId}): no record`);
      else if (!TERMINAL.has(sms.status))
        violations.push(`${sms.messageId} (${sms.clientMessageId}): still ${sms.status}`);
      else if (sms.status !== 'DELIVERED' && !sms.reason && sms.errorCode === undefined)
        violations.push(`${sms.messageId} (${sms.clientMessageId}): ${sms.status} without a reason`);
    }
    const counts = Object.entries(byStatus)
      .sort()
      .map(([s, n]) => `${n} ${s.toLowerCase()}`)
      .join(', ');
    results.push(
      invariant(
        'sms-terminal',
        'Every accepted SMS ends delivered or in a terminal state with its reason; none lost',
        `${obs.sms.accepted.length} accepted: ${counts || 'none'}`,
        violations,
      ),
    );
  }

  // 2. No SMS reaches 8x8 twice, except after an acceptance whose answer was lost.
  {
    const violations: string[] = [];
    let explained = 0;
    const byClientId = new Map<string, EightByEightAcceptance[]>();
    for (const a of obs.sms.eightByEight) {
      if (a.clientMessageId === null) continue;
      const list = byClientId.get(a.clientMessageId) ?? [];
      list.push(a);
      byClientId.set(a.clientMessageId, list);
    }
    for (const [clientMessageId, list] of byClientId) {
      const ordered = [...list].sort((a, b) => a.callSeq - b.callSeq);
      // Every acceptance but the last must have lost its answer: otherwise the bridge knew and sent again.
      for (const earlier of ordered.slice(0, -1)) {
        if (earlier.answered) violations.push(`${clientMessageId}: sent again after 8x8 answered QUEUED`);
        else explained++;
      }
    }
    results.push(
      invariant(
        'sms-sent-once',
        'No SMS sent twice to 8x8, apart from sends whose answer was lost after 8x8 accepted them',
        `${byClientId.size} SMS at 8x8; ${explained} resent after a lost answer (timeout or reset after acceptance)`,
        violations,
      ),
    );
  }

  // 3. and 4. Agent messages: exactly once, in delivery order.
  {
    const once: string[] = [];
    const order: string[] = [];
    let total = 0;
    let resent = 0;
    let reorderedBy8x8 = 0;
    for (const c of obs.agent) {
      total += c.sent.length;
      const counts = new Map<string, number>();
      for (const text of c.received) counts.set(text, (counts.get(text) ?? 0) + 1);
      for (const m of c.sent) {
        const n = counts.get(m.text) ?? 0;
        // Cognigy's Endpoint has no idempotency key: a push whose answer was lost can only be sent again.
        const allowed = 1 + (m.lostAnswers ?? 0);
        if (n === 0 || n > allowed) once.push(`${c.conversationId}: "${m.text}" reached Cognigy ${n} times`);
        else resent += n - 1;
      }
      const byText = new Map(c.sent.map((m) => [m.text, m]));
      for (let i = 0; i < c.sent.length; i++)
        for (let j = i + 1; j < c.sent.length; j++) {
          const a = c.sent[i]!;
          const b = c.sent[j]!;
          if (
            a.deliveredFrom !== undefined &&
            b.deliveredUntil !== undefined &&
            b.deliveredUntil < a.deliveredFrom
          )
            reorderedBy8x8++;
        }
      // Each pair Cognigy got as (x before y) must not have been delivered by 8x8 as (y, then x) without overlap.
      const firstSeen = [...new Set(c.received)].filter((t) => byText.has(t));
      for (let i = 0; i < firstSeen.length; i++)
        for (let j = i + 1; j < firstSeen.length; j++) {
          const x = byText.get(firstSeen[i]!)!;
          const y = byText.get(firstSeen[j]!)!;
          if (
            x.deliveredFrom !== undefined &&
            y.deliveredUntil !== undefined &&
            y.deliveredUntil < x.deliveredFrom
          )
            order.push(
              `${c.conversationId}: "${x.text}" reached Cognigy before "${y.text}", which 8x8 delivered first`,
            );
        }
    }
    results.push(
      invariant(
        'agent-once',
        'Every agent message reaches Cognigy exactly once, apart from pushes whose answer was lost after Cognigy accepted them',
        `${total} agent messages in ${obs.agent.length} conversations; ${resent} resent after a lost answer (timeout after acceptance)`,
        once,
      ),
    );
    results.push(
      invariant(
        'agent-order',
        'Agent messages reach Cognigy in the order 8x8 delivered them, per conversation',
        `${reorderedBy8x8} message pairs delivered by 8x8 out of writing order (reorder fault)`,
        order,
      ),
    );
  }

  // 5. User messages: exactly once, in order.
  {
    const violations: string[] = [];
    let total = 0;
    for (const c of obs.user) {
      total += c.sent.length;
      if (JSON.stringify(c.sent) !== JSON.stringify(c.received))
        violations.push(
          `${c.conversationId}: sent [${c.sent.join(' | ')}], the agent got [${c.received.join(' | ')}]`,
        );
    }
    results.push(
      invariant(
        'user-once-in-order',
        'Every user message reaches the 8x8 agent exactly once and in order',
        `${total} user messages in ${obs.user.length} conversations`,
        violations,
      ),
    );
  }

  // 6. Idempotent accept; 7. no 5xx.
  results.push(
    invariant(
      'accept-idempotent',
      'A repeated POST /sms with the same clientMessageId answers the first messageId',
      `${obs.sms.idempotencyMismatches.length} mismatches`,
      obs.sms.idempotencyMismatches.map((m) => `${m.clientMessageId}: ${m.first} then ${m.repeat}`),
    ),
  );
  results.push(
    invariant(
      'api-no-5xx',
      'The API always answers, never with 5xx',
      `${obs.api5xx.length} answers ≥ 500 or missing`,
      obs.api5xx.map((a) => `${a.request} → ${a.status === 0 ? 'no answer' : a.status}`),
    ),
  );

  // 7b. No accepted SMS stranded: every record of the table ends terminal, the killed accepts included.
  {
    const killed = obs.outbox?.killed ?? [];
    const status = new Map(obs.sms.accepted.map((a) => [a.messageId, a.status]));
    const of = (wanted: (s: string | undefined) => boolean) =>
      killed.filter((k) => wanted(status.get(k.messageId))).length;
    const stranded = obs.outbox?.stranded ?? [];
    results.push(
      invariant(
        'sms-not-stranded',
        'No accepted SMS is stranded: an accept killed between record write and enqueue is still sent (outbox)',
        `${killed.length} accepts killed after the record write (${killed.filter((k) => k.retried).length} repeated by the flow): ` +
          `${of((s) => s === 'DELIVERED')} delivered, ${of((s) => s !== undefined && s !== 'DELIVERED' && TERMINAL.has(s))} recorded failed; ` +
          `stranded (must be 0): ${stranded.length}`,
        stranded.map((r) => `${r.messageId}: still ${r.status}`),
      ),
    );
  }

  // 8. DLQs.
  {
    const violations: string[] = [];
    for (const entry of obs.dlq) {
      if (entry.queue === 'sms') {
        // FAILED with its reason, or a redundant copy of an SMS that reached its end through another delivery.
        if (!entry.status || !TERMINAL.has(entry.status))
          violations.push(
            `sms DLQ: ${entry.subject} shows ${entry.status ?? 'no record'}, not a terminal state`,
          );
      } else {
        violations.push(`${entry.queue} DLQ: ${entry.subject} was never delivered (${entry.reason})`);
      }
    }
    const perQueue = (Object.keys(QUEUES) as QueueName[])
      .map((q) => `${q} ${obs.dlq.filter((e) => e.queue === q).length}`)
      .join(', ');
    results.push(
      invariant(
        'dlq-explained',
        'Every DLQ message is explained: an SMS in a terminal state (failed with its reason); no handover item left',
        `DLQ depth: ${perQueue}`,
        violations,
      ),
    );
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// The run

export interface ChaosFaultCounts {
  eightByEightCalls: number;
  eightByEightAnswers: Record<string, number>;
  eightByEightUnanswered: number;
  eightByEightResets: number;
  receiptAttempts: number;
  receiptDuplicates: number;
  webhookDeliveries: number;
  webhookDuplicates: number;
  webhookFailedAttempts: number;
  /** The bridge's answers to the deliveries it did not acknowledge, by status (8x8 retries those). */
  webhookRefusals: Record<string, number>;
  chatGatewayApiFaults: number;
  cognigyRefused: number;
  /** Pushes Cognigy received again (same data.bridgeEventId in a session): what a flow without dedupe would see. */
  cognigyDuplicates: number;
  /** Of those, the ones the README's flow-side dedupe (bounded list of seen ids) would let through. */
  cognigyDuplicatesAfterFlowDedupe: number;
  workerCrashes: Partial<Record<QueueName, number>>;
  /** sms-accept invocations killed between the record write and the enqueue. */
  acceptKills?: number;
}

export interface ChaosReport {
  profile: ChaosProfile;
  observations: ChaosObservations;
  invariants: InvariantResult[];
  faults: ChaosFaultCounts;
  /** Whether everything settled before settleTimeoutMs. */
  settled: boolean;
  /**
   * Event-loop delay of the process over the run (the whole stack shares that thread). Beyond the upstream timeout
   * the machine itself, not an injected fault, makes calls time out — and a timed-out push may be resent.
   */
  eventLoopDelayMs: { p99: number; max: number };
  durationMs: number;
  ok: boolean;
}

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

interface SmsPlan {
  index: number;
  clientMessageId: string;
  destination: string;
  repeat: boolean;
}

export async function runChaos(profile: ChaosProfile, options: ChaosOptions = {}): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(profile.seed);
  const began = Date.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const crashes = Object.fromEntries(
    Object.entries(profile.faults.crashes).map(([queue, list]) => [
      queue,
      crashHook(list ?? [], seededRandom(profile.seed * 31 + queue.length)),
    ]),
  ) as Partial<Record<QueueName, WorkerCrashHook>>;
  const visibility = Object.fromEntries(
    (Object.keys(QUEUES) as QueueName[]).map((q) => [q, profile.stack.visibilityTimeoutSeconds]),
  ) as Record<QueueName, number>;
  const kills = profile.faults.acceptKills;
  const killer = new AcceptKiller(kills?.share ?? 0, seededRandom(profile.seed * 47 + 5));

  const stack = await startLocalStack({
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
    const api = async (method: string, path: string, body?: unknown, count5xx = true) => {
      let answer: Awaited<ReturnType<typeof callJson>>;
      try {
        answer = await callJson(`${stack.urls.gateway}${path}`, {
          method,
          body,
          headers: { 'x-api-key': stack.apiKey },
        });
      } catch (error) {
        // No answer at all (the client's own timeout): recorded as status 0, and the run goes on.
        answer = { status: 0, headers: new Headers(), body: undefined, text: String(error), ms: 0 };
      }
      if (count5xx && (answer.status >= 500 || answer.status === 0))
        api5xx.push({ request: `${method} ${path}`, status: answer.status });
      return answer;
    };

    // Faults on from the start.
    const f = profile.faults;
    sms.setFaults({ profile: { ...f.eightByEight, seed: profile.seed } });
    sms.setReceiptBehaviour({ duplicate: f.receipts.duplicate, outOfOrder: f.receipts.outOfOrder });
    chat.webhookFaults = {
      duplicate: f.webhook.duplicate,
      reorder: f.webhook.reorder,
      delayMs: f.webhook.delayMs,
    };

    const plans: SmsPlan[] = Array.from({ length: profile.sms.count }, (_, index) => {
      const roll = random();
      const base = `+65${String(80_000_000 + Math.floor(random() * 9_000_000))}`;
      const destination =
        roll < profile.sms.undeliverableShare ? `${base.slice(0, -4)}0000` : base.replace(/0000$/, '0001');
      if (
        roll >= profile.sms.undeliverableShare &&
        roll < profile.sms.undeliverableShare + profile.sms.rejectedShare
      )
        sms.setOutcome(destination, { state: 'rejected', errorCode: 60, errorMessage: 'Content filtered' });
      return {
        index,
        clientMessageId: `chaos-${profile.seed}-${index}-${randomUUID().slice(0, 8)}`,
        destination,
        repeat: random() < profile.sms.repeatShare,
      };
    });

    log(
      `seed ${profile.seed}: ${plans.length} SMS, ${profile.handover.conversations} handovers, faults on; stack at ${stack.urls.gateway}`,
    );
    const accepted: AcceptedSmsObservation[] = [];
    const idempotencyMismatches: ChaosObservations['sms']['idempotencyMismatches'] = [];
    const killed: NonNullable<ChaosObservations['outbox']>['killed'] = [];
    const smsWork = runPool(plans.length, profile.sms.concurrency, async (i) => {
      const plan = plans[i]!;
      const body = {
        destination: plan.destination,
        text: `Chaos ${plan.index}`,
        clientMessageId: plan.clientMessageId,
      };
      // 5xx are counted below unless they are the injected kill itself (accounted for by the outbox invariant).
      const post = () => api('POST', '/sms', body, false);
      const failed = (answer: { status: number }) => answer.status >= 500 || answer.status === 0;
      let first = await post();
      if (failed(first)) {
        const stored = await storedMessageId(stack, plan.clientMessageId);
        if (!stored || !killer.killedMessageIds.has(stored)) {
          api5xx.push({ request: 'POST /sms', status: first.status });
          return;
        }
        // The accept died after storing the record. A flow may send it again (repeat path) or give up (sweeper).
        const retried = random() < (kills?.retriedShare ?? 0);
        for (let round = 0; retried && round < 3 && failed(first); round++) first = await post();
        const repeatId = (first.body as { messageId?: string } | undefined)?.messageId;
        if (!failed(first) && repeatId !== stored)
          idempotencyMismatches.push({
            clientMessageId: plan.clientMessageId,
            first: stored,
            repeat: `${repeatId ?? 'none'} (HTTP ${first.status})`,
          });
        killed.push({ messageId: stored, clientMessageId: plan.clientMessageId, retried });
        accepted.push({ messageId: stored, clientMessageId: plan.clientMessageId });
        return;
      }
      const messageId = (first.body as { messageId?: string } | undefined)?.messageId;
      if (first.status !== 202 || !messageId) return;
      accepted.push({ messageId, clientMessageId: plan.clientMessageId });
      if (plan.repeat) {
        const again = await api('POST', '/sms', body);
        const repeatId = (again.body as { messageId?: string } | undefined)?.messageId;
        if (repeatId !== messageId)
          idempotencyMismatches.push({
            clientMessageId: plan.clientMessageId,
            first: messageId,
            repeat: `${repeatId ?? 'none'} (HTTP ${again.status})`,
          });
      }
    });

    let messagesStarted!: () => void;
    const started = new Promise<void>((resolve) => (messagesStarted = resolve));
    // Outages and API failures are timed from the first handover message, so they meet traffic.
    const chaosTimers = scheduleBackgroundFaults(profile, stack, random, log, started);
    const handoverWork = runHandovers(profile, stack, api, random, log, messagesStarted);
    if (profile.handover.conversations === 0) messagesStarted();
    const [, conversations] = await Promise.all([smsWork, handoverWork]);
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
    if (kills) observations.outbox = { killed, stranded: await unfinishedRecords(stack) };
    const invariants = checkInvariants(observations);
    const faults = { ...faultCounts(stack, chaosTimers.chatGatewayFaults), acceptKills: killer.kills };
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

/** Cognigy outages and Chat Gateway API failures at random times while the workload runs. */
function scheduleBackgroundFaults(
  profile: ChaosProfile,
  stack: LocalStack,
  random: () => number,
  log: (line: string) => void,
  started: Promise<void>,
): { done: Promise<void>; chatGatewayFaults: number } {
  // About as long as a conversation's scripted messages take, so the faults fall among them.
  const h = profile.handover;
  const span = Math.max(
    300,
    ((h.agentMessagesPerConversation + h.userMessagesPerConversation) * h.maxGapMs) / 2,
  );
  const state = { chatGatewayFaults: 0, done: Promise.resolve() };
  const outages = Array.from({ length: profile.faults.cognigyOutages.count }, (_, i) => ({
    at: Math.floor(random() * span),
    status: profile.faults.cognigyOutages.statuses[i % profile.faults.cognigyOutages.statuses.length]!,
  })).sort((a, b) => a.at - b.at);
  const apiFaults: ApiFault[] = [429, 500, 503, 'timeout'];
  const failures = Array.from({ length: profile.faults.chatGatewayApiFailures }, () => ({
    at: Math.floor(random() * span),
    fault: apiFaults[Math.floor(random() * apiFaults.length)]!,
  }));
  state.done = Promise.all([
    (async () => {
      await started;
      const from = Date.now();
      for (const outage of outages) {
        await sleep(Math.max(0, from + outage.at - Date.now()));
        stack.cognigy!.setOutage({
          status: outage.status,
          ...(outage.status === 429 ? { retryAfter: 1 } : {}),
        });
        const refusedBefore = stack.cognigy!.rejected.length;
        log(`Cognigy outage: ${outage.status} for ${profile.faults.cognigyOutages.durationMs} ms`);
        await sleep(profile.faults.cognigyOutages.durationMs);
        // On a slow machine the relay may not have reached Cognigy yet: the outage lasts until it has refused at
        // least one call (within a bound), so the fault is really exercised rather than timed past the traffic.
        const holdUntil = Date.now() + 10_000;
        while (stack.cognigy!.rejected.length === refusedBefore && Date.now() < holdUntil) await sleep(25);
        stack.cognigy!.clearOutage();
      }
    })(),
    ...failures.map(async (failure) => {
      await started;
      await sleep(failure.at);
      stack.chatGateway!.failApiCalls(failure.fault, 1, {
        operation: 'sendMessage',
        ...(failure.fault === 429 ? { retryAfterSeconds: 1 } : {}),
      });
      state.chatGatewayFaults++;
    }),
  ]).then(() => undefined);
  return state;
}

interface ConversationRun {
  conversationId: string;
  sessionId: string;
  agentTexts: string[];
  userTexts: string[];
}

async function runHandovers(
  profile: ChaosProfile,
  stack: LocalStack,
  api: (method: string, path: string, body?: unknown) => ReturnType<typeof callJson>,
  random: () => number,
  log: (line: string) => void,
  messagesStarted: () => void,
): Promise<ConversationRun[]> {
  const chat = stack.chatGateway!;
  const h = profile.handover;
  // Each conversation's script is drawn up front, so the PRNG sequence does not depend on timing.
  const scripts = Array.from({ length: h.conversations }, (_, c) => {
    const actions: ('agent' | 'user')[] = [
      ...Array<'agent'>(h.agentMessagesPerConversation).fill('agent'),
      ...Array<'user'>(h.userMessagesPerConversation).fill('user'),
    ];
    for (let i = actions.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [actions[i], actions[j]] = [actions[j]!, actions[i]!];
    }
    return { c, actions, gaps: actions.map(() => Math.floor(random() * h.maxGapMs)) };
  });
  const runs = await Promise.all(
    scripts.map(async ({ c, actions, gaps }): Promise<ConversationRun | undefined> => {
      const sessionId = `chaos-${profile.seed}-session-${c}-${randomUUID().slice(0, 8)}`;
      let start: Awaited<ReturnType<typeof callJson>> | undefined;
      for (let attempt = 0; attempt < 3 && start?.status !== 201; attempt++) {
        start = await api('POST', '/handover', {
          cognigy: { userId: `chaos-user-${c}`, sessionId, URLToken: `chaos-token-${c}` },
          channelId: 'chaos-channel',
          customer: { name: `Chaos ${c}` },
        });
      }
      const conversationId = (start?.body as { conversationId?: string } | undefined)?.conversationId;
      if (!conversationId) {
        // Counted by the API invariant; the other conversations go on.
        log(`POST /handover failed three times (last ${start?.status}); conversation ${c} left out`);
        messagesStarted();
        return undefined;
      }
      const deadline = Date.now() + 10_000;
      while (chat.conversation(conversationId).state !== 'active' && Date.now() < deadline) await sleep(20);
      await chat.agentJoin(conversationId);
      const run: ConversationRun = { conversationId, sessionId, agentTexts: [], userTexts: [] };
      const deliveries: Promise<void>[] = [];
      messagesStarted();
      for (let i = 0; i < actions.length; i++) {
        await sleep(gaps[i]!);
        if (actions[i] === 'agent') {
          const text = `Agent ${c}.${run.agentTexts.length + 1}`;
          run.agentTexts.push(text);
          // Not awaited: the reorder fault holds an event until the next one of the conversation.
          deliveries.push(chat.agentSay(conversationId, text).catch(() => undefined));
        } else {
          const text = `User ${c}.${run.userTexts.length + 1}`;
          const answer = await api('POST', `/handover/${encodeURIComponent(conversationId)}/messages`, {
            text,
            clientMessageId: `${sessionId}-u${run.userTexts.length + 1}`,
            sessionId,
          });
          if (answer.status === 202) run.userTexts.push(text);
          else log(`user message refused: ${answer.status} ${answer.text.slice(0, 200)}`);
        }
      }
      await Promise.all(deliveries);
      return run;
    }),
  );
  messagesStarted();
  return runs.filter((r): r is ConversationRun => r !== undefined);
}

async function queuesIdle(stack: LocalStack): Promise<boolean> {
  const sqs = localSqsClient({ url: stack.urls.sqs });
  try {
    for (const q of Object.keys(QUEUES) as QueueName[]) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.queues[q].url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const busy =
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      if (busy > 0) return false;
    }
    return true;
  } finally {
    sqs.destroy();
  }
}

/** Waits until queues are empty, receipts and webhook deliveries are done and every SMS is final (or the deadline). */
async function settle(
  profile: ChaosProfile,
  stack: LocalStack,
  accepted: AcceptedSmsObservation[],
  conversations: ConversationRun[],
  api: (method: string, path: string) => ReturnType<typeof callJson>,
): Promise<boolean> {
  const deadline = Date.now() + profile.settleTimeoutMs;
  const open = new Set(accepted.map((a) => a.messageId));
  let quiet = 0;
  while (Date.now() < deadline) {
    const pending = [...open];
    await runPool(pending.length, 8, async (i) => {
      const id = pending[i]!;
      const answer = await api('GET', `/sms/${id}`);
      const code = (answer.body as { status?: { code?: string } } | undefined)?.status?.code;
      if (code && TERMINAL.has(code)) open.delete(id);
    });
    const got = new Set(
      stack.cognigy!.calls.filter((call) => call.mode === 'notify').map((call) => String(call.body.text)),
    );
    const agentDone = conversations.every((c) => c.agentTexts.every((t) => got.has(t)));
    const receiptsDone = stack.sms!.stats().receipts.pending === 0;
    const idle = open.size === 0 && agentDone && receiptsDone && (await queuesIdle(stack));
    quiet = idle ? quiet + 1 : 0;
    // Two quiet probes in a row, a moment apart: a late duplicate or redelivery would show in between.
    if (quiet >= 2) return true;
    await sleep(idle ? 750 : 250);
  }
  return false;
}

/** The record a killed accept stored for this clientMessageId (the caller never got its messageId). */
async function storedMessageId(stack: LocalStack, clientMessageId: string): Promise<string | undefined> {
  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  try {
    const { Items = [] } = await dynamo.send(
      new QueryCommand({
        TableName: stack.tables.messages,
        IndexName: 'byClientMessageId',
        KeyConditionExpression: 'clientMessageId = :c',
        ExpressionAttributeValues: { ':c': { S: clientMessageId } },
      }),
    );
    return Items[0]?.messageId?.S;
  } finally {
    dynamo.destroy();
  }
}

/** Every record of the messages table not in a terminal state: stranded SMS, whoever accepted them. */
async function unfinishedRecords(stack: LocalStack): Promise<{ messageId: string; status: string }[]> {
  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  const unfinished: { messageId: string; status: string }[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: stack.tables.messages,
          ProjectionExpression: 'messageId, #s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const status = (item.status?.S ?? 'unknown').toUpperCase();
        if (!TERMINAL.has(status)) unfinished.push({ messageId: item.messageId?.S ?? '?', status });
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    dynamo.destroy();
  }
  return unfinished;
}

async function readDlq(stack: LocalStack, queue: QueueName): Promise<unknown[]> {
  const sqs = localSqsClient({ url: stack.urls.sqs });
  const bodies: unknown[] = [];
  try {
    for (let round = 0; round < 50; round++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues[queue].dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          // Kept invisible for the rest of the run so each is read once; the stack is stopped right after.
          VisibilityTimeout: 300,
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        try {
          bodies.push(JSON.parse(m.Body ?? ''));
        } catch {
          bodies.push(m.Body);
        }
      }
    }
  } finally {
    sqs.destroy();
  }
  return bodies;
}

async function observe(
  stack: LocalStack,
  accepted: AcceptedSmsObservation[],
  idempotencyMismatches: ChaosObservations['sms']['idempotencyMismatches'],
  conversations: ConversationRun[],
  api5xx: ChaosObservations['api5xx'],
  api: (method: string, path: string) => ReturnType<typeof callJson>,
  cognigyProxy: RecordingProxy,
): Promise<ChaosObservations> {
  const sms = stack.sms!;
  const chat = stack.chatGateway!;
  const cognigy = stack.cognigy!;
  const statusOf = async (messageId: string) => {
    const answer = await api('GET', `/sms/${messageId}`);
    return answer.status === 200
      ? (answer.body as { status: { code: string }; reason?: string; errorCode?: string | number })
      : undefined;
  };
  const smsObserved = await runPool(accepted.length, 8, async (i) => {
    const a = accepted[i]!;
    const record = await statusOf(a.messageId);
    return {
      ...a,
      ...(record
        ? {
            status: record.status.code,
            ...(record.reason ? { reason: record.reason } : {}),
            ...(record.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
          }
        : {}),
    };
  });

  // 8x8's deliveries of each agent message: the event's first acknowledged attempt.
  const eventText = new Map<string, string>();
  for (const e of chat.events) {
    if (e.eventType !== 'MESSAGE') continue;
    const data = (JSON.parse(e.body) as { data?: { text?: string; sender?: { type?: string } } }).data;
    if (data?.sender?.type === 'agent' && data.text) eventText.set(e.eventId, data.text);
  }
  const firstAck = new Map<string, { from: number; until: number }>();
  for (const d of chat.deliveries) {
    if (typeof d.status !== 'number' || d.status < 200 || d.status >= 300 || firstAck.has(d.eventId))
      continue;
    firstAck.set(d.eventId, { from: d.at, until: d.at + (d.durationMs ?? 0) });
  }
  const windowByText = new Map<string, { from: number; until: number }>();
  for (const [eventId, text] of eventText) {
    const w = firstAck.get(eventId);
    if (w) windowByText.set(text, w);
  }

  // Notify pushes whose answer did not reach the bridge (Cognigy may or may not have taken them).
  const lostAnswers = new Map<string, number>();
  for (const call of cognigyProxy.calls) {
    if (!call.path.startsWith('/notify/') || call.answered) continue;
    try {
      const text = String((JSON.parse(call.body) as { text?: unknown }).text);
      lostAnswers.set(text, (lostAnswers.get(text) ?? 0) + 1);
    } catch {
      // Not JSON: not one of the run's messages.
    }
  }
  const agent = conversations.map((c) => ({
    conversationId: c.conversationId,
    sent: c.agentTexts.map((text): AgentMessageObservation => {
      const w = windowByText.get(text);
      const lost = lostAnswers.get(text);
      return {
        text,
        ...(w ? { deliveredFrom: w.from, deliveredUntil: w.until } : {}),
        ...(lost ? { lostAnswers: lost } : {}),
      };
    }),
    received: cognigy.calls
      .filter(
        (call) =>
          call.mode === 'notify' &&
          (call.body.data as { handover?: { conversationId?: string } } | undefined)?.handover
            ?.conversationId === c.conversationId,
      )
      .sort((a, b) => a.seq - b.seq)
      .map((call) => String(call.body.text)),
  }));
  const user = conversations.map((c) => ({
    conversationId: c.conversationId,
    sent: c.userTexts,
    received: chat.conversation(c.conversationId).userMessages.map((m) => m.text),
  }));

  const dlq: DlqEntry[] = [];
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    for (const body of await readDlq(stack, queue)) dlq.push(await explainDlq(queue, body, statusOf, api));
  }

  return {
    sms: {
      accepted: smsObserved,
      eightByEight: sms.received.map((m) => ({
        clientMessageId: m.clientMessageId,
        answered: m.answer === 'answered',
        callSeq: m.callSeq,
      })),
      idempotencyMismatches,
    },
    agent,
    user,
    api5xx,
    dlq,
  };
}

async function explainDlq(
  queue: QueueName,
  body: unknown,
  statusOf: (
    id: string,
  ) => Promise<{ status: { code: string }; reason?: string; errorCode?: string | number } | undefined>,
  api: (method: string, path: string) => ReturnType<typeof callJson>,
): Promise<DlqEntry> {
  const b = (body ?? {}) as Record<string, unknown>;
  if (queue === 'sms') {
    const messageId = String(b.messageId ?? '');
    const record = messageId ? await statusOf(messageId) : undefined;
    return {
      queue,
      subject: `SMS ${messageId || JSON.stringify(body).slice(0, 80)}`,
      reason: record ? (record.reason ?? String(record.errorCode ?? 'no reason recorded')) : 'no record',
      ...(record ? { status: record.status.code } : {}),
    };
  }
  const event = b.event as { eventType?: string; conversationId?: string } | undefined;
  const conversationId = String(event?.conversationId ?? b.conversationId ?? '');
  const subject =
    queue === 'handoverInbound'
      ? `${event?.eventType ?? 'event'} of ${conversationId}`
      : `${String(b.kind ?? 'item')} for ${conversationId}`;
  let reason = 'no record';
  if (conversationId) {
    const answer = await api('GET', `/handover/${encodeURIComponent(conversationId)}`);
    const lastError = (answer.body as { lastError?: { message?: string; code?: string } } | undefined)
      ?.lastError;
    reason = lastError
      ? `${lastError.code ?? ''} ${lastError.message ?? ''}`.trim()
      : `conversation HTTP ${answer.status}`;
  }
  return { queue, subject, reason };
}

function faultCounts(stack: LocalStack, chatGatewayApiFaults: number): ChaosFaultCounts {
  const smsStats = stack.sms!.stats();
  const deliveries = stack.chatGateway!.deliveries;
  const seenFirst = new Set<string>();
  let duplicates = 0;
  for (const d of deliveries) {
    if (d.retry !== 0) continue;
    if (seenFirst.has(d.eventId)) duplicates++;
    else seenFirst.add(d.eventId);
  }
  const pollerStats = stack.pollerStats() as Record<QueueName, { crashes?: number }>;
  return {
    eightByEightCalls: smsStats.calls,
    eightByEightAnswers: smsStats.answersByStatus,
    eightByEightUnanswered: smsStats.unanswered,
    eightByEightResets: smsStats.resets,
    receiptAttempts: smsStats.receipts.attempts,
    receiptDuplicates: stack.sms!.receiptsSent.filter((r) => r.duplicate).length,
    webhookDeliveries: deliveries.length,
    webhookDuplicates: duplicates,
    webhookFailedAttempts: deliveries.filter((d) => typeof d.status !== 'number' || d.status >= 300).length,
    webhookRefusals: deliveries
      .filter((d) => typeof d.status !== 'number' || d.status >= 300)
      .reduce<Record<string, number>>(
        (by, d) => ({ ...by, [String(d.status)]: (by[String(d.status)] ?? 0) + 1 }),
        {},
      ),
    chatGatewayApiFaults,
    cognigyRefused: stack.cognigy!.rejected.length,
    cognigyDuplicates: stack.cognigy!.duplicates().duplicates,
    cognigyDuplicatesAfterFlowDedupe: stack.cognigy!.duplicates().duplicatesAfterFlowDedupe,
    workerCrashes: Object.fromEntries(
      (Object.keys(pollerStats) as QueueName[]).map((q) => [q, pollerStats[q].crashes ?? 0]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Report

export function formatChaosReport(report: ChaosReport, maxViolations = 10): string {
  const f = report.faults;
  const lines: string[] = [];
  const p = report.profile;
  lines.push(
    `Chaos run, seed ${p.seed}: ${p.sms.count} SMS, ${p.handover.conversations} handovers × ` +
      `${p.handover.agentMessagesPerConversation} agent / ${p.handover.userMessagesPerConversation} user messages; ` +
      `${Math.round(report.durationMs / 1000)} s${report.settled ? '' : ' (did NOT settle)'}`,
  );
  const lag = report.eventLoopDelayMs;
  lines.push(
    `Event-loop delay p99 ${Math.round(lag.p99)} ms, max ${Math.round(lag.max)} ms` +
      (lag.max > p.stack.upstreamTimeoutMs
        ? ` — beyond the ${p.stack.upstreamTimeoutMs} ms upstream timeout: the machine is overloaded`
        : ''),
  );
  lines.push('');
  lines.push('Faults injected');
  const answers = Object.entries(f.eightByEightAnswers)
    .sort()
    .map(([s, n]) => `${n}×${s}`)
    .join(' ');
  lines.push(
    `  8x8 SMS API   ${f.eightByEightCalls} calls: ${answers}; ${f.eightByEightUnanswered} unanswered (timeout), ${f.eightByEightResets} resets`,
  );
  lines.push(
    `  SMS receipts  ${f.receiptAttempts} POSTs, ${f.receiptDuplicates} duplicates, out of order, delayed`,
  );
  lines.push(
    `  Chat webhook  ${f.webhookDeliveries} deliveries, ${f.webhookDuplicates} duplicates, ${f.webhookFailedAttempts} not acknowledged` +
      `${
        f.webhookFailedAttempts
          ? ` (${Object.entries(f.webhookRefusals)
              .map(([st, n]) => `${n}×${st}`)
              .join(' ')}, retried by 8x8)`
          : ''
      }; reordered and delayed`,
  );
  lines.push(`  Chat API      ${f.chatGatewayApiFaults} failing calls (429, 5xx, no answer)`);
  lines.push(
    `  Cognigy       ${f.cognigyRefused} calls refused during outages; ${f.cognigyDuplicates} duplicates seen ` +
      `(same bridgeEventId), ${f.cognigyDuplicatesAfterFlowDedupe} with the flow-side dedupe`,
  );
  lines.push(
    `  Worker crash  ${Object.entries(f.workerCrashes)
      .map(([q, n]) => `${q} ${n}`)
      .join(', ')}`,
  );
  if (f.acceptKills !== undefined)
    lines.push(
      `  Accept kill   ${f.acceptKills} sms-accept invocations killed between record write and enqueue`,
    );
  lines.push('');
  lines.push('Invariants');
  for (const inv of report.invariants) {
    lines.push(`  ${inv.ok ? 'PASS' : 'FAIL'}  ${inv.title}`);
    lines.push(`        ${inv.summary}`);
    for (const v of inv.violations.slice(0, maxViolations)) lines.push(`        ✗ ${v}`);
    if (inv.violations.length > maxViolations)
      lines.push(`        … and ${inv.violations.length - maxViolations} more`);
  }
  lines.push('');
  lines.push('DLQ contents');
  if (report.observations.dlq.length === 0) lines.push('  (all empty)');
  for (const e of report.observations.dlq)
    lines.push(`  ${e.queue}: ${e.subject}${e.status ? ` [${e.status}]` : ''} — ${e.reason}`);
  lines.push('');
  lines.push(report.ok ? 'All invariants hold.' : 'INVARIANTS BROKEN.');
  return lines.join('\n');
}
