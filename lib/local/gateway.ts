/**
 * The local API Gateway: a node:http server serving exactly the routes of the catalogue (functions/shared/catalogue.ts) as a REST
 * API with Lambda proxy integration would. It enforces what API Gateway enforces before a function runs — the
 * API keys of `apiKey` routes (one per tenant, each with its apiKeyId in the request context), usage-plan
 * throttling per key, the 10 MB payload limit — builds an
 * `APIGatewayProxyEvent` from the exact request bytes, and maps the function's answer (or failure) the same way.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ROUTES, type FunctionName, type RouteSpec } from '../../functions/shared/catalogue';
import { LOCAL_ACCOUNT_ID } from './constants';
import { LocalHttpServer } from './server';
import {
  catalogueHandlerLoader,
  functionTimeoutMs,
  invokeWithTimeout,
  type HandlerLoader,
  type LambdaHandler,
} from './lambda';
import { buildOpenApiDocument } from '../openapi';

/** API Gateway's hard limit on a request payload. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Bodies beyond the limit are read and discarded up to this size (so the client sees the 413), then cut off. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ThrottleSettings {
  /** Steady-state requests per second per API key (usage plan rateLimit). */
  rateLimit: number;
  /** Bucket size (usage plan burstLimit). */
  burstLimit: number;
}

/** API Gateway's account-level defaults (10,000 rps, burst 5,000): generous enough for the benchmark. */
export const DEFAULT_THROTTLE: ThrottleSettings = { rateLimit: 10_000, burstLimit: 5_000 };

/**
 * The apiKeyId the local gateway puts in `requestContext.identity.apiKeyId` for a key: derived from the key (like
 * API Gateway's, an id that is not the secret), so records name their owner without holding a key.
 */
