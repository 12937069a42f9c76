/**
 * The SMS record (messages table) and the ports the SMS cores use. Adapters: dynamo-message-store.ts,
 * base-wiring.ts (SmsQueue over shared/sqs.ts), powertools-idempotency.ts, eight-by-eight-sms-client.ts. Cores import no AWS SDK.
 */
import type { ActualEncoding, RequestedEncoding } from './text';
import type { PublicStatusCode } from './answer-schemas';
import type { ReceiptEvent } from './schema';

/**
 * Life of an SMS: queued → sending (an attempt to hand it to 8x8 is under way) → sent (8x8 accepted it, umid known)
 * → delivered | undelivered | rejected (receipts). `failed` is ours: 8x8 refused it permanently or retries ran out.
 */
export type SmsStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'rejected' | 'failed' | 'cancelled';

/**
 * Order of statuses: a record only ever moves to a higher rank, so late or repeated receipts cannot move it
 * backwards. Every final status shares the top rank, which makes it final. The rank is stored on the record so
 * DynamoDB conditions can compare it (`statusRank < :rank`).
 */
export const STATUS_RANK: Record<SmsStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  undelivered: 3,
  rejected: 3,
  failed: 3,
  // DELETE /sms/{messageId}: final, so the worker (isSettled) and late receipts leave it alone.
  cancelled: 3,
};
export const FINAL_RANK = 3;

/** statusDescription of a record a DLQ redrive put back into the queue (MessageStore.reopenForRedrive). */
export const REDRIVEN_DESCRIPTION = 'SMS was redriven from the dead-letter queue and is queued again';

export function publicStatus(status: SmsStatus): PublicStatusCode {
  // `sending` is internal: to a caller the SMS is still waiting in our queue.
  return status === 'sending' ? 'QUEUED' : (status.toUpperCase() as PublicStatusCode);
}

/** An SMS request after validation: destination in E.164 with '+', empty optional fields dropped. */
export interface NormalisedSmsRequest {
  destination: string;
  text: string;
  encoding: RequestedEncoding;
  source?: string;
  /** Kept for the record; the destination is already international, so 8x8 does not need it. */
  country?: string;
  clientMessageId?: string;
  /** ISO-8601 instants in UTC. */
  scheduled?: string;
  expiry?: string;
  track?: 'None' | 'Outcome';
  clientIp?: string;
  /** The caller's own receipt URL, passed to 8x8 unchanged. */
  dlrCallbackUrl?: string;
}

export interface CognigyRef {
  userId?: string;
  sessionId?: string;
  /** Credential of the Endpoint's inject route: never logged, never returned. */
  URLToken?: string;
  endpointBaseUrl?: string;
  /** Status changes to inject into the session; empty = none. */
  receiptEvents: ReceiptEvent[];
}

export interface HistoryEntry {
  status: SmsStatus;
  at: string;
  detail?: string;
  umid?: string;
  errorCode?: string | number;
  reason?: string;
}

export interface LastError {
  at: string;
  httpStatus?: number;
  code?: string | number;
  message: string;
}

