import { UpstreamError, type UpstreamFailureKind } from './errors';

type Service = UpstreamError['service'];

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

/** Seconds or an HTTP date, as RFC 9110 allows; capped so a hostile value cannot park a message for hours. */
export function parseRetryAfterMs(value: string | null, now = Date.now(), capMs = 900_000): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, capMs);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), capMs);
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
  init: RequestInit & { timeoutMs: number },
  codeOf: (body: unknown) => string | number | undefined = (body) =>
    (body as { code?: string | number } | undefined)?.code,
): Promise<UpstreamResponse> {
  const { timeoutMs, ...rest } = init;
  let response: Response;
  try {
    response = await fetch(url, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
    throw new UpstreamError(
      service,
      'transient',
      timedOut ? `${service} did not answer within ${timeoutMs} ms` : `${service} could not be reached`,
      undefined,
      timedOut ? 'TIMEOUT' : 'NETWORK',
      undefined,
      { cause: error },
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new UpstreamError(service, 'transient', `${service} closed the connection mid-answer`, response.status, 'NETWORK', undefined, { cause: error });
  }
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (response.ok) return { status: response.status, headers: response.headers, json, text };
  const kind = classifyStatus(response.status);
  const message =
    (json as { message?: unknown } | undefined)?.message && typeof (json as { message: unknown }).message === 'string'
      ? ((json as { message: string }).message as string)
      : `HTTP ${response.status}`;
  throw new UpstreamError(
    service,
    kind,
    `${service} answered ${response.status}: ${message.slice(0, 300)}`,
    response.status,
    codeOf(json),
    kind === 'rateLimited' ? parseRetryAfterMs(response.headers.get('retry-after')) ?? 1000 : undefined,
  );
}
