import { BridgeError, summariseIssues, type FieldIssue } from '../shared/errors';

/**
 * Every error code the handover routes answer with. Codes are part of the public contract (flows branch on
 * them), so a code is never renamed or reused. `status` is the HTTP status of the answer.
 *
 * 8x8 failures on POST /handover: the handover did not start, and the answer says why with a code the flow can
 * branch on, together with `handover: {status: "error"}` (Cognigy's own value for a failed handover):
 * - 8x8 refused the request (4xx: unknown channel or queue, bad credentials, wrong tenant) → 502 UPSTREAM_REJECTED
 *   with 8x8's reason; retrying the same request will not help.
 * - 8x8 answered 429 → 503 UPSTREAM_RATE_LIMITED (retry after `details.retryAfterSeconds`).
 * - 8x8 answered 5xx or could not be reached, also after one quick retry → 503 UPSTREAM_UNAVAILABLE.
 * - 8x8 did not answer in time, or the connection broke after sending (the budget keeps the whole call inside
 *   Cognigy's 8 s HTTP node limit) → 504 UPSTREAM_TIMEOUT, or 503 UPSTREAM_UNAVAILABLE for the broken connection,
 *   without a retry: the conversation may exist at 8x8 without the bridge knowing it; GET
 *   /handover/active?sessionId= will not find it, so a retry by the flow starts a new one.
 */
export const HANDOVER_ERROR_CODES = {
  // Request shape
  MALFORMED_JSON: {
    status: 400,
    description: 'The body is not valid JSON (shared code, see functions/shared/errors.ts)',
  },
  INVALID_BODY: { status: 400, description: 'The body must be a JSON object' },
  UNKNOWN_FIELD: { status: 400, description: 'A field this API does not know' },
  MISSING_FIELD: { status: 400, description: 'A required field is missing or empty' },
  INVALID_TYPE: { status: 400, description: 'A field has the wrong JSON type' },
  FIELD_TOO_LONG: { status: 400, description: 'A field is longer than its documented maximum' },
  INVALID_EMAIL: { status: 400, description: '`customer.email` is not an e-mail address' },
  INVALID_LANGUAGE: {
    status: 400,
    description: '`customer.language` is not one of the 21 languages 8x8 supports',
  },
  INVALID_URL: { status: 400, description: 'A URL field is not an absolute http(s) URL' },
  INVALID_ASSIGNMENT: { status: 400, description: 'Give `queueId` or `scriptId`, not both' },
  INVALID_PROPERTY: {
    status: 400,
    description: 'A custom property has an empty or over-long key, or a value that is not a scalar',
  },
  INVALID_TRANSCRIPT: {
    status: 400,
    description: 'A transcript entry has no author (`source`, `authorType` or `role`) the bridge knows',
  },
  ENDPOINT_BASE_URL_REQUIRED: {
    status: 400,
    description:
      'No Cognigy Endpoint base URL: send `cognigy.endpointBaseUrl` or set endpointBaseUrl in the cognigy secret',
  },
  TEXT_MISSING: { status: 400, description: '`text` is missing or blank' },
  TEXT_TOO_LONG: { status: 400, description: '`text` is longer than 8000 characters' },
  INVALID_CONVERSATION_ID: {
    status: 400,
    description: 'The conversation id in the path is not an 8x8 conversation id',
  },
  SESSION_ID_REQUIRED: { status: 400, description: 'GET /handover/active needs `?sessionId=`' },
  // State
  HANDOVER_NOT_FOUND: {
    status: 404,
    description: 'No handover with this conversation id (or no open one for the session)',
  },
  HANDOVER_CLOSED: {
    status: 409,
    description: 'The handover has ended (completed, cancelled or error); start a new one',
  },
  HANDOVER_SESSION_MISMATCH: {
    status: 403,
    description: 'The `userId`/`sessionId` sent do not match the session that started this handover',
  },
  // 8x8 on POST /handover
  UPSTREAM_REJECTED: {
    status: 502,
    description: '8x8 refused to create the conversation; `details` has its reason',
  },
  UPSTREAM_RATE_LIMITED: {
    status: 503,
    description: '8x8 is rate limiting; retry after `details.retryAfterSeconds`',
  },
  UPSTREAM_UNAVAILABLE: {
    status: 503,
    description: '8x8 failed (5xx) or could not be reached, also on a quick retry',
  },
  UPSTREAM_TIMEOUT: { status: 504, description: '8x8 did not answer in time' },
  // Infrastructure
  HANDOVER_NOT_RECORDED: {
    status: 503,
    description:
      'The 8x8 conversation was created but could not be recorded, so it was ended again; start again',
  },
  QUEUE_UNAVAILABLE: {
    status: 503,
    description: 'The request could not be queued and was NOT accepted; send it again',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type HandoverErrorCode = keyof typeof HANDOVER_ERROR_CODES;

/** One problem with one field; `path` is a JSON path such as `transcript[3].text`. */
export type HandoverIssue = FieldIssue<HandoverErrorCode>;

/** An error of the handover routes; its HTTP status comes from HANDOVER_ERROR_CODES. */
export class HandoverError extends BridgeError {
  constructor(code: HandoverErrorCode, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(code, message, HANDOVER_ERROR_CODES[code].status, details, options);
  }
}

/** A request that fails validation; the first issue names the code, every issue is in `details`. */
export class HandoverValidationError extends HandoverError {
  constructor(readonly issues: HandoverIssue[]) {
    const { code, message } = summariseIssues(issues, 'INVALID_BODY');
    super(code, message, issues);
  }
}

export class HandoverNotFoundError extends HandoverError {
  constructor(what: string) {
    super('HANDOVER_NOT_FOUND', what);
  }
}

export class HandoverClosedError extends HandoverError {
  constructor(conversationId: string, status: string) {
    super('HANDOVER_CLOSED', `Handover ${conversationId} has ended (status ${status}); start a new one`, {
      status,
    });
  }
}

export class HandoverSessionMismatchError extends HandoverError {
  constructor(conversationId: string) {
    super('HANDOVER_SESSION_MISMATCH', `Handover ${conversationId} belongs to another Cognigy session`);
  }
}

export class QueueUnavailableError extends HandoverError {
  constructor(options?: { cause?: unknown }) {
    super(
      'QUEUE_UNAVAILABLE',
      'The request could not be queued and was not accepted; send it again',
      undefined,
      options,
    );
  }
}
