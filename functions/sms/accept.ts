/**
 * POST /sms and POST /sms/batch: validate, store a record per SMS, enqueue `{messageId}`, answer 202 at once.
 * Delivery to 8x8 happens in the sms-deliver worker, so a Cognigy HTTP Request node gets its answer in
 * milliseconds whatever 8x8's latency.
 *
 * Idempotency: an SMS with a clientMessageId runs through the IdempotencyGuard keyed by that id, with the
 * normalised request as fingerprint; the stored first answer is returned to true repeats. If the SMS then cannot
 * be queued, its record is marked failed and the key is forgotten, so the caller's retry starts afresh.
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
  NotAcceptedError,
  QueueUnavailableError,
  SMS_ERROR_CODES,
  SmsError,
  type SmsErrorCode,
} from './error-codes';
import { normaliseSmsBatch, normaliseSmsRequest, type ItemResult, type NormalisedSms } from './normalise';
import {
  STATUS_RANK,
  type IdempotencyGuard,
  type MessageRecord,
  type MessageStore,
  type SmsQueue,
} from './records';
import type { SmsAccepted, SmsBatchAccepted, SmsBatchItem } from './schema';

export const QUEUED_DESCRIPTION = 'SMS is accepted and queued for processing';

export interface AcceptDeps {
  store: MessageStore;
  queue: SmsQueue;
  idempotency: IdempotencyGuard;
  clock: Clock;
  ids: Ids;
  /** allowLoopbackUrls: local mode (ALLOW_LOOPBACK_URLS) lets callback URLs name 127.0.0.1. */
  settings: { recordTtlDays: number; allowLoopbackUrls?: boolean };
  /** The caller's key: owner of the records, namespace of its clientMessageIds (functions/shared/tenancy.ts). */
  tenancy?: Tenancy;
}

interface BatchInfo {
  batchId: string;
  clientBatchId?: string;
}

type Accepted = { ok: true; answer: SmsAccepted; fresh: boolean; sms: NormalisedSms };
type Refused = { ok: false; error: { code: SmsErrorCode | string; message: string; details?: unknown } };
type ItemOutcome = Accepted | Refused;

/** Items stored at the same time; bounded so a 500-item batch does not open 500 DynamoDB calls at once. */
const STORE_CONCURRENCY = 16;

/** The clientMessageId in the caller's own namespace (functions/shared/tenancy.ts scopedKey). */
const idempotencyKey = (sms: NormalisedSms, deps: AcceptDeps) =>
  sms.request.clientMessageId === undefined
    ? undefined
    : scopedKey(sms.request.clientMessageId, deps.tenancy ?? {});

function fingerprint(sms: NormalisedSms): unknown {
  return { request: sms.request, cognigy: sms.cognigy ?? null };
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
    createdAt: at,
    updatedAt: at,
    expiresAt: Math.floor(now.getTime() / 1000) + ttlDays * 86_400,
  };
}

/** Stores one SMS (once per clientMessageId); `fresh` tells a new SMS from a replayed answer. */
async function storeOne(sms: NormalisedSms, deps: AcceptDeps, batch?: BatchInfo): Promise<Accepted> {
  let fresh = false;
  const work = async (): Promise<SmsAccepted> => {
    const messageId = deps.ids.uuid();
    const record = newRecord(messageId, sms, deps.clock.now(), deps.settings.recordTtlDays, batch);
    await deps.store.create({ ...record, ...ownerFor(deps.tenancy ?? {}) });
    fresh = true;
    return {
      ok: true,
      messageId,
      clientMessageId: sms.request.clientMessageId ?? null,
      destination: sms.request.destination,
      status: { code: 'QUEUED', description: QUEUED_DESCRIPTION },
    };
  };
  const key = idempotencyKey(sms, deps);
  const answer = key === undefined ? await work() : await deps.idempotency.run(key, fingerprint(sms), work);
  return { ok: true, answer, fresh, sms };
}

