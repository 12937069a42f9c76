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
 * - The sendable SMS of a poll batch (up to SMS_QUEUE_BATCH_SIZE) go to 8x8 in as few batch calls as its batch
 *   endpoint allows: one per set of shared properties (source, encoding, schedule, expiry), answers matched by
 *   clientMessageId. A batch-wide 429/5xx/timeout retries each SMS; a batch-wide 400 falls back to single sends
 *   so one bad SMS cannot fail the others.
 * - Every 8x8 call first takes its place in the pacer's shared bucket (SMS_RATE_LIMIT_PER_SECOND, pacer.ts).
 *
 * Decisions live in outcome.ts (pure), calls to 8x8 in send-attempt.ts; this module applies verdicts to the record.
 */
import { ConcurrencyLimit, withConcurrencyLimit } from '../shared/concurrency';
import { UpstreamError } from '../shared/errors';
import { maskPhone } from '../shared/mask';
import type { BatchItem, RecordContext } from '../shared/queue-consumer';
import { wantsInjection, type InjectResult, type SmsStatusEvent } from './cognigy-inject';
import {
  EXPIRED_CHANGE,
  ambiguousChange,
  batchCandidates,
  batchFailure,
  batchGroups,
  batchMessageIds,
  exhaustedChange,
  isAbandonedAttempt,
  isExpired,
  isSendable,
  isSettled,
  lastErrorOf,
  messageIdOf,
  verdictOf,
  type FinalChange,
} from './outcome';
import {
  AttemptInProgressError,
  InjectionPendingError,
  MissingFromBatchAnswerError,
  PacerBusyError,
  type Attempt,
  type DeliverDeps,
  type PreparedDeliveries,
  type SendOutcome,
} from './ports';
import {
  STATUS_RANK,
  type MessageRecord,
  type MessageStore,
  type SmsStatus,
  type StatusChange,
} from './records';
import { reopenIfRedriven } from './redrive';
import {
  begin,
  reserveFirstCall,
  sendBatch,
  sendWaitingOutRateLimits,
  settleWithoutAttempt,
  toEightByEightRequest,
  waitUntil,
} from './send-attempt';

export {
  AttemptInProgressError,
  InjectionPendingError,
  InvalidQueueMessageError,
  MissingFromBatchAnswerError,
  PacerBusyError,
  type DeliverDeps,
  type PreparedDeliveries,
  type SendOutcome,
} from './ports';
export { messageIdOf, sentClientMessageId } from './outcome';
export { toEightByEightRequest } from './send-attempt';

function logFields(record: MessageRecord) {
  return {
    messageId: record.messageId,
    clientMessageId: record.clientMessageId,
    destination: maskPhone(record.destination),
  };
}

/**
 * Calls of the message store (DynamoDB) one worker container has in flight at once. A poll batch of up to
 * SMS_QUEUE_BATCH_SIZE SMS starts its attempts together and its records then finish together: unbounded, that is a
 * burst of 100+ concurrent writes per batch, which buys little (the 8x8 call waits for the slowest start either way)
 * and puts everyone else's requests to the table behind the whole burst wherever requests are served in turn:
 * locally dynalite serves one at a time, and a POST /sms write arriving during a burst of 140 waited for all 140
 * (~150 ms; with 10 in flight it waits for about 10). In AWS the burst hits the table's partitions and the
 * container's socket pool at once; 10 in flight at single-digit-ms writes still record a batch of 100 in ~50 ms.
 * Per container (Lambda hands it one batch at a time; the local stack's pollers of the queue share it).
 */
export const STORE_CALLS_IN_FLIGHT = 10;
const boundedStores = new WeakMap<MessageStore, MessageStore>();

/** `deps` whose store calls pass the container's STORE_CALLS_IN_FLIGHT bound (one bound per store instance). */
function withBoundedStore(deps: DeliverDeps): DeliverDeps {
  let store = boundedStores.get(deps.store);
  if (!store) {
    store = withConcurrencyLimit(deps.store, new ConcurrencyLimit(STORE_CALLS_IN_FLIGHT));
    boundedStores.set(deps.store, store);
  }
  return { ...deps, store };
}

/** The statuses the worker itself injects; their pending injections are retried through the SMS queue. */
const WORKER_STATUSES: ReadonlySet<SmsStatus> = new Set<SmsStatus>(['sent', 'rejected', 'failed']);

