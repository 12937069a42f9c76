/**
 * POST /sms and POST /sms/batch: validate, store a record per SMS, enqueue `{messageId}`, answer 202 at once.
 * Delivery to 8x8 happens in the sms-deliver worker, so a Cognigy HTTP Request node gets its answer in
 * milliseconds whatever 8x8's latency.
 *
 * Transactional outbox: the record write is the only commit. A new record carries `outbox: pending` until SQS took
 * its `{messageId}` (the marker is cleared after the answer, see enqueueOutbox); if the function dies (or SQS refuses) between the write and the enqueue, the sms-sweeper
 * (functions/sms/sweeper.ts) queues it after SMS_SWEEP_AGE_SECONDS, and a repeat of its clientMessageId queues it at
 * once. Queueing one SMS twice is harmless: the worker takes the record, not the message, as the truth.
 *
 * Idempotency: an SMS with a clientMessageId runs through the IdempotencyGuard keyed by that id, with the
 * normalised request as fingerprint; the stored first answer is returned to true repeats. A repeat that arrives
 * while the first request is still being accepted waits for its answer (SMS_IDEMPOTENCY_WAIT_MS), and only past
 * that gets 409 IDEMPOTENCY_IN_PROGRESS with Retry-After. The bridge's own SMS (sms-inbound's keyword and bot
 * answers) need no guard: their messageId is derived from their clientMessageId (storeDerived).
 *
 * Drop-in answer: the 202 has the keys of 8x8's SmsResponse (what Cognigy's 8x8 Send SMS node stores): `encoding`
 * and `smsCount` from the text, and `umid`, null until 8x8 answered. `waitForUmidMs` waits (polling the record) for
 * the first attempt's answer so the 202 can carry 8x8's umid or refusal; past the wait the answer is QUEUED.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ApiResponse } from '../shared/http';
import { errorBody } from '../shared/http';
import { maskPhone } from '../shared/mask';
import type { OutboundUrlPolicy } from '../shared/outbound-url';
import { logger, metrics } from '../shared/powertools';
import { ownerFor, scopedKey, type Tenancy } from '../shared/tenancy';
import type { Clock, Ids } from '../shared/runtime';
import {
  IdempotencyConflictError,
  IdempotencyInProgressError,
  NotAcceptedError,
  SMS_ERROR_CODES,
  SmsError,
  type SmsErrorCode,
} from './error-codes';
import { isOptedOut, type OptOutReader, type OptOutRecord, type OptOutScope } from './inbound-ports';
import { normaliseSmsBatch, normaliseSmsRequest, type ItemResult, type NormalisedSms } from './normalise';
import {
  STATUS_RANK,
  type IdempotencyGuard,
  MessageAlreadyStoredError,
  publicStatus,
  type MessageRecord,
  type MessageStore,
  type SmsQueue,
} from './records';
import { describeStatus } from './status';
import { replyKey } from './inbound-ports';
import type { SmsAccepted, SmsBatchAccepted, SmsBatchItem } from './answer-schemas';

export const QUEUED_DESCRIPTION = 'SMS is accepted and queued for processing';

/** Defaults of the settings (functions/shared/config.ts has the same ones for the deployed functions). */
const DEFAULT_IDEMPOTENCY_WAIT_MS = 3_000;
const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;

/** A repeat re-queues an unsent record only once it is this old: younger, its first request is still enqueueing it. */
export const REPEAT_REQUEUE_AGE_MS = 2_000;

/** Seconds a caller told IDEMPOTENCY_IN_PROGRESS should wait (Retry-After). */
export const IN_PROGRESS_RETRY_AFTER_SECONDS = 1;

