/**
 * The OpenAPI 3.1 document of the bridge, generated from the route catalogue (functions/shared/catalogue.ts ROUTES),
 * the error catalogue and the same zod schemas that validate requests (zod 4 `z.toJSONSchema`), so the document
 * cannot drift from the code. Served locally at GET /openapi.json, written to dist/openapi.json by `npm run openapi`
 * (which lints it) and next to the template by every `cdk synth`/`cdk deploy` (writeOpenApiFile).
 * It stands alone: servers, tags, descriptions, examples and named schemas are all inside, so Postman or Bruno
 * import it as it is. Tests lint it (test/unit/openapi/lint.test.ts) and check the stack's real answers against it
 * (test/integration/openapi-conformance.test.ts). Build-time only: no function imports it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  BRIDGE_ERRORS_HEADER,
  FUNCTIONS,
  HEADER_PARAMETERS,
  PATH_PARAMETERS,
  ROUTES,
  type FunctionName,
  type RouteSpec,
} from '../functions/shared/catalogue';
import {
  HEADER_PARAMETER_DESCRIPTIONS,
  PATH_PARAMETER_DESCRIPTIONS,
  routeDescription,
} from '../functions/shared/catalogue-docs';
import {
  handoverEndRequestSchema,
  handoverEndResponseSchema,
  handoverMessageRequestSchema,
  handoverMessageResponseSchema,
  handoverRequestSchemas,
  handoverStatusResponseSchema,
  startHandoverErrorSchema,
  startHandoverRequestSchema,
  startHandoverResponseSchema,
} from '../functions/handover/schema';
import {
  ActivityEventSchema,
  CHAT_GATEWAY_EVENT_TYPES,
  ConversationUpdateEventSchema,
  MembersChangedEventSchema,
  MessageEventSchema,
  QueuedEventSchema,
  TransferEventSchema,
  WebhookVerifyEventSchema,
  webhookAnswerSchema,
} from '../functions/handover/events';
import { ERROR_CODES } from '../functions/shared/error-catalogue';
import { ERROR_DESCRIPTIONS } from '../functions/shared/error-descriptions';
import { errorBodySchema } from '../functions/shared/error-body';
import {
  receiptAnswerSchema,
  smsAcceptedSchema,
  smsBatchAcceptedSchema,
  smsOptOutAnswerSchema,
  smsOptOutLiftAnswerSchema,
  smsStatusAnswerSchema,
} from '../functions/sms/answer-schemas';
import { outboundReceiptPayloadSchema, receiptEnvelopeSchema } from '../functions/sms/receipt-schema';
import { INBOUND_EVENT_TYPE, inboundSmsPayloadSchema } from '../functions/sms/inbound-schema';
import { smsBatchRequestSchema, smsRequestSchema } from '../functions/sms/schema';
import * as z from '../functions/shared/zod';
import { REQUEST_EXAMPLES, RESPONSE_EXAMPLES, type Example } from './openapi-examples';

type Json = Record<string, unknown>;
type ErrorCode = keyof typeof ERROR_CODES;

/**
 * functions/shared/http.ts BRIDGE_STATUS_HEADER, spelt out: importing http.ts would load middy and Powertools into
 * every process that builds the document (the local gateway). test/unit/openapi/lint.test.ts keeps the two equal.
 */
export const BRIDGE_STATUS_HEADER = 'x-bridge-status';

/** Where `npm start` serves the API by default (PORT changes it). */
export const LOCAL_SERVER_URL = 'http://127.0.0.1:3000';

/** 8x8's receipt payload as documented (delivery-receipts-for-outbound-sms.md); `price` is read by nobody here. */
const smsDeliveryReceiptSchema = z.extend(receiptEnvelopeSchema, {
  namespace: z.literal('SMS'),
  eventType: z.literal('outbound_message_status_changed'),
  payload: z.extend(outboundReceiptPayloadSchema, {
    price: z.optional(
      z.looseObject({
        total: z.optional(z.number()),
        perSms: z.optional(z.number()),
        currency: z.optional(z.string()),
      }),
    ),
  }),
});

/** 8x8's inbound SMS (inbound-sms reference), as the inbound webhook validates it (functions/sms/inbound-schema.ts). */
const smsInboundMessageSchema = z.extend(receiptEnvelopeSchema, {
  namespace: z.literal('SMS'),
  eventType: z.literal(INBOUND_EVENT_TYPE),
  payload: inboundSmsPayloadSchema,
});

/** Request body schema per function; a route whose function is listed here gets a documented JSON body. */
export const requestSchemas: Partial<Record<FunctionName, z.ZodMiniType>> = {
  'sms-accept': smsRequestSchema,
  'sms-batch': smsBatchRequestSchema,
  ...handoverRequestSchemas,
};

/**
 * Named component schemas: [component name, schema, io]. Requests are documented as input (what may be sent),
 * answers as output (what is answered).
 */
