/** The chaos run's sizes and fault profile; everything random in a run derives from `seed`. */
import type { QueueName } from '../../../functions/shared/catalogue';

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
  /**
   * Inbound SMS (issue 14): handsets texting the bridge's 8x8 number. `replies` flows' SMS with a Cognigy session are
   * each answered by one text (reply window → inject); `botPhones` numbers text the SMS bot `botTextsPerPhone` times
   * each, one after the other; `stopPhones` numbers text STOP, `restartPhones` of them START afterwards.
   * `redeliverShare` of the texts 8x8 delivers again (same umid), half at once (racing the first delivery: the
   * bridge answers 503 in progress and 8x8 retries) and half a moment later (answered duplicate).
   */
  inbound?: {
    replies: number;
    botPhones: number;
    botTextsPerPhone: number;
    stopPhones: number;
    restartPhones: number;
    redeliverShare: number;
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
    /**
     * sms-deliver invocations killed between 8x8's QUEUED answer and the record update (lib/evidence/worker-kill.ts):
     * `share` of SMS, each at most once.
     */
    workerKills?: { share: number };
    /**
     * Cognigy answers slower than the bridge's push timeout: `share` of delivered pushes answered `ms` late (the
     * push arrived; the bridge times out and pushes again, with its longer retry timeout).
     */
    cognigySlow?: { share: number; ms: number };
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
  inbound: {
    replies: 12,
    botPhones: 8,
    botTextsPerPhone: 3,
    stopPhones: 4,
    restartPhones: 2,
    redeliverShare: 0.3,
  },
  faults: {
    eightByEight: { p429: 0.1, p5xx: 0.1, pTimeout: 0.05, pReset: 0.05, pSlow: 0.1, slowMs: 300 },
    receipts: { duplicate: true, outOfOrder: true, delayMs: 50 },
    webhook: { duplicate: true, reorder: true, delayMs: 20 },
    chatGatewayApiFailures: 8,
    cognigyOutages: { count: 3, durationMs: 1500, statuses: [503, 500, 429] },
    crashes: { sms: [2, 9], handoverInbound: [3, 12], handoverOutbound: [2], smsInbound: [2] },
    acceptKills: { share: 0.1, retriedShare: 0.5 },
    workerKills: { share: 0.05 },
    // Past the first push timeout (upstreamTimeoutMs 5 s; SMS injects 3 s), within the retry timeouts (6 s / 8 s).
    cognigySlow: { share: 0.1, ms: 5500 },
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
  inbound: {
    replies: 3,
    botPhones: 3,
    botTextsPerPhone: 2,
    stopPhones: 2,
    restartPhones: 1,
    redeliverShare: 0.4,
  },
  faults: {
    ...DEFAULT_CHAOS_PROFILE.faults,
    eightByEight: { p429: 0.15, p5xx: 0.15, pTimeout: 0.1, pReset: 0.05, pSlow: 0.1, slowMs: 300 },
    chatGatewayApiFailures: 3,
    cognigyOutages: { count: 2, durationMs: 800, statuses: [503, 429] },
    crashes: { sms: [1], handoverInbound: [2], handoverOutbound: [1], smsInbound: [1] },
    acceptKills: { share: 0.25, retriedShare: 0.5 },
    workerKills: { share: 0.1 },
    cognigySlow: { share: 0.1, ms: 5500 },
  },
  stack: { ...DEFAULT_CHAOS_PROFILE.stack, visibilityTimeoutSeconds: 12, maxReceiveCount: {} },
  settleTimeoutMs: 60_000,
};
