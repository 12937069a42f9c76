/**
 * The envelope both SMS webhooks read first (`{namespace, eventType, description, payload}`): one 8x8 account
 * webhook may carry every event type, so the receipt route and the inbound route parse it the same way and then
 * hand the payload to the core of its event type (receipt.ts, inbound-webhook.ts).
 */
import { SmsError } from './error-codes';
import { toSmsIssues } from './normalise';
import { receiptEnvelopeSchema } from './receipt-schema';

export interface SmsWebhookEvent {
  /** 8x8's namespace, upper-cased (`SMS`). */
  namespace: string;
  eventType: string;
  payload: unknown;
}

/** Parses the raw body (after authentication); a body that is no 8x8 webhook event is refused with `code`. */
export function parseSmsWebhookEvent(
  rawBody: string,
  code: 'INVALID_RECEIPT' | 'INVALID_INBOUND_SMS',
): SmsWebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new SmsError(code, 'The webhook body is not JSON');
  }
  const envelope = receiptEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new SmsError(
      code,
      'The body is not an 8x8 webhook event (namespace, eventType, payload)',
      toSmsIssues(envelope.error.issues, json),
    );
  }
  const { namespace, eventType, payload } = envelope.data;
  return { namespace: namespace.toUpperCase(), eventType, payload };
}

/** An event type as it may be logged: 8x8's are snake_case; anything else is the sender's text and is not logged. */
export function loggableEventType(eventType: string): string {
  return /^[a-z_]{1,64}$/.test(eventType) ? eventType : '(unrecognised)';
}
