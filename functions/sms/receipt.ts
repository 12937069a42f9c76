/**
 * POST /webhooks/8x8/sms: 8x8 delivery receipts (namespace SMS, eventType outbound_message_status_changed).
 *
 * Authentication comes first: the Authorization header must equal the configured value (8x8's
 * `httpAuthorization`; 8x8 signs nothing), or the URL must carry a valid per-message callback token. Then the
 * receipt moves the record forward (never backwards; duplicates are no-ops) and, if the flow asked for it, is
 * injected into the Cognigy session.
 *
 * Why a failed injection answers 502: 8x8 retries a non-2xx receipt (1, 10, 30, 90 s). The record update is
 * idempotent, and the record remembers the injection as pending, so the retry only repeats the injection. A
 * Cognigy outage of a few seconds therefore costs no event; a permanent refusal (e.g. an unknown URLToken) is
 * logged and answered 200, since retrying cannot help.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ApiRequest, ApiResponse } from '../shared/http';
import { maskPhone } from '../shared/mask';
import { logger, metrics } from '../shared/powertools';
import type { Clock } from '../shared/runtime';
import { isValidCallbackToken, secretsEqual } from './callback-token';
import { wantsInjection, type ReceiptInjector } from './cognigy-inject';
import { SmsError } from './error-codes';
import { toSmsIssues } from './normalise';
import {
  OPERATOR_DELIVERED_RANK,
  publicStatus,
  type MessageRecord,
  type MessageStore,
  type StatusChange,
} from './records';
import {
  outboundReceiptPayloadSchema,
  receiptEnvelopeSchema,
  type OutboundReceiptPayload,
} from './receipt-schema';
import { MESSAGE_ID_PATTERN } from './status';

export interface WebhookAuth {
  authorization: string;
  callbackTokenKey?: string;
}

export interface ReceiptDeps {
  store: MessageStore;
  clock: Clock;
  /** The receipt secret's AWSCURRENT value (cached). */
  webhookAuth: () => Promise<WebhookAuth>;
  /**
   * Rotation: the AWSPREVIOUS value (undefined when there is none), and AWSCURRENT read past the cache (undefined
   * when a re-read happened too recently). 8x8 keeps sending the old Authorization until its webhook is updated,
   * and a warm function may still hold the old value as current when 8x8 already sends the new one.
   */
  previousWebhookAuth?: () => Promise<WebhookAuth | undefined>;
  refreshedWebhookAuth?: () => Promise<WebhookAuth | undefined>;
  injector: ReceiptInjector;
}

type ReceiptStatus = StatusChange['status'];

/**
 * 8x8 receipt states (message-status-references) → our statuses. `queued`/`sent` mean 8x8 has the SMS; `read`
 * and `ok` (message-details vocabulary) count as delivered, `failed`/`error` as undelivered. `unknown` and any
 * state 8x8 may add later change nothing.
 */
export function statusForReceiptState(state: string): ReceiptStatus | undefined {
  switch (state.toLowerCase()) {
    case 'queued':
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
    case 'ok':
      return 'delivered';
    case 'undelivered':
    case 'failed':
    case 'error':
      return 'undelivered';
    case 'rejected':
      return 'rejected';
    default:
      return undefined;
  }
}

const DETAIL_DESCRIPTIONS: Record<string, string> = {
  delivered_to_recipient: 'Delivered to the recipient',
  delivered_to_operator: 'Delivered to the operator',
  rejected_by_operator: 'Rejected by the operator',
  undelivered_to_recipient: 'Not delivered to the recipient',
};

export function receiptChange(payload: OutboundReceiptPayload, now: Date): StatusChange | undefined {
  const status = statusForReceiptState(payload.status.state);
  if (!status) return undefined;
  const detail = payload.status.detail ?? undefined;
  const errorMessage = payload.status.errorMessage ?? undefined;
  // 8x8 writes its timestamps in several ISO 8601 shapes (`…:05Z`, `…:05.64Z`, `+00:00`); answers carry one:
  // UTC with milliseconds, like every other timestamp of the bridge.
  const parsed = payload.status.timestamp ? Date.parse(payload.status.timestamp) : Number.NaN;
  const timestamp = Number.isFinite(parsed) ? new Date(parsed).toISOString() : undefined;
  const base =
    (detail && Object.hasOwn(DETAIL_DESCRIPTIONS, detail) && DETAIL_DESCRIPTIONS[detail]) ||
    detail ||
    `8x8 reported ${payload.status.state}`;
  const failure = status !== 'delivered' && status !== 'sent' ? errorMessage : undefined;
  return {
    status,
    at: timestamp ?? now.toISOString(),
    now: now.toISOString(),
    description: failure ? `${base}: ${failure}` : base,
    ...(detail && { detail }),
    umid: payload.umid,
    ...(payload.status.errorCode !== undefined &&
      payload.status.errorCode !== null && { errorCode: payload.status.errorCode }),
    ...(failure && { reason: failure }),
    ...(status === 'delivered' && detail === 'delivered_to_operator' && { rank: OPERATOR_DELIVERED_RANK }),
  };
}

