/**
 * DELETE /sms/{messageId} (cancel a scheduled SMS) and DELETE /sms/{messageId}/pii (erase its number and text).
 *
 * Cancel: an SMS still queued in the bridge is marked `cancelled` by one conditional write that races the worker's
 * own conditional `sending` write (one of them wins; the worker skips a cancelled record as it skips any final
 * one). An SMS 8x8 accepted with a `scheduled` time still ahead is cancelled with 8x8's cancel-scheduled-message
 * call. Anything else was sent already: 409 SMS_NOT_CANCELLABLE.
 *
 * Erase: the record's destination and text become ERASED with a tombstone (who, when, what); the stored answer of
 * its clientMessageId's first request too. An SMS not yet at 8x8 is cancelled first (it cannot be sent without its
 * text); one 8x8 has is followed by 8x8's delete-pii call for its umid.
 */
import { UpstreamError } from '../shared/errors';
import type { ApiResponse } from '../shared/http';
import type { Clock, Telemetry } from '../shared/runtime';
import { scopedKey, visibleTo, type Tenancy } from '../shared/tenancy';
import type { EightByEightSmsManagement, SmsCredentials } from './eight-by-eight-sms-client';
import { MessageNotFoundError, SmsError } from './error-codes';
import {
  ERASED,
  ERASED_FIELDS,
  STATUS_RANK,
  type ErasureTombstone,
  type IdempotencyGuard,
  type MessageRecord,
  type MessageStore,
} from './records';
import { MESSAGE_ID_PATTERN, toStatusAnswer } from './status';

export interface ManageDeps {
  store: MessageStore;
  eightByEight: EightByEightSmsManagement;
  credentials: () => Promise<SmsCredentials>;
  /** Where the first answer of a clientMessageId is kept (it holds the destination). */
  idempotency?: Pick<IdempotencyGuard, 'eraseAnswer'>;
  clock: Clock;
  telemetry: Telemetry;
  settings: { upstreamTimeoutMs: number };
}

/** The caller's own SMS, or 404 as for an unknown id (functions/shared/tenancy.ts). */
async function ownRecord(
  messageId: string | undefined,
  deps: ManageDeps,
  tenancy: Tenancy,
): Promise<MessageRecord> {
  const id = (messageId ?? '').toLowerCase();
  if (!MESSAGE_ID_PATTERN.test(id)) {
    throw new SmsError('INVALID_MESSAGE_ID', 'messageId must be the id POST /sms answered with (a UUID)');
  }
  const record = await deps.store.get(id);
  if (!record || !visibleTo(record.owner, tenancy)) throw new MessageNotFoundError(id);
  return record;
}

async function reread(messageId: string, deps: ManageDeps): Promise<MessageRecord> {
  const record = await deps.store.get(messageId);
  if (!record) throw new MessageNotFoundError(messageId);
  return record;
}

/** Being handed to 8x8 right now (no umid yet): the caller retries once the attempt reported. */
function sendInProgress(record: MessageRecord, nowMs: number): SmsError {
  const leftMs = (record.attemptLeaseUntil ?? nowMs) - nowMs;
  return new SmsError('SMS_SEND_IN_PROGRESS', 'The SMS is being handed to 8x8 right now; retry shortly', {
    retryAfterSeconds: Math.min(60, Math.max(1, Math.ceil(leftMs / 1000))),
  });
}

/** 8x8 still holds the SMS for a later time: its cancel call can stop it. */
function scheduledAtEightByEight(record: MessageRecord, nowMs: number): boolean {
  const scheduled = record.request.scheduled;
  return (
    record.umid !== undefined &&
    record.statusRank < STATUS_RANK.delivered &&
    scheduled !== undefined &&
    Date.parse(scheduled) > nowMs
  );
}

/** An 8x8 failure as the caller sees it: its refusal (4xx) or its unavailability (5xx, timeout, 429). */
function upstreamFailure(error: unknown, what: string): SmsError {
  if (error instanceof UpstreamError && error.httpStatus !== undefined && error.kind === 'permanent') {
    return new SmsError('UPSTREAM_REJECTED', `8x8 refused to ${what}`, {
      httpStatus: error.httpStatus,
      ...(error.upstreamCode !== undefined && { code: error.upstreamCode }),
    });
  }
  return new SmsError('UPSTREAM_UNAVAILABLE', `8x8 could not be reached to ${what}; retry`, undefined, {
    cause: error,
  });
}

