/**
 * Request and answer schemas of the SMS routes. The request schemas validate bodies (shape, types, unknown
 * fields) and generate the OpenAPI document (lib/openapi.ts), so the two cannot drift apart.
 * Rules that need more than a shape (E.164 conversion, sender id, text parts, dates) live in normalise.ts.
 *
 * Field names and limits follow 8x8's SmsRequest / BatchSmsRequest (lib/simulators/contract/8x8/sms_api.json). Optional fields
 * accept `null` and `""` as "not given", because Cognigy's 8x8 extension sends `country: null` and templated
 * fields render as empty strings.
 */
import * as z from '../shared/zod';

/** A string of at most `max` characters. */
const maxString = (max: number) => z.string().check(z.maxLength(max));
const absent = z.union([z.null(), z.literal('')]);
/** An optional string field of at most `max` characters that may also arrive as null or "". */
const optionalString = (max: number) => z.optional(z.union([maxString(max), z.null()]));
/** An optional date-time or URI field; `""` and null mean "not given" (templated Cognigy fields render as ""). */
const optionalFormatted = (maxLength: number, format: 'date-time' | 'uri') =>
  z.optional(z.union([z.string().check(z.maxLength(maxLength), z.meta({ format })), absent]));
/** Adds the description the OpenAPI document shows for a schema. */
const describe = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description));

export const ENCODINGS = ['AUTO', 'GSM7', 'UCS2'] as const;
export const TRACK_VALUES = ['None', 'Outcome'] as const;
/** Status changes a flow can ask to have injected into its Cognigy session. */
export const RECEIPT_EVENTS = ['sent', 'delivered', 'undelivered', 'rejected', 'failed'] as const;
export type ReceiptEvent = (typeof RECEIPT_EVENTS)[number];
/**
 * How a flow names them: 8x8's upper-case status codes, as GET /sms answers them (`DELIVERED`). The lower-case names
 * of earlier versions are still accepted; records keep the lower-case ones.
 */
export const RECEIPT_EVENT_NAMES = [
  ...RECEIPT_EVENTS.map((event) => event.toUpperCase() as Uppercase<ReceiptEvent>),
  ...RECEIPT_EVENTS,
] as const;
/** What `injectReceipts: true` means: every final outcome, so a flow can react to an undelivered code. */
export const DEFAULT_RECEIPT_EVENTS: ReceiptEvent[] = ['delivered', 'undelivered', 'rejected', 'failed'];

export const MAX_BATCH_ITEMS = 500;
/** Longest `waitForUmidMs`: with SMS_IDEMPOTENCY_WAIT_MS it keeps POST /sms inside Cognigy's 8 s HTTP node timeout. */
export const MAX_WAIT_FOR_UMID_MS = 5_000;

export const cognigyRefSchema = describe(
  z.strictObject({
    userId: describe(optionalString(512), 'Cognigy `input.userId` of the session'),
    sessionId: describe(optionalString(512), 'Cognigy `input.sessionId`'),
    URLToken: describe(
      optionalString(512),
      'Cognigy `input.URLToken` of the Endpoint; used as the credential of the Endpoint inject route, never logged',
    ),
    endpointBaseUrl: describe(
      optionalFormatted(2048, 'uri'),
      'Endpoint base URL, e.g. https://endpoint-app.cognigy.ai; defaults to the `cognigy` secret',
    ),
    injectReceipts: describe(
      z.optional(z.boolean()),
      'true: inject final outcomes (delivered, undelivered, rejected, failed) into the session',
    ),
    receiptEvents: describe(
      z.optional(z.array(z.enum(RECEIPT_EVENT_NAMES)).check(z.maxLength(RECEIPT_EVENT_NAMES.length))),
      'Exactly which status changes to inject (SENT, DELIVERED, UNDELIVERED, REJECTED, FAILED); overrides injectReceipts',
    ),
  }),
  'Cognigy session of the flow that sends the SMS. With injectReceipts or receiptEvents, status changes are ' +
    'injected into the session as `data.sms` (text "").',
);

