/**
 * Upstream HTTP calls over node:http / node:https through the AWS SDK's NodeHttpHandler, which every function
 * bundles and loads anyway. The global fetch (and Response/Headers) would load undici on the first call, which
 * costs a cold start about 20–30 ms of requiring and compiling; nothing in functions/ may use them.
 */
import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { addAbortSignal } from 'node:stream';
import { HttpRequest } from '@smithy/core/protocols';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { UpstreamError, type UpstreamFailureKind } from './errors';
import { systemClock, type Clock } from './runtime';

type Service = UpstreamError['service'];

/** Response headers; names are case-insensitive (the `get` of fetch's Headers, without undici). */
export interface UpstreamHeaders {
  get(name: string): string | null;
}

export interface UpstreamResponse {
  status: number;
  headers: UpstreamHeaders;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

export interface UpstreamRequest {
  method: string;
  /** Any case; when absent, a user-agent and an accept of any type are sent (fetch did likewise). */
  headers?: Record<string, string>;
  body?: string;
  /** Hard deadline for the whole call: connecting, sending, the answer's headers and its entire body. */
  timeoutMs: number;
  /** The time an HTTP-date Retry-After is measured from (default: the system clock). */
  clock?: Clock;
}

/**
 * Keep-alive agents like the SDK's, one pair per module (so per Lambda execution environment). LIFO reuses the
 * most recently used socket, the one least likely to have been closed by the server. An idle socket is closed
 * after 4 s (undici's default, below Node's 5 s server keep-alive), and idle sockets are unref'd by Node's agent,
 * so a pooled connection never holds a process (a test run, the local stack) open.
 */
const agentOptions = { keepAlive: true, scheduling: 'lifo', timeout: 4_000 } as const;
const handler = new NodeHttpHandler({
  httpAgent: new HttpAgent(agentOptions),
  httpsAgent: new HttpsAgent(agentOptions),
});

const USER_AGENT = 'cognigy-8x8-bridge';

/** Seconds or an HTTP date, as RFC 9110 allows; capped so a hostile value cannot park a message for hours. */
export function parseRetryAfterMs(value: string | null, nowMs: number, capMs = 900_000): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, capMs);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - nowMs), capMs);
}

/** 429 waits for Retry-After; 408, 425 and 5xx are transient; other 4xx are the caller's fault and permanent. */
export function classifyStatus(status: number): UpstreamFailureKind {
  if (status === 429) return 'rateLimited';
  if (status >= 500 || status === 408 || status === 425) return 'transient';
  return 'permanent';
}

/**
 * One upstream HTTP call with a hard timeout. Network failures, resets and timeouts become transient
 * UpstreamErrors; non-2xx answers become UpstreamErrors classified by status (see classifyStatus).
 */
export async function callUpstream(
  service: Service,
  url: string,
  init: UpstreamRequest,
  codeOf: (body: unknown) => string | number | undefined = (body) =>
    (body as { code?: string | number } | undefined)?.code,
): Promise<UpstreamResponse> {
  const { timeoutMs } = init;
  const signal = AbortSignal.timeout(timeoutMs);
  /**
   * A failure with no usable answer: a timeout when the deadline fired (decided on the signal, not the error's
   * name: NodeHttpHandler names resets such as ECONNRESET TimeoutError), otherwise a network failure.
   */
  const noAnswer = (cause: unknown, networkMessage: string, status?: number) =>
    signal.aborted
      ? new UpstreamError(
          service,
          'transient',
          `${service} did not answer within ${timeoutMs} ms`,
          undefined,
          'TIMEOUT',
          undefined,
          { cause },
        )
      : new UpstreamError(service, 'transient', networkMessage, status, 'NETWORK', undefined, { cause });
  let status: number;
  let headers: Record<string, string | undefined>;
  let body: IncomingMessage;
  try {
    ({
      response: { statusCode: status, headers, body },
    } = await handler.handle(toHttpRequest(url, init), {
      abortSignal: signal,
    }));
  } catch (error) {
    throw noAnswer(error, `${service} could not be reached`);
  }
  let text: string;
  try {
    text = await readText(body, headers['content-encoding'], signal);
  } catch (error) {
    throw noAnswer(error, `${service} closed the connection mid-answer`, status);
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const responseHeaders: UpstreamHeaders = { get: (name) => headers[name.toLowerCase()] ?? null };
  if (status >= 200 && status < 300) return { status, headers: responseHeaders, json, text };
  const kind = classifyStatus(status);
  const message =
    (json as { message?: unknown } | undefined)?.message &&
    typeof (json as { message: unknown }).message === 'string'
      ? ((json as { message: string }).message as string)
      : `HTTP ${status}`;
  throw new UpstreamError(
    service,
    kind,
    `${service} answered ${status}: ${message.slice(0, 300)}`,
    status,
    codeOf(json),
    kind === 'rateLimited'
      ? (parseRetryAfterMs(responseHeaders.get('retry-after'), (init.clock ?? systemClock).now().getTime()) ??
          1000)
      : undefined,
  );
}

/** Throws (a TypeError, as fetch did) on a URL that is not http(s); the caller reports it as unreachable. */
function toHttpRequest(url: string, init: UpstreamRequest): HttpRequest {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new TypeError(`Unsupported protocol ${target.protocol}`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['user-agent'] ??= USER_AGENT;
  headers['accept'] ??= '*/*';
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  return new HttpRequest({
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    // The query stays as written (HttpRequest.query would be re-encoded).
    path: `${target.pathname}${target.search}`,
    method: init.method,
    headers,
    body: init.body,
  });
}

/**
 * The whole body as UTF-8 (a leading BOM dropped, as fetch's text() does). The signal destroys the stream, so
 * the deadline covers a slow body too; a body cut short (the connection closed before its end) throws.
 */
async function readText(
  body: IncomingMessage,
  contentEncoding: string | undefined,
  signal: AbortSignal,
): Promise<string> {
  addAbortSignal(signal, body);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  if (!body.complete) throw new Error('The connection closed before the end of the answer');
  let bytes: Buffer = Buffer.concat(chunks);
  const encoding = contentEncoding?.trim().toLowerCase();
  if (bytes.length > 0 && encoding && encoding !== 'identity') bytes = await decode(bytes, encoding);
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * We send no accept-encoding, so a compressed answer is rare; zlib is loaded only for one. An unknown coding is
 * passed through as it came (so was it by fetch).
 */
async function decode(bytes: Buffer, encoding: string): Promise<Buffer> {
  const zlib = await import('node:zlib');
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(bytes);
  if (encoding === 'deflate') return zlib.inflateSync(bytes);
  if (encoding === 'br') return zlib.brotliDecompressSync(bytes);
  return bytes;
}