export interface MessageRecord {
  messageId: string;
  /** The caller's clientMessageId (sparse: absent when none was given; then 8x8 gets our messageId). */
  clientMessageId?: string;
  /** apiKeyId of the key that sent it (functions/shared/tenancy.ts); absent on records from before tenancy. */
  owner?: string;
  destination: string;
  request: NormalisedSmsRequest;
  cognigy?: CognigyRef;
  status: SmsStatus;
  statusRank: number;
  statusDescription?: string;
  umid?: string;
  errorCode?: string | number;
  reason?: string;
  history: HistoryEntry[];
  /** Attempts started to hand the SMS to 8x8. */
  attempts: number;
  /** Attempts that ended without knowing whether 8x8 accepted the SMS (timeout after sending, lost worker). */
  ambiguousAttempts: number;
  /** Until when the current attempt owns the record (epoch ms); another worker waits until then. */
  attemptLeaseUntil?: number;
  lastError?: LastError;
  /** A status whose Cognigy injection has not succeeded yet (retried when 8x8 repeats the receipt). */
  injectPending?: SmsStatus;
  encoding: ActualEncoding;
  parts: number;
  batchId?: string;
  clientBatchId?: string;
  /**
   * Transactional outbox marker (sparse GSI byOutbox, sorted by createdAt): `pending` from the record's creation
   * until SQS took its `{messageId}`. The record write is the only commit of POST /sms; the sms-sweeper queues
   * records still marked after SMS_SWEEP_AGE_SECONDS (functions/sms/sweeper.ts).
   */
  outbox?: 'pending';
  /**
   * Set when the record became `failed` because SQS gave up on it (retries exhausted, message in the DLQ) before
   * 8x8 accepted it: a message redriven from the DLQ then starts a fresh attempt (functions/sms/redrive.ts).
   */
  redrivable?: boolean;
  /**
   * Reply window (sparse GSI byReplyKey, sorted by createdAt): `replyKey(destination, source)` (inbound-ports.ts) on
   * an SMS whose request carried a Cognigy session that can be injected, so an SMS back from that number reaches
   * the session (functions/sms/inbound.ts). Removed by DELETE /sms/{messageId}/pii.
   */
  replyKey?: string;
  /** Set by DELETE /sms/{messageId}/pii: the destination and text are gone, this says who erased them and when. */
  erased?: ErasureTombstone;
  createdAt: string;
  updatedAt: string;
  /** DynamoDB TTL, epoch seconds. */
  expiresAt: number;
}

/** What stands in for an erased destination and text (the fields stay, so the record keeps its shape). */
export const ERASED = '[erased]';

/** The auditable trace of an erasure (DELETE /sms/{messageId}/pii). */
export interface ErasureTombstone {
  at: string;
  /** apiKeyId of the caller that erased (absent when no key was involved). */
  by?: string;
  /** Record fields that were erased. */
  fields: string[];
  /**
   * 8x8's copy: `requested` (8x8 answered 202 to its PII removal for the umid), `failed` (a repeat of the call
   * asks again), `notSent` (8x8 never had the SMS).
   */
  eightByEight: 'requested' | 'failed' | 'notSent';
  /** When 8x8 accepted the PII removal. */
  eightByEightAt?: string;
}

/** Fields DELETE /sms/{messageId}/pii erases: the recipient's number and the text (clientIp: the caller's IP). */
export const ERASED_FIELDS = ['destination', 'request.destination', 'request.text', 'request.clientIp'];

/** Rank of `delivered` with detail `delivered_to_operator`: above `sent`, below the final statuses. */
export const OPERATOR_DELIVERED_RANK = 2.5;

/** A move to a higher-ranked status, appended to the history. */
export interface StatusChange {
  status: Exclude<SmsStatus, 'queued' | 'sending'>;
  at: string;
  /** Time of the update (history `at` may be 8x8's timestamp). */
  now: string;
  description?: string;
  detail?: string;
  umid?: string;
  errorCode?: string | number;
  reason?: string;
  /** Mark the change as waiting for its Cognigy injection (cleared by clearInjectPending). */
  injectPending?: boolean;
  /**
   * Rank to store instead of STATUS_RANK[status]. Used for `delivered_to_operator`: delivered to the carrier is
   * not yet final, so a later `delivered_to_recipient` or `undelivered` may still replace it.
   */
  rank?: number;
  /** Mark a `failed` record as redrivable from the DLQ (see MessageRecord.redrivable). */
  redrivable?: boolean;
}

export interface AttemptStart {
  /** `attempts` as read; the start only succeeds if nobody started another attempt since (optimistic lock). */
  seenAttempts: number;
  /** The record was left in `sending` by an attempt that never reported back. */
  previousAmbiguous: boolean;
  leaseUntil: number;
  now: string;
}