const smsFields = {
  destination: describe(
    maxString(64),
    "Recipient: E.164 (with or without '+'), or a national number together with `country`. Spaces, dashes, dots and parentheses are ignored.",
  ),
  text: describe(
    maxString(4096),
    'Message text; at most 10 SMS parts (GSM7 1530 septets, UCS2 670 UTF-16 units)',
  ),
  source: describe(
    optionalString(16),
    'Sender id: alphanumeric up to 11 characters, or numeric up to 16 digits. Operators may overwrite it.',
  ),
  country: describe(optionalString(2), 'ISO 3166-1 alpha-2 country of a national `destination`'),
  clientMessageId: describe(
    optionalString(350),
    'Your reference, echoed in answers and receipts; a repeat with the same content returns the first answer',
  ),
  encoding: describe(z.optional(z.union([z.enum(ENCODINGS), absent])), 'AUTO (default), GSM7 or UCS2'),
  scheduled: describe(
    optionalFormatted(64, 'date-time'),
    'ISO-8601 date-time with offset, at most 7 days ahead',
  ),
  expiry: describe(
    optionalFormatted(64, 'date-time'),
    'ISO-8601 date-time with offset after which the SMS is discarded',
  ),
  track: describe(
    z.optional(z.union([z.enum(TRACK_VALUES), absent])),
    '8x8 conversion tracking: None or Outcome',
  ),
  clientIp: describe(optionalString(45), 'End-user IP for 8x8 per-IP rate limiting'),
  dlrCallbackUrl: describe(
    optionalFormatted(2048, 'uri'),
    "Receipts for this SMS go to this URL instead of this API's receipt webhook",
  ),
};

/** POST /sms: every field of 8x8's single send plus the optional Cognigy session. */
export const smsRequestSchema = describe(
  z.strictObject({
    ...smsFields,
    cognigy: z.optional(cognigyRefSchema),
    waitForUmidMs: describe(
      z.optional(z.union([z.number().check(z.int(), z.gte(0), z.lte(MAX_WAIT_FOR_UMID_MS)), absent])),
      `Milliseconds (0 to ${MAX_WAIT_FOR_UMID_MS}) to wait for 8x8's answer to the first attempt, so the 202 carries ` +
        "8x8's `umid`; past it the answer is the usual QUEUED with `umid: null`. Not part of the SMS: a repeat " +
        'with another wait is the same SMS.',
    ),
  }),
  "One SMS, as 8x8's SmsRequest, plus optional Cognigy ids",
);

/** Shared properties of a batch (8x8's SmsTemplateFull); a message's own value wins. */
export const smsTemplateSchema = describe(
  z.strictObject({
    source: smsFields.source,
    text: describe(z.optional(maxString(4096)), 'Text for messages without their own'),
    encoding: smsFields.encoding,
    scheduled: smsFields.scheduled,
    expiry: smsFields.expiry,
    dlrCallbackUrl: smsFields.dlrCallbackUrl,
  }),
  "Shared properties (8x8's SmsTemplateFull)",
);

/** A batch message may leave out what the template provides. */
const smsBatchMessageSchema = describe(
  z.strictObject({
    ...smsFields,
    text: z.optional(smsFields.text),
    cognigy: z.optional(cognigyRefSchema),
  }),
  'One SMS of a batch; fields it leaves out come from `template`',
);

/** POST /sms/batch: 8x8's BatchSmsRequest, capped so a body stays under Cognigy's 65 kB request limit. */
export const smsBatchRequestSchema = describe(
  z.strictObject({
    messages: describe(
      z.optional(z.array(smsBatchMessageSchema).check(z.minLength(1), z.maxLength(MAX_BATCH_ITEMS))),
      'The SMS to send; when present, `destinations` is ignored (as 8x8 does)',
    ),
    destinations: describe(
      z.optional(z.array(maxString(64)).check(z.minLength(1), z.maxLength(MAX_BATCH_ITEMS))),
      'Recipients of one templated text',
    ),
    template: z.optional(smsTemplateSchema),
    clientBatchId: describe(
      optionalString(20),
      'Your batch reference. With `destinations`, each SMS gets clientMessageId "<clientBatchId>/<destination>", so a repeated batch sends nothing twice.',
    ),
    includeMessagesInResponse: describe(
      z.optional(z.boolean()),
      "Accepted for compatibility with 8x8's batch; the answer always lists every item",
    ),
    clientIp: smsFields.clientIp,
    cognigy: describe(
      z.optional(cognigyRefSchema),
      'Cognigy session shared by messages without their own `cognigy`',
    ),
  }),
  "A batch of SMS, as 8x8's BatchSmsRequest",
);