interface AcceptCommonDeps {
  store: MessageStore;
  queue: SmsQueue;
  clock: Clock;
  ids: Ids;
  settings: {
    recordTtlDays: number;
    /** Local mode (ALLOW_LOOPBACK_URLS) lets callback URLs name 127.0.0.1. */
    allowLoopbackUrls?: boolean;
    /** SMS_IDEMPOTENCY_TTL_SECONDS: how far back a crashed first request's record is reused. */
    idempotencyTtlSeconds?: number;
    /** SMS_IDEMPOTENCY_WAIT_MS: how long a repeat waits for an in-flight first request (default 3000). */
    idempotencyWaitMs?: number;
  };
  /**
   * Takes work that need not delay the answer (clearing outbox markers). Default: it is left running; tests pass a
   * collector to await it.
   */
  afterAnswer?: (work: Promise<unknown>) => void;
  /** Pause between looks at an in-flight first request (setTimeout by default; tests advance a fake clock). */
  sleep?: (ms: number) => Promise<void>;
  /** The caller's key: owner of the records, namespace of its clientMessageIds (functions/shared/tenancy.ts). */
  tenancy?: Tenancy;
  /** Time left in this invocation (Lambda's getRemainingTimeInMillis): bounds `waitForUmidMs`. */
  remainingTimeMs?: () => number;
  /**
   * The opt-out list (issue 14) and SETTINGS.smsOptOutScope: an SMS to a number that texted STOP is refused with
   * 422 RECIPIENT_OPTED_OUT. Absent: no check (the bridge's own HELP and opt-out confirmation SMS).
   */
  optOuts?: { store: OptOutReader; scope: OptOutScope };
}

/**
 * How an SMS with a clientMessageId is accepted once:
 * - `idempotency` (POST /sms, POST /sms/batch): the guard keyed by the caller's clientMessageId, which also holds
 *   the first answer and tells a repeat with another body from a true repeat;
 * - `derivedMessageId` (the bridge's own SMS, outbound-sms.ts, whose clientMessageIds are deterministic and always
 *   carry the same SMS): the messageId is derived from the clientMessageId, so the record's conditional write is
 *   the guard and a repeat finds the record itself (storeDerived).
 */
export type AcceptDeps = AcceptCommonDeps &
  (
    | { idempotency: IdempotencyGuard; derivedMessageId?: never }
    | { derivedMessageId: (clientMessageId: string) => string; idempotency?: never }
  );

interface BatchInfo {
  batchId: string;
  clientBatchId?: string;
}

/** `fresh`: stored now; `requeue`: an earlier record that may never have reached SQS, to be queued again. */
type Accepted = { ok: true; answer: SmsAccepted; fresh: boolean; requeue: boolean; sms: NormalisedSms };
type Refused = { ok: false; error: { code: SmsErrorCode | string; message: string; details?: unknown } };
type ItemOutcome = Accepted | Refused;

/** Items stored at the same time; bounded so a 500-item batch does not open 500 DynamoDB calls at once. */
const STORE_CONCURRENCY = 16;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The clientMessageId in the caller's own namespace (functions/shared/tenancy.ts scopedKey). */
const idempotencyKey = (sms: NormalisedSms, deps: AcceptDeps) =>
  sms.request.clientMessageId === undefined
    ? undefined
    : scopedKey(sms.request.clientMessageId, deps.tenancy ?? {});

function fingerprint(sms: NormalisedSms): unknown {
  return { request: sms.request, cognigy: sms.cognigy ?? null };
}

/** JSON with sorted keys: a record read back from DynamoDB need not keep the key order it was written with. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** An SMS whose request carried a Cognigy session the inbound consumer can inject a reply into (issue 14). */
function canReceiveReplies(sms: NormalisedSms): boolean {
  const ref = sms.cognigy;
  return !!(ref?.URLToken && ref.sessionId && ref.userId);
}

function newRecord(
  messageId: string,
  sms: NormalisedSms,
  now: Date,
  ttlDays: number,
  batch?: BatchInfo,
): MessageRecord {
  const at = now.toISOString();
  return {
    messageId,
    ...(sms.request.clientMessageId !== undefined && { clientMessageId: sms.request.clientMessageId }),
    destination: sms.request.destination,
    request: sms.request,
    ...(sms.cognigy && { cognigy: sms.cognigy }),
    status: 'queued',
    statusRank: STATUS_RANK.queued,
    statusDescription: QUEUED_DESCRIPTION,
    history: [{ status: 'queued', at }],
    attempts: 0,
    ambiguousAttempts: 0,
    encoding: sms.size.encoding,
    parts: sms.size.parts,
    ...(batch && { batchId: batch.batchId }),
    ...(batch?.clientBatchId && { clientBatchId: batch.clientBatchId }),
    ...(canReceiveReplies(sms) && { replyKey: replyKey(sms.request.destination, sms.request.source) }),
    outbox: 'pending',
    createdAt: at,
    updatedAt: at,
    expiresAt: Math.floor(now.getTime() / 1000) + ttlDays * 86_400,
  };
}

