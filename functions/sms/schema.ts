/**
 * Request schemas of the SMS routes: they validate bodies (shape, types, unknown fields) and generate the OpenAPI
 * document (lib/openapi.ts), so the two cannot drift apart. The answers are in answer-schemas.ts and 8x8's
 * receipts in receipt-schema.ts, so POST /sms and POST /sms/batch do not bundle schemas they never parse with.
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
export const describe = <T extends z.ZodMiniType>(schema: T, description: string): T =>
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
export const smsRequestSchema = /* @__PURE__ */ (() =>
  describe(
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
  ))();

/** Shared properties of a batch (8x8's SmsTemplateFull); a message's own value wins. */
export const smsTemplateSchema = /* @__PURE__ */ (() =>
  describe(
    z.strictObject({
      source: smsFields.source,
      text: describe(z.optional(maxString(4096)), 'Text for messages without their own'),
      encoding: smsFields.encoding,
      scheduled: smsFields.scheduled,
      expiry: smsFields.expiry,
      dlrCallbackUrl: smsFields.dlrCallbackUrl,
    }),
    "Shared properties (8x8's SmsTemplateFull)",
  ))();

/** A batch message may leave out what the template provides. */
const smsBatchMessageSchema = /* @__PURE__ */ (() =>
  describe(
    z.strictObject({
      ...smsFields,
      text: z.optional(smsFields.text),
      cognigy: z.optional(cognigyRefSchema),
    }),
    'One SMS of a batch; fields it leaves out come from `template`',
  ))();

/** POST /sms/batch: 8x8's BatchSmsRequest, capped so a body stays under Cognigy's 65 kB request limit. */
export const smsBatchRequestSchema = /* @__PURE__ */ (() =>
  describe(
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
  ))();

export type SmsRequestInput = z.input<typeof smsRequestSchema>;
export type SmsBatchRequestInput = z.input<typeof smsBatchRequestSchema>;
export type SmsBatchMessageInput = z.input<typeof smsBatchMessageSchema>;
export type SmsTemplateInput = z.input<typeof smsTemplateSchema>;
export type CognigyRefInput = z.input<typeof cognigyRefSchema>;