const COMPONENTS: [string, z.ZodMiniType, 'input' | 'output'][] = [
  ['SmsRequest', smsRequestSchema, 'input'],
  ['SmsBatchRequest', smsBatchRequestSchema, 'input'],
  ['SmsAccepted', smsAcceptedSchema, 'output'],
  ['SmsBatchAccepted', smsBatchAcceptedSchema, 'output'],
  ['SmsStatus', smsStatusAnswerSchema, 'output'],
  ['SmsOptOut', smsOptOutAnswerSchema, 'output'],
  ['SmsOptOutLifted', smsOptOutLiftAnswerSchema, 'output'],
  ['SmsDeliveryReceipt', smsDeliveryReceiptSchema, 'input'],
  ['SmsReceiptAnswer', receiptAnswerSchema, 'output'],
  ['SmsInboundMessage', smsInboundMessageSchema, 'input'],
  ['HandoverStartRequest', startHandoverRequestSchema, 'input'],
  ['HandoverMessageRequest', handoverMessageRequestSchema, 'input'],
  ['HandoverEndRequest', handoverEndRequestSchema, 'input'],
  ['HandoverStarted', startHandoverResponseSchema, 'output'],
  ['HandoverStartError', startHandoverErrorSchema, 'output'],
  ['HandoverMessageQueued', handoverMessageResponseSchema, 'output'],
  ['HandoverEnded', handoverEndResponseSchema, 'output'],
  ['HandoverState', handoverStatusResponseSchema, 'output'],
  ['ChatGatewayConversationUpdate', ConversationUpdateEventSchema, 'input'],
  ['ChatGatewayQueued', QueuedEventSchema, 'input'],
  ['ChatGatewayMembersChanged', MembersChangedEventSchema, 'input'],
  ['ChatGatewayTransfer', TransferEventSchema, 'input'],
  ['ChatGatewayMessage', MessageEventSchema, 'input'],
  ['ChatGatewayActivity', ActivityEventSchema, 'input'],
  ['ChatGatewayWebhookVerify', WebhookVerifyEventSchema, 'input'],
  ['WebhookAnswer', webhookAnswerSchema, 'output'],
  ['ErrorBody', errorBodySchema, 'output'],
];

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Schemas written here, not generated: the "any other event" branches of the two webhooks. */
const HAND_WRITTEN_COMPONENTS: Record<string, Json> = {
  SmsOtherWebhookEvent: {
    type: 'object',
    description:
      'Any other 8x8 webhook event on this URL (another namespace or eventType): acknowledged with 200 `ignored: true`',
    properties: {
      namespace: { type: 'string' },
      eventType: {
        type: 'string',
        not: { enum: ['outbound_message_status_changed', 'inbound_message_received'] },
      },
      description: { type: ['string', 'null'] },
      payload: {},
    },
    required: ['namespace', 'eventType'],
  },
  SmsWebhookEvent: {
    description:
      'What 8x8 POSTs to the receipt URL: a delivery receipt, an inbound SMS (handled as on /webhooks/8x8/sms/inbound), or another event it may add',
    // anyOf: they differ only in eventType (`not` a known one), which oneOf linting cannot see.
    anyOf: [ref('SmsDeliveryReceipt'), ref('SmsInboundMessage'), ref('SmsOtherWebhookEvent')],
  },
  SmsInboundWebhookEvent: {
    description:
      "What 8x8 POSTs to the inbound URL: an inbound SMS, or another event (8x8's webhook configuration names no event type, so a webhook may get every kind; other events are acknowledged with 200 `ignored: true`)",
    anyOf: [ref('SmsInboundMessage'), ref('SmsDeliveryReceipt'), ref('SmsOtherWebhookEvent')],
  },
  SmsInboundAnswer: {
    type: 'object',
    description: 'The answer to an inbound SMS: 8x8 stops retrying on any 2xx',
    properties: {
      ok: { const: true },
      umid: { type: 'string', description: "8x8's id of the inbound SMS" },
      queued: { type: 'boolean', description: 'Queued now for the opt-out list, the flow or the SMS bot' },
      duplicate: {
        const: true,
        description: 'A retry of an inbound SMS queued before: nothing is done again',
      },
    },
    required: ['ok', 'umid'],
  },
  SmsWebhookAnswer: {
    description: 'The answer to a receipt (or another event) or to an inbound SMS',
    // anyOf: both are `ok: true` answers, told apart by their fields, which oneOf linting cannot see.
    anyOf: [ref('SmsReceiptAnswer'), ref('SmsInboundAnswer')],
  },
  ChatGatewayOtherEvent: {
    type: 'object',
    description:
      'An eventType this version does not know (8x8 may add some): acknowledged with 200 `ignored: true` so 8x8 does not retry it',
    properties: {
      eventType: {
        type: 'string',
        minLength: 1,
        not: { enum: [...CHAT_GATEWAY_EVENT_TYPES, 'WEB_HOOK_VERIFY'] },
      },
      conversationId: { type: 'string' },
    },
    required: ['eventType'],
  },
  ChatGatewayWebhookEvent: {
    description:
      '8x8 Contact Center Chat Gateway v1.0 webhook event (webhooks-events-reference.md), JWS-signed in x-8x8-signature. ' +
      'Unknown fields are kept, never refused.',
    oneOf: [
      ref('ChatGatewayConversationUpdate'),
      ref('ChatGatewayQueued'),
      ref('ChatGatewayMembersChanged'),
      ref('ChatGatewayTransfer'),
      ref('ChatGatewayMessage'),
      ref('ChatGatewayActivity'),
      ref('ChatGatewayWebhookVerify'),
      ref('ChatGatewayOtherEvent'),
    ],
  },
};

/** One documented answer. Error answers list their codes; the description and an example follow from them. */
interface ResponseDoc {
  description: string;
  /** Component name of the body; none: the answer has no body. */
  schema?: string;
  /** Several possible bodies (oneOf of component names). */
  oneOf?: string[];
  codes?: ErrorCode[];
  /** The answer may carry Retry-After (seconds). */
  retryAfter?: boolean;
  /** With `x-bridge-errors: body`, this 200 may also be a business error, its status in `x-bridge-status`. */
  businessErrors?: { schemas: string[]; code: ErrorCode };
}

const errors = (description: string, codes: ErrorCode[], schema = 'ErrorBody'): ResponseDoc => ({
  description,
  schema,
  codes,
});
const retryAfter = (doc: ResponseDoc): ResponseDoc => ({ ...doc, retryAfter: true });