function answerOf(record: Pick<MessageRecord, 'messageId' | 'destination'>, sms: NormalisedSms): SmsAccepted {
  return {
    ok: true,
    messageId: record.messageId,
    clientMessageId: sms.request.clientMessageId ?? null,
    destination: record.destination,
    encoding: sms.size.encoding,
    smsCount: sms.size.parts,
    umid: null,
    status: { code: 'QUEUED', description: QUEUED_DESCRIPTION },
  };
}

/**
 * The record a first request of this clientMessageId stored before it died without saving its answer (the
 * idempotency entry then expires as in progress and the repeat runs the work again): reusing it keeps one SMS.
 */
async function recordOfCrashedFirst(
  clientMessageId: string,
  sms: NormalisedSms,
  deps: AcceptDeps,
): Promise<MessageRecord | undefined> {
  // Only the caller's own records: another API key may use the same clientMessageId (functions/shared/tenancy.ts).
  const owner = ownerFor(deps.tenancy ?? {}).owner;
  const ttlMs = (deps.settings.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS) * 1000;
  const since = new Date(deps.clock.now().getTime() - ttlMs).toISOString();
  const wanted = canonical(fingerprint(sms));
  const records = await deps.store.findByClientMessageId(clientMessageId);
  return records.find(
    (r) =>
      r.owner === owner &&
      r.createdAt >= since &&
      r.status !== 'failed' &&
      canonical({ request: r.request, cognigy: r.cognigy ?? null }) === wanted,
  );
}

/** Until when (epoch ms) the repeats of one request may wait for their first requests: one budget per request. */
function waitDeadline(deps: AcceptDeps): number {
  return deps.clock.now().getTime() + (deps.settings.idempotencyWaitMs ?? DEFAULT_IDEMPOTENCY_WAIT_MS);
}

/**
 * Runs the guarded work; while the first request of the key is in flight, waits for its answer (until
 * `waitUntil`, SMS_IDEMPOTENCY_WAIT_MS after the request arrived) instead of refusing at once. Past it the
 * IdempotencyInProgressError stands. A batch shares one deadline, so its items' waits overlap instead of adding up.
 */
async function runWaitingForFirst(
  key: string,
  sms: NormalisedSms,
  work: (afterWaiting: boolean) => Promise<SmsAccepted>,
  guard: IdempotencyGuard,
  deps: AcceptDeps,
  waitUntil: number,
): Promise<SmsAccepted> {
  const sleep = deps.sleep ?? realSleep;
  let pause = 50;
  for (let waited = false; ;) {
    try {
      const afterWaiting = waited;
      const answer = await guard.run(key, fingerprint(sms), () => work(afterWaiting));
      if (waited) metrics.addMetric('SmsRepeatWaited', MetricUnit.Count, 1);
      return answer;
    } catch (error) {
      if (!(error instanceof IdempotencyInProgressError)) throw error;
      const left = waitUntil - deps.clock.now().getTime();
      if (left <= 0) {
        metrics.addMetric('SmsRepeatInProgress', MetricUnit.Count, 1);
        throw error;
      }
      waited = true;
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, 400);
    }
  }
}

/** A repeat's record that may never have reached SQS (a crash between the write and the enqueue). */
async function isUnsent(messageId: string, deps: AcceptDeps): Promise<boolean> {
  return isUnsentRecord(await deps.store.get(messageId), deps);
}

function isUnsentRecord(record: MessageRecord | undefined, deps: AcceptDeps): boolean {
  if (!record || record.outbox !== 'pending' || record.status !== 'queued') return false;
  return deps.clock.now().getTime() - Date.parse(record.createdAt) >= REPEAT_REQUEUE_AGE_MS;
}

function noteRequeue(messageId: string, clientMessageId: string | undefined): void {
  metrics.addMetric('SmsRequeuedOnRepeat', MetricUnit.Count, 1);
  logger.warn('A repeat found its SMS stored but not queued; queueing it', { messageId, clientMessageId });
}