/** Whether the request carries this secret version's Authorization value or a callback token made with its key. */
function authenticatedBy(request: ApiRequest, auth: WebhookAuth): { byToken: boolean } | undefined {
  const header = request.headers.authorization;
  // Both checks run whatever the first says, each constant-time (secretsEqual hashes first).
  const byHeader = header !== undefined && secretsEqual(header, auth.authorization);
  const { messageId, token } = request.query;
  const byToken =
    messageId !== undefined &&
    token !== undefined &&
    auth.callbackTokenKey !== undefined &&
    isValidCallbackToken(messageId, token, auth.callbackTokenKey);
  if (byHeader) return { byToken: false };
  return byToken ? { byToken: true } : undefined;
}

/**
 * AWSCURRENT first; during a rotation AWSPREVIOUS; then AWSCURRENT read past the cache (at most once per interval,
 * so a flood of bad credentials cannot turn into Secrets Manager calls).
 */
async function authenticate(request: ApiRequest, deps: ReceiptDeps): Promise<{ byToken: boolean }> {
  const current = await deps.webhookAuth();
  let verdict = authenticatedBy(request, current);
  if (!verdict) {
    const previous = await deps.previousWebhookAuth?.();
    verdict = previous && authenticatedBy(request, previous);
    if (verdict) metrics.addMetric('SmsReceiptPreviousSecret', MetricUnit.Count, 1);
  }
  if (!verdict) {
    const refreshed = await deps.refreshedWebhookAuth?.();
    verdict = refreshed && authenticatedBy(request, refreshed);
  }
  if (verdict) return verdict;
  metrics.addMetric('SmsReceiptUnauthorized', MetricUnit.Count, 1);
  logger.warn('Receipt refused: no valid Authorization value or callback token', {
    hasAuthorization: !!request.headers.authorization,
    hasToken: !!request.query.token,
  });
  throw new SmsError('UNAUTHORIZED', 'Missing or invalid credentials');
}

function matches(record: MessageRecord, payload: OutboundReceiptPayload): boolean {
  // A record that already has another umid belongs to another SMS that reused the clientMessageId.
  return !record.umid || record.umid === payload.umid;
}

/** The record a receipt is about: the callback's messageId, then 8x8's umid, then the clientMessageId we sent. */
async function findRecord(
  payload: OutboundReceiptPayload,
  callbackMessageId: string | undefined,
  store: MessageStore,
): Promise<MessageRecord | undefined> {
  if (callbackMessageId) {
    const record = await store.get(callbackMessageId);
    if (record) return record;
  }
  const byUmid = await store.findByUmid(payload.umid);
  if (byUmid) return byUmid;
  const sentId = payload.clientMessageId ?? undefined;
  if (!sentId) return undefined;
  // Without a caller's clientMessageId the worker sends our messageId (a UUID) as clientMessageId.
  if (MESSAGE_ID_PATTERN.test(sentId)) {
    const own = await store.get(sentId);
    if (own && own.clientMessageId === undefined && matches(own, payload)) return own;
  }
  const candidates = await store.findByClientMessageId(sentId);
  return candidates.find((record) => matches(record, payload));
}

function parseReceipt(
  rawBody: string,
): { ignored: true; eventType: string } | { ignored: false; payload: OutboundReceiptPayload } {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new SmsError('INVALID_RECEIPT', 'The receipt body is not JSON');
  }
  const envelope = receiptEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new SmsError(
      'INVALID_RECEIPT',
      'The body is not an 8x8 webhook event (namespace, eventType, payload)',
      toSmsIssues(envelope.error.issues, json),
    );
  }
  const { namespace, eventType } = envelope.data;
  if (namespace.toUpperCase() !== 'SMS' || eventType !== 'outbound_message_status_changed') {
    return { ignored: true, eventType };
  }
  const payload = outboundReceiptPayloadSchema.safeParse(envelope.data.payload);
  if (!payload.success) {
    throw new SmsError(
      'INVALID_RECEIPT',
      'The delivery receipt payload lacks umid or status.state',
      toSmsIssues(payload.error.issues, envelope.data.payload, ['payload']),
    );
  }
  return { ignored: false, payload: payload.data };
}

