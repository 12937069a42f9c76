/**
 * The one HTTP client of the extension: calls the bridge with the connection's API key, Node's global fetch and a
 * timeout (AbortSignal.timeout). It never throws: every outcome is a BridgeAnswer a node can store and branch on.
 */

/** The fields of the "8x8 Bridge" connection. */
export interface BridgeConnection {
  baseUrl: string;
  apiKey: string;
}

/** What went wrong when the bridge gave no answer of its own; the bridge's own codes come from its answers. */
export const EXTENSION_ERROR_CODES = {
  BRIDGE_TIMEOUT: 'The bridge did not answer within the timeout',
  BRIDGE_UNREACHABLE: 'The bridge could not be reached (DNS, refused connection, TLS)',
  BRIDGE_BAD_ANSWER: 'The bridge answered with something that is not JSON',
  CONNECTION_INVALID: 'The 8x8 Bridge connection needs a base URL (http or https) and an API key',
  FIELD_MISSING: 'A field the node needs is empty',
} as const;
export type ExtensionErrorCode = keyof typeof EXTENSION_ERROR_CODES;

export interface BridgeError {
  code: string;
  message: string;
  details?: unknown;
}

/**
 * `ok`: a 2xx answer. `httpStatus` is null when no answer came (timeout, bridge down). `body` is the bridge's JSON;
 * for failures without one it is `{ok: false, error}` with an extension code, so a flow reads `error.code` alike.
 */
export interface BridgeAnswer {
  ok: boolean;
  httpStatus: number | null;
  body: Record<string, unknown>;
  error?: BridgeError;
}

/** Default of the nodes' timeout: Cognigy's HTTP Request node waits 8 s as well. */
export const DEFAULT_TIMEOUT_MS = 8_000;
const MAX_TIMEOUT_MS = 30_000;

export function failure(
  code: ExtensionErrorCode,
  message: string = EXTENSION_ERROR_CODES[code],
): BridgeAnswer {
  const error = { code, message };
  return { ok: false, httpStatus: null, body: { ok: false, error }, error };
}

/** The base URL without trailing slashes, or undefined when it is not an http(s) URL. */
function baseUrlOf(connection: Partial<BridgeConnection> | undefined): string | undefined {
  const raw = connection?.baseUrl?.trim();
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  } catch {
    return undefined;
  }
  return raw.replace(/\/+$/, '');
}

export function timeoutOf(value: unknown): number {
  const ms = typeof value === 'string' ? Number(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return DEFAULT_TIMEOUT_MS;
  return Math.min(Math.round(ms), MAX_TIMEOUT_MS);
}

/** AbortSignal.timeout's DOMException; checked by name, since it need not be an `Error` of this realm. */
function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

export interface BridgeRequest {
  method: 'GET' | 'POST';
  /** Path below the base URL, with its ids already URL-encoded, e.g. `/sms` or `/handover/abc/end`. */
  path: string;
  body?: unknown;
  timeoutMs: number;
}

export async function callBridge(
  connection: Partial<BridgeConnection> | undefined,
  request: BridgeRequest,
): Promise<BridgeAnswer> {
  const baseUrl = baseUrlOf(connection);
  const apiKey = connection?.apiKey?.trim();
  if (!baseUrl || !apiKey) return failure('CONNECTION_INVALID');
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: {
        accept: 'application/json',
        'x-api-key': apiKey,
        ...(request.body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    return isTimeout(error)
      ? failure('BRIDGE_TIMEOUT', `The bridge did not answer within ${request.timeoutMs} ms`)
      : failure('BRIDGE_UNREACHABLE', `The bridge could not be reached: ${reasonOf(error)}`);
  }
  let body: unknown;
  try {
    const text = await response.text();
    body = text === '' ? {} : JSON.parse(text);
  } catch (error) {
    if (isTimeout(error))
      return failure('BRIDGE_TIMEOUT', `The bridge did not finish its answer within ${request.timeoutMs} ms`);
    return { ...failure('BRIDGE_BAD_ANSWER'), httpStatus: response.status };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { ...failure('BRIDGE_BAD_ANSWER'), httpStatus: response.status };
  const record = body as Record<string, unknown>;
  const ok = response.status >= 200 && response.status < 300 && record.ok !== false;
  const error = ok ? undefined : errorOf(record, response.status);
  return { ok, httpStatus: response.status, body: record, ...(error && { error }) };
}

function errorOf(body: Record<string, unknown>, status: number): BridgeError {
  const error = body.error as Partial<BridgeError> | undefined;
  if (error && typeof error.code === 'string')
    return {
      code: error.code,
      message: String(error.message ?? ''),
      ...(error.details !== undefined && { details: error.details }),
    };
  return { code: `HTTP_${status}`, message: `The bridge answered HTTP ${status}` };
}

/** The low-level reason of a failed fetch (undici puts it in `cause`), without the URL or the key. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** A path segment as the bridge's routes take it. */
export const segment = (value: string): string => encodeURIComponent(value);