/**
 * The bridge's own SMS (`derivedMessageId`): the record's conditional write keeps one SMS per clientMessageId. A
 * repeat (a redelivered inbound SMS) finds the record under the same messageId and answers with it, queueing it
 * again when it may never have reached SQS: three DynamoDB calls fewer than the idempotency guard (claim, lookup by
 * clientMessageId, completion), and no window in which a repeat has to wait for a first request in progress.
 */
async function storeDerived(
  sms: NormalisedSms,
  messageId: string,
  deps: AcceptDeps,
  batch?: BatchInfo,
): Promise<Accepted> {
  try {
    const record = await createRecord(messageId, sms, deps, batch);
    return { ok: true, answer: answerOf(record, sms), fresh: true, requeue: false, sms };
  } catch (error) {
    if (!(error instanceof MessageAlreadyStoredError)) throw error;
  }
  const stored = await deps.store.get(messageId);
  const requeue = isUnsentRecord(stored, deps);
  if (requeue) noteRequeue(messageId, sms.request.clientMessageId);
  const destination = stored?.destination ?? sms.request.destination;
  return { ok: true, answer: answerOf({ messageId, destination }, sms), fresh: false, requeue, sms };
}

/** Writes the new record of `sms` under `messageId`, owned by the caller; MessageAlreadyStoredError if it exists. */
async function createRecord(
  messageId: string,
  sms: NormalisedSms,
  deps: AcceptDeps,
  batch?: BatchInfo,
): Promise<MessageRecord> {
  const record = newRecord(messageId, sms, deps.clock.now(), deps.settings.recordTtlDays, batch);
  await deps.store.create({ ...record, ...ownerFor(deps.tenancy ?? {}) });
  return record;
}

/** Stores one SMS (once per clientMessageId); `fresh` tells a new SMS from a replayed answer. */
async function storeOne(
  sms: NormalisedSms,
  deps: AcceptDeps,
  waitUntil: number,
  batch?: BatchInfo,
): Promise<Accepted> {
  const clientMessageId = sms.request.clientMessageId;
  if (deps.derivedMessageId && clientMessageId !== undefined)
    return storeDerived(sms, deps.derivedMessageId(clientMessageId), deps, batch);
  let fresh = false;
  const key = idempotencyKey(sms, deps);
  // The crashed-first lookup is a read: it starts with the idempotency claim instead of after it, one DynamoDB round
  // trip fewer before the answer. Its snapshot serves only a claim taken at once; after waiting for a first request
  // of the key, that request may have written its record since, so the lookup is made again.
  const lookupWithClaim =
    key !== undefined && clientMessageId !== undefined
      ? recordOfCrashedFirst(clientMessageId, sms, deps)
      : undefined;
  // Unused when the claim finds a stored answer; its failure then matters to nobody.
  lookupWithClaim?.catch(() => undefined);
  const work = async (afterWaiting = false): Promise<SmsAccepted> => {
    if (clientMessageId !== undefined) {
      const earlier = await (afterWaiting || !lookupWithClaim
        ? recordOfCrashedFirst(clientMessageId, sms, deps)
        : lookupWithClaim);
      if (earlier) return answerOf(earlier, sms);
    }
    const record = await createRecord(deps.ids.uuid(), sms, deps, batch);
    fresh = true;
    return answerOf(record, sms);
  };
  // No guard without a clientMessageId (a derived messageId always has one, handled above).
  if (key === undefined || !deps.idempotency)
    return { ok: true, answer: await work(), fresh, requeue: false, sms };
  // A replayed answer is rebuilt from its ids: answers stored before `encoding`/`smsCount` existed get them too.
  const answer = answerOf(await runWaitingForFirst(key, sms, work, deps.idempotency, deps, waitUntil), sms);
  const requeue = !fresh && (await isUnsent(answer.messageId, deps));
  if (requeue) noteRequeue(answer.messageId, clientMessageId);
  return { ok: true, answer, fresh, requeue, sms };
}

