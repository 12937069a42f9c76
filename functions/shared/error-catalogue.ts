/**
 * The one catalogue of error codes the bridge answers with: every route, both webhooks and the gateway in front of
 * them (API Gateway in AWS, lib/local/gateway.ts locally). Codes are part of the public contract (flows branch on
 * them), so a code is never renamed or reused for another meaning. `status` is the HTTP status of a whole-request
 * failure (inside a batch answer the same codes appear per item); `usedBy` says which routes answer it, and each
 * domain's error classes (functions/sms/error-codes.ts, functions/handover/error-codes.ts) take their codes from
 * here. What each code means, for people, is in error-descriptions.ts: the OpenAPI document (lib/openapi.ts, under
 * `x-error-codes`) needs it and no function does, so the function bundles carry only codes, statuses and domains.
 */

export type ErrorDomain = 'shared' | 'sms' | 'handover' | 'webhook';

export interface ErrorCodeSpec {
  status: number;
  usedBy: readonly ErrorDomain[];
}

export const ERROR_CODES = {
  NOT_CONFIGURED: {
    status: 503,
    usedBy: ['shared'],
  },
  MALFORMED_JSON: {
    status: 400,
    usedBy: ['shared', 'handover', 'sms'],
  },
  JSON_TOO_DEEP: {
    status: 400,
    usedBy: ['shared'],
  },
  CONTROL_CHARACTER: {
    status: 400,
    usedBy: ['shared', 'handover', 'sms'],
  },
  INVALID_BODY: { status: 400, usedBy: ['handover', 'sms'] },
  UNKNOWN_FIELD: {
    status: 400,
    usedBy: ['handover', 'sms'],
  },
  MISSING_FIELD: { status: 400, usedBy: ['handover'] },
  INVALID_TYPE: { status: 400, usedBy: ['handover', 'sms'] },
  FIELD_TOO_LONG: {
    status: 400,
    usedBy: ['handover'],
  },
  INVALID_EMAIL: {
    status: 400,
    usedBy: ['handover'],
  },
  INVALID_LANGUAGE: {
    status: 400,
    usedBy: ['handover'],
  },
  INVALID_URL: {
    status: 400,
    usedBy: ['handover'],
  },
  INVALID_ASSIGNMENT: {
    status: 400,
    usedBy: ['handover'],
  },
  INVALID_PROPERTY: {
    status: 400,
    usedBy: ['handover'],
  },
  INVALID_TRANSCRIPT: {
    status: 400,
    usedBy: ['handover'],
  },
  ENDPOINT_BASE_URL_REQUIRED: {
    status: 400,
    usedBy: ['handover'],
  },
  TEXT_MISSING: { status: 400, usedBy: ['handover', 'sms'] },
  TEXT_TOO_LONG: {
    status: 400,
    usedBy: ['handover', 'sms'],
  },
  INVALID_CONVERSATION_ID: {
    status: 400,
    usedBy: ['handover'],
  },
  SESSION_ID_REQUIRED: {
    status: 400,
    usedBy: ['handover'],
  },
  HANDOVER_NOT_FOUND: {
    status: 404,
    usedBy: ['handover'],
  },
  HANDOVER_CLOSED: {
    status: 409,
    usedBy: ['handover'],
  },
  HANDOVER_START_IN_PROGRESS: {
    status: 409,
    usedBy: ['handover'],
  },
  HANDOVER_SESSION_MISMATCH: {
    status: 403,
    usedBy: ['handover'],
  },
  UPSTREAM_REJECTED: {
    status: 502,
    usedBy: ['handover', 'sms'],
  },
  UPSTREAM_RATE_LIMITED: {
    status: 503,
    usedBy: ['handover'],
  },
  UPSTREAM_UNAVAILABLE: {
    status: 503,
    usedBy: ['handover', 'sms'],
  },
  UPSTREAM_TIMEOUT: { status: 504, usedBy: ['handover'] },
  SMS_NOT_CANCELLABLE: {
    status: 409,
    usedBy: ['sms'],
  },
  SMS_SEND_IN_PROGRESS: {
    status: 409,
    usedBy: ['sms'],
  },
  RECIPIENT_OPTED_OUT: {
    status: 422,
    usedBy: ['sms'],
  },
  HANDOVER_NOT_RECORDED: {
    status: 503,
    usedBy: ['handover'],
  },
  // SMS routes no longer answer it: their record write is the commit and the outbox sweeper queues it.
  QUEUE_UNAVAILABLE: {
    status: 503,
    usedBy: ['handover'],
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    usedBy: ['shared', 'sms'],
  },
  DESTINATION_MISSING: { status: 400, usedBy: ['sms'] },
  INVALID_DESTINATION: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_COUNTRY: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_SOURCE: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_ENCODING: { status: 400, usedBy: ['sms'] },
  INVALID_SCHEDULE: {
    status: 400,
    usedBy: ['sms'],
  },
  SCHEDULE_TOO_FAR: { status: 400, usedBy: ['sms'] },
  SCHEDULE_IN_PAST: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_EXPIRY: {
    status: 400,
    usedBy: ['sms'],
  },
  EXPIRY_IN_PAST: { status: 400, usedBy: ['sms'] },
  EXPIRY_BEFORE_SCHEDULE: { status: 400, usedBy: ['sms'] },
  INVALID_CLIENT_MESSAGE_ID: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_CALLBACK_URL: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_CLIENT_IP: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_TRACK: { status: 400, usedBy: ['sms'] },
  INVALID_COGNIGY: {
    status: 400,
    usedBy: ['sms'],
  },
  BATCH_EMPTY: {
    status: 400,
    usedBy: ['sms'],
  },
  BATCH_TOO_LARGE: { status: 400, usedBy: ['sms'] },
  INVALID_WAIT_FOR_UMID: {
    status: 400,
    usedBy: ['sms'],
  },
  INVALID_CLIENT_BATCH_ID: {
    status: 400,
    usedBy: ['sms'],
  },
  BATCH_REJECTED: {
    status: 400,
    usedBy: ['sms'],
  },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    usedBy: ['sms'],
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    usedBy: ['sms'],
  },
  INVALID_MESSAGE_ID: {
    status: 400,
    usedBy: ['sms'],
  },
  MESSAGE_NOT_FOUND: {
    status: 404,
    usedBy: ['sms'],
  },
  NOT_ACCEPTED: {
    status: 503,
    usedBy: ['sms'],
  },
  UNAUTHORIZED: {
    status: 401,
    usedBy: ['sms'],
  },
  INVALID_RECEIPT: {
    status: 400,
    usedBy: ['sms'],
  },
  COGNIGY_UNAVAILABLE: {
    status: 502,
    usedBy: ['sms'],
  },
  INVALID_INBOUND_SMS: {
    status: 400,
    usedBy: ['sms'],
  },
  INBOUND_SMS_BODY_MISMATCH: {
    status: 409,
    usedBy: ['sms'],
  },
  INBOUND_SMS_IN_PROGRESS: {
    status: 503,
    usedBy: ['sms'],
  },
  INBOUND_SMS_NOT_ACCEPTED: {
    status: 503,
    usedBy: ['sms'],
  },
  INVALID_REQUEST: {
    status: 400,
    usedBy: ['shared'],
  },
  FORBIDDEN: {
    status: 403,
    usedBy: ['shared'],
  },
  ROUTE_NOT_FOUND: { status: 404, usedBy: ['shared'] },
  METHOD_NOT_ALLOWED: {
    status: 405,
    usedBy: ['shared'],
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    usedBy: ['shared'],
  },
  REQUEST_REJECTED: {
    status: 400,
    usedBy: ['shared'],
  },
  INTERNAL_ERROR: {
    status: 500,
    usedBy: ['shared'],
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    usedBy: ['shared'],
  },
  CONSOLE_FORBIDDEN: {
    status: 403,
    usedBy: ['shared'],
  },
  CONSOLE_UNAVAILABLE: {
    status: 503,
    usedBy: ['shared'],
  },
  CONSOLE_UNKNOWN_SESSION: {
    status: 409,
    usedBy: ['shared'],
  },
  INVALID_WEBHOOK_HEADERS: {
    status: 400,
    usedBy: ['webhook'],
  },
  INVALID_EVENT: {
    status: 400,
    usedBy: ['webhook'],
  },
  SIGNATURE_MISSING: {
    status: 401,
    usedBy: ['webhook'],
  },
  SIGNATURE_INVALID: {
    status: 401,
    usedBy: ['webhook'],
  },
  EVENT_STALE: {
    status: 401,
    usedBy: ['webhook'],
  },
  UNKNOWN_SIGNING_KEY: {
    status: 401,
    usedBy: ['webhook'],
  },
  TENANT_MISMATCH: {
    status: 403,
    usedBy: ['webhook'],
  },
  EVENT_IN_PROGRESS: {
    status: 409,
    usedBy: ['webhook'],
  },
  EVENT_BODY_MISMATCH: {
    status: 409,
    usedBy: ['webhook'],
  },
  EVENT_NOT_ACCEPTED: {
    status: 503,
    usedBy: ['webhook'],
  },
  SIGNING_KEY_UNAVAILABLE: {
    status: 503,
    usedBy: ['webhook'],
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
