/**
 * 8x8 delivery receipts (lib/simulators/contract/8x8/delivery-receipts-for-outbound-sms.md), parsed by the receipt
 * webhook (receipt.ts). Lenient on extra fields: 8x8 adds fields over time, and an unknown field must not make us
 * refuse (and 8x8 retry) a receipt.
 */
import * as z from '../shared/zod';

/** A string of at most `max` characters. */
const maxString = (max: number) => z.string().check(z.maxLength(max));

export const receiptEnvelopeSchema = z.looseObject({
  namespace: z.string(),
  eventType: z.string(),
  description: z.nullish(z.string()),
  payload: z.unknown(),
});

export const outboundReceiptPayloadSchema = z.looseObject({
  umid: z.string().check(z.minLength(1), z.maxLength(128)),
  batchId: z.nullish(z.string()),
  clientMessageId: z.nullish(maxString(350)),
  clientBatchId: z.nullish(z.string()),
  subAccountId: z.nullish(z.string()),
  source: z.nullish(z.string()),
  destination: z.nullish(z.string()),
  status: z.looseObject({
    state: z.string().check(z.minLength(1), z.maxLength(64)),
    detail: z.nullish(maxString(256)),
    timestamp: z.nullish(maxString(64)),
    errorCode: z.nullish(z.union([z.number(), maxString(64)])),
    errorMessage: z.nullish(maxString(1024)),
  }),
  smsCount: z.nullish(z.number()),
});
export type OutboundReceiptPayload = z.infer<typeof outboundReceiptPayloadSchema>;