async function storeGuarded(
  sms: NormalisedSms,
  deps: AcceptDeps,
  waitUntil: number,
  batch?: BatchInfo,
): Promise<ItemOutcome> {
  try {
    return await storeOne(sms, deps, waitUntil, batch);
  } catch (error) {
    if (error instanceof SmsError) return { ok: false, error: { code: error.code, message: error.message } };
    logger.error('Could not store an SMS', {
      clientMessageId: sms.request.clientMessageId,
      destination: maskPhone(sms.request.destination),
      error: error as Error,
    });
    const notAccepted = new NotAcceptedError();
    return { ok: false, error: { code: notAccepted.code, message: notAccepted.message } };
  }
}

/**
 * Enqueues the new (and re-queued) SMS of `outcomes`; those SQS did not take stay accepted: their records are the
 * commit, and the sweeper queues them. The outbox markers of those SQS took are cleared without holding up the
 * answer (`deps.afterAnswer`): by then the SMS is stored and queued, so the marker only tells the sweeper what it
 * need not look at. A clear that never completes (the instance is frozen or ends first) leaves a marker the sweeper
 * finds after SMS_SWEEP_AGE_SECONDS on a record that has moved on, and it only clears it (sweeper.ts).
 */
async function enqueueOutbox(outcomes: ItemOutcome[], deps: AcceptDeps): Promise<void> {
  const ids = outcomes.flatMap((o) => (o.ok && (o.fresh || o.requeue) ? [o.answer.messageId] : []));
  if (ids.length === 0) return;
  let failed: Set<string>;
  try {
    failed = new Set(await deps.queue.enqueue(ids));
  } catch (error) {
    logger.error('Could not send to the SMS queue', { error: error as Error });
    failed = new Set(ids);
  }
  if (failed.size > 0) {
    metrics.addMetric('SmsEnqueueDeferred', MetricUnit.Count, failed.size);
    logger.warn('SQS did not take accepted SMS; the outbox sweeper will queue them', {
      messageIds: [...failed],
    });
  }
  const queued = ids.filter((id) => !failed.has(id));
  if (queued.length === 0) return;
  const clearing = deps.store.clearOutbox(queued, deps.clock.now().toISOString()).catch((error: unknown) =>
    logger.warn('Could not clear the outbox marker; the sweeper will clear it (harmless)', {
      error: error as Error,
    }),
  );
  (deps.afterAnswer ?? leaveRunning)(clearing);
}

/** Work that need not delay the answer keeps running; its own catch has already handled any failure. */
const leaveRunning = (_work: Promise<unknown>): void => undefined;

async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function logAccepted(outcome: Accepted, batch?: BatchInfo): void {
  logger.info(outcome.fresh ? 'SMS accepted' : 'SMS repeated; first answer returned', {
    messageId: outcome.answer.messageId,
    clientMessageId: outcome.sms.request.clientMessageId,
    destination: maskPhone(outcome.sms.request.destination),
    parts: outcome.sms.size.parts,
    encoding: outcome.sms.size.encoding,
    ...(batch && { batchId: batch.batchId }),
  });
}

/** 409 IDEMPOTENCY_IN_PROGRESS with Retry-After: the first request did not answer within the wait. */
function inProgressResponse(error: IdempotencyInProgressError): ApiResponse {
  return {
    statusCode: error.statusCode,
    body: errorBody(error.code, error.message, { retryAfterSeconds: IN_PROGRESS_RETRY_AFTER_SECONDS }),
    headers: { 'retry-after': String(IN_PROGRESS_RETRY_AFTER_SECONDS) },
  };
}

const urlPolicy = (deps: AcceptDeps): OutboundUrlPolicy => ({
  allowLoopback: deps.settings.allowLoopbackUrls === true,
});

// ---- Opt-outs (issue 14): checked before the idempotency guard, so even a repeat of an earlier request is refused
// once the number opted out; nothing is stored or sent. A list that cannot be read refuses too (503, send again).

