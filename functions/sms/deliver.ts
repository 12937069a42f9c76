/**
 * The sms-deliver worker: hands queued SMS to 8x8, at most once per acceptance by 8x8.
 *
 * - The record is the source of truth; the queue body is only `{messageId}`. A record that already has an umid or
 *   a status from `sent` on is never sent again, whatever SQS redelivers.
 * - Every attempt is started with a conditional update (status `sending`, attempts+1, a lease), so two workers
 *   holding copies of one message cannot both send it. An attempt that ends without 8x8's verdict (timeout after
 *   sending, a lost worker) is counted in `ambiguousAttempts`: 8x8 may have accepted it, and a retry may duplicate.
 * - 8x8's verdicts: QUEUED → `sent` (umid); REJECTED → `rejected` (final); 400/401/403/404 and other 4xx →
 *   `failed` with 8x8's code (final, never retried); 429 → retry after Retry-After; 5xx, timeouts, resets → retry
 *   with backoff and jitter (functions/shared/queue-consumer.ts); retries exhausted → `failed` (onExhausted).
 * - When a poll batch holds two or more sendable SMS, they go to 8x8 in one batch call (answers matched by
 *   clientMessageId). A batch-wide 429/5xx/timeout retries each SMS; a batch-wide 400 falls back to single sends
 *   so one bad SMS cannot fail the others.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from '../shared/zod';
import { UpstreamError } from '../shared/errors';
import { maskPhone } from '../shared/mask';
import { logger, metrics } from '../shared/powertools';
import type { BatchItem, RecordContext } from '../shared/queue-consumer';
import type { Clock } from '../shared/runtime';
import { callbackUrl } from './callback-token';
import type { ReceiptInjector, SmsStatusEvent } from './cognigy-inject';
import {
  EightByEightSmsError,
  UnreadableAnswerError,
  type EightByEightBatchResponse,
  type EightByEightSms,
  type EightByEightSmsRequest,
  type EightByEightSmsResponse,
  type SmsCredentials,
} from './eight-by-eight-sms-client';
import {
  STATUS_RANK,
  type LastError,
  type MessageRecord,
  type MessageStore,
  type StatusChange,
} from './records';
import type { RateLimitGate } from './rate-limit';
import { reopenIfRedriven } from './redrive';
import { MESSAGE_ID_PATTERN } from './status';

export interface DeliverDeps {
  store: MessageStore;
  sms: EightByEightSms;
  credentials: () => Promise<SmsCredentials>;
  /** smsWebhookAuth.callbackTokenKey; read only in perMessage receipt mode. */
  callbackTokenKey: () => Promise<string | undefined>;
  injector: ReceiptInjector;
  clock: Clock;
  /** The container's 8x8 rate-limit gate (one per container, built by the wiring). */
  rateLimit: RateLimitGate;
  settings: {
    upstreamTimeoutMs: number;
    receiptMode: 'account' | 'perMessage';
    publicBaseUrl?: string;
    /**
     * How long one attempt may wait out 8x8's Retry-After and call again before it gives the SMS back to the
     * queue. Every return to the queue counts towards maxReceiveCount, so under a sustained rate limit SMS would
     * otherwise exhaust their retries (and fail) merely by waiting. 0 or absent: never wait.
     */
    rateLimitWaitMs?: number;
  };
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

const queueBodySchema = z.object({ messageId: z.string().check(z.regex(MESSAGE_ID_PATTERN)) });

export function messageIdOf(body: unknown): string {
  const parsed = queueBodySchema.safeParse(body);
  if (!parsed.success) throw new InvalidQueueMessageError();
  return parsed.data.messageId;
}

interface Attempt {
  record: MessageRecord;
  /** This attempt's number (attempts after the start). */
  number: number;
}

export type SendOutcome =
  | { kind: 'answer'; response: EightByEightSmsResponse }
  | { kind: 'unreadable' }
  | { kind: 'missing' }
  | { kind: 'error'; error: unknown };

interface PreparedEntry {
  attempt: Attempt;
  /** 8x8's verdict from the batch call; undefined: send this SMS singly. */
  outcome?: SendOutcome;
  /** Set by the first queue record that handles the entry (SQS may deliver one message twice in a batch). */
  claimed?: boolean;
}

