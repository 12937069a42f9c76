/**
 * 8x8's inbound SMS (MO) event, `eventType: "inbound_message_received"` in the envelope of delivery receipts
 * (receipt-schema.ts; ../shared/reference/8x8-apis.md §1.6), parsed by the inbound webhook (inbound-webhook.ts).
 * Lenient on extra fields like the receipt schema: 8x8 adds fields over time, and refusing an event for one would
 * make 8x8 retry it and then drop the SMS.
 */
import * as z from '../shared/zod';
import type { QueuedInboundSms } from './inbound-ports';

export const INBOUND_EVENT_TYPE = 'inbound_message_received';

/**
 * A phone number or short code as 8x8 writes it (digits, usually without `+`). Printable and short, so it can be
 * hashed, logged masked and used as an SMS source; anything else is refused rather than queued.
 */
const address = z.string().check(z.minLength(1), z.maxLength(32), z.regex(/^[+]?[A-Za-z0-9 ().-]+$/));

export const inboundSmsPayloadSchema = z.looseObject({
  // Printable ASCII: the umid becomes the FIFO deduplication id, which SQS limits to these characters and 128.
  umid: z.string().check(z.regex(/^[\x21-\x7e]{1,128}$/)),
  subAccountId: z.nullish(z.string().check(z.maxLength(128))),
  timestamp: z.nullish(z.string().check(z.maxLength(64))),
  source: address,
  destination: address,
  // Absent or null: an empty SMS (the route's body limit bounds its length).
  body: z.nullish(z.string()),
  encoding: z.nullish(z.string().check(z.maxLength(32))),
  smsCount: z.nullish(z.number()),
  price: z.optional(z.unknown()),
});
export type InboundSmsPayload = z.infer<typeof inboundSmsPayloadSchema>;

/**
 * E.164 with `+` for a phone number (7 to 15 digits once spaces and punctuation are gone; 8x8 leaves the `+`
 * out); a short code (3 to 6 digits) or an alphanumeric sender stays as sent, since `+` would make it another
 * address.
 */
export function normaliseAddress(raw: string): string {
  const compact = raw.trim().replace(/[\s().-]/g, '');
  return /^\+?[1-9]\d{6,14}$/.test(compact) ? `+${compact.replace(/^\+/, '')}` : raw.trim();
}

/** 8x8's timestamp (several ISO 8601 shapes, UTC) as ISO UTC with milliseconds; undefined when unreadable. */
export function normaliseTimestamp(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  // No zone designator: 8x8's times are UTC, and Date.parse would read such a time as local time.
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(raw.trim()) ? raw.trim() : `${raw.trim()}Z`;
  const parsed = Date.parse(zoned);
  return Number.isFinite(parsed) ? new Date(parsed).toISOString() : undefined;
}

/** The queued shape of a validated payload; `now` stands in for a missing or unreadable timestamp. */
export function queuedInboundSms(payload: InboundSmsPayload, now: Date): QueuedInboundSms {
  return {
    umid: payload.umid,
    from: normaliseAddress(payload.source),
    to: normaliseAddress(payload.destination),
    text: payload.body ?? '',
    receivedAt: normaliseTimestamp(payload.timestamp) ?? now.toISOString(),
    ...(payload.subAccountId ? { subAccountId: payload.subAccountId } : {}),
    ...(payload.encoding ? { encoding: payload.encoding } : {}),
    ...(typeof payload.smsCount === 'number' ? { smsCount: payload.smsCount } : {}),
  };
}
