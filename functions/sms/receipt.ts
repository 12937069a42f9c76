/**
 * POST /webhooks/8x8/sms: 8x8 delivery receipts (namespace SMS, eventType outbound_message_status_changed).
 *
 * Authentication comes first (webhook-auth.ts): the Authorization header must equal the configured value (8x8's
 * `httpAuthorization`; 8x8 signs nothing), or the URL must carry a valid per-message callback token. Then the
 * receipt moves the record forward (never backwards; duplicates are no-ops) and, if the flow asked for it, is
 * injected into the Cognigy session. An inbound SMS (`inbound_message_received`) sent to this URL, as one 8x8
 * account webhook may carry every event type, goes to the inbound webhook's core (inbound-webhook.ts); it needs the
 * Authorization value, since a callback token vouches for one outbound SMS only.
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
import { wantsInjection, type ReceiptInjector } from './cognigy-inject';
import { SmsError } from './error-codes';
import { acceptInboundSms, type InboundSmsDeps } from './inbound-webhook';
import { INBOUND_EVENT_TYPE } from './inbound-schema';
import { toSmsIssues } from './normalise';
import {
  OPERATOR_DELIVERED_RANK,
  publicStatus,
  type MessageRecord,
  type MessageStore,
  type StatusChange,
} from './records';
import { outboundReceiptPayloadSchema, type OutboundReceiptPayload } from './receipt-schema';
import { MESSAGE_ID_PATTERN } from './status';
import { authenticateWebhook, type WebhookAuthDeps } from './webhook-auth';
import { loggableEventType, parseSmsWebhookEvent } from './webhook-envelope';

export type { WebhookAuth } from './webhook-auth';

export interface ReceiptDeps extends WebhookAuthDeps {
  store: MessageStore;
  clock: Clock;
  injector: ReceiptInjector;
  /**
   * Inbound SMS sent to the receipt URL are queued as on /webhooks/8x8/sms/inbound. Built on the first one, so a
   * function instance that only ever sees receipts creates no SQS client.
   */
  inbound: () => InboundSmsDeps;
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

type ParsedReceipt =
  | { kind: 'ignored'; eventType: string }
  | { kind: 'inbound'; payload: unknown }
  | { kind: 'receipt'; payload: OutboundReceiptPayload };

function parseReceipt(rawBody: string): ParsedReceipt {
  const { namespace, eventType, payload } = parseSmsWebhookEvent(rawBody, 'INVALID_RECEIPT');
  if (namespace === 'SMS' && eventType === INBOUND_EVENT_TYPE) return { kind: 'inbound', payload };
  if (namespace !== 'SMS' || eventType !== 'outbound_message_status_changed') {
    return { kind: 'ignored', eventType };
  }
  const parsed = outboundReceiptPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    throw new SmsError(
      'INVALID_RECEIPT',
      'The delivery receipt payload lacks umid or status.state',
      toSmsIssues(parsed.error.issues, payload, ['payload']),
    );
  }
  return { kind: 'receipt', payload: parsed.data };
}

export async function handleReceipt(request: ApiRequest, deps: ReceiptDeps): Promise<ApiResponse> {
  const { byToken } = await authenticateWebhook(request, deps, { callbackToken: true, what: 'Receipt' });
  const parsed = parseReceipt(request.rawBody);
  if (parsed.kind === 'ignored') {
    logger.info('Webhook event acknowledged and ignored', { eventType: loggableEventType(parsed.eventType) });
    return { statusCode: 200, body: { ok: true, ignored: true } };
  }
  if (parsed.kind === 'inbound') {
    if (byToken) {
      // A callback token vouches for one outbound SMS; an inbound SMS needs the webhook's Authorization value.
      metrics.addMetric('SmsReceiptUnauthorized', MetricUnit.Count, 1);
      logger.warn('Inbound SMS with a callback token but no Authorization value refused');
      throw new SmsError('UNAUTHORIZED', 'Missing or invalid credentials');
    }
    return acceptInboundSms(parsed.payload, request.rawBody, deps.inbound());
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