export function localApiKeyId(apiKey: string): string {
  return `local-${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
}

/** Local-only pages the gateway serves beside the catalogue's routes (the console, lib/local/console/server.ts). */
export interface GatewayPages {
  /** Whether the path is the pages' own (they must never shadow a catalogue route). */
  handles(pathname: string): boolean;
  /** Answers the request; resolves with the HTTP status sent. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number>;
}

export interface GatewayOptions {
  /** The API key `apiKey` routes require in `x-api-key` (the default tenant's). */
  apiKey: string;
  /** Further accepted keys, one per tenant (env LOCAL_API_KEYS); each has its own id and throttle bucket. */
  apiKeys?: readonly string[];
  /** Route table; defaults to the catalogue. Tests inject their own. */
  routes?: RouteSpec[];
  /** Loads a function's handler; defaults to importing functions/<name>/handler.ts. */
  loadHandler?: HandlerLoader;
  /** Milliseconds a function may run before the invocation fails (default: FUNCTIONS[name].timeoutSeconds). */
  timeoutMs?: (functionName: FunctionName) => number;
  /** Builds the OpenAPI document served at GET /openapi.json; undefined → 404. Defaults to lib/openapi.ts. */
  loadOpenApi?: () => Promise<object | undefined>;
  throttle?: ThrottleSettings;
  maxPayloadBytes?: number;
  /** Requests wait for this before they are dispatched (the stack starts the gateway before the rest is ready). */
  ready?: Promise<unknown>;
  /** One line per request on the console (LOCAL_LOG_REQUESTS=1). */
  logRequests?: boolean;
  /** Report of unexpected failures (function threw, handler missing); defaults to silence. */
  onError?: (message: string, error: unknown) => void;
  stage?: string;
}

interface RouteMatch {
  route: RouteSpec;
  pathParameters: Record<string, string>;
}

type MatchResult =
  { kind: 'match'; match: RouteMatch } | { kind: 'wrongMethod'; allow: string[] } | { kind: 'none' };

/** Splits a path into segments, ignoring a trailing slash. */
function segments(path: string): string[] {
  return path.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
}

function isParam(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Resolves a request path against the route table like API Gateway's resource tree: a literal segment beats a
 * `{param}` at the same position (`/handover/eightByEight` wins over `/handover/{conversationId}`).
 */
export function matchRoute(routes: RouteSpec[], method: string, path: string): MatchResult {
  const requestSegments = segments(path);
  const candidates: { route: RouteSpec; score: number[]; params: Record<string, string> }[] = [];
  for (const route of routes) {
    const routeSegments = segments(route.path);
    if (routeSegments.length !== requestSegments.length) continue;
    const params: Record<string, string> = {};
    const score: number[] = [];
    let matches = true;
    for (let i = 0; i < routeSegments.length; i++) {
      const routeSegment = routeSegments[i] as string;
      const requestSegment = requestSegments[i] as string;
      if (isParam(routeSegment)) {
        if (requestSegment === '') {
          matches = false;
          break;
        }
        params[routeSegment.slice(1, -1)] = decodeSegment(requestSegment);
        score.push(0);
      } else if (routeSegment === requestSegment) {
        score.push(1);
      } else {
        matches = false;
        break;
      }
    }
    if (matches) candidates.push({ route, score, params });
  }
  if (candidates.length === 0) return { kind: 'none' };
  // The most specific resource wins: compare literal-vs-param position by position, left to right.
  candidates.sort((a, b) => {
    for (let i = 0; i < a.score.length; i++) {
      const diff = (b.score[i] ?? 0) - (a.score[i] ?? 0);
      if (diff !== 0) return diff;
    }
    return 0;
  });
  const bestPath = candidates[0]?.route.path;
  const resource = candidates.filter((c) => c.route.path === bestPath);
  const hit = resource.find((c) => c.route.method === method);
  if (hit) return { kind: 'match', match: { route: hit.route, pathParameters: hit.params } };
  return { kind: 'wrongMethod', allow: resource.map((c) => c.route.method) };
}

/** Usage-plan throttling: a token bucket per API key. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly settings: ThrottleSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = settings.burstLimit;
    this.updatedAt = now();
  }

  /** Takes one token; when none is left, says after how many seconds one will be. */
  take(): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const refill = ((now - this.updatedAt) / 1000) * this.settings.rateLimit;
    this.tokens = Math.min(this.settings.burstLimit, this.tokens + refill);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    const missing = 1 - this.tokens;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(missing / this.settings.rateLimit)) };
  }
}

class GatewayAnswer extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayAnswer';
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function defaultOpenApiLoader(): Promise<object | undefined> {
  return buildOpenApiDocument();
}

export class LocalGateway {
  private readonly routes: RouteSpec[];
  private readonly loadHandler: HandlerLoader;
  private readonly loadOpenApi: () => Promise<object | undefined>;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxPayloadBytes: number;
  private pages: GatewayPages | undefined;
  // Cognigy and the benchmark reuse connections; keep them a little longer than Node's 5 s default.
  private readonly http = new LocalHttpServer('The local gateway', (req, res) => void this.handle(req, res), {
    keepAliveTimeoutMs: 10_000,
  });

  constructor(private readonly options: GatewayOptions) {
    this.routes = options.routes ?? ROUTES;
    this.loadHandler = options.loadHandler ?? catalogueHandlerLoader();
    this.loadOpenApi = options.loadOpenApi ?? defaultOpenApiLoader;
    this.maxPayloadBytes = options.maxPayloadBytes ?? API_GATEWAY_MAX_PAYLOAD_BYTES;
  }

  get url(): string {
    return this.http.url;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  start(port = 0): Promise<string> {
    return this.http.start(port);
  }

  /**
   * Serves local-only pages (the console, lib/local/console/server.ts) beside the catalogue's routes, on paths no
   * route uses; they are answered before route matching.
   */
  mount(pages: GatewayPages): void {
    const shadowed = this.routes.filter((route) => pages.handles(route.path));
    if (shadowed.length > 0)
      throw new Error(`Local pages would shadow ${shadowed.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    this.pages = pages;
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now();
    const requestId = randomUUID();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://local');
    let status = 500;
    try {
      if (this.options.ready) {
        await this.options.ready.catch(() => {
          throw new GatewayAnswer(503, 'SERVICE_UNAVAILABLE', 'The local stack failed to start');
        });
      }
      status = await this.dispatch(req, res, method, url, requestId, startedAt);
    } catch (error) {
      const answer =
        error instanceof GatewayAnswer
          ? error
          : new GatewayAnswer(502, 'INTERNAL_ERROR', 'Internal server error');
      if (!(error instanceof GatewayAnswer))
        this.options.onError?.(`${method} ${url.pathname} failed`, error);
      status = answer.status;
      await drainIfNeeded(req);
      sendError(res, answer, requestId);
    } finally {
      if (this.options.logRequests) {
        console.log(`${method} ${url.pathname} → ${status} (${Date.now() - startedAt} ms)`);
      }
    }
  }

  /** Returns the status sent. Gateway-level refusals are thrown as GatewayAnswer. */
  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    requestId: string,
    startedAt: number,
  ): Promise<number> {
    if (this.pages?.handles(url.pathname)) return this.pages.handle(req, res, url);
    if (url.pathname === '/openapi.json') {
      if (method !== 'GET') throw new GatewayAnswer(405, 'METHOD_NOT_ALLOWED', 'Use GET', { allow: 'GET' });
      const document = await this.loadOpenApi();
      if (!document) throw new GatewayAnswer(404, 'ROUTE_NOT_FOUND', 'No OpenAPI document is available');
      // The document describes the deployed API; here it is served by this gateway, so point tools at it.
      const local = { ...document, servers: [{ url: this.url, description: 'Local stack (npm start)' }] };
      const body = JSON.stringify(local, null, 2);
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'x-amzn-requestid': requestId,
      });
      res.end(body);
      return 200;
    }

    const result = matchRoute(this.routes, method, url.pathname);
    if (result.kind === 'none') {
      throw new GatewayAnswer(404, 'ROUTE_NOT_FOUND', `No route for ${method} ${url.pathname}`);
    }
    if (result.kind === 'wrongMethod') {
      throw new GatewayAnswer(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`, {
        allow: result.allow.join(', '),
      });
    }
    const { route, pathParameters } = result.match;

    const body = await this.readBody(req);

    const apiKey = headerValue(req, 'x-api-key');
    if (route.auth === 'apiKey') {
      if (apiKey === undefined || !this.knownKey(apiKey)) {
        throw new GatewayAnswer(403, 'FORBIDDEN', 'Missing or invalid API key');
      }
      this.throttle(apiKey);
    }

    const event = buildProxyEvent({
      req,
      url,
      route,
      pathParameters,
      body,
      requestId,
      startedAt,
      stage: this.options.stage ?? 'local',
      apiKey: route.auth === 'apiKey' ? (apiKey ?? null) : null,
    });
    let handler: LambdaHandler;
    try {
      handler = await this.loadHandler(route.function);
    } catch (error) {
      this.options.onError?.(`Could not load ${route.function}`, error);
      throw new GatewayAnswer(502, 'INTERNAL_ERROR', 'Internal server error');
    }
    const timeoutMs = this.options.timeoutMs?.(route.function) ?? functionTimeoutMs(route.function);
    let output: unknown;
    try {
      output = await invokeWithTimeout(route.function, handler, event, timeoutMs);
    } catch (error) {
      // API Gateway answers a failed Lambda invocation with 502 and no detail.
      this.options.onError?.(`${route.function} failed`, error);
      throw new GatewayAnswer(502, 'INTERNAL_ERROR', 'Internal server error');
    }
    const proxyResult = asProxyResult(output);
    if (!proxyResult) {
      this.options.onError?.(`${route.function} returned a malformed proxy response`, output);
      throw new GatewayAnswer(502, 'INTERNAL_ERROR', 'Internal server error');
    }
    writeProxyResult(res, proxyResult, requestId);
    return proxyResult.statusCode;
  }

  /** Compares with every key (constant time each), so the time taken does not tell which key was close. */
  private knownKey(given: string): boolean {
    let known = false;
    for (const key of [this.options.apiKey, ...(this.options.apiKeys ?? [])]) {
      if (sameSecret(given, key)) known = true;
    }
    return known;
  }

  private throttle(apiKey: string): void {
    const settings = this.options.throttle ?? DEFAULT_THROTTLE;
    let bucket = this.buckets.get(apiKey);
    if (!bucket) {
      bucket = new TokenBucket(settings);
      this.buckets.set(apiKey, bucket);
    }
    const taken = bucket.take();
    if (!taken.allowed) {
      throw new GatewayAnswer(429, 'TOO_MANY_REQUESTS', 'Too many requests', {
        'retry-after': String(taken.retryAfterSeconds),
      });
    }
  }

  /** Reads the exact body bytes; over the payload limit the rest is discarded and the request refused with 413. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const tooLarge = () =>
      new GatewayAnswer(
        413,
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than ${this.maxPayloadBytes} bytes`,
      );
    if (Number.isFinite(declared) && declared > this.maxPayloadBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.maxPayloadBytes) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
}

