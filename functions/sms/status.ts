/** GET /sms/{messageId}: the record as the caller may see it (no Cognigy token, no internal lease fields). */
import { PATH_PARAMETERS } from '../shared/catalogue';
import type { ApiResponse } from '../shared/http';
import { visibleTo, type Tenancy } from '../shared/tenancy';
import { MessageNotFoundError, SmsError } from './error-codes';
import { publicStatus, type MessageRecord, type MessageStore, type SmsStatus } from './records';
import type { SmsStatusAnswer } from './answer-schemas';

/**
 * Message ids are UUIDs (crypto.randomUUID); anything else cannot exist, so it is a 400 rather than a lookup.
 * The catalogue's pattern (also in the OpenAPI document); ids are looked up in lower case.
 */
export const MESSAGE_ID_PATTERN = new RegExp(PATH_PARAMETERS.get('messageId')?.pattern ?? '^$');

const DEFAULT_DESCRIPTIONS: Record<SmsStatus, string> = {
  queued: 'SMS is accepted and queued for processing',
  sending: 'SMS is being handed to 8x8',
  sent: 'SMS was accepted by 8x8',
  delivered: 'SMS was delivered',
  undelivered: 'SMS could not be delivered',
  rejected: '8x8 rejected the SMS',
  failed: 'SMS could not be sent',
  cancelled: 'SMS was cancelled before it was sent',
};

export function describeStatus(record: Pick<MessageRecord, 'status' | 'statusDescription'>): string {
  return record.statusDescription ?? DEFAULT_DESCRIPTIONS[record.status];
}

export function toStatusAnswer(record: MessageRecord): SmsStatusAnswer {
  return {
    ok: true,
    messageId: record.messageId,
    clientMessageId: record.clientMessageId ?? null,
    ...(record.batchId && { batchId: record.batchId }),
    destination: record.destination,
    status: { code: publicStatus(record.status), description: describeStatus(record) },
    ...(record.umid && { umid: record.umid }),
    ...(record.errorCode !== undefined && { errorCode: record.errorCode }),
    ...(record.reason && { reason: record.reason }),
    attempts: record.attempts ?? 0,
    ambiguousAttempts: record.ambiguousAttempts ?? 0,
    history: (record.history ?? []).map((entry) => ({
      status: publicStatus(entry.status),
      at: entry.at,
      ...(entry.detail && { detail: entry.detail }),
      ...(entry.umid && { umid: entry.umid }),
      ...(entry.errorCode !== undefined && { errorCode: entry.errorCode }),
      ...(entry.reason && { reason: entry.reason }),
    })),
    ...(record.erased && { erased: record.erased }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** `tenancy`: another key's SMS is answered exactly like an unknown one (functions/shared/tenancy.ts). */
export async function getSmsStatus(
  messageId: string | undefined,
  deps: { store: MessageStore },
  tenancy: Tenancy = {},
): Promise<ApiResponse> {
  const id = (messageId ?? '').toLowerCase();
  if (!MESSAGE_ID_PATTERN.test(id)) {
    throw new SmsError('INVALID_MESSAGE_ID', 'messageId must be the id POST /sms answered with (a UUID)');
  }
  const record = await deps.store.get(id);
  if (!record || !visibleTo(record.owner, tenancy)) throw new MessageNotFoundError(id);
  return { statusCode: 200, body: toStatusAnswer(record) };
}
