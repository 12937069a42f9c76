/**
 * What each error code of the one catalogue (error-catalogue.ts) means, for people: the OpenAPI document's
 * `x-error-codes` and examples (lib/openapi.ts). Kept apart from the catalogue because no function answers with
 * it, and every function bundle carries the catalogue; the `satisfies` below makes a code without a description,
 * or a description of a code the catalogue lacks, a type error.
 */
import type { ErrorCode } from './error-catalogue';

export const ERROR_DESCRIPTIONS = {
  NOT_CONFIGURED:
    "A secret the route needs is not set yet, or a setting has a value its rule refuses (the message names the setting, its value and what is allowed); nothing was done. 8x8's retries succeed once it is fixed",
  MALFORMED_JSON: 'The body is not valid JSON',
  JSON_TOO_DEEP:
    'The body nests arrays/objects deeper than 64 levels (checked before parsing, on every route)',
  CONTROL_CHARACTER:
    'A text or identifier field holds NUL or another control character (`text` may hold tab, line feed, carriage return and form feed)',
  INVALID_BODY: 'The body must be a JSON object',
  UNKNOWN_FIELD: 'A field this API does not know (on SMS routes: neither this API nor 8x8 knows it)',
  MISSING_FIELD: 'A required field is missing or empty',
  INVALID_TYPE: 'A field has the wrong JSON type',
  FIELD_TOO_LONG: 'A field is longer than its documented maximum',
  INVALID_EMAIL: '`customer.email` is not an e-mail address',
  INVALID_LANGUAGE: '`customer.language` is not one of the 21 languages 8x8 supports',
  INVALID_URL:
    '`cognigy.endpointBaseUrl` is not an absolute https URL on a public host (no private, loopback, link-local or metadata address; local mode also takes http://127.0.0.1)',
  INVALID_ASSIGNMENT: 'Give `queueId` or `scriptId`, not both',
  INVALID_PROPERTY: 'A custom property has an empty or over-long key, or a value that is not a scalar',
  INVALID_TRANSCRIPT: 'A transcript entry has no author (`source`, `authorType` or `role`) the bridge knows',
  ENDPOINT_BASE_URL_REQUIRED:
    'No Cognigy Endpoint base URL: send `cognigy.endpointBaseUrl` or set endpointBaseUrl in the cognigy secret',
  TEXT_MISSING: '`text` is missing or blank',
  TEXT_TOO_LONG:
    '`text` is too long: an SMS would need more than 10 parts (GSM7: 1530 septets, UCS2: 670 UTF-16 units; 8x8 would truncate it), a handover message is longer than 8000 characters',
  INVALID_CONVERSATION_ID: 'The conversation id in the path is not an 8x8 conversation id',
  SESSION_ID_REQUIRED:
    'GET /handover/active needs `?sessionId=`; POST /handover/{id}/messages and …/end need the `sessionId` that started the handover',
  HANDOVER_NOT_FOUND: 'No handover with this conversation id (or no open one for the session)',
  HANDOVER_CLOSED: 'The handover has ended (completed, cancelled or error); start a new one',
  HANDOVER_START_IN_PROGRESS:
    'A POST /handover for this session is still starting after HANDOVER_START_WAIT_MS; retry after `Retry-After` seconds (the repeat then gets its conversation)',
  HANDOVER_SESSION_MISMATCH:
    'The `userId`/`sessionId` sent do not match the session that started this handover',
  UPSTREAM_REJECTED:
    '8x8 refused the call (creating the conversation; on SMS routes cancelling or removing PII); `details` has its reason',
  UPSTREAM_RATE_LIMITED: '8x8 is rate limiting; retry after `details.retryAfterSeconds`',
  UPSTREAM_UNAVAILABLE:
    '8x8 failed (5xx, timeout, rate limit on SMS routes) or could not be reached; on DELETE /sms/{messageId}/pii the bridge copy is already erased, repeat the call to ask 8x8 again',
  UPSTREAM_TIMEOUT: '8x8 did not answer in time',
  SMS_NOT_CANCELLABLE:
    'DELETE /sms/{messageId}: the SMS was already sent (or is delivered, failed or cancelled); only an SMS still queued in the bridge, or scheduled at 8x8 for a later time, can be cancelled',
  SMS_SEND_IN_PROGRESS:
    'DELETE /sms/{messageId} or …/pii: the SMS is being handed to 8x8 right now; retry after `Retry-After` seconds',
  RECIPIENT_OPTED_OUT:
    'The destination texted STOP (or another opt-out keyword) to this sender and gets no SMS until it texts START or support lifts it (DELETE /sms/opt-outs/{number}); nothing was sent',
  HANDOVER_NOT_RECORDED:
    'The 8x8 conversation was created but could not be recorded, so it was ended again; start again',
  QUEUE_UNAVAILABLE: 'The request could not be queued and was NOT accepted; send it again',
  PAYLOAD_TOO_LARGE: "The body is larger than the route's limit",
  DESTINATION_MISSING: '`destination` is missing or empty',
  INVALID_DESTINATION:
    '`destination` is not E.164, or a national number that `country` cannot turn into E.164',
  INVALID_COUNTRY: '`country` is not an ISO 3166-1 alpha-2 code',
  INVALID_SOURCE: '`source` (sender id) must be alphanumeric up to 11 characters or numeric up to 16 digits',
  INVALID_ENCODING: '`encoding` must be AUTO, GSM7 or UCS2',
  INVALID_SCHEDULE: '`scheduled` is not an ISO-8601 date-time with a UTC offset',
  SCHEDULE_TOO_FAR: '`scheduled` is more than 7 days ahead',
  SCHEDULE_IN_PAST: '`scheduled` is more than 5 minutes in the past',
  INVALID_EXPIRY: '`expiry` is not an ISO-8601 date-time with a UTC offset',
  EXPIRY_IN_PAST: '`expiry` is not in the future',
  EXPIRY_BEFORE_SCHEDULE: '`expiry` is not after `scheduled`',
  INVALID_CLIENT_MESSAGE_ID: '`clientMessageId` is longer than 350 characters',
  INVALID_CALLBACK_URL:
    '`dlrCallbackUrl` is not an absolute https URL, or names a private, loopback, link-local or cloud-metadata address (local mode also takes http://127.0.0.1)',
  INVALID_CLIENT_IP: '`clientIp` is not an IPv4 or IPv6 address',
  INVALID_TRACK: '`track` must be None or Outcome',
  INVALID_COGNIGY:
    '`cognigy` is incomplete: receipt injection needs userId, sessionId and URLToken; endpointBaseUrl must be https',
  BATCH_EMPTY: 'A batch needs `messages` or `destinations` with at least one entry',
  BATCH_TOO_LARGE: 'A batch holds at most 500 messages',
  INVALID_WAIT_FOR_UMID: '`waitForUmidMs` must be a whole number of milliseconds from 0 to 5000',
  INVALID_CLIENT_BATCH_ID: '`clientBatchId` is longer than 20 characters',
  BATCH_REJECTED: 'No item of the batch was accepted; see `items[].error`',
  IDEMPOTENCY_CONFLICT: 'The `clientMessageId` was already used for an SMS with different content',
  IDEMPOTENCY_IN_PROGRESS:
    'An SMS with this `clientMessageId` is being accepted right now; retry in a moment',
  INVALID_MESSAGE_ID: 'The message id is not a message id this API issues (a UUID)',
  MESSAGE_NOT_FOUND: 'No SMS with this message id (it may have expired)',
  NOT_ACCEPTED: 'The SMS could not be stored and was NOT accepted; send it again',
  UNAUTHORIZED:
    'The receipt carries neither the configured Authorization value nor a valid callback token (an inbound SMS: not the Authorization value)',
  INVALID_RECEIPT: 'The receipt body is not an 8x8 delivery receipt',
  COGNIGY_UNAVAILABLE: 'The receipt was recorded but could not be injected into Cognigy yet; 8x8 retries it',
  INVALID_INBOUND_SMS:
    'The body is not an 8x8 inbound SMS event (`inbound_message_received` with `umid`, `source` and `destination`)',
  INBOUND_SMS_BODY_MISMATCH:
    'This inbound SMS `umid` was already received with a different body; refused and not queued',
  INBOUND_SMS_IN_PROGRESS:
    'Another delivery of this inbound SMS (same `umid`) is being queued right now; 8x8 retries it (`Retry-After`)',
  INBOUND_SMS_NOT_ACCEPTED:
    'The inbound SMS could not be recorded or queued; nothing was accepted and 8x8 retries it',
  INVALID_REQUEST: 'A path or query parameter is not valid (answered by API Gateway or a route)',
  FORBIDDEN: 'The `x-api-key` header is missing or not a key of this deployment',
  ROUTE_NOT_FOUND: 'No route matches this method and path',
  METHOD_NOT_ALLOWED: 'The path exists but not for this method; `Allow` lists the methods (local gateway)',
  TOO_MANY_REQUESTS: "The API key's rate or quota is used up; retry later",
  REQUEST_REJECTED: 'API Gateway refused the request before the function ran (any other 4xx)',
  INTERNAL_ERROR: 'An unexpected failure; nothing was accepted, so the request can be sent again',
  SERVICE_UNAVAILABLE: 'Local mode only: the local stack failed to start, so no route can run',
  CONSOLE_FORBIDDEN:
    "Local mode only: a console request not addressed to the loopback host, or an action without the console page's token",
  CONSOLE_UNAVAILABLE:
    'Local mode only: the console action needs a simulator that is not running (the real service is configured) or did not answer',
  CONSOLE_UNKNOWN_SESSION:
    'Local mode only: the console does not know the Cognigy session of the conversation, so it cannot speak as its user',
  INVALID_WEBHOOK_HEADERS: 'An x-8x8-* header is missing, too long or not the documented format',
  INVALID_EVENT: 'The body is not a Chat Gateway v1.0 event',
  SIGNATURE_MISSING: 'The x-8x8-signature header is missing',
  SIGNATURE_INVALID: 'The x-8x8-signature is malformed, not RS256 or does not match the request',
  EVENT_STALE: 'x-8x8-transmission-time is outside the accepted window (WEBHOOK_MAX_AGE_MS)',
  UNKNOWN_SIGNING_KEY: 'The signing key named by the signature (kid) is not known to 8x8',
  TENANT_MISMATCH: 'The event belongs to another 8x8 tenant than the configured one',
  EVENT_IN_PROGRESS: 'Another delivery of this event is being processed; 8x8 retries it',
  EVENT_BODY_MISMATCH:
    'This x-8x8-event-id was already received with a different body (a forged body reusing a captured signature); refused and not relayed',
  EVENT_NOT_ACCEPTED: 'The event could not be recorded or queued; nothing was accepted and 8x8 retries it',
  SIGNING_KEY_UNAVAILABLE: 'The 8x8 signing key could not be fetched; 8x8 retries the event',
} as const satisfies Record<ErrorCode, string>;