export interface AttemptRelease {
  attempt: number;
  /** The attempt may have reached 8x8 (timeout after the request was sent). */
  ambiguous: boolean;
  lastError: LastError;
  now: string;
}

/** MessageStore.create found a record with the same messageId: nothing was written. */
export class MessageAlreadyStoredError extends Error {
  constructor(readonly messageId: string) {
    super(`A record with messageId ${messageId} is already stored`);
    this.name = 'MessageAlreadyStoredError';
  }
}

export interface MessageStore {
  /** Stores a new record; throws MessageAlreadyStoredError if the messageId exists. */
  create(record: MessageRecord): Promise<void>;
  get(messageId: string): Promise<MessageRecord | undefined>;
  getMany(messageIds: string[]): Promise<MessageRecord[]>;
  findByUmid(umid: string): Promise<MessageRecord | undefined>;
  findByClientMessageId(clientMessageId: string): Promise<MessageRecord[]>;
  /** queued/sending → sending with attempts+1; false when the record moved on or another attempt started. */
  startAttempt(messageId: string, start: AttemptStart): Promise<boolean>;
  /** sending → queued after an attempt that did not reach a verdict; false when the record moved on. */
  releaseAttempt(messageId: string, release: AttemptRelease): Promise<boolean>;
  /**
   * Moves the record to `change.status` only while its rank is below `belowRank` (default: the new rank),
   * atomically, so concurrent receipts and workers cannot move it backwards. False when nothing changed.
   */
  changeStatus(messageId: string, change: StatusChange, belowRank?: number): Promise<boolean>;
  /** Records 8x8's umid on a record that has none (a receipt can arrive before the worker wrote it). */
  setUmidIfMissing(messageId: string, umid: string, now: string): Promise<void>;
  clearInjectPending(messageId: string, status: SmsStatus, now: string): Promise<void>;
  /** Removes the outbox marker: SQS holds the SMS (or it no longer needs queueing). */
  clearOutbox(messageIds: string[], now: string): Promise<void>;
  /** Records still marked `outbox` that were created before `createdBefore` (ISO), oldest first, at most `limit`. */
  findOutbox(createdBefore: string, limit: number): Promise<MessageRecord[]>;
  /**
   * failed (redrivable, no umid) → queued, with a history entry; false when the record is not redrivable (any more).
   * `attempts` is kept, so the next attempt is a new, counted one.
   */
  reopenForRedrive(messageId: string, now: string): Promise<boolean>;
  /**
   * queued (never handed to 8x8, no umid) → cancelled, atomically against the worker's startAttempt; false when
   * the record moved on (an attempt started, or it is already sent/final).
   */
  cancelQueued(messageId: string, now: string, by?: string): Promise<boolean>;
  /** Replaces the destination and text by ERASED and stores the tombstone (repeatable: the tombstone is replaced). */
  erase(messageId: string, tombstone: ErasureTombstone): Promise<void>;
}

export interface SmsQueue {
  /** Enqueues `{messageId}` bodies; returns the ids that could NOT be enqueued. */
  enqueue(messageIds: string[]): Promise<string[]>;
}

/**
 * Deduplication by clientMessageId (Powertools idempotency in production). `run` executes `work` once per key
 * and returns its stored result to repeats with the same fingerprint; a different fingerprint throws
 * IdempotencyConflictError, a concurrent first run IdempotencyInProgressError.
 */
export interface IdempotencyGuard {
  run<T extends Record<string, unknown>>(
    key: string,
    fingerprint: unknown,
    work: () => Promise<T>,
  ): Promise<T>;
  /**
   * Replaces the stored answer of the key's first request (it holds the destination) by `answer`, when there is
   * one for this fingerprint; a repeat then gets the erased answer, never a second SMS.
   */
  eraseAnswer?(key: string, fingerprint: unknown, answer: Record<string, unknown>): Promise<boolean>;
  /** Forgets a key whose result turned out unusable (the SMS could not be queued), so a retry starts afresh. */
  forget(key: string, fingerprint: unknown): Promise<void>;
}
