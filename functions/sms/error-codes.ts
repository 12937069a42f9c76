import { errorCodesOf, type ErrorCodeOf } from '../shared/error-catalogue';
import { BridgeError, summariseIssues, type FieldIssue } from '../shared/errors';

/** The codes of the SMS routes: a view of the one catalogue (functions/shared/error-catalogue.ts). */
export const SMS_ERROR_CODES = /* @__PURE__ */ errorCodesOf('sms');

export type SmsErrorCode = ErrorCodeOf<'sms'>;

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
