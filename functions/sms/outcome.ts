/**
 * The sms-deliver worker's decisions, apart from its I/O: which SMS may be sent, which go in one batch call, and
 * what 8x8's answer means for the record. Pure functions of their arguments (the time is passed in).
 */
import * as z from '../shared/zod';
import { UpstreamError } from '../shared/errors';
import {
  EightByEightSmsError,
  UnreadableAnswerError,
  type EightByEightBatchMessage,
  type EightByEightBatchRequest,
  type EightByEightBatchResponse,
  type EightByEightBatchTemplate,
  type EightByEightSmsRequest,
} from './eight-by-eight-sms-client';
import {
  InvalidQueueMessageError,
  type AmbiguousTimeoutPolicy,
  type Attempt,
  type DeliverSettings,
  type SendOutcome,
} from './ports';
import { STATUS_RANK, type LastError, type MessageRecord, type StatusChange } from './records';
import { MESSAGE_ID_PATTERN } from './status';

const queueBodySchema = z.object({ messageId: z.string().check(z.regex(MESSAGE_ID_PATTERN)) });

export function messageIdOf(body: unknown): string {
  const parsed = queueBodySchema.safeParse(body);
  if (!parsed.success) throw new InvalidQueueMessageError();
  return parsed.data.messageId;
}

/** The distinct messageIds of a poll batch's readable bodies, in order. */
export function batchMessageIds(bodies: readonly unknown[]): string[] {
  const ids = bodies.flatMap((body) => {
    const parsed = queueBodySchema.safeParse(body);
    return parsed.success ? [parsed.data.messageId] : [];
  });
  return [...new Set(ids)];
}

/** The clientMessageId 8x8 gets: the caller's, or our messageId so receipts always map back. */
export function sentClientMessageId(record: MessageRecord): string {
  return record.clientMessageId ?? record.messageId;
}

/** 8x8 has the SMS (a umid) or it reached a status from `sent` on: it is never sent again. */
export function isSettled(record: MessageRecord): boolean {
  return !!record.umid || record.statusRank > STATUS_RANK.sending;
}

export function isSendable(record: MessageRecord, nowMs: number): boolean {
  if (isSettled(record)) return false;
  return record.status === 'queued' || (record.attemptLeaseUntil ?? 0) <= nowMs;
}

export function isExpired(record: MessageRecord, nowMs: number): boolean {
  return !!record.request.expiry && Date.parse(record.request.expiry) <= nowMs;
}

/** A lease long enough for a batch call and a single-send fallback, after which another worker may take over. */
export function leaseMs(settings: Pick<DeliverSettings, 'upstreamTimeoutMs'>): number {
  return 2 * settings.upstreamTimeoutMs + 10_000;
}

/** The SMS of a poll batch that go to 8x8 in one call: sendable, not expired, each clientMessageId once. */
export function batchCandidates(
  records: readonly MessageRecord[],
  nowMs: number,
  policy?: AmbiguousTimeoutPolicy,
): MessageRecord[] {
  const seenClientIds = new Set<string>();
  return records.filter((record) => {
    if (!isSendable(record, nowMs) || isExpired(record, nowMs)) return false;
    // Under `fail`, an abandoned attempt is ended by its own record handler, never resent in a batch.
    if (policy === 'fail' && isAbandonedAttempt(record)) return false;
    // Answers are matched by clientMessageId, so a batch call carries each one once.
    const clientId = sentClientMessageId(record);
    if (seenClientIds.has(clientId)) return false;
    seenClientIds.add(clientId);
    return true;
  });
}

/** The most SmsRequests 8x8's batch endpoint takes in one call (sms_api.json BatchSmsRequest.messages maxItems). */
export const EIGHT_BY_EIGHT_BATCH_MAX = 10_000;

/**
 * The properties 8x8's batch endpoint wants equal across one call: "It only accepts messages with the same
 * properties (source, text, encoding, scheduling time, and expiry time)" (sms_api.json, Send SMS batch). The same
 * page documents batches of personalised texts (its example gives each message its own), so text varies within a
 * call and the rest groups calls.
 */