/**
 * Injects a status change into the flow's Cognigy session. A failure worth retrying leaves the record's
 * `injectPending` set and throws InjectionPendingError, so SQS brings the message back (with backoff) and only
 * the injection is repeated (deliverRecord): 8x8 is never asked again for an SMS that is `sent` or final.
 */
async function inject(record: MessageRecord, event: SmsStatusEvent, deps: DeliverDeps, retry = false) {
  const result = await deps.injector
    .inject(record, event, { retry })
    .catch((error: unknown): InjectResult => {
      deps.telemetry.log.error('SMS status injection failed', {
        messageId: record.messageId,
        error: error as Error,
      });
      return 'transient';
    });
  if (result === 'transient') throw new InjectionPendingError(record.messageId);
  await deps.store.clearInjectPending(record.messageId, event.status, deps.clock.now().toISOString());
}

/** Records a status change (below `sent`'s rank only) and injects it when the flow asked; false if it changed nothing. */
async function changeStatus(
  record: MessageRecord,
  change: Omit<StatusChange, 'at' | 'now' | 'injectPending'>,
  event: SmsStatusEvent,
  deps: DeliverDeps,
): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  const injectPending = wantsInjection(record, change.status);
  const changed = await deps.store.changeStatus(
    record.messageId,
    { ...change, at: now, now, injectPending },
    STATUS_RANK.sent,
  );
  if (changed && injectPending) await inject(record, event, deps);
  return changed;
}

/** The injection of a status the worker recorded earlier, left pending by a Cognigy failure; true if one was due. */
async function retryPendingInjection(record: MessageRecord, deps: DeliverDeps): Promise<boolean> {
  const status = record.injectPending;
  if (!status || status !== record.status || !WORKER_STATUSES.has(status)) return false;
  deps.telemetry.log.info('Retrying the Cognigy injection of an SMS status', {
    messageId: record.messageId,
    status,
  });
  const event: SmsStatusEvent =
    status === 'sent'
      ? { status, umid: record.umid }
      : { status, errorCode: record.errorCode, errorMessage: record.reason };
  await inject(record, event, deps, true);
  return true;
}

async function markSent(
  attempt: Attempt,
  umid: string | undefined,
  description: string,
  deps: DeliverDeps,
): Promise<void> {
  const { record } = attempt;
  deps.telemetry.count('SmsSent');
  deps.telemetry.log.info('SMS handed to 8x8', { ...logFields(record), umid, attempt: attempt.number });
  const sent = { status: 'sent' as const, description, ...(umid && { umid }) };
  const changed = await changeStatus({ ...record, umid }, sent, { status: 'sent', umid }, deps);
  // A receipt may have moved the record on already; it must still get the umid.
  if (!changed && umid)
    await deps.store.setUmidIfMissing(record.messageId, umid, deps.clock.now().toISOString());
}

async function finish(
  attempt: Attempt | { record: MessageRecord; number?: number },
  change: FinalChange,
  deps: DeliverDeps,
): Promise<void> {
  const { record } = attempt;
  const event = { status: change.status, errorCode: change.errorCode, errorMessage: change.reason };
  const log = () => {
    deps.telemetry.count('SmsFailed');
    if (change.status === 'rejected') deps.telemetry.count('SmsRejected');
    deps.telemetry.log.warn(change.status === 'rejected' ? '8x8 rejected the SMS' : 'SMS failed', {
      ...logFields(record),
      errorCode: change.errorCode,
      reason: change.reason,
      attempt: attempt.number,
    });
  };
  try {
    if (await changeStatus(record, change, event, deps)) log();
  } catch (error) {
    if (error instanceof InjectionPendingError) log(); // the change was recorded; only its injection waits
    throw error;
  }
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
  if (ambiguous) deps.telemetry.count('SmsAmbiguousAttempt');
  deps.telemetry.log.warn('SMS hand-over to 8x8 will be retried', {
    ...logFields(attempt.record),
    attempt: attempt.number,
    ambiguous,
    httpStatus: error instanceof UpstreamError ? error.httpStatus : undefined,
    code: error instanceof UpstreamError ? error.upstreamCode : undefined,
  });
  throw error;
}

/** AMBIGUOUS_TIMEOUT_POLICY=fail: the attempt 8x8 may have accepted ends the SMS instead of a resend. */
async function failAmbiguous(
  attempt: Attempt | { record: MessageRecord; number?: number },
  change: FinalChange,
  deps: DeliverDeps,
): Promise<void> {
  deps.telemetry.count('SmsAmbiguousAttempt');
  deps.telemetry.count('SmsAmbiguousFailed');
  return finish(attempt, change, deps);
}

