import { BridgeError, summariseIssues, type FieldIssue } from '../shared/errors';

/**
 * Every error code the SMS routes answer with, in one place. Codes are part of the public contract: flows branch
 * on them, so a code is never renamed or reused for another meaning. `status` is the HTTP status of a whole-request
 * failure; inside a batch answer the same codes appear per item.
 */
export const SMS_ERROR_CODES = {
  // Request shape (whole body or one batch item)
  MALFORMED_JSON: {
    status: 400,
    description: 'The body is not valid JSON (shared code, see functions/shared/errors.ts)',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    description: "The body is larger than the route's limit (shared code, see functions/shared/errors.ts)",
  },
  INVALID_BODY: { status: 400, description: 'The body must be a JSON object' },
  UNKNOWN_FIELD: { status: 400, description: 'A field that neither this API nor 8x8 knows' },
  INVALID_TYPE: { status: 400, description: 'A field has the wrong JSON type' },
  // Fields of an SMS
  DESTINATION_MISSING: { status: 400, description: '`destination` is missing or empty' },
  INVALID_DESTINATION: {
    status: 400,
    description: '`destination` is not E.164, or a national number that `country` cannot turn into E.164',
  },
  INVALID_COUNTRY: { status: 400, description: '`country` is not an ISO 3166-1 alpha-2 code' },
  INVALID_SOURCE: {
    status: 400,
    description: '`source` (sender id) must be alphanumeric up to 11 characters or numeric up to 16 digits',
  },
  INVALID_ENCODING: { status: 400, description: '`encoding` must be AUTO, GSM7 or UCS2' },
  TEXT_MISSING: { status: 400, description: '`text` is missing or blank' },
  TEXT_TOO_LONG: {
    status: 400,
    description:
      '`text` needs more than 10 SMS parts (GSM7: 1530 septets, UCS2: 670 UTF-16 units); 8x8 would truncate it',
  },
  INVALID_SCHEDULE: {
    status: 400,
    description: '`scheduled` is not an ISO-8601 date-time with a UTC offset',
  },
  SCHEDULE_TOO_FAR: { status: 400, description: '`scheduled` is more than 7 days ahead' },
  SCHEDULE_IN_PAST: { status: 400, description: '`scheduled` is more than 5 minutes in the past' },
  INVALID_EXPIRY: { status: 400, description: '`expiry` is not an ISO-8601 date-time with a UTC offset' },
  EXPIRY_IN_PAST: { status: 400, description: '`expiry` is not in the future' },
  EXPIRY_BEFORE_SCHEDULE: { status: 400, description: '`expiry` is not after `scheduled`' },
  INVALID_CLIENT_MESSAGE_ID: { status: 400, description: '`clientMessageId` is longer than 350 characters' },
  INVALID_CALLBACK_URL: { status: 400, description: '`dlrCallbackUrl` is not an absolute http(s) URL' },
  INVALID_CLIENT_IP: { status: 400, description: '`clientIp` is not an IPv4 or IPv6 address' },
  INVALID_TRACK: { status: 400, description: '`track` must be None or Outcome' },
  INVALID_COGNIGY: {
    status: 400,
    description:
      '`cognigy` is incomplete: receipt injection needs userId, sessionId and URLToken; endpointBaseUrl must be https',
  },
  // Batch
  BATCH_EMPTY: {
    status: 400,
    description: 'A batch needs `messages` or `destinations` with at least one entry',
  },
  BATCH_TOO_LARGE: { status: 400, description: 'A batch holds at most 500 messages' },
  INVALID_CLIENT_BATCH_ID: { status: 400, description: '`clientBatchId` is longer than 20 characters' },
  BATCH_REJECTED: { status: 400, description: 'No item of the batch was accepted; see `items[].error`' },
  // Idempotency
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    description: 'The `clientMessageId` was already used for an SMS with different content',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    description: 'An SMS with this `clientMessageId` is being accepted right now; retry in a moment',
  },
  // Status lookup
  INVALID_MESSAGE_ID: {
    status: 400,
    description: 'The message id is not a message id this API issues (a UUID)',
  },
  MESSAGE_NOT_FOUND: { status: 404, description: 'No SMS with this message id (it may have expired)' },
  // Acceptance infrastructure
  QUEUE_UNAVAILABLE: {
    status: 503,
    description: 'The SMS could not be queued and was NOT accepted; send it again',
  },
  NOT_ACCEPTED: {
    status: 503,
    description: 'The SMS could not be stored and was NOT accepted; send it again',
  },
  // Receipt webhook
  UNAUTHORIZED: {
    status: 401,
    description: 'The receipt carries neither the configured Authorization value nor a valid callback token',
  },
  INVALID_RECEIPT: { status: 400, description: 'The receipt body is not an 8x8 delivery receipt' },
  COGNIGY_UNAVAILABLE: {
    status: 502,
    description: 'The receipt was recorded but could not be injected into Cognigy yet; 8x8 retries it',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type SmsErrorCode = keyof typeof SMS_ERROR_CODES;

/** One problem with one field: `path` is a JSON path such as `messages[2].destination`. */
export type SmsIssue = FieldIssue<SmsErrorCode>;

/** An error of the SMS routes; its HTTP status comes from SMS_ERROR_CODES so code and status never disagree. */
export class SmsError extends BridgeError {
  constructor(code: SmsErrorCode, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(code, message, SMS_ERROR_CODES[code].status, details, options);
  }
}

/** A request that fails validation; the first issue names the code, all issues are in `details`. */
export class SmsValidationError extends SmsError {
  constructor(readonly issues: SmsIssue[]) {
    const { code, message } = summariseIssues(issues, 'INVALID_BODY');
    super(code, message, issues);
  }
}

export class MessageNotFoundError extends SmsError {
  constructor(messageId: string) {
    super('MESSAGE_NOT_FOUND', `No SMS with message id ${messageId}`);
  }
}

export class IdempotencyConflictError extends SmsError {
  constructor(options?: { cause?: unknown }) {
    super(
      'IDEMPOTENCY_CONFLICT',
      'This clientMessageId was already used for an SMS with different content; use a new clientMessageId',
      undefined,
      options,
    );
  }
}

export class IdempotencyInProgressError extends SmsError {
  constructor(options?: { cause?: unknown }) {
    super(
      'IDEMPOTENCY_IN_PROGRESS',
      'An SMS with this clientMessageId is being accepted right now; retry shortly',
      undefined,
      options,
    );
  }
}

export class QueueUnavailableError extends SmsError {
  constructor(options?: { cause?: unknown }) {
    super(
      'QUEUE_UNAVAILABLE',
      'The SMS could not be queued and was not accepted; send it again',
      undefined,
      options,
    );
  }
}

export class NotAcceptedError extends SmsError {
  constructor(options?: { cause?: unknown }) {
    super(
      'NOT_ACCEPTED',
      'The SMS could not be stored and was not accepted; send it again',
      undefined,
      options,
    );
  }
}