/** Documented answers per function, besides the common ones every route may give (see `operation`). */
const RESPONSES: Partial<Record<FunctionName, Record<string, ResponseDoc>>> = {
  'sms-accept': {
    '202': {
      description: 'Accepted and queued (or the first answer to a repeated clientMessageId)',
      schema: 'SmsAccepted',
    },
    '400': errors('Invalid SMS: the first problem is `error.code`, every problem is in `error.details`', [
      'INVALID_DESTINATION',
      'DESTINATION_MISSING',
      'TEXT_MISSING',
      'TEXT_TOO_LONG',
      'INVALID_SOURCE',
      'INVALID_COUNTRY',
      'INVALID_ENCODING',
      'INVALID_SCHEDULE',
      'SCHEDULE_IN_PAST',
      'SCHEDULE_TOO_FAR',
      'INVALID_EXPIRY',
      'EXPIRY_IN_PAST',
      'EXPIRY_BEFORE_SCHEDULE',
      'INVALID_TRACK',
      'INVALID_CLIENT_MESSAGE_ID',
      'INVALID_CLIENT_IP',
      'INVALID_CALLBACK_URL',
      'INVALID_COGNIGY',
      'INVALID_TYPE',
      'INVALID_BODY',
      'UNKNOWN_FIELD',
    ]),
    '409': retryAfter(
      errors(
        'The clientMessageId was used with other content, or its first request did not answer within SMS_IDEMPOTENCY_WAIT_MS (see Retry-After)',
        ['IDEMPOTENCY_CONFLICT', 'IDEMPOTENCY_IN_PROGRESS'],
      ),
    ),
    '422': errors(
      'The destination opted out (texted STOP) of this sender, or of every sender when `source` is not given or SMS_OPT_OUT_SCOPE is `account`; nothing was stored or sent',
      ['RECIPIENT_OPTED_OUT'],
    ),
    '503': errors('The SMS could not be stored, nothing was accepted; send it again', ['NOT_ACCEPTED']),
  },
  'sms-batch': {
    '202': {
      description: 'At least one SMS accepted; `items` gives each verdict',
      schema: 'SmsBatchAccepted',
    },
    '400': {
      description:
        "No item was valid (`BATCH_REJECTED`, the batch answer with every item's error), or the batch itself is invalid (an error body)",
      oneOf: ['SmsBatchAccepted', 'ErrorBody'],
      codes: [
        'BATCH_REJECTED',
        'BATCH_EMPTY',
        'BATCH_TOO_LARGE',
        'INVALID_CLIENT_BATCH_ID',
        'INVALID_TYPE',
        'INVALID_BODY',
        'UNKNOWN_FIELD',
      ],
    },
    '409': {
      description:
        'Nothing accepted, and items are still being accepted by an earlier request after SMS_IDEMPOTENCY_WAIT_MS; see Retry-After',
      schema: 'SmsBatchAccepted',
      codes: ['IDEMPOTENCY_IN_PROGRESS'],
      retryAfter: true,
    },
    '503': {
      description: 'No item could be accepted for an infrastructure reason; send the batch again',
      schema: 'SmsBatchAccepted',
      codes: ['NOT_ACCEPTED'],
    },
  },
  'sms-cancel': {
    '200': { description: 'Cancelled (or cancelled already): the SMS, now CANCELLED', schema: 'SmsStatus' },
    '400': errors('The message id is not a UUID', ['INVALID_MESSAGE_ID']),
    '404': errors("No such SMS (also another API key's SMS)", ['MESSAGE_NOT_FOUND']),
    '409': errors(
      'The SMS was sent already (or is final), or it is being handed to 8x8 right now (retry after `details.retryAfterSeconds`)',
      ['SMS_NOT_CANCELLABLE', 'SMS_SEND_IN_PROGRESS'],
    ),
    '502': errors("8x8 refused its cancel call; `details` has 8x8's status and code", ['UPSTREAM_REJECTED']),
    '503': errors('8x8 could not be reached to cancel; retry', ['UPSTREAM_UNAVAILABLE']),
  },
  'sms-erase': {
    '200': {
      description:
        'Erased (or erased already): the SMS with `[erased]` destination and the tombstone in `erased`',
      schema: 'SmsStatus',
    },
    '400': errors('The message id is not a UUID', ['INVALID_MESSAGE_ID']),
    '404': errors("No such SMS (also another API key's SMS)", ['MESSAGE_NOT_FOUND']),
    '409': errors('The SMS is being handed to 8x8 right now; retry after `details.retryAfterSeconds`', [
      'SMS_SEND_IN_PROGRESS',
    ]),
    '502': errors("The bridge's copy is erased but 8x8 refused its PII removal", ['UPSTREAM_REJECTED']),
    '503': errors(
      "The bridge's copy is erased but 8x8 could not be reached to remove its PII; repeat the call",
      ['UPSTREAM_UNAVAILABLE'],
    ),
  },
  'sms-opt-out-get': {
    '200': { description: "The number's opt-outs per sender and their history", schema: 'SmsOptOut' },
    '400': errors('The number is not E.164', ['INVALID_DESTINATION']),
  },
  'sms-opt-out-delete': {
    '200': {
      description:
        'Lifted (or nothing to lift: `lifted` empty); `optedOut` tells whether other senders remain',
      schema: 'SmsOptOutLifted',
    },
    '400': errors('The number is not E.164, or `sender` is not an 8x8 sender', [
      'INVALID_DESTINATION',
      'INVALID_SOURCE',
    ]),
  },
  'sms-status': {
    '200': { description: 'The SMS and its status history', schema: 'SmsStatus' },
    '400': errors('The message id is not a UUID', ['INVALID_MESSAGE_ID']),
    '404': errors("No such SMS (also another API key's SMS)", ['MESSAGE_NOT_FOUND']),
  },
  'sms-receipt': {
    '200': {
      description:
        'Receipt recorded, an inbound SMS queued (or a repeat of one, `duplicate: true`), or acknowledged and ignored',
      schema: 'SmsWebhookAnswer',
    },
    '400': errors(
      'The body is not an 8x8 delivery receipt, or an inbound SMS without a valid umid, source or destination',
      ['INVALID_RECEIPT', 'INVALID_INBOUND_SMS'],
    ),
    '401': errors('Neither the configured Authorization value nor a valid callback token', ['UNAUTHORIZED']),
    '409': errors('An inbound SMS whose umid came before with another body: refused, not queued', [
      'INBOUND_SMS_BODY_MISMATCH',
    ]),
    '502': errors('Recorded, but the Cognigy injection failed; 8x8 retries the receipt', [
      'COGNIGY_UNAVAILABLE',
    ]),
    '503': retryAfter(
      errors(
        'An inbound SMS was not queued (nothing was kept), or is being queued by another delivery of the same umid; 8x8 retries',
        ['INBOUND_SMS_NOT_ACCEPTED', 'INBOUND_SMS_IN_PROGRESS'],
      ),
    ),
  },
  'sms-inbound-webhook': {
    '200': {
      description:
        'Queued (once per umid), a repeat of an SMS queued before (`duplicate: true`), or another event acknowledged (`ignored: true`)',
      schema: 'SmsWebhookAnswer',
    },
    '400': errors(
      'The body is not an 8x8 webhook event, or an inbound SMS without a valid umid, source or destination',
      ['INVALID_INBOUND_SMS'],
    ),
    '401': errors('Not the configured Authorization value', ['UNAUTHORIZED']),
    '409': errors(
      'This umid came before with another body: refused, not queued (logged as a security event)',
      ['INBOUND_SMS_BODY_MISMATCH'],
    ),
    '503': retryAfter(
      errors(
        'Not queued (nothing was kept), or another delivery of the same umid is being queued this moment; 8x8 retries (after 1, 10, 30 and 90 s)',
        ['INBOUND_SMS_NOT_ACCEPTED', 'INBOUND_SMS_IN_PROGRESS'],
      ),
    ),
  },
  'handover-start': {
    '201': {
      description: 'The 8x8 conversation exists; handover.status is "queue"',
      schema: 'HandoverStarted',
    },
    '200': {
      description:
        'The session already has an open chat (or a repeat waited for the start in flight): its conversationId, existing: true',
      schema: 'HandoverStarted',
    },
    '400': errors(
      'Invalid request; every problem is in `error.details`',
      [
        'MISSING_FIELD',
        'INVALID_TYPE',
        'UNKNOWN_FIELD',
        'FIELD_TOO_LONG',
        'INVALID_EMAIL',
        'INVALID_LANGUAGE',
        'INVALID_PROPERTY',
        'INVALID_TRANSCRIPT',
        'INVALID_ASSIGNMENT',
        'INVALID_URL',
        'ENDPOINT_BASE_URL_REQUIRED',
        'INVALID_BODY',
      ],
      'HandoverStartError',
    ),
    '409': retryAfter(
      errors(
        'Still starting after HANDOVER_START_WAIT_MS; see Retry-After',
        ['HANDOVER_START_IN_PROGRESS'],
        'HandoverStartError',
      ),
    ),
    '502': errors(
      "8x8 refused the conversation; 8x8's reason is in `error.details`",
      ['UPSTREAM_REJECTED'],
      'HandoverStartError',
    ),
    '503': retryAfter(
      errors(
        '8x8 unavailable or rate limiting (then with Retry-After), or the handover could not be recorded; try again',
        ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_RATE_LIMITED', 'HANDOVER_NOT_RECORDED'],
        'HandoverStartError',
      ),
    ),
    '504': errors(
      '8x8 did not answer in time (it may have created the chat: think twice before retrying)',
      ['UPSTREAM_TIMEOUT'],
      'HandoverStartError',
    ),
  },
  'handover-message': {
    '202': { description: 'Queued for the agent, in order', schema: 'HandoverMessageQueued' },
    '200': {
      description:
        'The input was a push of the bridge itself (`bridgeEventId` set): nothing relayed (`queued: false`, `ignored: "bridgeEvent"`)',
      schema: 'HandoverMessageQueued',
    },
    '400': errors('Invalid request', [
      'SESSION_ID_REQUIRED',
      'TEXT_MISSING',
      'TEXT_TOO_LONG',
      'INVALID_CONVERSATION_ID',
      'MISSING_FIELD',
      'INVALID_TYPE',
      'UNKNOWN_FIELD',
      'FIELD_TOO_LONG',
      'INVALID_BODY',
    ]),
    '403': errors('Missing or invalid x-api-key, or not the session that started the handover', [
      'FORBIDDEN',
      'HANDOVER_SESSION_MISMATCH',
    ]),
    '404': errors("No such handover (also another API key's handover)", ['HANDOVER_NOT_FOUND']),
    '409': errors('The chat has ended; `error.details.status` says how', ['HANDOVER_CLOSED']),
    '503': errors('The message could not be queued; send it again', ['QUEUE_UNAVAILABLE']),
  },
  'handover-end': {
    '200': {
      description: 'Ended from the user side; handover.status is "cancelled"',
      schema: 'HandoverEnded',
    },
    '400': errors('Invalid request', [
      'SESSION_ID_REQUIRED',
      'INVALID_CONVERSATION_ID',
      'INVALID_TYPE',
      'UNKNOWN_FIELD',
      'FIELD_TOO_LONG',
      'INVALID_BODY',
    ]),
    '403': errors('Missing or invalid x-api-key, or not the session that started the handover', [
      'FORBIDDEN',
      'HANDOVER_SESSION_MISMATCH',
    ]),
    '404': errors("No such handover (also another API key's handover)", ['HANDOVER_NOT_FOUND']),
    '503': errors('The end could not be queued; send it again', ['QUEUE_UNAVAILABLE']),
  },
  'handover-status': {
    '200': { description: 'State, agent and timestamps', schema: 'HandoverState' },
    '400': errors('The conversation id is not an 8x8 conversation id', ['INVALID_CONVERSATION_ID']),
    '404': errors("No such handover (also another API key's handover)", ['HANDOVER_NOT_FOUND']),
  },
  'handover-webhook': {
    '200': {
      description: 'Verified and queued, a duplicate, an unknown eventType acknowledged, or WEB_HOOK_VERIFY',
      schema: 'WebhookAnswer',
    },
    '400': errors('Signed, but not a Chat Gateway v1.0 event, or malformed x-8x8-* headers', [
      'INVALID_EVENT',
      'INVALID_WEBHOOK_HEADERS',
    ]),
    '401': errors('The signature is missing, wrong or too old, or its signing key is unknown', [
      'SIGNATURE_MISSING',
      'SIGNATURE_INVALID',
      'EVENT_STALE',
      'UNKNOWN_SIGNING_KEY',
    ]),
    '403': errors('Signed by 8x8 for another tenant than the configured one', ['TENANT_MISMATCH']),
    '409': errors('The event is being processed (8x8 retries), or its id came before with another body', [
      'EVENT_IN_PROGRESS',
      'EVENT_BODY_MISMATCH',
    ]),
    '503': errors('Not accepted (queue or signing key unavailable); 8x8 retries', [
      'EVENT_NOT_ACCEPTED',
      'SIGNING_KEY_UNAVAILABLE',
    ]),
  },
};