/** Applies 8x8's verdict on one attempt to its record (see outcome.ts verdictOf). */
export async function applyOutcome(attempt: Attempt, outcome: SendOutcome, deps: DeliverDeps): Promise<void> {
  const verdict = verdictOf(outcome, () => new MissingFromBatchAnswerError());
  switch (verdict.kind) {
    case 'sent':
      return markSent(attempt, verdict.umid, verdict.description, deps);
    case 'final':
      return finish(attempt, verdict.change, deps);
    case 'retry': {
      const ambiguousEnd = verdict.ambiguous
        ? ambiguousChange(deps.settings.ambiguousTimeoutPolicy)
        : undefined;
      if (!ambiguousEnd) return retryLater(attempt, verdict.error, verdict.ambiguous, deps);
      return failAmbiguous(attempt, ambiguousEnd, deps);
    }
  }
}

/** Sends one SMS (waiting out 8x8's 429 within the budget) and applies 8x8's verdict. */
async function sendAndApply(
  attempt: Attempt,
  deps: DeliverDeps,
  firstCall?: Promise<number | PacerBusyError>,
): Promise<void> {
  const sent = await sendWaitingOutRateLimits(attempt, deps, firstCall);
  if (sent) await applyOutcome(sent.attempt, sent.outcome, deps);
}

/**
 * prepareBatch hook: the poll batch's sendable SMS go to 8x8 in as few batch calls as 8x8's batch endpoint allows
 * (outcome.ts batchGroups: one per set of shared properties, up to 10 000 each). Each call first takes its place in
 * the pacer's bucket, then starts its attempts and is sent at that place's time. Each record's handler then applies
 * its verdict (deliverSms); a lone SMS of its group is sent singly by its handler.
 */
export async function prepareDeliveries(
  items: BatchItem[],
  rawDeps: DeliverDeps,
): Promise<PreparedDeliveries> {
  const deps = withBoundedStore(rawDeps);
  const prepared: PreparedDeliveries = new Map();
  const ids = batchMessageIds(items.map((item) => item.body));
  if (ids.length < 2) return prepared;
  const records = await deps.store.getMany(ids);
  const candidates = batchCandidates(
    records,
    deps.clock.now().getTime(),
    deps.settings.ambiguousTimeoutPolicy,
  );
  if (candidates.length < 2) return prepared;
  const requests = await Promise.all(candidates.map((record) => toEightByEightRequest(record, deps)));
  const groups = batchGroups(requests).map((group) => group.map((index) => candidates[index]!));
  await Promise.all(
    groups.filter((group) => group.length >= 2).map((group) => prepareCall(group, prepared, deps)),
  );
  return prepared;
}

/** One batch call: its place in the pacer's bucket, its attempts, the call and each SMS's verdict in `prepared`. */
async function prepareCall(
  records: MessageRecord[],
  prepared: PreparedDeliveries,
  deps: DeliverDeps,
): Promise<void> {
  // The place comes before the attempts: an SMS waiting for its place holds no lease, so a lost worker leaves
  // nothing ambiguous.
  const at = await reserveFirstCall(deps);
  if (at instanceof PacerBusyError) {
    for (const record of records) prepared.set(record.messageId, { deferred: at });
    return;
  }
  // The attempts start just before the place (the pacer's learnt lead), so the call leaves on time.
  await waitUntil(deps, at - (deps.pacer?.leadMs() ?? 0));
  const beganAt = deps.clock.now().getTime();
  const started = (await Promise.all(records.map((record) => begin(record, deps)))).filter(
    (a): a is Attempt => !!a,
  );
  deps.pacer?.preparationTook(deps.clock.now().getTime() - beganAt);
  for (const attempt of started) prepared.set(attempt.record.messageId, { attempt });
  if (started.length < 2) return; // a lone SMS is sent singly by its handler
  await waitUntil(deps, at);

  const call = await sendBatch(started, prepared, deps);
  if (call.kind === 'tooFew') return;
  let outcomes: SendOutcome[];
  if (call.kind === 'answered') {
    outcomes = call.outcomes;
    deps.telemetry.log.info('SMS batch handed to 8x8', {
      count: call.attempts.length,
      batchId: call.response.batchId,
      acceptedCount: call.response.acceptedCount,
      rejectedCount: call.response.rejectedCount,
    });
  } else {
    const failure = batchFailure(call.error);
    if (failure === 'singly') {
      // 8x8 refused the batch as a whole: let every SMS get its own verdict from a single send.
      deps.telemetry.log.warn('8x8 refused the batch; sending its SMS one by one', {
        count: call.attempts.length,
        httpStatus: call.error instanceof UpstreamError ? call.error.httpStatus : undefined,
      });
      return;
    }
    outcomes = call.attempts.map(() => failure);
  }
  call.attempts.forEach((attempt, index) => {
    const entry = prepared.get(attempt.record.messageId);
    if (entry && 'attempt' in entry) entry.outcome = outcomes[index];
  });
}

