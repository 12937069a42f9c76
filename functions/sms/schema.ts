/**
 * Request and answer schemas of the SMS routes. The request schemas validate bodies (shape, types, unknown
 * fields) and generate the OpenAPI document (functions/shared/openapi.ts), so the two cannot drift apart.
 * Rules that need more than a shape (E.164 conversion, sender id, text parts, dates) live in normalise.ts.
 *
 * Field names and limits follow 8x8's SmsRequest / BatchSmsRequest (specs/8x8/sms_api.json). Optional fields
 * accept `null` and `""` as "not given", because Cognigy's 8x8 extension sends `country: null` and templated
 * fields render as empty strings.
 */
import * as z from 'zod';

const absent = z.union([z.null(), z.literal('')]);
/** An optional string field that may also arrive as null or "". */
const optionalString = (schema: z.ZodString) => z.union([schema, z.null()]).optional();
/** An optional date-time or URI field; `""` and null mean "not given" (templated Cognigy fields render as ""). */
const optionalFormatted = (maxLength: number, format: 'date-time' | 'uri') =>
  z.union([z.string().max(maxLength).meta({ format }), absent]).optional();

export const ENCODINGS = ['AUTO', 'GSM7', 'UCS2'] as const;
export const TRACK_VALUES = ['None', 'Outcome'] as const;
/** Status changes a flow can ask to have injected into its Cognigy session. */
export const RECEIPT_EVENTS = ['sent', 'delivered', 'undelivered', 'rejected', 'failed'] as const;
export type ReceiptEvent = (typeof RECEIPT_EVENTS)[number];
/** What `injectReceipts: true` means: every final outcome, so a flow can react to an undelivered code. */
export const DEFAULT_RECEIPT_EVENTS: ReceiptEvent[] = ['delivered', 'undelivered', 'rejected', 'failed'];

export const MAX_BATCH_ITEMS = 500;

export const cognigyRefSchema = z
  .strictObject({
    userId: optionalString(z.string().max(512)).describe('Cognigy `input.userId` of the session'),
    sessionId: optionalString(z.string().max(512)).describe('Cognigy `input.sessionId`'),
    URLToken: optionalString(z.string().max(512)).describe(
      'Cognigy `input.URLToken` of the Endpoint; used as the credential of the Endpoint inject route, never logged',
    ),
    endpointBaseUrl: optionalFormatted(2048, 'uri').describe(
      'Endpoint base URL, e.g. https://endpoint-app.cognigy.ai; defaults to the `cognigy` secret',
    ),
    injectReceipts: z
      .boolean()
      .optional()
      .describe('true: inject final outcomes (delivered, undelivered, rejected, failed) into the session'),
    receiptEvents: z
      .array(z.enum(RECEIPT_EVENTS))
      .max(RECEIPT_EVENTS.length)
      .optional()
      .describe('Exactly which status changes to inject; overrides injectReceipts'),
  })
  .describe(
    'Cognigy session of the flow that sends the SMS. With injectReceipts or receiptEvents, status changes are ' +
      'injected into the session as `data.sms` (text "").',
  );

const smsFields = {
  destination: z
    .string()
    .max(64)
    .describe(
      "Recipient: E.164 (with or without '+'), or a national number together with `country`. Spaces, dashes, dots and parentheses are ignored.",
    ),
  text: z
    .string()
    .max(4096)
    .describe('Message text; at most 10 SMS parts (GSM7 1530 septets, UCS2 670 UTF-16 units)'),
  source: optionalString(z.string().max(16)).describe(
    'Sender id: alphanumeric up to 11 characters, or numeric up to 16 digits. Operators may overwrite it.',
  ),
  country: optionalString(z.string().max(2)).describe(
    'ISO 3166-1 alpha-2 country of a national `destination`',
  ),
  clientMessageId: optionalString(z.string().max(350)).describe(
    'Your reference, echoed in answers and receipts; a repeat with the same content returns the first answer',
  ),
  encoding: z
    .union([z.enum(ENCODINGS), absent])
    .optional()
    .describe('AUTO (default), GSM7 or UCS2'),
  scheduled: optionalFormatted(64, 'date-time').describe(
    'ISO-8601 date-time with offset, at most 7 days ahead',
  ),
  expiry: optionalFormatted(64, 'date-time').describe(
    'ISO-8601 date-time with offset after which the SMS is discarded',
  ),
  track: z
    .union([z.enum(TRACK_VALUES), absent])
    .optional()
    .describe('8x8 conversion tracking: None or Outcome'),
  clientIp: optionalString(z.string().max(45)).describe('End-user IP for 8x8 per-IP rate limiting'),
  dlrCallbackUrl: optionalFormatted(2048, 'uri').describe(
    "Receipts for this SMS go to this URL instead of this API's receipt webhook",
  ),
};

