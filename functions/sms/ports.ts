/**
 * The sms-deliver worker's view of the world: what its cores receive as arguments (store, 8x8 client, secrets,
 * Cognigy injector, clock, randomness through the rate-limit gate, telemetry), and the shapes passed between the
 * pure decisions (outcome.ts), the 8x8 I/O (send-attempt.ts) and the worker (deliver.ts). Adapters are built in
 * wiring.ts; tests pass in-memory fakes.
 */
import { UpstreamError } from '../shared/errors';
import type { Telemetry, Clock } from '../shared/runtime';
import type { ReceiptInjector } from './cognigy-inject';
import type { EightByEightSms, EightByEightSmsResponse, SmsCredentials } from './eight-by-eight-sms-client';
import type { RateLimitGate } from './rate-limit';
import type { MessageRecord, MessageStore } from './records';

/** SETTINGS.ambiguousTimeoutPolicy: after an attempt 8x8 may have accepted, send again or end the SMS `failed`. */
export type AmbiguousTimeoutPolicy = 'resend' | 'fail';

export interface DeliverSettings {
  upstreamTimeoutMs: number;
  receiptMode: 'account' | 'perMessage';
  publicBaseUrl?: string;
  /**
   * How long one attempt may wait out 8x8's Retry-After and call again before it gives the SMS back to the
   * queue. Every return to the queue counts towards maxReceiveCount, so under a sustained rate limit SMS would
   * otherwise exhaust their retries (and fail) merely by waiting. 0 or absent: never wait.
   */
  rateLimitWaitMs?: number;
  /** Absent: `resend`. */
  ambiguousTimeoutPolicy?: AmbiguousTimeoutPolicy;
  /**
   * How long an 8x8 call may wait for its place in the pacer's bucket before its SMS go back to the queue (with the
   * wait as their delay). 0 or absent: only a place that is due now.
   */
  paceWaitMs?: number;
}

/** The shared 8x8 call rate (functions/sms/pacer.ts Pacer): where each call takes its place, and 429 feedback. */
export interface CallPacer {
  /** The epoch ms to call at (from `earliestMs`, no later than `latestMs`), or undefined when all is taken. */
  reserve(earliestMs: number, latestMs: number): Promise<number | undefined>;
  /** 8x8 answered 429: the pacer lowers the shared rate for a while. */
  rateLimited(): Promise<void>;
  /** How long before its place a call starts preparing (learnt from preparationTook). */
  leadMs(): number;
  preparationTook(ms: number): void;
}

export interface DeliverDeps {
  store: MessageStore;
  sms: EightByEightSms;
  credentials: () => Promise<SmsCredentials>;
  /** smsWebhookAuth.callbackTokenKey; read only in perMessage receipt mode. */
  callbackTokenKey: () => Promise<string | undefined>;
  injector: ReceiptInjector;
  clock: Clock;
  /** The container's 8x8 rate-limit gate (one per container, built by the wiring; it holds the randomness). */
  rateLimit: RateLimitGate;
  /** The 8x8 call rate shared by every worker instance; absent (SMS_RATE_LIMIT_PER_SECOND=0): no pacing. */
  pacer?: CallPacer;
  /** Logs and Powertools metrics (tests pass a recording or silent one). */
  telemetry: Telemetry;
  settings: DeliverSettings;
}

/** Another worker holds the attempt lease; retried later, by when that attempt has reported. */
export class AttemptInProgressError extends Error {
  constructor(messageId: string) {
    super(`Another attempt to hand SMS ${messageId} to 8x8 is under way`);
    this.name = 'AttemptInProgressError';
  }
}

/** 8x8 accepted a batch but its answer did not mention this SMS: it may or may not have been accepted. */
export class MissingFromBatchAnswerError extends Error {
  constructor() {
    super("8x8's batch answer did not list this SMS");
    this.name = 'MissingFromBatchAnswerError';
  }
}

export class InvalidQueueMessageError extends Error {
  constructor() {
    super('SMS queue message is not {messageId: <uuid>}');
    this.name = 'InvalidQueueMessageError';
  }
}

/** 8x8 has the SMS, but the Cognigy injection of its status failed; thrown so SQS retries only the injection. */
export class InjectionPendingError extends Error {
  constructor(messageId: string) {
    super(`The Cognigy injection of SMS ${messageId}'s status is retried`);
    this.name = 'InjectionPendingError';
  }
}

export interface Attempt {
  record: MessageRecord;
  /** This attempt's number (attempts after the start). */
  number: number;
}

export type SendOutcome =
  | { kind: 'answer'; response: EightByEightSmsResponse }
  | { kind: 'unreadable' }
  | { kind: 'missing' }
  | { kind: 'error'; error: unknown };

/**
 * No place in the pacer's bucket within paceWaitMs: the SMS goes back to the queue (nothing was sent), delayed by
 * the wait (retryAfterMs), like an 8x8 429 whose Retry-After does not fit the wait budget.
 */
export class PacerBusyError extends UpstreamError {
  constructor(waitMs: number) {
    super(
      '8x8-sms',
      'rateLimited',
      `The 8x8 request rate (SMS_RATE_LIMIT_PER_SECOND) is taken for the next ${Math.round(waitMs)} ms`,
      undefined,
      'PACED',
      waitMs,
    );
    this.name = 'PacerBusyError';
  }
}

export type PreparedEntry =
  | {
      attempt: Attempt;
      /** 8x8's verdict from the batch call; undefined: send this SMS singly. */
      outcome?: SendOutcome;
      /** Set by the first queue record that handles the entry (SQS may deliver one message twice in a batch). */
      claimed?: boolean;
    }
  | {
      /** No attempt was started: the pacer had no place for the batch call (PacerBusyError), retried later. */
      deferred: PacerBusyError;
      claimed?: boolean;
    };

export type PreparedDeliveries = Map<string, PreparedEntry>;