/** The extra operation for GET /handover/active?sessionId= (the same route as GET /handover/{conversationId}). */
const ACTIVE_LOOKUP_RESPONSES: Record<string, ResponseDoc> = {
  '200': { description: "The session's newest open handover", schema: 'HandoverState' },
  '400': errors('sessionId is missing or too long', ['SESSION_ID_REQUIRED', 'FIELD_TOO_LONG']),
  '404': errors("The session has no open handover (also another API key's)", ['HANDOVER_NOT_FOUND']),
};

const TAGS = [
  {
    name: 'SMS',
    description:
      "Send SMS through 8x8 Connect from a Cognigy HTTP Request node (queued, retried, idempotent delivery) and read their status. Field names follow 8x8's SMS API.",
  },
  {
    name: 'Handover',
    description:
      "Hand a Cognigy conversation over to an 8x8 Contact Center agent (Chat Gateway v1.0): start it, relay the user's text, end it, look it up. Agent messages and events are pushed into the Cognigy session.",
  },
  {
    name: '8x8 webhooks',
    description:
      'Called by 8x8, not by flows: SMS delivery receipts and Chat Gateway events. They authenticate themselves (Authorization value or callback token; JWS signature), so no API key.',
  },
];

/** Longer descriptions per operation (the catalogue's description is the summary). */
const DESCRIPTIONS: Record<FunctionName, string> = {
  'sms-accept':
    "Stores and queues one SMS and answers before 8x8 is called; the worker hands it to 8x8 with retries. Every field of 8x8's single send is accepted (the body of Cognigy's 8x8 Send SMS node works as it is), plus optional Cognigy ids: with `cognigy.injectReceipts` or `cognigy.receiptEvents` the status changes are injected into the session as `input.data.sms`. Repeating a `clientMessageId` with the same content returns the first answer and sends nothing.",
  'sms-batch':
    "Either `messages` (each an SMS as for POST /sms) or `destinations` with a shared `template`. Each item is validated and accepted on its own; `items` gives every verdict. The body must fit Cognigy's 65 kB request limit.",
  'sms-status':
    '`status.code` goes QUEUED → SENT (8x8 accepted it, `umid` set) → DELIVERED / UNDELIVERED / REJECTED from 8x8 receipts, or FAILED with the reason and 8x8 error code. Receipts arriving out of order never move a record backwards.',
  'sms-cancel':
    "An SMS still queued in the bridge is marked CANCELLED at once and never reaches 8x8 (the worker skips it). An SMS 8x8 accepted with a `scheduled` time still ahead is cancelled with 8x8's cancel-scheduled-message call (DELETE /api/v1/subaccounts/{subAccountId}/messages/{umid}); CANCELLED once 8x8 confirms. Already sent or final: 409 SMS_NOT_CANCELLABLE. Cancelling twice answers 200 again.",
  'sms-erase':
    "Erases the destination and text of the bridge's record (and of the stored answer of its clientMessageId) and leaves a tombstone in `erased`: when, by which API key, which fields, and whether 8x8 was asked. An SMS still queued is cancelled first. For an SMS 8x8 has (a umid), 8x8 is asked to remove its PII (DELETE /api/v1/subaccounts/{subAccountId}/messages/{umid}/pii); if that fails the answer is 502/503 and a repeat asks again. messageId, umid and the status history are kept.",
  'sms-receipt':
    '8x8 POSTs delivery receipts here (account webhook with the configured Authorization value, or a per-message callback URL with messageId and token). Other event types are acknowledged and ignored; receipts of unknown SMS are acknowledged too, so 8x8 does not retry them.',
  'handover-start':
    'Creates the 8x8 Chat Gateway conversation for a Cognigy session, with the customer, custom properties and the transcript as chat history (trimmed to 8x8 limits; `trimmed` says what was left out). One open chat per session: a repeat answers 200 with the open chat (`existing: true`); `replace: true` ends it first. Every failure answers `handover: {status: "error"}` next to `error.code`, so a flow branches on `handover.status` either way.',
  'handover-message':
    "Queues the user's text for the agent; messages reach the agent in the order they were accepted. `sessionId` must be the Cognigy session that started the handover. A `clientMessageId` repeated within 5 minutes is sent once.",
  'handover-end':
    "Ends the chat from the user's side (8x8 sees the user leave); the record becomes `cancelled`. `sessionId` must be the session that started it. Ending twice is harmless (`alreadyEnded`).",
  'handover-status':
    'The stored state of one handover, its agent and timestamps. A flow that kept only its session id uses GET /handover/active?sessionId= instead.',
  'handover-webhook':
    'The Chat Gateway webhook URL registered in 8x8 (Chat API Version: Chat Gateway v1.0). Every delivery is verified first: the RS256 detached JWS in x-8x8-signature over the CRC32 of the body and the x-8x8-* headers, the transmission time, and the event id bound to the body. Verified events are acknowledged at once and relayed to Cognigy in order per conversation.',
  'sms-inbound-webhook':
    "Set it in 8x8 as the webhook of inbound SMS (Connect → Webhooks, or the webhook configuration API), with the same Authorization value as the receipt webhook; inbound SMS sent to the receipt URL are handled the same way. Each SMS is acknowledged once it is queued, once per `umid` (8x8's retries of one SMS are answered 200 and change nothing). Opt-out keywords (STOP, START, HELP) are answered from the opt-out list; other SMS go to the flow that texted the number within the reply window, or else to the SMS bot's Cognigy REST Endpoint.",
  'sms-inbound': '',
  'sms-opt-out-get':
    'Whether the number texted STOP (or another opt-out keyword) and to which 8x8 senders, with when, the keyword and the history of opt-outs and lifts. A number never seen answers `optedOut: false`.',
  'sms-opt-out-delete':
    "Lifts the number's opt-out, from every sender or from `?sender=` only, and records who lifted it (the API key's id) in its history. Lift only on the person's own request: carriers treat texting an opted-out number as a violation.",
  'sms-deliver': '',
  'sms-sweeper': '',
  'handover-outbound': '',
  'handover-relay': '',
};