export type SmsRequestInput = z.input<typeof smsRequestSchema>;
export type SmsBatchRequestInput = z.input<typeof smsBatchRequestSchema>;
export type SmsBatchMessageInput = z.input<typeof smsBatchMessageSchema>;
export type SmsTemplateInput = z.input<typeof smsTemplateSchema>;
export type CognigyRefInput = z.input<typeof cognigyRefSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Answers (documented in the OpenAPI document; the cores build them with these types)

export const STATUS_CODES = [
  'QUEUED',
  'SENT',
  'DELIVERED',
  'UNDELIVERED',
  'REJECTED',
  'FAILED',
  'CANCELLED',
] as const;
export type PublicStatusCode = (typeof STATUS_CODES)[number];

const statusSchema = z.object({
  code: describe(z.enum(STATUS_CODES), "Status in 8x8's upper-case vocabulary"),
  description: z.string(),
});

const issueDetailsSchema = z.array(z.object({ path: z.string(), code: z.string(), message: z.string() }));

/** The encoding 8x8 sends the text in (AUTO resolved): what 8x8's SmsResponse calls `encoding`. */
const sentEncodingSchema = describe(
  z.enum(['GSM7', 'UCS2']),
  'Encoding the text is sent in, as 8x8 counts it: GSM7 when every character is in the GSM 03.38 alphabet (or GSM7 was asked for), else UCS2',
);
const smsCountSchema = describe(
  z.number().check(z.int(), z.gte(1)),
  'SMS parts the text takes in that encoding (160/153 GSM7 septets, 70/67 UCS2 units per part)',
);

/** Verdicts the 202 of POST /sms can carry: QUEUED, or 8x8's refusal seen within `waitForUmidMs`. */
export const ACCEPTED_STATUS_CODES = ['QUEUED', 'REJECTED', 'FAILED'] as const;

export const smsAcceptedSchema = z.object({
  ok: z.literal(true),
  messageId: describe(z.string(), 'Our id of the SMS; GET /sms/{messageId} shows its status'),
  clientMessageId: z.nullable(z.string()),
  destination: describe(z.string(), 'Normalised E.164 destination'),
  encoding: sentEncodingSchema,
  smsCount: smsCountSchema,
  umid: describe(
    z.nullable(z.string()),
    "8x8's message id: null until 8x8 answered (ask for it with `waitForUmidMs`, or read GET /sms/{messageId})",
  ),
  status: describe(
    z.object({ code: z.enum(ACCEPTED_STATUS_CODES), description: z.string() }),
    "QUEUED, as 8x8 answers an SMS it accepted (also once 8x8 gave the umid); REJECTED or FAILED only when 8x8's answer to the first attempt, awaited with `waitForUmidMs`, refused it",
  ),
  errorCode: describe(z.optional(z.union([z.string(), z.number()])), "8x8's error code of a refusal"),
  reason: describe(z.optional(z.string()), 'Why the SMS was refused'),
});
export type SmsAccepted = z.infer<typeof smsAcceptedSchema>;

const itemErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.optional(issueDetailsSchema),
});

const integer = () => z.number().check(z.int());

export const smsBatchItemSchema = z.object({
  index: describe(integer(), 'Position in `messages` or `destinations`'),
  ok: z.boolean(),
  messageId: z.optional(z.string()),
  clientMessageId: z.optional(z.nullable(z.string())),
  destination: z.optional(z.string()),
  encoding: z.optional(sentEncodingSchema),
  smsCount: z.optional(smsCountSchema),
  umid: describe(
    z.optional(z.null()),
    'Always null in the batch answer: GET /sms/{messageId} shows it once 8x8 answered',
  ),
  status: z.optional(z.object({ code: z.literal('QUEUED'), description: z.string() })),
  error: z.optional(itemErrorSchema),
});
export type SmsBatchItem = z.infer<typeof smsBatchItemSchema>;

