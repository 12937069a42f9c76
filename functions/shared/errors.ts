import { errorCodesOf } from './error-catalogue';

/**
 * Named errors with a stable `code` that flows can branch on and an HTTP status for the API answer.
 * Only `BridgeError`s reach a caller with their message; anything else becomes INTERNAL_ERROR without detail.
 */
export class BridgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Codes any route may answer, beside its domain's own: a view of the one catalogue (error-catalogue.ts). */
export const SHARED_ERROR_CODES = /* @__PURE__ */ errorCodesOf('shared');

export class ValidationError extends BridgeError {
  constructor(message: string, details?: unknown, code = 'INVALID_REQUEST') {
    super(code, message, 400, details);
  }
}

/** One problem with one request field; `path` is a JSON path such as `messages[2].destination`. */
export interface FieldIssue<C extends string = string> {
  path: string;
  code: C;
  message: string;
}

/**
 * The headline of a failed validation: the first issue's code and message, with the number of further problems
 * (every issue still travels in `details`).
 */
export function summariseIssues<C extends string>(
  issues: FieldIssue<C>[],
  fallbackCode: C,
): { code: C; message: string } {
  const first = issues[0] ?? { code: fallbackCode, message: 'Invalid request', path: '' };
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return { code: first.code, message: `${first.message}${more}` };
}

export class MalformedJsonError extends BridgeError {
  constructor() {
    super('MALFORMED_JSON', 'The request body is not valid JSON; send Content-Type: application/json', 400);
  }
}

export class JsonTooDeepError extends BridgeError {
  constructor(maxDepth: number) {
    super('JSON_TOO_DEEP', `The request body nests arrays or objects deeper than ${maxDepth} levels`, 400);
  }
}

export class PayloadTooLargeError extends BridgeError {
  constructor(limitBytes: number) {
    super('PAYLOAD_TOO_LARGE', `The request body is larger than ${limitBytes} bytes`, 413);
  }
}

export class UnauthorizedError extends BridgeError {
  constructor(message = 'Missing or invalid credentials', code = 'UNAUTHORIZED') {
    super(code, message, 401);
  }
}

export class ForbiddenError extends BridgeError {
  constructor(message = 'Forbidden', code = 'FORBIDDEN') {
    super(code, message, 403);
  }
}

export class NotFoundError extends BridgeError {
  constructor(message: string, code = 'NOT_FOUND') {
    super(code, message, 404);
  }
}

export class ConflictError extends BridgeError {
  constructor(message: string, code = 'CONFLICT') {
    super(code, message, 409);
  }
}

/** How a failed upstream call (8x8, Cognigy) should be treated by a queue consumer. */
export type UpstreamFailureKind = 'rateLimited' | 'transient' | 'permanent';

export class UpstreamError extends Error {
  constructor(
    readonly service: '8x8-sms' | '8x8-chat-gateway' | 'cognigy' | 'jwk',
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly httpStatus?: number,
    /** 8x8's own error code (`code` in its error body), when it sent one. */
    readonly upstreamCode?: string | number,
    /** From Retry-After on a 429, in milliseconds. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }

  get retryable(): boolean {
    return this.kind !== 'permanent';
  }
}

export function assertIsError(e: unknown): asserts e is Error {
  if (!(e instanceof Error)) throw new Error('Unexpected non-error thrown', { cause: e });
}
