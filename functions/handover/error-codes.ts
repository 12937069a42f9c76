import { errorCodesOf, type ErrorCodeOf } from '../shared/error-catalogue';
import { BridgeError, summariseIssues, type FieldIssue } from '../shared/errors';

/**
 * The codes of the handover routes: a view of the one catalogue (functions/shared/error-catalogue.ts).
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
export const HANDOVER_ERROR_CODES = /* @__PURE__ */ errorCodesOf('handover');

export type HandoverErrorCode = ErrorCodeOf<'handover'>;

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