function notCancellable(record: MessageRecord): SmsError {
  return new SmsError(
    'SMS_NOT_CANCELLABLE',
    'The SMS was already sent (or is final); only a queued or still scheduled SMS can be cancelled',
    { status: toStatusAnswer(record).status.code },
  );
}

export async function cancelSms(
  messageId: string | undefined,
  deps: ManageDeps,
  tenancy: Tenancy = {},
): Promise<ApiResponse> {
  let record = await ownRecord(messageId, deps, tenancy);
  const now = deps.clock.now();
  if (record.status === 'cancelled') return { statusCode: 200, body: toStatusAnswer(record) }; // a repeat
  if (record.status === 'queued' && record.umid === undefined) {
    if (await deps.store.cancelQueued(record.messageId, now.toISOString(), tenancy.callerId)) {
      deps.telemetry.count('SmsCancelled');
      return { statusCode: 200, body: toStatusAnswer(await reread(record.messageId, deps)) };
    }
    record = await reread(record.messageId, deps); // the worker got there first
  }
  if (record.status === 'sending' && record.umid === undefined) throw sendInProgress(record, now.getTime());
  if (!scheduledAtEightByEight(record, now.getTime())) throw notCancellable(record);

  const umid = record.umid as string;
  let cancelledCount: number;
  try {
    ({ cancelledCount } = await deps.eightByEight.cancelScheduledSms(
      await deps.credentials(),
      umid,
      deps.settings.upstreamTimeoutMs,
    ));
  } catch (error) {
    deps.telemetry.log.warn("8x8's cancel of a scheduled SMS failed", {
      messageId: record.messageId,
      umid,
      error: error as Error,
    });
    throw upstreamFailure(error, 'cancel the scheduled SMS');
  }
  if (cancelledCount < 1) throw notCancellable(record); // 8x8 sent it meanwhile
  const at = deps.clock.now().toISOString();
  await deps.store.changeStatus(record.messageId, {
    status: 'cancelled',
    at,
    now: at,
    umid,
    detail: tenancy.callerId ? `cancelled at 8x8 by ${tenancy.callerId}` : 'cancelled at 8x8',
  });
  deps.telemetry.count('SmsCancelled');
  return { statusCode: 200, body: toStatusAnswer(await reread(record.messageId, deps)) };
}

export async function eraseSmsPii(
  messageId: string | undefined,
  deps: ManageDeps,
  tenancy: Tenancy = {},
): Promise<ApiResponse> {
  let record = await ownRecord(messageId, deps, tenancy);
  const started = deps.clock.now();
  // Not at 8x8 yet: it is cancelled first, as it could not be sent without its text.
  if (record.status === 'queued' && record.umid === undefined) {
    await deps.store.cancelQueued(record.messageId, started.toISOString(), tenancy.callerId);
    record = await reread(record.messageId, deps);
  }
  if (record.status === 'sending' && record.umid === undefined)
    throw sendInProgress(record, started.getTime());
  if (record.erased && record.erased.eightByEight !== 'failed') {
    return { statusCode: 200, body: toStatusAnswer(record) }; // a repeat
  }

  const tombstone: ErasureTombstone = {
    at: started.toISOString(),
    ...(tenancy.callerId && { by: tenancy.callerId }),
    fields: ERASED_FIELDS,
    // Written before 8x8 is asked: if that call fails (or this function dies) a repeat asks again.
    eightByEight: record.umid ? 'failed' : 'notSent',
  };
  if (record.clientMessageId && deps.idempotency?.eraseAnswer && !record.erased) {
    await deps.idempotency.eraseAnswer(
      scopedKey(record.clientMessageId, tenancy),
      { request: record.request, cognigy: record.cognigy ?? null },
      { destination: ERASED },
    );
  }
  await deps.store.erase(record.messageId, tombstone);
  deps.telemetry.count('SmsErased');

  if (record.umid) {
    try {
      await deps.eightByEight.removeSmsPii(
        await deps.credentials(),
        record.umid,
        deps.settings.upstreamTimeoutMs,
      );
    } catch (error) {
      deps.telemetry.log.warn("8x8's PII removal failed; the bridge's copy is erased", {
        messageId: record.messageId,
        umid: record.umid,
        error: error as Error,
      });
      throw upstreamFailure(error, 'remove its copy of the number and text');
    }
    await deps.store.erase(record.messageId, {
      ...tombstone,
      eightByEight: 'requested',
      eightByEightAt: deps.clock.now().toISOString(),
    });
  }
  return { statusCode: 200, body: toStatusAnswer(await reread(record.messageId, deps)) };
}