export async function handleReceipt(request: ApiRequest, deps: ReceiptDeps): Promise<ApiResponse> {
  const { byToken } = await authenticate(request, deps);
  const parsed = parseReceipt(request.rawBody);
  if (parsed.ignored) {
    // The body is the sender's: only an event-type-shaped value (8x8's are snake_case) is logged verbatim.
    const eventType = /^[a-z_]{1,64}$/.test(parsed.eventType) ? parsed.eventType : '(unrecognised)';
    logger.info('Webhook event acknowledged and ignored', { eventType });
    return { statusCode: 200, body: { ok: true, ignored: true } };
  }
  const { payload } = parsed;
  metrics.addMetric('SmsReceipt', MetricUnit.Count, 1);
  const now = deps.clock.now();
  const log = {
    umid: payload.umid,
    clientMessageId: payload.clientMessageId ?? undefined,
    state: payload.status.state,
    detail: payload.status.detail ?? undefined,
    destination: maskPhone(payload.destination),
  };

  const change = receiptChange(payload, now);
  if (!change) {
    logger.warn('Receipt with a state that changes nothing', log);
    return { statusCode: 200, body: { ok: true, ignored: true } };
  }
  const callbackMessageId = byToken ? request.query.messageId?.toLowerCase() : undefined;
  const record = await findRecord(payload, callbackMessageId, deps.store);
  if (!record) {
    // Acknowledged: 8x8 would retry an error for 2 minutes and still find nothing (another system's SMS, or expired).
    metrics.addMetric('SmsReceiptUnmatched', MetricUnit.Count, 1);
    logger.warn('Receipt for an unknown SMS acknowledged', log);
    return { statusCode: 200, body: { ok: true, matched: false } };
  }

  const inject = wantsInjection(record, change.status);
  const changed = await deps.store.changeStatus(record.messageId, { ...change, injectPending: inject });
  // Once per SMS: a second `delivered` (operator, then recipient) moves the record but is not a new delivery.
  if (changed && record.status !== change.status) {
    if (change.status === 'delivered') metrics.addMetric('SmsDelivered', MetricUnit.Count, 1);
    // 8x8's `undelivered`/`failed` and an operator's `rejected` after sending: the SMS will not reach the phone.
    if (change.status === 'undelivered' || change.status === 'rejected') {
      metrics.addMetric('SmsUndelivered', MetricUnit.Count, 1);
    }
  }
  if (!changed && !record.umid) await deps.store.setUmidIfMissing(record.messageId, payload.umid, change.now);
  logger.info(changed ? 'Receipt recorded' : 'Receipt changes nothing (duplicate or out of order)', {
    ...log,
    messageId: record.messageId,
    from: record.status,
    to: change.status,
  });

  // Inject a new change, or retry the pending injection of this very change when 8x8 repeats the receipt.
  const retryPending = !changed && record.status === change.status && record.injectPending === change.status;
  let current = changed ? change.status : record.status;
  if ((changed && inject) || retryPending) {
    const result = await deps.injector.inject(
      { ...record, umid: record.umid ?? payload.umid },
      {
        status: change.status,
        umid: payload.umid,
        detail: change.detail,
        errorCode: change.errorCode,
        errorMessage: payload.status.errorMessage ?? undefined,
      },
      // 8x8 repeating a receipt whose injection failed: the failed try may have arrived, so wait longer.
      { retry: retryPending },
    );
    if (result === 'transient') {
      return {
        statusCode: 502,
        body: {
          ok: false,
          error: {
            code: 'COGNIGY_UNAVAILABLE',
            message: 'Receipt recorded; the Cognigy injection failed and is retried with the receipt',
          },
        },
      };
    }
    await deps.store.clearInjectPending(record.messageId, change.status, deps.clock.now().toISOString());
    current = change.status;
  }
  return {
    statusCode: 200,
    body: { ok: true, messageId: record.messageId, status: publicStatus(current), changed },
  };
}