const GROUPED_PROPERTIES = ['source', 'encoding', 'scheduled', 'expiry'] as const;
/** What the batch `template` carries when every message of the call has the same value (text included). */
const TEMPLATE_PROPERTIES = ['text', 'source', 'encoding', 'scheduled', 'expiry', 'dlrCallbackUrl'] as const;

/** The call an SmsRequest goes in: equal keys, equal GROUPED_PROPERTIES (absent counts as a value). */
export function batchGroupKey(request: EightByEightSmsRequest): string {
  return JSON.stringify(GROUPED_PROPERTIES.map((property) => request[property] ?? null));
}

/**
 * Splits SmsRequests into 8x8 batch calls: one per batchGroupKey, each at most `max` messages, in first-seen order
 * (indices into `requests`, each index exactly once).
 */
export function batchGroups(
  requests: readonly EightByEightSmsRequest[],
  max: number = EIGHT_BY_EIGHT_BATCH_MAX,
): number[][] {
  const byKey = new Map<string, number[][]>();
  requests.forEach((request, index) => {
    const key = batchGroupKey(request);
    const calls = byKey.get(key) ?? [];
    if (!byKey.has(key)) byKey.set(key, calls);
    const last = calls[calls.length - 1];
    if (last && last.length < max) last.push(index);
    else calls.push([index]);
  });
  return [...byKey.values()].flat();
}

/**
 * The body of one batch call: what every message shares goes once in the `template` (8x8's best practice, and a
 * smaller request), the rest stays on each message. 8x8 requires a template's text, so a template is sent only when
 * every message has the same text.
 */
export function batchRequest(messages: readonly EightByEightSmsRequest[]): EightByEightBatchRequest {
  const first = messages[0];
  const shared = first
    ? TEMPLATE_PROPERTIES.filter(
        (property) => first[property] !== undefined && messages.every((m) => m[property] === first[property]),
      )
    : [];
  if (!shared.includes('text')) return { messages: [...messages], includeMessagesInResponse: true };
  const template: Partial<Record<(typeof TEMPLATE_PROPERTIES)[number], string>> = {};
  for (const property of shared) template[property] = first?.[property];
  const own = (message: EightByEightSmsRequest): EightByEightBatchMessage => {
    const copy: Partial<EightByEightSmsRequest> = { ...message };
    for (const property of shared) delete copy[property];
    return copy as EightByEightBatchMessage;
  };
  return {
    messages: messages.map(own),
    template: template as EightByEightBatchTemplate,
    includeMessagesInResponse: true,
  };
}

/** Each attempt's verdict from 8x8's batch answer, matched by clientMessageId. */
export function batchOutcomes(
  attempts: readonly Attempt[],
  response: EightByEightBatchResponse,
): SendOutcome[] {
  const byClientId = new Map((response.messages ?? []).map((m) => [m.clientMessageId ?? '', m]));
  return attempts.map((attempt): SendOutcome => {
    const answer = byClientId.get(sentClientMessageId(attempt.record));
    return answer ? { kind: 'answer', response: answer } : { kind: 'missing' };
  });
}

/**
 * A batch call that failed as a whole: 8x8 answered 2xx unreadably (it has every SMS), or it refused the batch itself (a non-retryable 4xx other than 401/403), so
 * every SMS gets its own verdict from a single send (`singly`); otherwise the same outcome for each SMS.
 */
export function batchFailure(error: unknown): SendOutcome | 'singly' {
  if (error instanceof UnreadableAnswerError) return { kind: 'unreadable' };
  const refusedBatch =
    error instanceof UpstreamError &&
    !error.retryable &&
    error.httpStatus !== 401 &&
    error.httpStatus !== 403;
  return refusedBatch ? 'singly' : { kind: 'error', error };
}

export type FinalChange = Omit<StatusChange, 'at' | 'now'> & { status: 'rejected' | 'failed' };

/** What an outcome does to the record: `sent`, a final status, or a retry (ambiguous: 8x8 may have it). */
export type Verdict =
  | { kind: 'sent'; umid?: string; description: string }
  | { kind: 'final'; change: FinalChange }
  | { kind: 'retry'; error: unknown; ambiguous: boolean };