export type PreparedDeliveries = Map<string, PreparedEntry>;

/** The clientMessageId 8x8 gets: the caller's, or our messageId so receipts always map back. */
export function sentClientMessageId(record: MessageRecord): string {
  return record.clientMessageId ?? record.messageId;
}

function isSendable(record: MessageRecord, nowMs: number): boolean {
  if (record.umid || record.statusRank > STATUS_RANK.sending) return false;
  return record.status === 'queued' || (record.attemptLeaseUntil ?? 0) <= nowMs;
}

function isExpired(record: MessageRecord, nowMs: number): boolean {
  return !!record.request.expiry && Date.parse(record.request.expiry) <= nowMs;
}

/** A lease long enough for a batch call and a single-send fallback, after which another worker may take over. */
function leaseMs(deps: DeliverDeps): number {
  return 2 * deps.settings.upstreamTimeoutMs + 10_000;
}

async function begin(record: MessageRecord, deps: DeliverDeps): Promise<Attempt | undefined> {
  const now = deps.clock.now();
  const seen = record.attempts ?? 0;
  const previousAmbiguous = record.status === 'sending';
  const started = await deps.store.startAttempt(record.messageId, {
    seenAttempts: seen,
    previousAmbiguous,
    leaseUntil: now.getTime() + leaseMs(deps),
    now: now.toISOString(),
  });
  if (!started) return undefined;
  if (previousAmbiguous) {
    metrics.addMetric('SmsAmbiguousAttempt', MetricUnit.Count, 1);
    logger.warn('A previous attempt ended without a verdict from 8x8; sending again', {
      messageId: record.messageId,
      attempt: seen,
    });
  }
  return { record, number: seen + 1 };
}

let warnedAboutCallbacks = false;

async function receiptCallback(record: MessageRecord, deps: DeliverDeps): Promise<string | undefined> {
  if (record.request.dlrCallbackUrl) return record.request.dlrCallbackUrl; // the caller's own URL, unchanged
  if (deps.settings.receiptMode !== 'perMessage') return undefined;
  const key = await deps.callbackTokenKey();
  if (!deps.settings.publicBaseUrl || !key) {
    if (!warnedAboutCallbacks) {
      logger.error(
        'SMS_RECEIPT_MODE=perMessage needs PUBLIC_BASE_URL and smsWebhookAuth.callbackTokenKey; using the account webhook',
      );
      warnedAboutCallbacks = true;
    }
    return undefined;
  }
  return callbackUrl(deps.settings.publicBaseUrl, record.messageId, key);
}

