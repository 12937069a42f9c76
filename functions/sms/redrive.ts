/**
 * DLQ redrive of the SMS queue. When SQS gives up on an SMS (maxReceiveCount reached without 8x8's verdict), the
 * worker marks its record `failed` with errorCode RETRIES_EXHAUSTED and `redrivable: true` before the message moves
 * to the DLQ. A message moved back to the SMS queue (`npm run redrive -- --queue sms`, or the SQS console's "Start
 * DLQ redrive") then meets that record: the worker reopens it (failed → queued, a history entry "redriven from the
 * DLQ") and hands it to 8x8 as a new, counted attempt.
 *
 * Never sent twice: only a record without umid can be reopened (8x8 never accepted it), in one conditional
 * update, so two copies of a redriven message reopen it once; the attempt itself runs under the worker's usual
 * optimistic lock. Records that ended any other way (8x8 refused or rejected it, it expired, it was sent) are not
 * redrivable: their message is dropped as before.
 */
import type { Clock, Telemetry } from '../shared/runtime';
import type { MessageRecord, MessageStore } from './records';

export function isRedrivable(record: MessageRecord): boolean {
  return record.status === 'failed' && record.redrivable === true && !record.umid;
}

/** The record as the worker should see it: reopened (queued) when its message came back from the DLQ. */
export async function reopenIfRedriven(
  record: MessageRecord | undefined,
  deps: { store: MessageStore; clock: Clock; telemetry: Telemetry },
): Promise<MessageRecord | undefined> {
  if (!record || !isRedrivable(record)) return record;
  const reopened = await deps.store.reopenForRedrive(record.messageId, deps.clock.now().toISOString());
  if (reopened) {
    deps.telemetry.count('SmsRedriven');
    deps.telemetry.log.info('SMS redriven from the DLQ; starting a fresh attempt', {
      messageId: record.messageId,
      attempts: record.attempts,
    });
  }
  // Reopened here or by another copy of the message: read what the record is now.
  return deps.store.get(record.messageId);
}
