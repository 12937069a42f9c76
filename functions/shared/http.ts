import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpSecurityHeaders from '@middy/http-security-headers';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ROUTES, type FunctionName } from './catalogue';
import { checkSettingsOnce } from './config';
import { assertNoControlCharacters, assertPlainParameters } from './control-characters';
import { BridgeError, JsonTooDeepError, MalformedJsonError, PayloadTooLargeError } from './errors';
import { logger, metrics } from './powertools';

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
}

export function errorBody(code: string, message: string, details?: unknown): Record<string, unknown> {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

/** Maps any error to the public `{ok:false,error}` shape; unexpected errors are logged, never echoed. */
export function toErrorResponse(error: unknown): APIGatewayProxyResult {
  if (error instanceof BridgeError) {
    return jsonResult(error.statusCode, errorBody(error.code, error.message, error.details));
  }
  logger.error('Unhandled error', { error: error as Error });
  return jsonResult(
    500,
    errorBody('INTERNAL_ERROR', 'The request could not be processed; it was not accepted'),
  );
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

/**
 * The middy chain every API route uses: header normalisation, security headers, Powertools logger context and
 * metrics, and the error mapping to `{ok:false,error:{code,message}}`. The core stays free of API Gateway types.
 */
export function apiHandler(
  functionName: FunctionName,
  core: (request: ApiRequest) => Promise<ApiResponse>,
  options: ApiHandlerOptions = {},
) {
  const route = ROUTES.find((r) => r.function === functionName);
  if (!route) throw new Error(`No route is declared for function ${functionName}`);
  const parseJson = options.parseJson ?? true;
  const lambdaHandler = async (
    event: APIGatewayProxyEvent,
    _context: Context,
  ): Promise<APIGatewayProxyResult> => {
    const request = toApiRequest(event, route.maxBodyBytes, parseJson);
    const response = await core(request);
    return jsonResult(response.statusCode, response.body, response.headers);
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
    .use(httpHeaderNormalizer())
    .use(httpSecurityHeaders())
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics))
    .use({
      onError: async (request) => {
        request.response = toErrorResponse(request.error);
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