const TAG_OF: Partial<Record<FunctionName, string>> = {
  'sms-accept': 'SMS',
  'sms-batch': 'SMS',
  'sms-status': 'SMS',
  'sms-receipt': '8x8 webhooks',
  'handover-start': 'Handover',
  'handover-message': 'Handover',
  'handover-end': 'Handover',
  'handover-status': 'Handover',
  'handover-webhook': '8x8 webhooks',
  'sms-inbound-webhook': '8x8 webhooks',
  'sms-opt-out-get': 'SMS',
  'sms-opt-out-delete': 'SMS',
};

/** Request body media type examples and the schema name per function. */
const REQUEST_BODY_SCHEMA: Partial<Record<FunctionName, string>> = {
  'sms-accept': 'SmsRequest',
  'sms-batch': 'SmsBatchRequest',
  'sms-receipt': 'SmsWebhookEvent',
  'sms-inbound-webhook': 'SmsInboundWebhookEvent',
  'handover-start': 'HandoverStartRequest',
  'handover-message': 'HandoverMessageRequest',
  'handover-end': 'HandoverEndRequest',
  'handover-webhook': 'ChatGatewayWebhookEvent',
};

function codeList(codes: readonly ErrorCode[]): string {
  return codes.map((code) => `\`${code}\``).join(', ');
}

