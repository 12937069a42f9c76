/**
 * The one catalogue of error codes the bridge answers with: every route, both webhooks and the gateway in front of
 * them (API Gateway in AWS, lib/local/gateway.ts locally). Codes are part of the public contract (flows branch on
 * them), so a code is never renamed or reused for another meaning. `status` is the HTTP status of a whole-request
 * failure (inside a batch answer the same codes appear per item); `usedBy` says which routes answer it, and each
 * domain's error classes (functions/sms/error-codes.ts, functions/handover/error-codes.ts) take their codes from
 * here. The OpenAPI document lists them under `x-error-codes` (lib/openapi.ts).
 */

export type ErrorDomain = 'shared' | 'sms' | 'handover' | 'webhook';

export interface ErrorCodeSpec {
  status: number;
  description: string;
  usedBy: readonly ErrorDomain[];
}

export const ERROR_CODES = {
  NOT_CONFIGURED: {
    status: 503,
    usedBy: ['shared'],
    description:
      "A secret the route needs is not set yet, or a setting has a value its rule refuses (the message names the setting, its value and what is allowed); nothing was done. 8x8's retries succeed once it is fixed",
  },
  MALFORMED_JSON: {
    status: 400,
    usedBy: ['shared', 'handover', 'sms'],
    description: 'The body is not valid JSON',
  },
  JSON_TOO_DEEP: {
    status: 400,
    usedBy: ['shared'],
    description:
      'The body nests arrays/objects deeper than 64 levels (checked before parsing, on every route)',
  },
  CONTROL_CHARACTER: {
    status: 400,
    usedBy: ['shared', 'handover', 'sms'],
    description:
      'A text or identifier field holds NUL or another control character (`text` may hold tab, line feed, carriage return and form feed)',
  },
  INVALID_BODY: { status: 400, usedBy: ['handover', 'sms'], description: 'The body must be a JSON object' },
  UNKNOWN_FIELD: {
    status: 400,
    usedBy: ['handover', 'sms'],
    description: 'A field this API does not know (on SMS routes: neither this API nor 8x8 knows it)',
  },
  MISSING_FIELD: { status: 400, usedBy: ['handover'], description: 'A required field is missing or empty' },
  INVALID_TYPE: { status: 400, usedBy: ['handover', 'sms'], description: 'A field has the wrong JSON type' },
  FIELD_TOO_LONG: {
    status: 400,
    usedBy: ['handover'],
    description: 'A field is longer than its documented maximum',
  },
  INVALID_EMAIL: {
    status: 400,
    usedBy: ['handover'],
    description: '`customer.email` is not an e-mail address',
  },
  INVALID_LANGUAGE: {
    status: 400,
    usedBy: ['handover'],
    description: '`customer.language` is not one of the 21 languages 8x8 supports',
  },
  INVALID_URL: {
    status: 400,
    usedBy: ['handover'],
    description:
      '`cognigy.endpointBaseUrl` is not an absolute https URL on a public host (no private, loopback, link-local or metadata address; local mode also takes http://127.0.0.1)',
  },
  INVALID_ASSIGNMENT: {
    status: 400,
    usedBy: ['handover'],
    description: 'Give `queueId` or `scriptId`, not both',
  },
  INVALID_PROPERTY: {
    status: 400,
    usedBy: ['handover'],
    description: 'A custom property has an empty or over-long key, or a value that is not a scalar',
  },
  INVALID_TRANSCRIPT: {
    status: 400,
    usedBy: ['handover'],
    description: 'A transcript entry has no author (`source`, `authorType` or `role`) the bridge knows',
  },
  ENDPOINT_BASE_URL_REQUIRED: {
    status: 400,
    usedBy: ['handover'],
    description:
      'No Cognigy Endpoint base URL: send `cognigy.endpointBaseUrl` or set endpointBaseUrl in the cognigy secret',
  },
  TEXT_MISSING: { status: 400, usedBy: ['handover', 'sms'], description: '`text` is missing or blank' },
  TEXT_TOO_LONG: {
    status: 400,
    usedBy: ['handover', 'sms'],
    description:
      '`text` is too long: an SMS would need more than 10 parts (GSM7: 1530 septets, UCS2: 670 UTF-16 units; 8x8 would truncate it), a handover message is longer than 8000 characters',
  },
  INVALID_CONVERSATION_ID: {
    status: 400,
    usedBy: ['handover'],
    description: 'The conversation id in the path is not an 8x8 conversation id',
  },
  SESSION_ID_REQUIRED: {
    status: 400,
    usedBy: ['handover'],
    description:
      'GET /handover/active needs `?sessionId=`; POST /handover/{id}/messages and …/end need the `sessionId` that started the handover',
  },
  HANDOVER_NOT_FOUND: {
    status: 404,
    usedBy: ['handover'],
    description: 'No handover with this conversation id (or no open one for the session)',
  },
  HANDOVER_CLOSED: {
    status: 409,
    usedBy: ['handover'],
    description: 'The handover has ended (completed, cancelled or error); start a new one',
  },
  HANDOVER_START_IN_PROGRESS: {
    status: 409,
    usedBy: ['handover'],
    description:
      'A POST /handover for this session is still starting after HANDOVER_START_WAIT_MS; retry after `Retry-After` seconds (the repeat then gets its conversation)',
  },
  HANDOVER_SESSION_MISMATCH: {
    status: 403,
    usedBy: ['handover'],
    description: 'The `userId`/`sessionId` sent do not match the session that started this handover',
  },
  UPSTREAM_REJECTED: {
    status: 502,
    usedBy: ['handover', 'sms'],
    description:
      '8x8 refused the call (creating the conversation; on SMS routes cancelling or removing PII); `details` has its reason',
  },
  UPSTREAM_RATE_LIMITED: {
    status: 503,
    usedBy: ['handover'],
    description: '8x8 is rate limiting; retry after `details.retryAfterSeconds`',
  },
  UPSTREAM_UNAVAILABLE: {
    status: 503,
    usedBy: ['handover', 'sms'],
    description:
      '8x8 failed (5xx, timeout, rate limit on SMS routes) or could not be reached; on DELETE /sms/{messageId}/pii the bridge copy is already erased, repeat the call to ask 8x8 again',
  },
  UPSTREAM_TIMEOUT: { status: 504, usedBy: ['handover'], description: '8x8 did not answer in time' },
  SMS_NOT_CANCELLABLE: {
    status: 409,
    usedBy: ['sms'],
    description:
      'DELETE /sms/{messageId}: the SMS was already sent (or is delivered, failed or cancelled); only an SMS still queued in the bridge, or scheduled at 8x8 for a later time, can be cancelled',
  },
  SMS_SEND_IN_PROGRESS: {
    status: 409,
    usedBy: ['sms'],
    description:
      'DELETE /sms/{messageId} or …/pii: the SMS is being handed to 8x8 right now; retry after `Retry-After` seconds',
  },
  HANDOVER_NOT_RECORDED: {
    status: 503,
    usedBy: ['handover'],
    description:
      'The 8x8 conversation was created but could not be recorded, so it was ended again; start again',
  },
  // SMS routes no longer answer it: their record write is the commit and the outbox sweeper queues it.
  QUEUE_UNAVAILABLE: {
    status: 503,
    usedBy: ['handover'],
    description: 'The request could not be queued and was NOT accepted; send it again',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    usedBy: ['shared', 'sms'],
    description: "The body is larger than the route's limit",
  },
  DESTINATION_MISSING: { status: 400, usedBy: ['sms'], description: '`destination` is missing or empty' },
  INVALID_DESTINATION: {
    status: 400,
    usedBy: ['sms'],
    description: '`destination` is not E.164, or a national number that `country` cannot turn into E.164',
  },
  INVALID_COUNTRY: {
    status: 400,
    usedBy: ['sms'],
    description: '`country` is not an ISO 3166-1 alpha-2 code',
  },
  INVALID_SOURCE: {
    status: 400,
    usedBy: ['sms'],
    description: '`source` (sender id) must be alphanumeric up to 11 characters or numeric up to 16 digits',
  },
  INVALID_ENCODING: { status: 400, usedBy: ['sms'], description: '`encoding` must be AUTO, GSM7 or UCS2' },
  INVALID_SCHEDULE: {
    status: 400,
    usedBy: ['sms'],
    description: '`scheduled` is not an ISO-8601 date-time with a UTC offset',
  },
  SCHEDULE_TOO_FAR: { status: 400, usedBy: ['sms'], description: '`scheduled` is more than 7 days ahead' },
  SCHEDULE_IN_PAST: {
    status: 400,
    usedBy: ['sms'],
    description: '`scheduled` is more than 5 minutes in the past',
  },
  INVALID_EXPIRY: {
    status: 400,
    usedBy: ['sms'],
    description: '`expiry` is not an ISO-8601 date-time with a UTC offset',
  },
  EXPIRY_IN_PAST: { status: 400, usedBy: ['sms'], description: '`expiry` is not in the future' },
  EXPIRY_BEFORE_SCHEDULE: { status: 400, usedBy: ['sms'], description: '`expiry` is not after `scheduled`' },
  INVALID_CLIENT_MESSAGE_ID: {
    status: 400,
    usedBy: ['sms'],
    description: '`clientMessageId` is longer than 350 characters',
  },
  INVALID_CALLBACK_URL: {
    status: 400,
    usedBy: ['sms'],
    description:
      '`dlrCallbackUrl` is not an absolute https URL, or names a private, loopback, link-local or cloud-metadata address (local mode also takes http://127.0.0.1)',
  },
  INVALID_CLIENT_IP: {
    status: 400,
    usedBy: ['sms'],
    description: '`clientIp` is not an IPv4 or IPv6 address',
  },
  INVALID_TRACK: { status: 400, usedBy: ['sms'], description: '`track` must be None or Outcome' },
  INVALID_COGNIGY: {
    status: 400,
    usedBy: ['sms'],
    description:
      '`cognigy` is incomplete: receipt injection needs userId, sessionId and URLToken; endpointBaseUrl must be https',
  },
  BATCH_EMPTY: {
    status: 400,
    usedBy: ['sms'],
    description: 'A batch needs `messages` or `destinations` with at least one entry',
  },
  BATCH_TOO_LARGE: { status: 400, usedBy: ['sms'], description: 'A batch holds at most 500 messages' },
  INVALID_WAIT_FOR_UMID: {
    status: 400,
    usedBy: ['sms'],
    description: '`waitForUmidMs` must be a whole number of milliseconds from 0 to 5000',
  },
  INVALID_CLIENT_BATCH_ID: {
    status: 400,
    usedBy: ['sms'],
    description: '`clientBatchId` is longer than 20 characters',
  },
  BATCH_REJECTED: {
    status: 400,
    usedBy: ['sms'],
    description: 'No item of the batch was accepted; see `items[].error`',
  },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    usedBy: ['sms'],
    description: 'The `clientMessageId` was already used for an SMS with different content',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    usedBy: ['sms'],
    description: 'An SMS with this `clientMessageId` is being accepted right now; retry in a moment',
  },
  INVALID_MESSAGE_ID: {
    status: 400,
    usedBy: ['sms'],
    description: 'The message id is not a message id this API issues (a UUID)',
  },
  MESSAGE_NOT_FOUND: {
    status: 404,
    usedBy: ['sms'],
    description: 'No SMS with this message id (it may have expired)',
  },
  NOT_ACCEPTED: {
    status: 503,
    usedBy: ['sms'],
    description: 'The SMS could not be stored and was NOT accepted; send it again',
  },
  UNAUTHORIZED: {
    status: 401,
    usedBy: ['sms'],
    description: 'The receipt carries neither the configured Authorization value nor a valid callback token',
  },
  INVALID_RECEIPT: {
    status: 400,
    usedBy: ['sms'],
    description: 'The receipt body is not an 8x8 delivery receipt',
  },
  COGNIGY_UNAVAILABLE: {
    status: 502,
    usedBy: ['sms'],
    description: 'The receipt was recorded but could not be injected into Cognigy yet; 8x8 retries it',
  },
  INVALID_REQUEST: {
    status: 400,
    usedBy: ['shared'],
    description: 'A path or query parameter is not valid (answered by API Gateway or a route)',
  },
  FORBIDDEN: {
    status: 403,
    usedBy: ['shared'],
    description: 'The `x-api-key` header is missing or not a key of this deployment',
  },
  ROUTE_NOT_FOUND: { status: 404, usedBy: ['shared'], description: 'No route matches this method and path' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    usedBy: ['shared'],
    description: 'The path exists but not for this method; `Allow` lists the methods (local gateway)',
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    usedBy: ['shared'],
    description: "The API key's rate or quota is used up; retry later",
  },
  REQUEST_REJECTED: {
    status: 400,
    usedBy: ['shared'],
    description: 'API Gateway refused the request before the function ran (any other 4xx)',
  },
  INTERNAL_ERROR: {
    status: 500,
    usedBy: ['shared'],
    description: 'An unexpected failure; nothing was accepted, so the request can be sent again',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    usedBy: ['shared'],
    description: 'Local mode only: the local stack failed to start, so no route can run',
  },
  CONSOLE_FORBIDDEN: {
    status: 403,
    usedBy: ['shared'],
    description:
      "Local mode only: a console request not addressed to the loopback host, or an action without the console page's token",
  },
  CONSOLE_UNAVAILABLE: {
    status: 503,
    usedBy: ['shared'],
    description:
      'Local mode only: the console action needs a simulator that is not running (the real service is configured) or did not answer',
  },
  CONSOLE_UNKNOWN_SESSION: {
    status: 409,
    usedBy: ['shared'],
    description:
      'Local mode only: the console does not know the Cognigy session of the conversation, so it cannot speak as its user',
  },
  INVALID_WEBHOOK_HEADERS: {
    status: 400,
    usedBy: ['webhook'],
    description: 'An x-8x8-* header is missing, too long or not the documented format',
  },
  INVALID_EVENT: {
    status: 400,
    usedBy: ['webhook'],
    description: 'The body is not a Chat Gateway v1.0 event',
  },
  SIGNATURE_MISSING: {
    status: 401,
    usedBy: ['webhook'],
    description: 'The x-8x8-signature header is missing',
  },
  SIGNATURE_INVALID: {
    status: 401,
    usedBy: ['webhook'],
    description: 'The x-8x8-signature is malformed, not RS256 or does not match the request',
  },
  EVENT_STALE: {
    status: 401,
    usedBy: ['webhook'],
    description: 'x-8x8-transmission-time is outside the accepted window (WEBHOOK_MAX_AGE_MS)',
  },
  UNKNOWN_SIGNING_KEY: {
    status: 401,
    usedBy: ['webhook'],
    description: 'The signing key named by the signature (kid) is not known to 8x8',
  },
  TENANT_MISMATCH: {
    status: 403,
    usedBy: ['webhook'],
    description: 'The event belongs to another 8x8 tenant than the configured one',
  },
  EVENT_IN_PROGRESS: {
    status: 409,
    usedBy: ['webhook'],
    description: 'Another delivery of this event is being processed; 8x8 retries it',
  },
  EVENT_BODY_MISMATCH: {
    status: 409,
    usedBy: ['webhook'],
    description:
      'This x-8x8-event-id was already received with a different body (a forged body reusing a captured signature); refused and not relayed',
  },
  EVENT_NOT_ACCEPTED: {
    status: 503,
    usedBy: ['webhook'],
    description: 'The event could not be recorded or queued; nothing was accepted and 8x8 retries it',
  },
  SIGNING_KEY_UNAVAILABLE: {
    status: 503,
    usedBy: ['webhook'],
    description: 'The 8x8 signing key could not be fetched; 8x8 retries the event',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes a domain answers with (its error classes accept only these). */
export type ErrorCodeOf<D extends ErrorDomain> = {
  [C in ErrorCode]: D extends (typeof ERROR_CODES)[C]['usedBy'][number] ? C : never;
}[ErrorCode];

/** The catalogue entry of a code from anywhere (an error object, a stored answer); undefined for unknown codes. */
export function errorCodeSpec(code: string): ErrorCodeSpec | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : undefined;
}

/** The catalogue entries of one domain, in catalogue order (a view, not a copy of the data). */
export function errorCodesOf<D extends ErrorDomain>(
  domain: D,
): { readonly [C in ErrorCodeOf<D>]: (typeof ERROR_CODES)[C] } {
  return Object.fromEntries(
    Object.entries(ERROR_CODES).filter(([, spec]) =>
      (spec.usedBy as readonly ErrorDomain[]).includes(domain),
    ),
  ) as { readonly [C in ErrorCodeOf<D>]: (typeof ERROR_CODES)[C] };
}
