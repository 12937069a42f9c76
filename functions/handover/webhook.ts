/**
 * Core of `POST /handover/eightByEight`: the 8x8 Chat Gateway v1.0 webhook.
 *
 * Order matters: the JWS signature is verified on the raw body before anything parses it; then the event is
 * parsed, claimed once per `x-8x8-event-id` (8x8 retries carry the same id and the same body) and put on the
 * `handoverInbound` FIFO queue. The claim binds the event id to the SHA-256 of the body, because the signature binds
 * the body only by CRC32: a delivery of a known event id with another body is a forgery and is refused. 8x8 gets a 2xx only once the event is safely queued; a failure to queue releases the claim and
 * answers 503 so 8x8 delivers it again. The body (message text) is never logged.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ApiRequest, ApiResponse } from '../shared/http';
import { BridgeError, MalformedJsonError, PayloadTooLargeError, ValidationError } from '../shared/errors';
import { queueClaimed, type ClaimResult } from '../shared/webhook-claims';
import { parseWebhookBody, type InboundEnvelope } from './events';
import {
  bodySha256,
  SigningKeyLookupDeferredError,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
  type SigningKeyLookup,
} from './signature';

/** SQS's message size limit (256 KiB); the queued envelope must fit. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;

/** Result of claiming an event id (`bodyMismatch`: a forged body reusing a captured signature). */
export type { ClaimResult } from '../shared/webhook-claims';

/** Once-only bookkeeping per 8x8 event id (the idempotency table in AWS). */
export interface EventDedupeStore {
  claim(
    eventId: string,
    info: { eventType: string; conversationId: string; receivedAt: number; bodySha256: string },
  ): Promise<ClaimResult>;
  /** Records that the event is on the queue, so later deliveries are answered as duplicates. */
  markQueued(eventId: string): Promise<void>;
  /** Gives the claim up after a failed enqueue, so 8x8's retry (same body) is processed; the body hash stays. */
  release(eventId: string): Promise<void>;
}

export interface InboundQueue {
  send(envelope: InboundEnvelope): Promise<void>;
}

/** The Powertools logger, or any fake with the same methods. */
export type WebhookLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface WebhookDeps {
  getKey: SigningKeyLookup;
  dedupe: EventDedupeStore;
  queue: InboundQueue;
  /** SETTINGS.webhookMaxAgeMs: allowed distance of x-8x8-transmission-time from now, either direction. */
  maxAgeMs: number;
  /**
   * SETTINGS.acceptUnsignedVerify: answer an unsigned WEB_HOOK_VERIFY with 200. 8x8 does not document whether the
   * verify ("Test Connection") is signed; a signed one is always verified like any other event.
   */
  acceptUnsignedVerify: boolean;
  /**
   * When set, events whose x-8x8-tenant-id is another tenant are refused (403). A valid signature proves that 8x8
   * sent the event, not that it belongs to this deployment's tenant. Compared case-insensitively.
   */
  expectedTenantId?: string;
  now?: () => number;
  log: WebhookLog;
  /** Counts an outcome (metric name); optional. */
  count?: (metric: WebhookMetric) => void;
}

export type WebhookMetric =
  | 'ChatEventAccepted'
  | 'ChatEventDuplicate'
  | 'ChatEventRejected'
  | 'ChatEventIgnored'
  | 'ChatEventNotQueued'
  | 'ChatWebhookVerify'
  /** A signed delivery answered 503 because the unknown-kid lookup budget was spent (a flood of forged kids?). */
  | 'ChatSigningKeyDeferred'
  /** A known event id arrived with another body (security event; alarmed in lib/constructs/bridge-alarms.ts). */
  | 'ChatEventBodyMismatch';

export class TenantMismatchError extends BridgeError {
  constructor() {
    super('TENANT_MISMATCH', 'The event belongs to another 8x8 tenant', 403);
  }
}

export class EventInProgressError extends BridgeError {
  constructor() {
    super('EVENT_IN_PROGRESS', 'Another delivery of this event is being processed; retry later', 409);
  }
}

/** 409 rather than 400: the request is well formed and correctly signed, but conflicts with what is stored. */
export class EventBodyMismatchError extends BridgeError {
  constructor() {
    super('EVENT_BODY_MISMATCH', 'This event id was already received with a different body', 409);
  }
}

/** The event could not be stored or queued; nothing was accepted and 8x8 should deliver it again. */
export class EventNotAcceptedError extends BridgeError {
  constructor(options?: { cause?: unknown }) {
    super('EVENT_NOT_ACCEPTED', 'The event could not be queued; retry later', 503, undefined, options);
  }
}