async function storeGuarded(sms: NormalisedSms, deps: AcceptDeps, batch?: BatchInfo): Promise<ItemOutcome> {
  try {
    return await storeOne(sms, deps, batch);
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
 * Enqueues the new SMS of `outcomes`; those SQS refuses are marked failed and their idempotency key forgotten,
 * and become QUEUE_UNAVAILABLE outcomes (they were not accepted, the caller should send them again).
 */
async function enqueueFresh(outcomes: ItemOutcome[], deps: AcceptDeps): Promise<ItemOutcome[]> {
  const fresh = outcomes.filter((o): o is Accepted => o.ok && o.fresh);
  if (fresh.length === 0) return outcomes;
  const failed = new Set(await deps.queue.enqueue(fresh.map((o) => o.answer.messageId)));
  if (failed.size === 0) return outcomes;
  const now = deps.clock.now().toISOString();
  const unavailable = new QueueUnavailableError();
  return Promise.all(
    outcomes.map(async (outcome): Promise<ItemOutcome> => {
      if (!outcome.ok || !failed.has(outcome.answer.messageId)) return outcome;
      const { messageId } = outcome.answer;
      await deps.store
        .changeStatus(
          messageId,
          {
            status: 'failed',
            at: now,
            now,
            errorCode: 'QUEUE_UNAVAILABLE',
            reason: 'Could not be queued; not accepted',
            description: 'Not accepted: could not be queued',
          },
          STATUS_RANK.sending,
        )
        .catch((error: unknown) =>
          logger.error('Could not mark an unqueued SMS failed', { messageId, error: error as Error }),
        );
      const key = idempotencyKey(outcome.sms, deps);
      if (key !== undefined) {
        await deps.idempotency.forget(key, fingerprint(outcome.sms)).catch((error: unknown) =>
          logger.error('Could not release the clientMessageId of an unqueued SMS', {
            messageId,
            error: error as Error,
          }),
        );
      }
      return { ok: false, error: { code: unavailable.code, message: unavailable.message } };
    }),
  );
}

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

const urlPolicy = (deps: AcceptDeps): OutboundUrlPolicy => ({
  allowLoopback: deps.settings.allowLoopbackUrls === true,
});

/** POST /sms */
export async function acceptSms(body: unknown, deps: AcceptDeps): Promise<ApiResponse> {
  const sms = normaliseSmsRequest(body, deps.clock.now(), urlPolicy(deps));
  let outcome: ItemOutcome;
  try {
    outcome = await storeOne(sms, deps);
  } catch (error) {
    if (error instanceof SmsError) throw error;
    logger.error('Could not store an SMS', {
      clientMessageId: sms.request.clientMessageId,
      error: error as Error,
    });
    throw new NotAcceptedError({ cause: error });
  }
  [outcome] = (await enqueueFresh([outcome], deps)) as [ItemOutcome];
  if (!outcome.ok) throw new QueueUnavailableError();
  if (outcome.fresh) metrics.addMetric('SmsAccepted', MetricUnit.Count, 1);
  logAccepted(outcome);
  return { statusCode: 202, body: outcome.answer };
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
    return first.ok ? { ...first, fresh: false, sms: item.value } : first;
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
      if (repeatOf.has(index)) return AWAITING_FIRST_OCCURRENCE;
      return storeGuarded(item.value, deps, batch);
    },
  );
  const outcomes = resolveRepeats(normalised.items, await enqueueFresh(stored, deps), repeatOf);

  const items: SmsBatchItem[] = outcomes.map((outcome, index) => {
    if (!outcome.ok) return { index, ok: false, error: outcome.error as SmsBatchItem['error'] };
    const { messageId, clientMessageId, destination, status } = outcome.answer;
    return { index, ok: true, messageId, clientMessageId, destination, status };
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
  if (accepted.length > 0) return { statusCode: 202, body: answer };

  const infrastructure = outcomes.find(
    (o): o is Refused => !o.ok && (SMS_ERROR_CODES[o.error.code as SmsErrorCode]?.status ?? 500) >= 500,
  );
  const { error } = infrastructure
    ? errorBody(infrastructure.error.code, 'No SMS of the batch could be accepted; send the batch again')
    : errorBody('BATCH_REJECTED', 'No SMS of the batch was accepted; see items[].error');
  return {
    statusCode: infrastructure ? SMS_ERROR_CODES[infrastructure.error.code as SmsErrorCode].status : 400,
    body: { ...answer, ok: false, error },
  };
}
