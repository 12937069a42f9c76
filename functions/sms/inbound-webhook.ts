/**
 * POST /webhooks/8x8/sms/inbound: 8x8's inbound SMS (`inbound_message_received`). The receipt route
 * (/webhooks/8x8/sms, receipt.ts) hands the same events to `acceptInboundSms`, since one 8x8 account webhook may
 * carry every event type.
 *
 * Order: the receipt webhook's Authorization check (webhook-auth.ts) before the body is parsed; then the payload is
 * validated, claimed once per umid (`sms-inbound#<umid>`, bound to the body's SHA-256) and put on the smsInbound
 * FIFO queue (group = hash of the two numbers, so one person's SMS stay in order; deduplication id = umid). 8x8
 * gets a 2xx only once SQS took the SMS: a failure to queue releases the claim and answers 503, and 8x8 retries
 * (1, 10, 30, 90 s) with the same body, which takes the claim over. The SMS text is never logged, the numbers only
 * masked.
 */
import type { ApiRequest, ApiResponse } from '../shared/http';
import { maskPhone } from '../shared/mask';
import type { Clock, Telemetry } from '../shared/runtime';
import { NotQueuedError, type QueueSender } from '../shared/sqs';
import { bodySha256, queueClaimed, type ClaimResult, type WebhookClaims } from '../shared/webhook-claims';
import { SmsError } from './error-codes';
import type { QueuedInboundSms } from './inbound-ports';
import { INBOUND_EVENT_TYPE, inboundSmsPayloadSchema, queuedInboundSms } from './inbound-schema';
import { toSmsIssues } from './normalise';
import { authenticateWebhook, type WebhookAuthDeps } from './webhook-auth';
import { loggableEventType, parseSmsWebhookEvent } from './webhook-envelope';

/** What an inbound SMS needs once authenticated (also the receipt route's, for the events it hands over). */
export interface InboundSmsDeps {
  /** Once-only claims per umid (dynamo-inbound-dedupe.ts). */
  claims: WebhookClaims;
  /** The shared SQS sender bound to the smsInbound FIFO queue. */
  queue: QueueSender;
  clock: Clock;
  telemetry: Telemetry;
}

export type InboundWebhookDeps = InboundSmsDeps & WebhookAuthDeps;

/**
 * Seconds 8x8 is asked to wait when another delivery of the umid is being queued: queueing takes milliseconds, and
 * a claim left by a function that died is taken over after the claim lock (INBOUND_CLAIM_LOCK_MS).
 */
export const IN_PROGRESS_RETRY_AFTER_SECONDS = 1;

/** Queueing an inbound SMS failed (claim, SQS): nothing was accepted, 8x8 retries. */
export class InboundSmsNotAcceptedError extends SmsError {
  constructor(options?: { cause?: unknown }) {
    super(
      'INBOUND_SMS_NOT_ACCEPTED',
      'The inbound SMS could not be queued and was not accepted; 8x8 retries it',
      undefined,
      options,
    );
  }
}

/** The FIFO message group of a conversation: the two numbers hashed, so no phone number reaches SQS metadata. */
export function inboundGroupId(sms: Pick<QueuedInboundSms, 'from' | 'to'>): string {
  return bodySha256(`${sms.from}|${sms.to}`);
}

function parsePayload(payload: unknown, now: Date): QueuedInboundSms {
  const parsed = inboundSmsPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    throw new SmsError(
      'INVALID_INBOUND_SMS',
      'The inbound SMS payload lacks a valid umid, source or destination',
      toSmsIssues(parsed.error.issues, payload, ['payload']),
    );
  }
  return queuedInboundSms(parsed.data, now);
}