function optedOutRefusal(sms: NormalisedSms, deps: AcceptDeps): SmsError {
  metrics.addMetric('SmsRefusedOptedOut', MetricUnit.Count, 1);
  logger.info('SMS refused: the recipient opted out', {
    destination: maskPhone(sms.request.destination),
    source: sms.request.source,
    clientMessageId: sms.request.clientMessageId,
    scope: deps.optOuts?.scope,
  });
  return new SmsError(
    'RECIPIENT_OPTED_OUT',
    'The recipient opted out (texted STOP); nothing was sent. The person texting START, or support staff (DELETE /sms/opt-outs/{number}), lifts it',
  );
}

async function readOptOuts<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    logger.error('Could not read the opt-out list; the SMS is not accepted', { error: error as Error });
    throw new NotAcceptedError({ cause: error });
  }
}

async function refuseIfOptedOut(sms: NormalisedSms, deps: AcceptDeps): Promise<void> {
  const optOuts = deps.optOuts;
  if (!optOuts) return;
  const record = await readOptOuts(() => optOuts.store.get(sms.request.destination));
  if (isOptedOut(record, sms.request.source, optOuts.scope)) throw optedOutRefusal(sms, deps);
}

/** A batch's items to opted-out numbers (index → refusal), from one read of the list (getMany). */
async function optedOutItems(items: ItemResult[], deps: AcceptDeps): Promise<Map<number, Refused>> {
  const refused = new Map<number, Refused>();
  const optOuts = deps.optOuts;
  const valid = items.flatMap((item) => (item.ok ? [item.value.request.destination] : []));
  if (!optOuts || valid.length === 0) return refused;
  let records: Map<string, OptOutRecord>;
  try {
    records = await readOptOuts(() => optOuts.store.getMany(valid));
  } catch (error) {
    const notAccepted = error as SmsError;
    items.forEach((item, index) => {
      if (item.ok)
        refused.set(index, { ok: false, error: { code: notAccepted.code, message: notAccepted.message } });
    });
    return refused;
  }
  items.forEach((item, index) => {
    if (!item.ok) return;
    const { destination, source } = item.value.request;
    if (!isOptedOut(records.get(destination), source, optOuts.scope)) return;
    const error = optedOutRefusal(item.value, deps);
    refused.set(index, { ok: false, error: { code: error.code, message: error.message } });
  });
  return refused;
}

/** POST /sms */
export async function acceptSms(body: unknown, deps: AcceptDeps): Promise<ApiResponse> {
  const sms = normaliseSmsRequest(body, deps.clock.now(), urlPolicy(deps));
  await refuseIfOptedOut(sms, deps);
  let outcome: Accepted;
  try {
    outcome = await storeOne(sms, deps, waitDeadline(deps));
  } catch (error) {
    if (error instanceof IdempotencyInProgressError) return inProgressResponse(error);
    if (error instanceof SmsError) throw error;
    logger.error('Could not store an SMS', {
      clientMessageId: sms.request.clientMessageId,
      error: error as Error,
    });
    throw new NotAcceptedError({ cause: error });
  }
  await enqueueOutbox([outcome], deps);
  if (outcome.fresh) metrics.addMetric('SmsAccepted', MetricUnit.Count, 1);
  logAccepted(outcome);
  const answer =
    sms.waitForUmidMs > 0
      ? await awaitFirstAnswer(outcome.answer, sms, sms.waitForUmidMs, deps)
      : outcome.answer;
  return { statusCode: 202, body: answer };
}

/** Time kept back from the invocation's budget for answering after a wait (API Gateway's 29 s is far above). */
const WAIT_SAFETY_MS = 1_000;
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 250;

/** The first attempt ended without a verdict (a timeout or 5xx): the retry comes after a backoff, not worth waiting for. */
const firstAttemptUndecided = (record: MessageRecord) => record.status === 'queued' && record.attempts > 0;

/** 8x8 answered the first attempt: it took the SMS (umid, or a later status) or refused it. */
const answeredBy8x8 = (record: MessageRecord) =>
  record.umid !== undefined || record.statusRank >= STATUS_RANK.sent;

/**
 * The answer after waiting (at most `waitMs`, and never past the invocation's budget) for 8x8's answer to the first
 * attempt, polling the record with a growing pause. 8x8 took it: QUEUED with its umid (8x8's own word for an
 * accepted SMS); 8x8 refused it: REJECTED/FAILED with the reason. Otherwise the usual QUEUED with `umid: null`.
 */