export async function handleChatGatewayWebhook(request: ApiRequest, deps: WebhookDeps): Promise<ApiResponse> {
  const count = deps.count ?? (() => undefined);
  try {
    return await processDelivery(request, deps, count);
  } catch (error) {
    const delivery = {
      eventId: request.headers[WEBHOOK_HEADERS.eventId]?.slice(0, 256),
      retry: request.headers[WEBHOOK_HEADERS.retry]?.slice(0, 16),
    };
    if (error instanceof SigningKeyLookupDeferredError) {
      // Expected while forged kids flood the webhook: one warning line each, no stack trace.
      count('ChatSigningKeyDeferred');
      deps.log.warn('8x8 webhook delivery deferred: unknown-kid lookup budget spent', {
        code: error.code,
        ...delivery,
      });
    } else if (error instanceof BridgeError && error.statusCode < 500) {
      count('ChatEventRejected');
      deps.log.warn('8x8 webhook delivery refused', { code: error.code, ...delivery });
    } else if (error instanceof BridgeError && !(error instanceof EventNotAcceptedError)) {
      // e.g. SIGNING_KEY_UNAVAILABLE: answered 503 so 8x8 retries; logged because it needs attention.
      count('ChatEventNotQueued');
      deps.log.error('8x8 webhook delivery not processed', { code: error.code, ...delivery, error });
    }
    throw error;
  }
}

async function processDelivery(
  request: ApiRequest,
  deps: WebhookDeps,
  count: (metric: WebhookMetric) => void,
): Promise<ApiResponse> {
  const now = deps.now ?? Date.now;

  if (!request.headers[WEBHOOK_HEADERS.signature] && deps.acceptUnsignedVerify && isVerify(request.rawBody)) {
    count('ChatWebhookVerify');
    deps.log.info('8x8 webhook verification (unsigned) answered');
    return { statusCode: 200, body: { ok: true } };
  }

  const delivery = await verifyWebhookSignature(request.rawBody, request.headers, {
    getKey: deps.getKey,
    maxAgeMs: deps.maxAgeMs,
    now,
  });
  if (deps.expectedTenantId && delivery.tenantId.toLowerCase() !== deps.expectedTenantId.toLowerCase()) {
    throw new TenantMismatchError();
  }

  let body: unknown;
  try {
    body = JSON.parse(request.rawBody);
  } catch {
    throw new MalformedJsonError();
  }
  const parsed = parseWebhookBody(body);
  const context = { eventId: delivery.eventId, retry: delivery.retry };

  switch (parsed.kind) {
    case 'invalid':
      throw new ValidationError('The body is not a Chat Gateway v1.0 event', parsed.issues, 'INVALID_EVENT');
    case 'verify':
      count('ChatWebhookVerify');
      deps.log.info('8x8 webhook verification answered', context);
      return { statusCode: 200, body: { ok: true } };
    case 'unsupported':
      // Acknowledged so 8x8 does not retry an event type this version cannot use.
      count('ChatEventIgnored');
      deps.log.warn('8x8 event type not supported; acknowledged and dropped', {
        ...context,
        eventType: parsed.eventType.slice(0, 64),
        conversationId: parsed.conversationId,
      });
      return { statusCode: 200, body: { ok: true, ignored: true } };
    case 'event':
      break;
  }

  const event = parsed.event;
  const receivedAt = now();
  const logContext = { ...context, eventType: event.eventType, conversationId: event.conversationId };
  const envelope: InboundEnvelope = { eventId: delivery.eventId, retry: delivery.retry, receivedAt, event };
  // Refused before claiming: an envelope SQS cannot take would otherwise fail (and be retried) for ever.
  if (Buffer.byteLength(JSON.stringify(envelope), 'utf8') > SQS_MAX_MESSAGE_BYTES) {
    throw new PayloadTooLargeError(SQS_MAX_MESSAGE_BYTES);
  }

  let claim: ClaimResult;
  try {
    claim = await deps.dedupe.claim(delivery.eventId, {
      eventType: event.eventType,
      conversationId: event.conversationId,
      receivedAt,
      bodySha256: bodySha256(request.rawBody),
    });
  } catch (error) {
    count('ChatEventNotQueued');
    deps.log.error('8x8 event could not be claimed; answered 503 for a retry', {
      ...logContext,
      error: error as Error,
    });
    throw new EventNotAcceptedError({ cause: error });
  }
  if (claim === 'bodyMismatch') {
    count('ChatEventBodyMismatch');
    // Ids and hashes only: never the body (message text, phone numbers) nor the signature.
    deps.log.warn('SECURITY 8x8 event id reused with a different body; refused and not relayed', {
      securityEvent: 'EVENT_BODY_MISMATCH',
      ...logContext,
      tenantId: delivery.tenantId,
      kid: delivery.kid,
      requestId: request.requestId,
    });
    throw new EventBodyMismatchError();
  }
  if (claim === 'duplicate') {
    count('ChatEventDuplicate');
    deps.log.info('8x8 event already accepted; duplicate delivery acknowledged', logContext);
    return { statusCode: 200, body: { ok: true, duplicate: true } };
  }
  if (claim === 'inProgress') throw new EventInProgressError();

  const queued = await queueClaimed(deps.dedupe, delivery.eventId, () => deps.queue.send(envelope), {
    warn: (message, context) => deps.log.warn(message, context),
    error: (message, context) => deps.log.error(message, context),
    what: '8x8 event',
    context: logContext,
  });
  if (!queued.queued) {
    count('ChatEventNotQueued');
    throw new EventNotAcceptedError({ cause: queued.error });
  }
  count('ChatEventAccepted');
  deps.log.info('8x8 event accepted', logContext);
  return { statusCode: 200, body: { ok: true } };
}

function isVerify(rawBody: string): boolean {
  try {
    return parseWebhookBody(JSON.parse(rawBody)).kind === 'verify';
  } catch {
    return false;
  }
}