/** Consumes what is left of a refused request so the client reads the answer instead of a reset connection. */
async function drainIfNeeded(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return;
  let discarded = 0;
  try {
    for await (const chunk of req) {
      discarded += (chunk as Buffer).length;
      if (discarded > DISCARD_LIMIT_BYTES) {
        req.destroy();
        return;
      }
    }
  } catch {
    // The client went away; nothing to answer.
  }
}

function headerValue(req: Pick<IncomingMessage, 'headers'>, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** What the proxy event is made of from the HTTP request (an IncomingMessage, or lib/evidence/events.ts's). */
export type ProxyEventRequest = Pick<IncomingMessage, 'rawHeaders' | 'headers' | 'httpVersion'> & {
  socket: { remoteAddress?: string | undefined };
};

export interface EventInput {
  req: ProxyEventRequest;
  url: URL;
  route: RouteSpec;
  pathParameters: Record<string, string>;
  body: Buffer;
  requestId: string;
  startedAt: number;
  stage: string;
  apiKey: string | null;
}

/** The REST API (v1) Lambda proxy event, with header names as sent and multi-value maps like API Gateway's. */
export function buildProxyEvent(input: EventInput): APIGatewayProxyEvent {
  const { req, url, route } = input;
  // Maps, then Object.fromEntries: own properties for any name, as JSON.parse gives API Gateway's event. Names like
  // `valueOf` or `__proto__` must not reach Object.prototype.
  const headerValues = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    headerValues.set(name, [...(headerValues.get(name) ?? []), req.rawHeaders[i + 1] as string]);
  }
  const queryValues = new Map<string, string[]>();
  for (const [name, value] of url.searchParams)
    queryValues.set(name, [...(queryValues.get(name) ?? []), value]);
  const last = (values: string[]) => values[values.length - 1] as string;
  const headers = Object.fromEntries([...headerValues].map(([name, values]) => [name, last(values)]));
  const multiValueHeaders = Object.fromEntries(headerValues);
  const query = Object.fromEntries([...queryValues].map(([name, values]) => [name, last(values)]));
  const multiQuery = Object.fromEntries(queryValues);
  const hasQuery = Object.keys(query).length > 0;
  const hasParams = Object.keys(input.pathParameters).length > 0;
  const sourceIp = (input.req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const requestTime = new Date(input.startedAt);
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: hasParams ? input.pathParameters : null,
    stageVariables: null,
    // Text as API Gateway passes it without binary media types; the bytes are kept exact for signature checks.
    body: input.body.length > 0 ? input.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: undefined,
      domainName: headerValue(req, 'host') ?? '127.0.0.1',
      domainPrefix: 'local',
      extendedRequestId: input.requestId,
      httpMethod: route.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: input.apiKey,
        apiKeyId: input.apiKey ? localApiKeyId(input.apiKey) : null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: headerValue(req, 'user-agent') ?? null,
        userArn: null,
      },
      path: `/${input.stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: input.requestId,
      requestTime: requestTime.toUTCString(),
      requestTimeEpoch: input.startedAt,
      resourceId: 'local',
      resourcePath: route.path,
      stage: input.stage,
    },
  };
}

function asProxyResult(output: unknown): APIGatewayProxyResult | undefined {
  if (output === null || typeof output !== 'object') return undefined;
  const result = output as Partial<APIGatewayProxyResult>;
  if (typeof result.statusCode !== 'number' || !Number.isInteger(result.statusCode)) return undefined;
  if (result.body !== undefined && typeof result.body !== 'string') return undefined;
  return result as APIGatewayProxyResult;
}

function writeProxyResult(res: ServerResponse, result: APIGatewayProxyResult, requestId: string): void {
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name.toLowerCase()] = values.map(String);
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  headers['x-amzn-requestid'] = requestId;
  headers['content-length'] = String(body.length);
  if (!headers['content-type']) headers['content-type'] = 'application/json';
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

function sendError(res: ServerResponse, answer: GatewayAnswer, requestId: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ ok: false, error: { code: answer.code, message: answer.message } });
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': answer.code,
    ...answer.headers,
  });
  res.end(body);
}