function jsonSchema(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

export interface OpenApiOptions {
  /** Base URL listed first under `servers` (e.g. the deployed stage URL, API_URL for `npm run openapi`). */
  serverUrl?: string;
}

const PARAMETER = {
  sessionIdQuery: {
    name: 'sessionId',
    in: 'query',
    required: true,
    description: 'The Cognigy `input.sessionId` whose newest open handover is wanted',
    schema: { type: 'string', minLength: 1, maxLength: 512 },
    example: 'a9b8c7d6-session',
  },
};

function servers(options: OpenApiOptions): Json[] {
  return [
    ...(options.serverUrl ? [{ url: options.serverUrl, description: 'This deployment' }] : []),
    { url: LOCAL_SERVER_URL, description: 'Local stack (`npm start`; PORT changes the port)' },
    {
      url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
      description: 'A deployed stack: the `ApiUrl` output of `cdk deploy`',
      variables: {
        restApiId: { default: 'abcde12345', description: 'The REST API id (first part of ApiUrl)' },
        region: { default: 'us-east-1', description: 'The AWS region of the stack' },
        stage: { default: 'v1', description: 'The API stage (context `stageName`, default v1)' },
      },
    },
  ];
}

export function buildOpenApiDocument(options: OpenApiOptions = {}): Json {
  const schemas: Record<string, Json> = {};
  for (const [name, schema, io] of COMPONENTS) schemas[name] = jsonSchema(schema, io);
  Object.assign(schemas, HAND_WRITTEN_COMPONENTS);

  const exampleOfError = (code: ErrorCode, schema: string): Json => ({
    ok: false,
    error: { code, message: ERROR_DESCRIPTIONS[code] },
    ...(schema === 'HandoverStartError' ? { handover: { status: 'error' } } : {}),
  });

  const response = (operationId: string, status: string, doc: ResponseDoc): Json => {
    const codes = doc.codes ?? [];
    const description = codes.length > 0 ? `${doc.description}: ${codeList(codes)}` : doc.description;
    const business = doc.businessErrors;
    const bodies = [
      ...new Set([...(doc.oneOf ?? (doc.schema ? [doc.schema] : [])), ...(business?.schemas ?? [])]),
    ];
    const schema = bodies.length > 1 ? { oneOf: bodies.map(ref) } : bodies[0] ? ref(bodies[0]) : undefined;
    const headerDocs: Record<string, Json> = {};
    if (doc.retryAfter) {
      headerDocs['Retry-After'] = {
        description: 'Seconds to wait before sending the request again',
        schema: { type: 'integer', minimum: 1 },
      };
    }
    if (business) {
      headerDocs[BRIDGE_STATUS_HEADER] = {
        description: 'With `x-bridge-errors: body`: the HTTP status of the business error answered as 200',
        schema: { type: 'integer', minimum: 400, maximum: 499 },
      };
    }
    const headers = Object.keys(headerDocs).length > 0 ? { headers: headerDocs } : {};
    if (!schema) return { description, ...headers };
    const given = RESPONSE_EXAMPLES[operationId]?.[status];
    const firstCode = codes[0];
    const businessExample: Record<string, Example> = business
      ? {
          businessError: {
            summary: `x-bridge-errors: body — ${business.code} (${ERROR_CODES[business.code].status}) as 200`,
            value: exampleOfError(business.code, business.schemas.at(-1) ?? 'ErrorBody'),
          },
        }
      : {};
    const examples: Record<string, Example> | undefined =
      given || business
        ? { ...given, ...businessExample }
        : firstCode !== undefined && doc.schema
          ? {
              [firstCode]: {
                summary: ERROR_DESCRIPTIONS[firstCode],
                value: exampleOfError(firstCode, doc.schema),
              },
            }
          : undefined;
    return {
      description,
      ...headers,
      content: { 'application/json': { schema, ...(examples && { examples }) } },
    };
  };

  /** The answers every route may give besides its own (gateway refusals, limits, failures). */
  const commonResponses = (route: RouteSpec, hasParameters: boolean): Record<string, ResponseDoc> => {
    const errorSchema = route.function === 'handover-start' ? 'HandoverStartError' : 'ErrorBody';
    const common: Record<string, ResponseDoc> = {};
    const flowRoute = route.auth === BRIDGE_ERRORS_HEADER.routes;
    if (route.method === 'POST' || hasParameters) {
      common['400'] = errors(
        'Invalid request',
        [
          ...(route.method === 'POST' ? (['MALFORMED_JSON', 'JSON_TOO_DEEP'] as const) : []),
          'CONTROL_CHARACTER',
          // An x-bridge-errors value other than body or status.
          ...(flowRoute ? (['INVALID_REQUEST'] as const) : []),
        ],
        errorSchema,
      );
    }
    if (route.auth === 'apiKey') common['403'] = errors('Missing or invalid x-api-key', ['FORBIDDEN']);
    if (route.maxBodyBytes > 0) {
      common['413'] = errors(
        `The body is over ${route.maxBodyBytes} bytes`,
        ['PAYLOAD_TOO_LARGE'],
        errorSchema,
      );
    }
    if (route.auth === 'apiKey') {
      common['429'] = retryAfter(
        errors("The API key's usage plan is spent (throttling or quota); retry later", ['TOO_MANY_REQUESTS']),
      );
    }
    common['500'] = errors('Unexpected failure; nothing was accepted', ['INTERNAL_ERROR'], errorSchema);
    common['502'] = errors('The function failed or timed out (answered by the gateway)', ['INTERNAL_ERROR']);
    if (FUNCTIONS[route.function].secrets.length > 0) {
      common['503'] = errors('A secret the route needs is not set yet', ['NOT_CONFIGURED']);
    }
    return common;
  };

  /** Own answers win; for a status both give, the codes are merged (the schema of the route's own answer). */
  const merge = (own: Record<string, ResponseDoc>, common: Record<string, ResponseDoc>) => {
    const merged: Record<string, ResponseDoc> = { ...common, ...own };
    for (const [status, doc] of Object.entries(own)) {
      const shared = common[status];
      if (!shared?.codes || !doc.codes) continue;
      merged[status] = {
        ...doc,
        codes: [...new Set([...doc.codes, ...shared.codes])],
        ...((doc.retryAfter ?? shared.retryAfter) && { retryAfter: true }),
      };
    }
    return merged;
  };

  /**
   * The 200 of a flow route: with `x-bridge-errors: body` a business error (a 4xx code) is answered as 200 with its
   * error body, the original status in x-bridge-status; next to the route's own 200, if it has one.
   */
  const withBusinessErrors = (documented: Record<string, ResponseDoc>): ResponseDoc => {
    // Business errors: the route's 4xx answers but the gateway's own (403 with only FORBIDDEN, 429).
    const business = Object.entries(documented).filter(
      ([status, doc]) =>
        status.startsWith('4') && status !== '429' && !(doc.codes ?? []).every((c) => c === 'FORBIDDEN'),
    );
    const schemas = [
      ...new Set(business.flatMap(([, doc]) => doc.oneOf ?? (doc.schema ? [doc.schema] : []))),
    ];
    const code =
      business.flatMap(([, doc]) => doc.codes ?? []).find((c) => c !== 'FORBIDDEN') ?? 'MALFORMED_JSON';
    const note = `with \`${BRIDGE_ERRORS_HEADER.name}: body\`, also every business error (4xx code) as 200, its status in \`${BRIDGE_STATUS_HEADER}\``;
    const existing = documented['200'];
    return existing
      ? { ...existing, description: `${existing.description}; ${note}`, businessErrors: { schemas, code } }
      : { description: `Only ${note}`, businessErrors: { schemas, code } };
  };

  const sortedByStatus = (docs: Record<string, ResponseDoc>): Record<string, ResponseDoc> => {
    const ordered: Record<string, ResponseDoc> = {};
    for (const status of Object.keys(docs).sort()) ordered[status] = docs[status] as ResponseDoc;
    return ordered;
  };

  const operation = (
    route: RouteSpec,
    operationId: string,
    summary: string,
    description: string,
    routeParams: Json[],
    own: Record<string, ResponseDoc>,
  ): Json => {
    let parameters = routeParams;
    const requestSchema = REQUEST_BODY_SCHEMA[route.function];
    const requestExamples = REQUEST_EXAMPLES[operationId];
    const documented = merge(
      own,
      commonResponses(route, parameters.length + headerParameters(route).length > 0),
    );
    if (route.auth === BRIDGE_ERRORS_HEADER.routes) documented['200'] = withBusinessErrors(documented);
    const responses: Record<string, Json> = {};
    for (const [status, doc] of Object.entries(sortedByStatus(documented))) {
      responses[status] = response(operationId, status, doc);
    }
    parameters = [...parameters, ...headerParameters(route)];
    return {
      operationId,
      summary,
      description,
      tags: [TAG_OF[route.function] ?? 'SMS'],
      security: route.auth === 'apiKey' ? [{ api_key: [] }] : [],
      ...(parameters.length > 0 && { parameters }),
      ...(requestSchema && {
        requestBody: {
          required: true,
          description: `JSON, at most ${route.maxBodyBytes} bytes`,
          content: {
            'application/json': {
              schema: ref(requestSchema),
              ...(requestExamples && { examples: requestExamples }),
            },
          },
        },
      }),
      responses,
    };
  };

  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    const parameters = routeParameters(route);
    const entry = (paths[route.path] ??= {});
    entry[route.method.toLowerCase()] = operation(
      route,
      route.function,
      routeDescription(route),
      DESCRIPTIONS[route.function],
      parameters,
      RESPONSES[route.function] ?? {},
    );
    if (route.function === 'handover-status') {
      // Served by the same route ({conversationId} = "active"); its own path so tools show the sessionId query.
      paths['/handover/active'] = {
        get: operation(
          route,
          'handover-active',
          "A Cognigy session's open handover",
          'The newest open handover (queue or active) of a Cognigy session, for a flow that kept only `input.sessionId`. The same route as GET /handover/{conversationId}, with the id `active`.',
          [PARAMETER.sessionIdQuery],
          ACTIVE_LOOKUP_RESPONSES,
        ),
      };
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Cognigy ↔ 8x8 bridge',
      version: '1.0.0',
      description:
        'SMS through 8x8 Connect and agent handover to 8x8 Contact Center, for Cognigy HTTP Request nodes. ' +
        'Every answer carries `ok`; errors carry a stable `error.code` (every code: `x-error-codes`). ' +
        'Flow routes need the `x-api-key` header; the two 8x8 webhooks authenticate themselves.',
      license: { name: 'Proprietary (UNLICENSED)', identifier: 'LicenseRef-Proprietary' },
    },
    servers: servers(options),
    tags: TAGS,
    paths,
    components: {
      securitySchemes: {
        api_key: {
          type: 'apiKey',
          in: 'header',
          name: 'x-api-key',
          description: 'The API key of the usage plan (stack output; locally `local-dev-key`)',
        },
      },
      schemas,
    },
    'x-error-codes': Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, { status }]) => [
        code,
        { status, description: ERROR_DESCRIPTIONS[code as ErrorCode] },
      ]),
    ),
  };
}