export async function toEightByEightRequest(
  record: MessageRecord,
  deps: DeliverDeps,
): Promise<EightByEightSmsRequest> {
  const request = record.request;
  const nowMs = deps.clock.now().getTime();
  // A schedule that passed while the SMS waited for a retry means "send now"; 8x8 could refuse a past one.
  const scheduled =
    request.scheduled && Date.parse(request.scheduled) > nowMs ? request.scheduled : undefined;
  const dlrCallbackUrl = await receiptCallback(record, deps);
  return {
    destination: request.destination,
    text: request.text,
    encoding: request.encoding,
    ...(request.source && { source: request.source }),
    clientMessageId: sentClientMessageId(record),
    ...(scheduled && { scheduled }),
    ...(request.expiry && { expiry: request.expiry }),
    ...(request.track && { track: request.track }),
    ...(request.clientIp && { clientIp: request.clientIp }),
    ...(dlrCallbackUrl && { dlrCallbackUrl }),
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for the rate-limit gate when that fits in what is left of the wait budget; returns the time waited. */
async function awaitGate(deps: Pick<DeliverDeps, 'settings' | 'rateLimit'>, waited: number): Promise<number> {
  const gate = deps.rateLimit.remaining();
  if (gate <= 0 || waited + gate > (deps.settings.rateLimitWaitMs ?? 0)) return 0;
  await pause(gate);
  return gate;
}

/**
 * After 8x8 answered 429: how long to wait before calling again within this invocation (Retry-After plus a little
 * jitter, so the callers waiting for the same window do not all hit its first millisecond), or undefined when
 * the wait does not fit in deps.settings.rateLimitWaitMs and the SMS should go back to the queue instead.
 */
function rateLimitWait(
  error: unknown,
  deps: Pick<DeliverDeps, 'settings' | 'rateLimit'>,
  waited: number,
): number | undefined {
  if (!(error instanceof UpstreamError) || error.kind !== 'rateLimited') return undefined;
  deps.rateLimit.close(error.retryAfterMs);
  const wait = deps.rateLimit.remainingWithJitter();
  return waited + wait <= (deps.settings.rateLimitWaitMs ?? 0) ? wait : undefined;
}

/**
 * Ends an attempt 8x8 refused with 429 (recorded, not ambiguous) so the next call is a new attempt; false when the
 * record moved on meanwhile (a receipt, another worker).
 */
async function endRateLimitedAttempt(attempt: Attempt, error: unknown, deps: DeliverDeps): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  return deps.store.releaseAttempt(attempt.record.messageId, {
    attempt: attempt.number,
    ambiguous: false,
    lastError: lastErrorOf(error, now),
    now,
  });
}

/** The attempt after one ended by endRateLimitedAttempt (the record is back in `queued` with `attempts` = its number). */
function restart(attempt: Attempt, deps: DeliverDeps): Promise<Attempt | undefined> {
  return begin({ ...attempt.record, attempts: attempt.number, status: 'queued' }, deps);
}

/**
 * Sends one SMS and applies 8x8's verdict. A 429 is waited out here, within deps.settings.rateLimitWaitMs, as a new
 * attempt: every return to the queue counts towards maxReceiveCount, so under a sustained rate limit SMS would
 * otherwise exhaust their retries (and fail) merely by waiting.
 */
async function sendAndApply(first: Attempt, deps: DeliverDeps): Promise<void> {
  let attempt = first;
  let waited = 0;
  for (;;) {
    waited += await awaitGate(deps, waited);
    const outcome = await sendSingle(attempt, deps);
    const wait = outcome.kind === 'error' ? rateLimitWait(outcome.error, deps, waited) : undefined;
    if (wait === undefined || outcome.kind !== 'error') return applyOutcome(attempt, outcome, deps);
    metrics.addMetric('Sms8x8RateLimitWait', MetricUnit.Count, 1);
    if (!(await endRateLimitedAttempt(attempt, outcome.error, deps))) return;
    await pause(wait);
    waited += wait;
    const next = await restart(attempt, deps);
    if (!next) return settleWithoutAttempt(attempt.record.messageId, deps);
    attempt = next;
  }
}

/** No new attempt could start: done if the SMS moved on, else another worker's attempt is under way (retry later). */
async function settleWithoutAttempt(messageId: string, deps: DeliverDeps): Promise<void> {
  const latest = await deps.store.get(messageId);
  if (!latest || latest.umid || latest.statusRank > STATUS_RANK.sending) return;
  throw new AttemptInProgressError(messageId);
}

async function sendSingle(attempt: Attempt, deps: DeliverDeps): Promise<SendOutcome> {
  try {
    const creds = await deps.credentials();
    const request = await toEightByEightRequest(attempt.record, deps);
    return {
      kind: 'answer',
      response: await deps.sms.sendSms(creds, request, deps.settings.upstreamTimeoutMs),
    };
  } catch (error) {
    if (error instanceof UnreadableAnswerError) return { kind: 'unreadable' };
    return { kind: 'error', error };
  }
}

function logFields(record: MessageRecord) {
  return {
    messageId: record.messageId,
    clientMessageId: record.clientMessageId,
    destination: maskPhone(record.destination),
  };
}

async function injectBestEffort(
  record: MessageRecord,
  event: SmsStatusEvent,
  deps: DeliverDeps,
): Promise<void> {
  // The worker has no retry channel for injections once the SQS message is done; the injector logs failures.
  await deps.injector
    .inject(record, event)
    .catch((error: unknown) =>
      logger.error('SMS status injection failed', { messageId: record.messageId, error: error as Error }),
    );
}

async function markSent(
  attempt: Attempt,
  umid: string | undefined,
  description: string,
  deps: DeliverDeps,
): Promise<void> {
  const { record } = attempt;
  const now = deps.clock.now().toISOString();
  const changed = await deps.store.changeStatus(
    record.messageId,
    { status: 'sent', at: now, now, description, ...(umid && { umid }) },
    STATUS_RANK.sent,
  );
  // A receipt may have moved the record on already; it must still get the umid.
  if (!changed && umid) await deps.store.setUmidIfMissing(record.messageId, umid, now);
  metrics.addMetric('SmsSent', MetricUnit.Count, 1);
  logger.info('SMS handed to 8x8', { ...logFields(record), umid, attempt: attempt.number });
  if (changed) await injectBestEffort({ ...record, umid }, { status: 'sent', umid }, deps);
}

async function finish(
  attempt: Attempt | { record: MessageRecord; number?: number },
  change: Omit<StatusChange, 'at' | 'now'> & { status: 'rejected' | 'failed' },
  deps: DeliverDeps,
): Promise<void> {
  const { record } = attempt;
  const now = deps.clock.now().toISOString();
  const changed = await deps.store.changeStatus(
    record.messageId,
    { ...change, at: now, now },
    STATUS_RANK.sent,
  );
  if (!changed) return;
  metrics.addMetric('SmsFailed', MetricUnit.Count, 1);
  if (change.status === 'rejected') metrics.addMetric('SmsRejected', MetricUnit.Count, 1);
  logger.warn(change.status === 'rejected' ? '8x8 rejected the SMS' : 'SMS failed', {
    ...logFields(record),
    errorCode: change.errorCode,
    reason: change.reason,
    attempt: attempt.number,
  });
  await injectBestEffort(
    record,
    { status: change.status, errorCode: change.errorCode, errorMessage: change.reason },
    deps,
  );
}

function lastErrorOf(error: unknown, at: string): LastError {
  if (error instanceof EightByEightSmsError) {
    return {
      at,
      ...(error.httpStatus !== undefined && { httpStatus: error.httpStatus }),
      ...(error.upstreamCode !== undefined && { code: error.upstreamCode }),
      message: (error.eightByEightMessage ?? error.message).slice(0, 500),
    };
  }
  if (error instanceof UpstreamError) {
    return {
      at,
      ...(error.httpStatus !== undefined && { httpStatus: error.httpStatus }),
      message: error.message.slice(0, 500),
    };
  }
  return {
    at,
    message: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : 'Unknown error',
  };
}

/** Puts the SMS back to `queued` and throws, so the consumer retries it after the backoff (or Retry-After). */
async function retryLater(
  attempt: Attempt,
  error: unknown,
  ambiguous: boolean,
  deps: DeliverDeps,
): Promise<never> {
  const now = deps.clock.now().toISOString();
  await deps.store.releaseAttempt(attempt.record.messageId, {
    attempt: attempt.number,
    ambiguous,
    lastError: lastErrorOf(error, now),
    now,
  });
  if (ambiguous) metrics.addMetric('SmsAmbiguousAttempt', MetricUnit.Count, 1);
  logger.warn('SMS hand-over to 8x8 will be retried', {
    ...logFields(attempt.record),
    attempt: attempt.number,
    ambiguous,
    httpStatus: error instanceof UpstreamError ? error.httpStatus : undefined,
    code: error instanceof UpstreamError ? error.upstreamCode : undefined,
  });
  throw error;
}

export async function applyOutcome(attempt: Attempt, outcome: SendOutcome, deps: DeliverDeps): Promise<void> {
  switch (outcome.kind) {
    case 'answer': {
      const { response } = outcome;
      const description = response.status.description ?? undefined;
      if (response.status.code.toUpperCase() === 'REJECTED') {
        return finish(
          attempt,
          {
            status: 'rejected',
            description: `8x8 rejected the SMS: ${description ?? 'no reason given'}`,
            reason: description ?? 'Rejected by 8x8',
          },
          deps,
        );
      }
      return markSent(attempt, response.umid ?? undefined, 'SMS was accepted by 8x8', deps);
    }
    case 'unreadable':
      // 8x8 answered 2xx, so it accepted the request; sending again could only duplicate the SMS.
      return markSent(attempt, undefined, 'SMS was accepted by 8x8 (its answer could not be read)', deps);
    case 'missing':
      return retryLater(attempt, new MissingFromBatchAnswerError(), true, deps);
    case 'error': {
      const { error } = outcome;
      if (error instanceof UpstreamError && !error.retryable) {
        const eightByEight = error instanceof EightByEightSmsError ? error : undefined;
        return finish(
          attempt,
          {
            status: 'failed',
            errorCode: error.upstreamCode ?? error.httpStatus ?? 'UPSTREAM_REFUSED',
            reason: eightByEight?.eightByEightMessage ?? error.message,
            description: `8x8 refused the SMS (HTTP ${error.httpStatus ?? '?'})`,
          },
          deps,
        );
      }
      const ambiguous = error instanceof EightByEightSmsError && error.ambiguous;
      return retryLater(attempt, error, ambiguous, deps);
    }
  }
}

/**
 * prepareBatch hook: with two or more sendable SMS in the poll batch, starts their attempts and sends them in one
 * 8x8 batch call. Each record's handler then applies its verdict (deliverSms).
 */
export async function prepareDeliveries(items: BatchItem[], deps: DeliverDeps): Promise<PreparedDeliveries> {
  const prepared: PreparedDeliveries = new Map();
  const ids = [
    ...new Set(
      items.flatMap((item) => {
        const parsed = queueBodySchema.safeParse(item.body);
        return parsed.success ? [parsed.data.messageId] : [];
      }),
    ),
  ];
  if (ids.length < 2) return prepared;
  const nowMs = deps.clock.now().getTime();
  const seenClientIds = new Set<string>();
  const candidates = (await deps.store.getMany(ids)).filter((record) => {
    if (!isSendable(record, nowMs) || isExpired(record, nowMs)) return false;
    // Answers are matched by clientMessageId, so a batch call carries each one once.
    const clientId = sentClientMessageId(record);
    if (seenClientIds.has(clientId)) return false;
    seenClientIds.add(clientId);
    return true;
  });
  if (candidates.length < 2) return prepared;
  let attempts = (await Promise.all(candidates.map((record) => begin(record, deps)))).filter(
    (a): a is Attempt => !!a,
  );
  for (const attempt of attempts) prepared.set(attempt.record.messageId, { attempt });
  if (attempts.length < 2) return prepared; // a lone SMS is sent singly by its handler

  let outcomes: SendOutcome[];
  try {
    const creds = await deps.credentials();
    let response: EightByEightBatchResponse | undefined;
    let waited = 0;
    while (!response) {
      waited += await awaitGate(deps, waited);
      const messages = await Promise.all(
        attempts.map((attempt) => toEightByEightRequest(attempt.record, deps)),
      );
      try {
        response = await deps.sms.sendSmsBatch(
          creds,
          { messages, includeMessagesInResponse: true },
          deps.settings.upstreamTimeoutMs,
        );
      } catch (error) {
        // A 429 is waited out here, each SMS starting a new attempt (see sendAndApply); anything else below.
        const wait = rateLimitWait(error, deps, waited);
        if (wait === undefined) throw error;
        metrics.addMetric('Sms8x8RateLimitWait', MetricUnit.Count, 1);
        const ended = await Promise.all(attempts.map((a) => endRateLimitedAttempt(a, error, deps)));
        await pause(wait);
        waited += wait;
        const restarted = await Promise.all(
          attempts.map((a, i) => (ended[i] ? restart(a, deps) : undefined)),
        );
        attempts.forEach((a) => prepared.delete(a.record.messageId));
        attempts = restarted.filter((a): a is Attempt => !!a);
        // SMS that moved on or were taken by another worker are handled by their own record handler.
        for (const attempt of attempts) prepared.set(attempt.record.messageId, { attempt });
        if (attempts.length < 2) return prepared;
      }
    }
    const byClientId = new Map((response.messages ?? []).map((m) => [m.clientMessageId ?? '', m]));
    outcomes = attempts.map((attempt): SendOutcome => {
      const answer = byClientId.get(sentClientMessageId(attempt.record));
      return answer ? { kind: 'answer', response: answer } : { kind: 'missing' };
    });
    logger.info('SMS batch handed to 8x8', {
      count: attempts.length,
      batchId: response.batchId,
      acceptedCount: response.acceptedCount,
      rejectedCount: response.rejectedCount,
    });
  } catch (error) {
    if (error instanceof UnreadableAnswerError) {
      outcomes = attempts.map(() => ({ kind: 'unreadable' }));
    } else if (
      error instanceof UpstreamError &&
      !error.retryable &&
      error.httpStatus !== 401 &&
      error.httpStatus !== 403
    ) {
      // 8x8 refused the batch as a whole: let every SMS get its own verdict from a single send.
      logger.warn('8x8 refused the batch; sending its SMS one by one', {
        count: attempts.length,
        httpStatus: error.httpStatus,
      });
      return prepared;
    } else {
      outcomes = attempts.map(() => ({ kind: 'error', error }));
    }
  }
  attempts.forEach((attempt, index) => {
    const entry = prepared.get(attempt.record.messageId);
    if (entry) entry.outcome = outcomes[index];
  });
  return prepared;
}

/** handleRecord: one queue message `{messageId}`. Throws to have the message retried later. */
export async function deliverSms(
  body: unknown,
  ctx: Pick<RecordContext<PreparedDeliveries>, 'prepared'>,
  deps: DeliverDeps,
): Promise<void> {
  const messageId = messageIdOf(body);
  const entry = ctx.prepared?.get(messageId);
  if (entry) {
    if (entry.claimed) return; // a second copy of the same queue message in this batch
    entry.claimed = true;
    // A batch verdict (rate limits already waited out for the batch), or a single send of its own.
    return entry.outcome
      ? applyOutcome(entry.attempt, entry.outcome, deps)
      : sendAndApply(entry.attempt, deps);
  }

  // A message back from the DLQ meets a `failed` (redrivable) record: reopened, it gets a fresh attempt.
  const record = await reopenIfRedriven(await deps.store.get(messageId), deps);
  if (!record) {
    logger.warn('Queued SMS has no record (expired or removed); dropping it', { messageId });
    return;
  }
  if (record.umid || record.statusRank > STATUS_RANK.sending) {
    logger.info('SMS already handed to 8x8 or finished; not sending again', {
      ...logFields(record),
      status: record.status,
    });
    return;
  }
  const nowMs = deps.clock.now().getTime();
  if (isExpired(record, nowMs)) {
    return finish(
      { record },
      {
        status: 'failed',
        errorCode: 'EXPIRED',
        reason: 'expiry passed before 8x8 accepted the SMS',
        description: 'SMS expired before it could be sent',
      },
      deps,
    );
  }
  if (!isSendable(record, nowMs)) throw new AttemptInProgressError(messageId);
  const attempt = await begin(record, deps);
  if (!attempt) {
    const latest = await deps.store.get(messageId);
    if (latest && (latest.umid || latest.statusRank > STATUS_RANK.sending)) return;
    throw new AttemptInProgressError(messageId);
  }
  return sendAndApply(attempt, deps);
}

/** onExhausted: the last delivery failed, so the SMS ends as `failed` before its message moves to the DLQ. */
export async function markDeliveryExhausted(body: unknown, error: unknown, deps: DeliverDeps): Promise<void> {
  let messageId: string;
  try {
    messageId = messageIdOf(body);
  } catch {
    logger.error('Unreadable SMS queue message moves to the DLQ');
    return;
  }
  if (error instanceof AttemptInProgressError) {
    // The attempt under way decides the outcome; this copy of the message is redundant.
    logger.warn('Redundant copy of an SMS queue message moves to the DLQ', { messageId });
    return;
  }
  const record = await deps.store.get(messageId);
  if (!record) return;
  const last = lastErrorOf(error, deps.clock.now().toISOString());
  const upstream =
    last.code !== undefined
      ? ` (8x8 code ${String(last.code)})`
      : last.httpStatus
        ? ` (HTTP ${last.httpStatus})`
        : '';
  await finish(
    { record },
    {
      status: 'failed',
      errorCode: 'RETRIES_EXHAUSTED',
      // Its message goes to the DLQ; a redrive of it starts a fresh attempt (functions/sms/redrive.ts).
      redrivable: true,
      reason: `No verdict from 8x8 after ${record.attempts ?? 0} attempts; last error: ${last.message}${upstream}`,
      description: 'SMS could not be handed to 8x8; retries exhausted',
    },
    deps,
  );
}