/** handleRecord: one queue message `{messageId}`. Throws to have the message retried later. */
export async function deliverSms(
  body: unknown,
  ctx: Pick<RecordContext<PreparedDeliveries>, 'prepared'>,
  rawDeps: DeliverDeps,
): Promise<void> {
  const deps = withBoundedStore(rawDeps);
  const messageId = messageIdOf(body);
  const entry = ctx.prepared?.get(messageId);
  if (entry) {
    if (entry.claimed) return; // a second copy of the same queue message in this batch
    entry.claimed = true;
    if ('deferred' in entry) throw entry.deferred; // back to the queue, delayed: no place for its 8x8 call
    // A batch verdict (rate limits already waited out for the batch), or a single send of its own.
    return entry.outcome
      ? applyOutcome(entry.attempt, entry.outcome, deps)
      : sendAndApply(entry.attempt, deps);
  }
  // A message back from the DLQ meets a `failed` (redrivable) record: reopened, it gets a fresh attempt.
  const record = await reopenIfRedriven(await deps.store.get(messageId), deps);
  if (!record) {
    deps.telemetry.log.warn('Queued SMS has no record (expired or removed); dropping it', { messageId });
    return;
  }
  return deliverRecord(record, deps);
}

/** One SMS outside a batch call: skipped when settled, failed when expired, else sent. */
async function deliverRecord(record: MessageRecord, deps: DeliverDeps): Promise<void> {
  if (isSettled(record)) {
    if (await retryPendingInjection(record, deps)) return;
    deps.telemetry.log.info('SMS already handed to 8x8 or finished; not sending again', {
      ...logFields(record),
      status: record.status,
    });
    return;
  }
  const nowMs = deps.clock.now().getTime();
  if (isExpired(record, nowMs)) return finish({ record }, EXPIRED_CHANGE, deps);
  if (!isSendable(record, nowMs)) throw new AttemptInProgressError(record.messageId);
  const abandonedEnd = isAbandonedAttempt(record) && ambiguousChange(deps.settings.ambiguousTimeoutPolicy);
  if (abandonedEnd) return failAmbiguous({ record, number: record.attempts }, abandonedEnd, deps);
  // Its place in the pacer's bucket is taken while the attempt starts (one round trip less for a lone SMS); a place
  // left unused when another worker has the SMS costs nothing but that place.
  const firstCall = reserveFirstCall(deps);
  const attempt = await begin(record, deps);
  if (!attempt) return settleWithoutAttempt(record.messageId, deps);
  return sendAndApply(attempt, deps, firstCall);
}

/** onExhausted: the last delivery failed, so the SMS ends as `failed` before its message moves to the DLQ. */
export async function markDeliveryExhausted(
  body: unknown,
  error: unknown,
  rawDeps: DeliverDeps,
): Promise<void> {
  const deps = withBoundedStore(rawDeps);
  let messageId: string;
  try {
    messageId = messageIdOf(body);
  } catch {
    deps.telemetry.log.error('Unreadable SMS queue message moves to the DLQ');
    return;
  }
  if (error instanceof AttemptInProgressError) {
    // The attempt under way decides the outcome; this copy of the message is redundant.
    deps.telemetry.log.warn('Redundant copy of an SMS queue message moves to the DLQ', { messageId });
    return;
  }
  if (error instanceof InjectionPendingError) {
    // 8x8 has the SMS; only its Cognigy injection failed every time. A DLQ redrive retries the injection alone.
    deps.telemetry.count('SmsInjectExhausted');
    deps.telemetry.log.error('The Cognigy injection of an SMS status exhausted its retries', { messageId });
    return;
  }
  const record = await deps.store.get(messageId);
  if (!record) return;
  const last = lastErrorOf(error, deps.clock.now().toISOString());
  // The message moves to the DLQ whatever the injection does; a redrive retries a pending one.
  await finish({ record }, exhaustedChange(record, last), deps).catch((failure: unknown) => {
    if (!(failure instanceof InjectionPendingError)) throw failure;
  });
}