export function verdictOf(outcome: SendOutcome, missingError: () => unknown): Verdict {
  switch (outcome.kind) {
    case 'answer': {
      const { response } = outcome;
      const description = response.status.description ?? undefined;
      if (response.status.code.toUpperCase() === 'REJECTED') {
        return {
          kind: 'final',
          change: {
            status: 'rejected',
            description: `8x8 rejected the SMS: ${description ?? 'no reason given'}`,
            reason: description ?? 'Rejected by 8x8',
          },
        };
      }
      return { kind: 'sent', umid: response.umid ?? undefined, description: 'SMS was accepted by 8x8' };
    }
    case 'unreadable':
      // 8x8 answered 2xx, so it accepted the request; sending again could only duplicate the SMS.
      return { kind: 'sent', description: 'SMS was accepted by 8x8 (its answer could not be read)' };
    case 'missing':
      return { kind: 'retry', error: missingError(), ambiguous: true };
    case 'error':
      return errorVerdict(outcome.error);
  }
}

function errorVerdict(error: unknown): Verdict {
  if (error instanceof UpstreamError && !error.retryable) {
    const eightByEight = error instanceof EightByEightSmsError ? error : undefined;
    return {
      kind: 'final',
      change: {
        status: 'failed',
        errorCode: error.upstreamCode ?? error.httpStatus ?? 'UPSTREAM_REFUSED',
        reason: eightByEight?.eightByEightMessage ?? error.message,
        description: `8x8 refused the SMS (HTTP ${error.httpStatus ?? '?'})`,
      },
    };
  }
  const ambiguous = error instanceof EightByEightSmsError && error.ambiguous;
  return { kind: 'retry', error, ambiguous };
}

/** A lost worker's attempt (still `sending`, lease expired): 8x8 may have the SMS. */
export function isAbandonedAttempt(record: MessageRecord): boolean {
  return record.status === 'sending';
}

/**
 * The AMBIGUOUS_TIMEOUT_POLICY decision after an attempt 8x8 may have accepted: undefined to send again (`resend`),
 * or the `failed` change (`fail`).
 */
export function ambiguousChange(policy: AmbiguousTimeoutPolicy | undefined): FinalChange | undefined {
  if (policy !== 'fail') return undefined;
  return {
    status: 'failed',
    errorCode: 'AMBIGUOUS_TIMEOUT',
    reason:
      '8x8 may have accepted the SMS, but its answer never arrived; not sent again (AMBIGUOUS_TIMEOUT_POLICY=fail)',
    description: 'SMS may or may not have been sent; not retried',
  };
}

export const EXPIRED_CHANGE: FinalChange = {
  status: 'failed',
  errorCode: 'EXPIRED',
  reason: 'expiry passed before 8x8 accepted the SMS',
  description: 'SMS expired before it could be sent',
};

/** The `failed` change of an SMS whose last delivery failed too. */
export function exhaustedChange(record: MessageRecord, last: LastError): FinalChange {
  const upstream =
    last.code !== undefined
      ? ` (8x8 code ${String(last.code)})`
      : last.httpStatus
        ? ` (HTTP ${last.httpStatus})`
        : '';
  return {
    status: 'failed',
    errorCode: 'RETRIES_EXHAUSTED',
    // Its message goes to the DLQ; a redrive of it starts a fresh attempt (functions/sms/redrive.ts).
    redrivable: true,
    reason: `No verdict from 8x8 after ${record.attempts ?? 0} attempts; last error: ${last.message}${upstream}`,
    description: 'SMS could not be handed to 8x8; retries exhausted',
  };
}

export function lastErrorOf(error: unknown, at: string): LastError {
  if (error instanceof UpstreamError) {
    const eightByEight = error instanceof EightByEightSmsError ? error : undefined;
    return {
      at,
      ...(error.httpStatus !== undefined && { httpStatus: error.httpStatus }),
      ...(eightByEight?.upstreamCode !== undefined && { code: eightByEight.upstreamCode }),
      message: (eightByEight?.eightByEightMessage ?? error.message).slice(0, 500),
    };
  }
  return {
    at,
    message: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : 'Unknown error',
  };
}