async function awaitFirstAnswer(
  accepted: SmsAccepted,
  sms: NormalisedSms,
  waitMs: number,
  deps: AcceptDeps,
): Promise<SmsAccepted> {
  const sleep = deps.sleep ?? realSleep;
  const started = deps.clock.now().getTime();
  const budget = deps.remainingTimeMs ? Math.max(0, deps.remainingTimeMs() - WAIT_SAFETY_MS) : waitMs;
  const deadline = started + Math.min(waitMs, budget);
  // A scheduled SMS is handed to 8x8 at once (8x8 holds it), so waiting for it is as useful as for any other.
  let pause = FIRST_POLL_MS;
  for (;;) {
    const record = await deps.store.get(accepted.messageId);
    if (record && answeredBy8x8(record)) {
      metrics.addMetric('SmsUmidWaitAnswered', MetricUnit.Count, 1);
      return answerAfter8x8(accepted, record);
    }
    const left = deadline - deps.clock.now().getTime();
    if (!record || left <= 0 || firstAttemptUndecided(record)) {
      metrics.addMetric('SmsUmidWaitQueued', MetricUnit.Count, 1);
      logger.debug('No answer from 8x8 within waitForUmidMs; answering QUEUED', {
        messageId: accepted.messageId,
        waitedMs: deps.clock.now().getTime() - started,
        destination: maskPhone(sms.request.destination),
      });
      return accepted;
    }
    await sleep(Math.min(pause, left));
    pause = Math.min(Math.round(pause * 1.5), MAX_POLL_MS);
  }
}

function answerAfter8x8(accepted: SmsAccepted, record: MessageRecord): SmsAccepted {
  const umid = record.umid ?? null;
  if (record.status === 'rejected' || record.status === 'failed') {
    return {
      ...accepted,
      umid,
      status: {
        code: publicStatus(record.status) as 'REJECTED' | 'FAILED',
        description: describeStatus(record),
      },
      ...(record.errorCode !== undefined && { errorCode: record.errorCode }),
      ...(record.reason && { reason: record.reason }),
    };
  }
  return { ...accepted, umid };
}

/**
 * Items of one batch that repeat an earlier item's clientMessageId (index → index of its first occurrence). They are
 * not stored on their own: run concurrently, they would race for the idempotency key and some would be told
 * IDEMPOTENCY_IN_PROGRESS. Instead each gets its first occurrence's verdict, as a repeated request would.
 */
function repeatsWithinBatch(items: ItemResult[]): Map<number, number> {
  const firstIndex = new Map<string, number>();
  const repeats = new Map<number, number>();
  items.forEach((item, index) => {
    const key = item.ok ? item.value.request.clientMessageId : undefined;
    if (key === undefined) return;
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, index);
    else repeats.set(index, first);
  });
  return repeats;
}

/** Placeholder of a repeated item until resolveRepeats gives it its first occurrence's verdict. */
const AWAITING_FIRST_OCCURRENCE: Refused = {
  ok: false,
  error: { code: 'NOT_ACCEPTED', message: 'Repeat of an earlier item of the batch' },
};

/** A repeat with the same content shares its first occurrence's outcome; with other content it is a conflict. */
function resolveRepeats(
  items: ItemResult[],
  outcomes: ItemOutcome[],
  repeatOf: Map<number, number>,
): ItemOutcome[] {
  return outcomes.map((outcome, index) => {
    const firstIndex = repeatOf.get(index);
    if (firstIndex === undefined) return outcome;
    const [item, firstItem, first] = [items[index], items[firstIndex], outcomes[firstIndex]];
    if (!item?.ok || !firstItem?.ok || !first) return outcome;
    const same = JSON.stringify(fingerprint(item.value)) === JSON.stringify(fingerprint(firstItem.value));
    if (!same) {
      const conflict = new IdempotencyConflictError();
      return { ok: false, error: { code: conflict.code, message: conflict.message } };
    }
    return first.ok ? { ...first, fresh: false, requeue: false, sms: item.value } : first;
  });
}

/**
 * POST /sms/batch. Answers 202 when at least one item was accepted (items list each verdict), 400 BATCH_REJECTED
 * when every item was invalid, 503 when none could be accepted for an infrastructure reason (send it again).
 */
