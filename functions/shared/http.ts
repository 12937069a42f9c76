import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpSecurityHeaders from '@middy/http-security-headers';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { BRIDGE_ERRORS_HEADER, ROUTES, type FunctionName } from './catalogue';
import { checkSettingsOnce } from './config';
import { assertNoControlCharacters, assertPlainParameters } from './control-characters';
import { errorCodeSpec } from './error-catalogue';
import {
  BridgeError,
  JsonTooDeepError,
  MalformedJsonError,
  PayloadTooLargeError,
  ValidationError,
} from './errors';
import { countWithDimensions, logger, metrics } from './powertools';

/** What a route's core sees: the parsed request, independent of API Gateway's event shape. */
export interface ApiRequest {
  /** Parsed JSON body (undefined when the body is empty or the route takes the raw body only). */
  body: unknown;
  /** Exact body as received (decoded from base64 when API Gateway encoded it); signatures are checked on this. */
  rawBody: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  requestId: string;
  /**
   * Id of the API key the caller used (API Gateway `requestContext.identity.apiKeyId`; the local gateway derives
   * one per key): the tenant that owns the records the request creates (functions/shared/tenancy.ts).
   */
  callerId?: string;
}

export interface ApiResponse {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface ApiHandlerOptions {
  /** Parse the body as JSON (default true). Webhooks that verify the raw bytes first parse it themselves. */
  parseJson?: boolean;
  /**
   * Fields added to every error answer of the route, also for failures before its core runs (malformed JSON, body
   * too large): POST /handover answers `handover: {status: "error"}` on every failure, as its flows branch on it.
   */
  errorBodyExtra?: Record<string, unknown>;
}

export function errorBody(code: string, message: string, details?: unknown): Record<string, unknown> {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

/** Maps any error to the public `{ok:false,error}` shape; unexpected errors are logged, never echoed. */
export function toErrorResponse(error: unknown, extra: Record<string, unknown> = {}): APIGatewayProxyResult {
  if (error instanceof BridgeError) {
    return jsonResult(error.statusCode, { ...errorBody(error.code, error.message, error.details), ...extra });
  }
  logger.error('Unhandled error', { error: error as Error });
  return jsonResult(500, {
    ...errorBody('INTERNAL_ERROR', 'The request could not be processed; it was not accepted'),
    ...extra,
  });
}

export function jsonResult(
  statusCode: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * Deepest nesting of arrays and objects any route accepts. Cognigy and 8x8 bodies nest a handful of levels; a body
 * 10 000 levels deep would otherwise reach recursive code (validation, marshalling, logging) and end in a 500.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of a JSON text, counted without parsing: brackets outside strings, one pass, no allocation.
 * Stops as soon as `limit` is passed. Not a validator: malformed text is left to JSON.parse.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Turns API Gateway's event into an ApiRequest, enforcing the route's size and depth limits before any other work. */
export function toApiRequest(
  event: APIGatewayProxyEvent,
  maxBodyBytes: number,
  parseJson: boolean,
): ApiRequest {
  const rawBody =
    event.body == null
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  if (Buffer.byteLength(rawBody, 'utf8') > maxBodyBytes) throw new PayloadTooLargeError(maxBodyBytes);
  // Also for routes that parse the raw body themselves (both webhooks): the bound holds before any parsing work.
  if (jsonDepthExceeds(rawBody, MAX_JSON_DEPTH)) throw new JsonTooDeepError(MAX_JSON_DEPTH);
  let body: unknown;
  if (parseJson && rawBody.trim() !== '') {
    try {
      body = JSON.parse(rawBody);
    } catch {
      throw new MalformedJsonError();
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const pathParameters = Object.fromEntries(
    Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const query = Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).filter(
      (e): e is [string, string] => e[1] !== undefined,
    ),
  );
  if (parseJson) {
    // The flow routes: Cognigy's input. The webhooks relay what 8x8 sends and check it themselves.
    assertPlainParameters('path', pathParameters);
    assertPlainParameters('query', query);
    assertNoControlCharacters(body);
  }
  return {
    body,
    rawBody,
    headers,
    pathParameters,
    query,
    requestId: event.requestContext?.requestId ?? 'local',
    ...(event.requestContext?.identity?.apiKeyId ? { callerId: event.requestContext.identity.apiKeyId } : {}),
  };
}

/** An error code as a metric dimension: the catalogue's codes are upper snake case; anything else is OTHER. */
const REASON_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * What a webhook's answer says about the delivery (routes with `auth: 'self'`): 2xx means its credential or
 * signature was verified and the event taken (or knowingly ignored); 4xx means it was refused, for the reason its
 * error code names (UNAUTHORIZED, SIGNATURE_INVALID, EVENT_STALE, TENANT_MISMATCH, PAYLOAD_TOO_LARGE, …). 5xx is
 * neither: the sender retries, and the Lambda and API 5xx metrics show it.
 */
export function webhookVerdict(
  statusCode: number,
  body: Record<string, unknown>,
): { metric: 'WebhookVerified' } | { metric: 'WebhookRefused'; reason: string } | undefined {
  if (statusCode >= 200 && statusCode < 300) return { metric: 'WebhookVerified' };
  if (statusCode < 400 || statusCode >= 500) return undefined;
  const code = (body.error as { code?: unknown } | undefined)?.code;
  return {
    metric: 'WebhookRefused',
    reason: typeof code === 'string' && REASON_PATTERN.test(code) ? code : 'OTHER',
  };
}

/** Counts a webhook answer: WebhookVerified, or WebhookRefused both per function and per function and reason. */
function countWebhookAnswer(statusCode: number, body: Record<string, unknown>): void {
  const verdict = webhookVerdict(statusCode, body);
  if (!verdict) return;
  metrics.addMetric(verdict.metric, 'Count', 1);
  if (verdict.metric === 'WebhookRefused') countWithDimensions('WebhookRefused', { reason: verdict.reason });
}

/** How a flow route answers business errors: with their HTTP status (default) or as `200` (`x-bridge-errors: body`). */
export type ErrorMode = 'status' | 'body';

/** The answer header that keeps the original status of an error answered as 200. */
export const BRIDGE_STATUS_HEADER = 'x-bridge-status';

/** The caller's `x-bridge-errors` choice; an empty value (an unset Cognigy token) is the default. */
export function errorModeOf(headers: Record<string, string | undefined> | null | undefined): ErrorMode {
  let value: string | undefined;
  for (const [name, v] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === BRIDGE_ERRORS_HEADER.name) value = v;
  }
  const mode = (value ?? '').trim().toLowerCase();
  if (mode === '') return 'status';
  if (mode === 'body' || mode === 'status') return mode;
  const message = `${BRIDGE_ERRORS_HEADER.name} must be ${BRIDGE_ERRORS_HEADER.values.join(' or ')}`;
  throw new ValidationError(message, [{ path: BRIDGE_ERRORS_HEADER.name, code: 'INVALID_REQUEST', message }]);
}

/**
 * A business error (a 4xx answer whose `error.code` the catalogue lists as 4xx) answered as `200`, body unchanged,
 * the original status in `x-bridge-status`. Everything else (successes, 5xx, unknown shapes) is returned as it is.
 */
export function asBusinessAnswer(result: APIGatewayProxyResult): APIGatewayProxyResult {
  if (result.statusCode < 400 || result.statusCode > 499) return result;
  let body: unknown;
  try {
    body = JSON.parse(result.body);
  } catch {
    return result;
  }
  if (body === null || typeof body !== 'object') return result;
  const { ok, error } = body as { ok?: unknown; error?: { code?: unknown } | null };
  if (ok !== false || typeof error?.code !== 'string') return result;
  const spec = errorCodeSpec(error.code);
  if (!spec || spec.status < 400 || spec.status > 499) return result;
  return {
    ...result,
    statusCode: 200,
    headers: { ...result.headers, [BRIDGE_STATUS_HEADER]: String(result.statusCode) },
  };
}

/** The opt-in of the flow routes: runs after the error mapping, on successes and errors alike. */
function businessErrorsInBody(): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const apply = (request: middy.Request<APIGatewayProxyEvent, APIGatewayProxyResult>) => {
    if (!request.response) return;
    let mode: ErrorMode;
    try {
      mode = errorModeOf(request.event.headers);
    } catch {
      return; // the handler already answered 400 INVALID_REQUEST for the value
    }
    if (mode === 'body') request.response = asBusinessAnswer(request.response);
  };
  return {
    after: async (request) => apply(request),
    onError: async (request) => apply(request),
  };
}

/**
 * The middy chain every API route uses: header normalisation, security headers, Powertools logger context and
 * metrics, and the error mapping to `{ok:false,error:{code,message}}`; on the flow routes also the
 * `x-bridge-errors: body` opt-in (business errors as 200). The core stays free of API Gateway types.
 */
export function apiHandler(
  functionName: FunctionName,
  core: (request: ApiRequest, context: Context) => Promise<ApiResponse>,
  options: ApiHandlerOptions = {},
) {
  const route = ROUTES.find((r) => r.function === functionName);
  if (!route) throw new Error(`No route is declared for function ${functionName}`);
  const parseJson = options.parseJson ?? true;
  // The 8x8 webhooks authenticate themselves: their answers are counted as verified or refused (by reason).
  const webhook = route.auth === 'self';
  const flowRoute = route.auth === BRIDGE_ERRORS_HEADER.routes;
  const lambdaHandler = async (
    event: APIGatewayProxyEvent,
    context: Context,
  ): Promise<APIGatewayProxyResult> => {
    if (flowRoute) errorModeOf(event.headers);
    const request = toApiRequest(event, route.maxBodyBytes, parseJson);
    const response = await core(request, context);
    if (webhook) countWebhookAnswer(response.statusCode, response.body);
    return jsonResult(response.statusCode, response.body, response.headers);
  };
  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 }).use(
    httpHeaderNormalizer(),
  );
  // Used before the error mapping, so its after/onError run after it (middy runs them in reverse order).
  if (flowRoute) chain.use(businessErrorsInBody());
  return chain
    .use(httpSecurityHeaders())
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics))
    .use({
      onError: async (request) => {
        request.response = toErrorResponse(request.error, options.errorBodyExtra);
        if (webhook) {
          const { statusCode, body } = request.response;
          countWebhookAnswer(statusCode, JSON.parse(body) as Record<string, unknown>);
        }
      },
    })
    .use({
      // Before any other work (and before middlewares a route adds): an invalid setting answers 503 NOT_CONFIGURED
      // naming it, on every request until it is fixed.
      before: () => {
        try {
          checkSettingsOnce();
        } catch (error) {
          logger.error('Invalid setting: requests are refused until it is fixed', { error: error as Error });
          throw error;
        }
      },
    })
    .handler(lambdaHandler);
}
