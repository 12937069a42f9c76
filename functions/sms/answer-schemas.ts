/**
 * Answer schemas of the SMS routes (POST /sms, POST /sms/batch, GET/DELETE /sms/{messageId}, GET/DELETE
 * /sms/opt-outs/{number}, the receipt webhook):
 * documentation for the OpenAPI document (lib/openapi.ts), which tests check real answers against, and the types
 * the cores build answers with. No function parses with them, so functions import only their types (a value import
 * would put every answer schema into the bundle: zod schemas are built at import and cannot be tree-shaken).
 */
import * as z from '../shared/zod';
import { describe } from './schema';

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

/** One 8x8 sender a number opted out of (functions/sms/inbound-ports.ts OptOutEntry). */
const optOutSenderSchema = z.object({
  sender: describe(z.string(), 'The 8x8 number (or sender id) the person texted STOP to'),
  optedOutAt: z.string(),
  keyword: describe(z.string(), 'The opt-out keyword as normalised, e.g. STOP'),
  umid: describe(z.optional(z.string()), "8x8's umid of the STOP SMS"),
});

const optOutHistorySchema = z.object({
  action: z.enum(['optOut', 'optIn']),
  sender: z.string(),
  at: z.string(),
  via: describe(
    z.string(),
    'The keyword texted (e.g. STOP, START), or `api:<apiKeyId>` for a lift by DELETE /sms/opt-outs/{number}',
  ),
  umid: z.optional(z.string()),
});

/** The answer of GET /sms/opt-outs/{number}. */
export const smsOptOutAnswerSchema = z.object({
  ok: z.literal(true),
  number: describe(z.string(), 'The number in E.164'),
  optedOut: describe(z.boolean(), 'Whether any sender is opted out (a number never seen: false)'),
  senders: z.array(optOutSenderSchema),
  history: describe(z.array(optOutHistorySchema), 'Opt-outs and lifts, oldest first (the last 50)'),
});
export type SmsOptOutAnswer = z.infer<typeof smsOptOutAnswerSchema>;

/** The answer of DELETE /sms/opt-outs/{number}. */
export const smsOptOutLiftAnswerSchema = z.object({
  ok: z.literal(true),
  number: describe(z.string(), 'The number in E.164'),
  lifted: describe(z.array(z.string()), 'The senders this call lifted (empty: nothing to lift)'),
  optedOut: describe(z.boolean(), 'Whether opt-outs from other senders remain'),
});
export type SmsOptOutLiftAnswer = z.infer<typeof smsOptOutLiftAnswerSchema>;