export const smsBatchAcceptedSchema = z.object({
  ok: describe(
    z.boolean(),
    'true when at least one item was accepted (HTTP 202); false with 400 when none was',
  ),
  batchId: z.nullable(z.string()),
  clientBatchId: z.nullable(z.string()),
  acceptedCount: integer(),
  rejectedCount: integer(),
  items: z.array(smsBatchItemSchema),
  error: z.optional(itemErrorSchema),
});
export type SmsBatchAccepted = z.infer<typeof smsBatchAcceptedSchema>;

export const smsHistoryEntrySchema = z.object({
  status: z.enum(STATUS_CODES),
  at: describe(z.string(), 'ISO-8601 time of the change (8x8 timestamp for receipts)'),
  detail: describe(z.optional(z.string()), "8x8's status detail, e.g. delivered_to_recipient"),
  umid: z.optional(z.string()),
  errorCode: describe(z.optional(z.union([z.string(), z.number()])), "8x8's error code"),
  reason: z.optional(z.string()),
});

export const erasureTombstoneSchema = describe(
  z.object({
    at: describe(z.string(), 'When the destination and text were erased'),
    by: describe(z.optional(z.string()), 'apiKeyId of the key that erased them'),
    fields: describe(z.array(z.string()), 'Record fields that were erased'),
    eightByEight: describe(
      z.enum(['requested', 'failed', 'notSent']),
      "8x8's copy: `requested` (8x8 accepted the PII removal for the umid), `failed` (repeat the call), `notSent` (8x8 never had the SMS)",
    ),
    eightByEightAt: describe(z.optional(z.string()), 'When 8x8 accepted the PII removal'),
  }),
  'Present once DELETE /sms/{messageId}/pii erased the SMS',
);

export const smsStatusAnswerSchema = z.object({
  ok: z.literal(true),
  messageId: z.string(),
  clientMessageId: z.nullable(z.string()),
  batchId: z.optional(z.string()),
  destination: z.string(),
  status: statusSchema,
  umid: describe(z.optional(z.string()), "8x8's message id, once 8x8 accepted the SMS"),
  errorCode: z.optional(z.union([z.string(), z.number()])),
  reason: z.optional(z.string()),
  attempts: describe(integer(), 'Hand-overs to 8x8 started'),
  ambiguousAttempts: describe(
    integer(),
    'Attempts that ended without an answer from 8x8 (it may have accepted the SMS)',
  ),
  history: z.array(smsHistoryEntrySchema),
  erased: z.optional(erasureTombstoneSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The answer of DELETE /sms/{messageId}: the record as GET answers it, now CANCELLED. */
export const smsCancelAnswerSchema = smsStatusAnswerSchema;

/** The answer of DELETE /sms/{messageId}/pii: the record with its erased fields and its tombstone. */
export const smsEraseAnswerSchema = smsStatusAnswerSchema;
export type SmsStatusAnswer = z.infer<typeof smsStatusAnswerSchema>;

// ---------------------------------------------------------------------------------------------------------------
// 8x8 delivery receipts (lib/simulators/contract/8x8/delivery-receipts-for-outbound-sms.md). Lenient on extra fields: 8x8 adds
// fields over time, and an unknown field must not make us refuse (and 8x8 retry) a receipt.

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

/** The answer to 8x8's receipt POST (documentation for the OpenAPI document; receipt.ts builds it). */
export const receiptAnswerSchema = z.object({
  ok: z.literal(true),
  messageId: describe(z.optional(z.string()), 'Our SMS the receipt belongs to'),
  status: describe(z.optional(z.enum(STATUS_CODES)), 'Its status after the receipt'),
  changed: describe(z.optional(z.boolean()), 'Whether the receipt moved the status forward'),
  matched: describe(z.optional(z.literal(false)), 'No SMS of ours has this umid or clientMessageId'),
  ignored: describe(
    z.optional(z.literal(true)),
    'Not an outbound delivery receipt; acknowledged and dropped',
  ),
});