export async function acceptSmsBatch(body: unknown, deps: AcceptDeps): Promise<ApiResponse> {
  const normalised = normaliseSmsBatch(body, deps.clock.now(), urlPolicy(deps));
  const batch: BatchInfo = {
    batchId: deps.ids.uuid(),
    ...(normalised.clientBatchId && { clientBatchId: normalised.clientBatchId }),
  };
  const repeatOf = repeatsWithinBatch(normalised.items);
  const optedOut = await optedOutItems(normalised.items, deps);
  const waitUntil = waitDeadline(deps);
  const stored = await mapLimit(
    normalised.items,
    STORE_CONCURRENCY,
    async (item, index): Promise<ItemOutcome> => {
      if (!item.ok) {
        const first = item.issues[0];
        return {
          ok: false,
          error: {
            code: first?.code ?? 'INVALID_BODY',
            message: first?.message ?? 'Invalid item',
            details: item.issues,
          },
        };
      }
      const refusal = optedOut.get(index);
      if (refusal) return refusal;
      if (repeatOf.has(index)) return AWAITING_FIRST_OCCURRENCE;
      return storeGuarded(item.value, deps, waitUntil, batch);
    },
  );
  await enqueueOutbox(stored, deps);
  const outcomes = resolveRepeats(normalised.items, stored, repeatOf);

  const items: SmsBatchItem[] = outcomes.map((outcome, index) => {
    if (!outcome.ok) return { index, ok: false, error: outcome.error as SmsBatchItem['error'] };
    const { messageId, clientMessageId, destination, encoding, smsCount, status } = outcome.answer;
    return {
      index,
      ok: true,
      messageId,
      clientMessageId,
      destination,
      encoding,
      smsCount,
      umid: null,
      status: { code: 'QUEUED', description: status.description },
    };
  });
  const accepted = outcomes.filter((o): o is Accepted => o.ok);
  const acceptedFresh = accepted.filter((o) => o.fresh).length;
  if (acceptedFresh > 0) metrics.addMetric('SmsAccepted', MetricUnit.Count, acceptedFresh);
  for (const outcome of accepted)
    logger.debug('Batch item accepted', { messageId: outcome.answer.messageId, batchId: batch.batchId });
  logger.info('SMS batch handled', {
    batchId: batch.batchId,
    clientBatchId: batch.clientBatchId,
    mode: normalised.mode,
    accepted: accepted.length,
    new: acceptedFresh,
    rejected: outcomes.length - accepted.length,
  });

  const answer: SmsBatchAccepted = {
    ok: accepted.length > 0,
    batchId: accepted.length > 0 ? batch.batchId : null,
    clientBatchId: batch.clientBatchId ?? null,
    acceptedCount: accepted.length,
    rejectedCount: outcomes.length - accepted.length,
    items,
  };
  const inProgress = outcomes.some((o) => !o.ok && o.error.code === 'IDEMPOTENCY_IN_PROGRESS');
  const headers = inProgress ? { 'retry-after': String(IN_PROGRESS_RETRY_AFTER_SECONDS) } : undefined;
  if (accepted.length > 0) return { statusCode: 202, body: answer, ...(headers && { headers }) };

  const infrastructure = outcomes.find(
    (o): o is Refused => !o.ok && (SMS_ERROR_CODES[o.error.code as SmsErrorCode]?.status ?? 500) >= 500,
  );
  const { error } = infrastructure
    ? errorBody(infrastructure.error.code, 'No SMS of the batch could be accepted; send the batch again')
    : inProgress
      ? errorBody(
          'IDEMPOTENCY_IN_PROGRESS',
          'Items of this batch are being accepted by an earlier request right now; retry shortly',
        )
      : errorBody('BATCH_REJECTED', 'No SMS of the batch was accepted; see items[].error');
  const statusCode = infrastructure
    ? SMS_ERROR_CODES[infrastructure.error.code as SmsErrorCode].status
    : inProgress
      ? SMS_ERROR_CODES.IDEMPOTENCY_IN_PROGRESS.status
      : 400;
  return { statusCode, body: { ...answer, ok: false, error }, ...(headers && { headers }) };
}