async function claim(sms: QueuedInboundSms, rawBody: string, deps: InboundSmsDeps): Promise<ClaimResult> {
  try {
    return await deps.claims.claim(sms.umid, {
      bodySha256: bodySha256(rawBody),
      attributes: { receivedAt: sms.receivedAt },
    });
  } catch (error) {
    deps.telemetry.count('SmsInboundNotQueued');
    deps.telemetry.log.error('Inbound SMS could not be claimed; answered 503 for a retry', {
      umid: sms.umid,
      error: error as Error,
    });
    throw new InboundSmsNotAcceptedError({ cause: error });
  }
}

/** Queues one inbound SMS once per umid; `payload` is the event's payload, `rawBody` the bytes 8x8 sent. */
export async function acceptInboundSms(
  payload: unknown,
  rawBody: string,
  deps: InboundSmsDeps,
): Promise<ApiResponse> {
  const sms = parsePayload(payload, deps.clock.now());
  const log = { umid: sms.umid, from: maskPhone(sms.from), to: maskPhone(sms.to) };

  const claimed = await claim(sms, rawBody, deps);
  if (claimed === 'bodyMismatch') {
    deps.telemetry.count('SmsInboundBodyMismatch');
    deps.telemetry.log.warn(
      'SECURITY inbound SMS umid reused with a different body; refused and not queued',
      {
        securityEvent: 'INBOUND_SMS_BODY_MISMATCH',
        ...log,
      },
    );
    throw new SmsError(
      'INBOUND_SMS_BODY_MISMATCH',
      'This umid was already received with a different body; refused and not queued',
    );
  }
  if (claimed === 'duplicate') {
    deps.telemetry.count('SmsInboundDuplicate');
    deps.telemetry.log.info('Inbound SMS already queued; duplicate delivery acknowledged', log);
    return { statusCode: 200, body: { ok: true, umid: sms.umid, duplicate: true } };
  }
  if (claimed === 'inProgress') {
    deps.telemetry.log.info('Inbound SMS being queued by another delivery; answered 503 for a retry', log);
    return {
      statusCode: 503,
      headers: { 'retry-after': String(IN_PROGRESS_RETRY_AFTER_SECONDS) },
      body: {
        ok: false,
        error: {
          code: 'INBOUND_SMS_IN_PROGRESS',
          message: 'Another delivery of this inbound SMS is being queued; retry shortly',
        },
      },
    };
  }

  const queued = await queueClaimed(
    deps.claims,
    sms.umid,
    async () => {
      const notQueued = await deps.queue.send([
        { key: sms.umid, body: sms, groupId: inboundGroupId(sms), deduplicationId: sms.umid },
      ]);
      if (notQueued.length > 0) throw new NotQueuedError('smsInbound');
    },
    {
      warn: (message, context) => deps.telemetry.log.warn(message, context),
      error: (message, context) => deps.telemetry.log.error(message, context),
      what: 'Inbound SMS',
      context: log,
    },
  );
  if (!queued.queued) {
    deps.telemetry.count('SmsInboundNotQueued');
    throw new InboundSmsNotAcceptedError({ cause: queued.error });
  }
  deps.telemetry.count('SmsInboundReceived');
  deps.telemetry.log.info('Inbound SMS queued', log);
  return { statusCode: 200, body: { ok: true, umid: sms.umid, queued: true } };
}

/** POST /webhooks/8x8/sms/inbound: other event types sent to this URL are acknowledged and ignored. */
export async function handleInboundWebhook(
  request: ApiRequest,
  deps: InboundWebhookDeps,
): Promise<ApiResponse> {
  await authenticateWebhook(request, deps, { callbackToken: false, what: 'Inbound SMS' });
  const event = parseSmsWebhookEvent(request.rawBody, 'INVALID_INBOUND_SMS');
  if (event.namespace !== 'SMS' || event.eventType !== INBOUND_EVENT_TYPE) {
    deps.telemetry.log.info('Webhook event acknowledged and ignored', {
      eventType: loggableEventType(event.eventType),
    });
    return { statusCode: 200, body: { ok: true, ignored: true } };
  }
  return acceptInboundSms(event.payload, request.rawBody, deps);
}