/** The optional request headers the catalogue declares for the route's kind (x-bridge-errors on flow routes). */
function headerParameters(route: RouteSpec): Json[] {
  return HEADER_PARAMETERS.filter((h) => h.routes === route.auth).map((h) => ({
    name: h.name,
    in: 'header',
    required: false,
    description: HEADER_PARAMETER_DESCRIPTIONS.get(h.name) ?? h.name,
    schema: { type: 'string', enum: [...h.values], default: h.defaultValue },
  }));
}

/** Path and header/query parameters of a route. */
function routeParameters(route: RouteSpec): Json[] {
  const parameters: Json[] = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => {
    const spec = PATH_PARAMETERS.get(match[1] ?? '');
    return {
      name: match[1],
      in: 'path',
      required: true,
      description: PATH_PARAMETER_DESCRIPTIONS.get(match[1] ?? '') ?? match[1],
      schema: { type: 'string', ...(spec ? { pattern: spec.pattern } : {}) },
    };
  });
  if (route.function === 'sms-receipt') {
    parameters.push(
      {
        name: 'Authorization',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description: "8x8's configured httpAuthorization value (account webhook)",
      },
      {
        name: 'messageId',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'Per-message callback (SMS_RECEIPT_MODE=perMessage): our messageId',
      },
      {
        name: 'token',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'Per-message callback: HMAC of the messageId',
      },
    );
  }
  if (route.function === 'sms-inbound-webhook') {
    parameters.push({
      name: 'Authorization',
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description:
        "8x8's configured httpAuthorization value: the receipt webhook's value (SMS_WEBHOOK_AUTHORIZATION, rotation included)",
    });
  }
  if (route.function === 'sms-opt-out-delete') {
    parameters.push({
      name: 'sender',
      in: 'query',
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 16 },
      description:
        'Lift the opt-out from this 8x8 sender only (compared without `+` and case); absent: from every sender',
    });
  }
  if (route.function === 'handover-webhook') {
    const header = (name: string, description: string) => ({
      name,
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description,
    });
    parameters.push(
      header(
        'x-8x8-signature',
        'RS256 detached JWS (unencoded payload) over the CRC32 of the body and the x-8x8-* headers',
      ),
      header('x-8x8-event-id', 'Unique id of the event; a repeat is acknowledged once'),
      header(
        'x-8x8-transmission-time',
        'Epoch milliseconds of this delivery; must be within WEBHOOK_MAX_AGE_MS',
      ),
      header('x-8x8-tenant-id', '8x8 tenant that sent the event'),
      header('x-8x8-customer-id', '8x8 customer id'),
      header('x-8x8-retry', 'Delivery attempt, 0 first'),
    );
  }
  return parameters;
}

/** Writes the document to `target` (creating its folder) and returns the path. */
export function writeOpenApiFile(target: string, serverUrl?: string): string {
  mkdirSync(path.dirname(target), { recursive: true });
  const document = buildOpenApiDocument(serverUrl ? { serverUrl } : {});
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  return target;
}