/** POST /sms: every field of 8x8's single send plus the optional Cognigy session. */
export const smsRequestSchema = z
  .strictObject({ ...smsFields, cognigy: cognigyRefSchema.optional() })
  .describe("One SMS, as 8x8's SmsRequest, plus optional Cognigy ids");

/** Shared properties of a batch (8x8's SmsTemplateFull); a message's own value wins. */
export const smsTemplateSchema = z
  .strictObject({
    source: smsFields.source,
    text: z.string().max(4096).optional().describe('Text for messages without their own'),
    encoding: smsFields.encoding,
    scheduled: smsFields.scheduled,
    expiry: smsFields.expiry,
    dlrCallbackUrl: smsFields.dlrCallbackUrl,
  })
  .describe("Shared properties (8x8's SmsTemplateFull)");

/** A batch message may leave out what the template provides. */
const smsBatchMessageSchema = z
  .strictObject({
    ...smsFields,
    text: smsFields.text.optional(),
    cognigy: cognigyRefSchema.optional(),
  })
  .describe('One SMS of a batch; fields it leaves out come from `template`');

/** POST /sms/batch: 8x8's BatchSmsRequest, capped so a body stays under Cognigy's 65 kB request limit. */
export const smsBatchRequestSchema = z
  .strictObject({
    messages: z
      .array(smsBatchMessageSchema)
      .min(1)
      .max(MAX_BATCH_ITEMS)
      .optional()
      .describe('The SMS to send; when present, `destinations` is ignored (as 8x8 does)'),
    destinations: z
      .array(z.string().max(64))
      .min(1)
      .max(MAX_BATCH_ITEMS)
      .optional()
      .describe('Recipients of one templated text'),
    template: smsTemplateSchema.optional(),
    clientBatchId: optionalString(z.string().max(20)).describe(
      'Your batch reference. With `destinations`, each SMS gets clientMessageId "<clientBatchId>/<destination>", so a repeated batch sends nothing twice.',
    ),
    includeMessagesInResponse: z
      .boolean()
      .optional()
      .describe("Accepted for compatibility with 8x8's batch; the answer always lists every item"),
    clientIp: smsFields.clientIp,
    cognigy: cognigyRefSchema
      .optional()
      .describe('Cognigy session shared by messages without their own `cognigy`'),
  })
  .describe("A batch of SMS, as 8x8's BatchSmsRequest");

export type SmsRequestInput = z.input<typeof smsRequestSchema>;
export type SmsBatchRequestInput = z.input<typeof smsBatchRequestSchema>;
export type SmsBatchMessageInput = z.input<typeof smsBatchMessageSchema>;
export type SmsTemplateInput = z.input<typeof smsTemplateSchema>;
export type CognigyRefInput = z.input<typeof cognigyRefSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Answers (documented in the OpenAPI document; the cores build them with these types)

export const STATUS_CODES = ['QUEUED', 'SENT', 'DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED'] as const;
export type PublicStatusCode = (typeof STATUS_CODES)[number];

const statusSchema = z.object({
  code: z.enum(STATUS_CODES).describe("Status in 8x8's upper-case vocabulary"),
  description: z.string(),
});

export const errorBodySchema = z.object({
  ok: z.literal(false),
  error: z.object({
    code: z.string().describe('Stable error code (see SMS_ERROR_CODES)'),
    message: z.string(),
    details: z
      .array(z.object({ path: z.string(), code: z.string(), message: z.string() }))
      .optional()
      .describe('Every validation problem, by JSON path'),
  }),
});

export const smsAcceptedSchema = z.object({
  ok: z.literal(true),
  messageId: z.string().describe('Our id of the SMS; GET /sms/{messageId} shows its status'),
  clientMessageId: z.string().nullable(),
  destination: z.string().describe('Normalised E.164 destination'),
  status: z.object({ code: z.literal('QUEUED'), description: z.string() }),
});
export type SmsAccepted = z.infer<typeof smsAcceptedSchema>;

const itemErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
});

export const smsBatchItemSchema = z.object({
  index: z.number().int().describe('Position in `messages` or `destinations`'),
  ok: z.boolean(),
  messageId: z.string().optional(),
  clientMessageId: z.string().nullable().optional(),
  destination: z.string().optional(),
  status: z.object({ code: z.literal('QUEUED'), description: z.string() }).optional(),
  error: itemErrorSchema.optional(),
});
export type SmsBatchItem = z.infer<typeof smsBatchItemSchema>;

export const smsBatchAcceptedSchema = z.object({
  ok: z
    .boolean()
    .describe('true when at least one item was accepted (HTTP 202); false with 400 when none was'),
  batchId: z.string().nullable(),
  clientBatchId: z.string().nullable(),
  acceptedCount: z.number().int(),
  rejectedCount: z.number().int(),
  items: z.array(smsBatchItemSchema),
  error: itemErrorSchema.optional(),
});
export type SmsBatchAccepted = z.infer<typeof smsBatchAcceptedSchema>;

export const smsHistoryEntrySchema = z.object({
  status: z.enum(STATUS_CODES),
  at: z.string().describe('ISO-8601 time of the change (8x8 timestamp for receipts)'),
  detail: z.string().optional().describe("8x8's status detail, e.g. delivered_to_recipient"),
  umid: z.string().optional(),
  errorCode: z.union([z.string(), z.number()]).optional().describe("8x8's error code"),
  reason: z.string().optional(),
});

export const smsStatusAnswerSchema = z.object({
  ok: z.literal(true),
  messageId: z.string(),
  clientMessageId: z.string().nullable(),
  batchId: z.string().optional(),
  destination: z.string(),
  status: statusSchema,
  umid: z.string().optional().describe("8x8's message id, once 8x8 accepted the SMS"),
  errorCode: z.union([z.string(), z.number()]).optional(),
  reason: z.string().optional(),
  attempts: z.number().int().describe('Hand-overs to 8x8 started'),
  ambiguousAttempts: z
    .number()
    .int()
    .describe('Attempts that ended without an answer from 8x8 (it may have accepted the SMS)'),
  history: z.array(smsHistoryEntrySchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SmsStatusAnswer = z.infer<typeof smsStatusAnswerSchema>;

// ---------------------------------------------------------------------------------------------------------------
// 8x8 delivery receipts (specs/8x8/delivery-receipts-for-outbound-sms.md). Lenient on extra fields: 8x8 adds
// fields over time, and an unknown field must not make us refuse (and 8x8 retry) a receipt.

export const receiptEnvelopeSchema = z.looseObject({
  namespace: z.string(),
  eventType: z.string(),
  description: z.string().nullish(),
  payload: z.unknown(),
});

export const outboundReceiptPayloadSchema = z.looseObject({
  umid: z.string().min(1).max(128),
  batchId: z.string().nullish(),
  clientMessageId: z.string().max(350).nullish(),
  clientBatchId: z.string().nullish(),
  subAccountId: z.string().nullish(),
  source: z.string().nullish(),
  destination: z.string().nullish(),
  status: z.looseObject({
    state: z.string().min(1).max(64),
    detail: z.string().max(256).nullish(),
    timestamp: z.string().max(64).nullish(),
    errorCode: z.union([z.number(), z.string().max(64)]).nullish(),
    errorMessage: z.string().max(1024).nullish(),
  }),
  smsCount: z.number().nullish(),
});
export type OutboundReceiptPayload = z.infer<typeof outboundReceiptPayloadSchema>;
