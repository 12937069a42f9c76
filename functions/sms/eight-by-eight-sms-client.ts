/**
 * 8x8 SMS API client (lib/simulators/contract/8x8/sms_api.json): single send and batch send under the sub-account, with a hard
 * timeout per call. Failures are UpstreamErrors classified by functions/shared/upstream.ts (429 rate limited with
 * Retry-After, 5xx/timeouts/resets transient, other 4xx permanent); 8x8's error body `{code, message, errorId}`
 * is kept on the error so records show 8x8's own code and reason.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { UpstreamError } from '../shared/errors';
import { metrics } from '../shared/powertools';
import type { SecretValue } from '../shared/secrets';
import type { NormalisedSmsRequest } from './records';
import { callUpstream, type UpstreamResponse } from '../shared/upstream';
import * as z from '../shared/zod';

export type SmsCredentials = SecretValue<'smsCredentials'>;

/** Body of 8x8's SmsRequest as we send it: the validated request's fields, with `encoding` optional. */
export type EightByEightSmsRequest = Omit<NormalisedSmsRequest, 'encoding'> &
  Partial<Pick<NormalisedSmsRequest, 'encoding'>>;

/** One SmsRequest of a batch: its text may come from the batch's template. */
export type EightByEightBatchMessage = Omit<EightByEightSmsRequest, 'text'> & { text?: string };

/** The batch `template` (SmsTemplateFull): properties shared by the batch's messages; 8x8 requires its text. */
export type EightByEightBatchTemplate = Pick<
  EightByEightSmsRequest,
  'text' | 'source' | 'encoding' | 'scheduled' | 'expiry' | 'dlrCallbackUrl'
>;

export interface EightByEightBatchRequest {
  messages: EightByEightBatchMessage[];
  template?: EightByEightBatchTemplate;
  includeMessagesInResponse: boolean;
  clientBatchId?: string;
}

const smsResponseSchema = z.looseObject({
  umid: z.nullish(z.string().check(z.minLength(1))),
  clientMessageId: z.nullish(z.string()),
  destination: z.nullish(z.string()),
  encoding: z.nullish(z.string()),
  status: z.looseObject({ code: z.string(), description: z.nullish(z.string()) }),
});
export type EightByEightSmsResponse = z.infer<typeof smsResponseSchema>;

const batchResponseSchema = z.looseObject({
  batchId: z.nullish(z.string()),
  clientBatchId: z.nullish(z.string()),
  acceptedCount: z.nullish(z.number()),
  rejectedCount: z.nullish(z.number()),
  messages: z.nullish(z.array(smsResponseSchema)),
});
export type EightByEightBatchResponse = z.infer<typeof batchResponseSchema>;

/** A failed 8x8 call with 8x8's own error fields, when its body had them. */
export class EightByEightSmsError extends UpstreamError {
  constructor(
    cause: UpstreamError,
    /** 8x8's `message`, e.g. "Invalid MSISDN format (not E.164 international number)". */
    readonly eightByEightMessage?: string,
    /** 8x8's `errorId`, for support tickets. */
    readonly errorId?: string,
  ) {
    super(
      cause.service,
      cause.kind,
      cause.message,
      cause.httpStatus,
      cause.upstreamCode,
      cause.retryAfterMs,
      { cause },
    );
    this.name = 'EightByEightSmsError';
  }

  /** The attempt may have reached 8x8: it timed out or the connection broke after the request could be sent. */
  get ambiguous(): boolean {
    if (this.httpStatus !== undefined) return false;
    if (this.upstreamCode === 'TIMEOUT') return true;
    // Refused connections and DNS failures never reached 8x8.
    const code = findCauseCode(this.cause);
    return !(code && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'].includes(code));
  }
}

/** 8x8 answered 2xx with a body we cannot read: it accepted the request, but we do not know its verdict. */
export class UnreadableAnswerError extends Error {
  constructor(readonly httpStatus: number) {
    super(`8x8 answered ${httpStatus} with a body that is not an SmsResponse`);
    this.name = 'UnreadableAnswerError';
  }
}

function findCauseCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$|^UND_ERR/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const errorBodySchema = z.looseObject({
  code: z.optional(z.union([z.number(), z.string()])),
  message: z.optional(z.string()),
  errorId: z.optional(z.string()),
});

function post(
  creds: SmsCredentials,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<UpstreamResponse> {
  return call(creds, 'POST', path, body, timeoutMs);
}

async function call(
  creds: SmsCredentials,
  method: 'POST' | 'DELETE',
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<UpstreamResponse> {
  const base = creds.baseUrl.replace(/\/+$/, '');
  const url = `${base}/api/v1/subaccounts/${encodeURIComponent(creds.subAccountId)}${path}`;
  let errorBody: z.infer<typeof errorBodySchema> | undefined;
  metrics.addMetric('8x8Calls', MetricUnit.Count, 1);
  const started = performance.now();
  try {
    return await callUpstream(
      '8x8-sms',
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${creds.apiKey}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
          accept: 'application/json',
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        timeoutMs,
      },
      (json) => {
        const parsed = errorBodySchema.safeParse(json);
        errorBody = parsed.success ? parsed.data : undefined;
        return errorBody?.code;
      },
    );
  } catch (error) {
    // 8x8's own answer to our request rate (the dashboard's 429 line); the worker waits or requeues (send-attempt.ts).
    if (error instanceof UpstreamError && error.httpStatus === 429) {
      metrics.addMetric('8x8RateLimited', MetricUnit.Count, 1);
    }
    if (error instanceof UpstreamError) {
      throw new EightByEightSmsError(error, errorBody?.message?.slice(0, 500), errorBody?.errorId);
    }
    throw error;
  } finally {
    // Every call, answered or not (a timeout shows as UPSTREAM_TIMEOUT_MS): the dashboard's 8x8 latency.
    metrics.addMetric('8x8Latency', MetricUnit.Milliseconds, Math.round(performance.now() - started));
  }
}

/** POST /api/v1/subaccounts/{subAccountId}/messages */
export async function sendSms(
  creds: SmsCredentials,
  request: EightByEightSmsRequest,
  timeoutMs: number,
): Promise<EightByEightSmsResponse> {
  const response = await post(creds, '/messages', request, timeoutMs);
  const parsed = smsResponseSchema.safeParse(response.json);
  if (!parsed.success) throw new UnreadableAnswerError(response.status);
  return parsed.data;
}

/** POST /api/v1/subaccounts/{subAccountId}/messages/batch */
export async function sendSmsBatch(
  creds: SmsCredentials,
  batch: EightByEightBatchRequest,
  timeoutMs: number,
): Promise<EightByEightBatchResponse> {
  const response = await post(creds, '/messages/batch', batch, timeoutMs);
  const parsed = batchResponseSchema.safeParse(response.json);
  if (!parsed.success) throw new UnreadableAnswerError(response.status);
  return parsed.data;
}

const cancelResponseSchema = z.looseObject({ cancelledCount: z.number() });

/**
 * DELETE /api/v1/subaccounts/{subAccountId}/messages/{umid} (cancel-scheduled-message): cancels a scheduled SMS
 * 8x8 has not sent yet; the answer's cancelledCount is 0 when there was nothing left to cancel.
 */
export async function cancelScheduledSms(
  creds: SmsCredentials,
  umid: string,
  timeoutMs: number,
): Promise<{ cancelledCount: number }> {
  const response = await call(creds, 'DELETE', `/messages/${encodeURIComponent(umid)}`, undefined, timeoutMs);
  const parsed = cancelResponseSchema.safeParse(response.json);
  if (!parsed.success) throw new UnreadableAnswerError(response.status);
  return parsed.data;
}

/** DELETE /api/v1/subaccounts/{subAccountId}/messages/{umid}/pii (delete-pii): 202, 8x8 removes it shortly. */
export async function removeSmsPii(creds: SmsCredentials, umid: string, timeoutMs: number): Promise<void> {
  await call(creds, 'DELETE', `/messages/${encodeURIComponent(umid)}/pii`, undefined, timeoutMs);
}

/** The port DELETE /sms/{messageId} and …/pii use (tests pass a fake). */
export interface EightByEightSmsManagement {
  cancelScheduledSms(
    creds: SmsCredentials,
    umid: string,
    timeoutMs: number,
  ): Promise<{ cancelledCount: number }>;
  removeSmsPii(creds: SmsCredentials, umid: string, timeoutMs: number): Promise<void>;
}

export const eightByEightSmsManagement: EightByEightSmsManagement = { cancelScheduledSms, removeSmsPii };

/** The port the delivery worker uses (tests pass a fake). */
export interface EightByEightSms {
  sendSms(
    creds: SmsCredentials,
    request: EightByEightSmsRequest,
    timeoutMs: number,
  ): Promise<EightByEightSmsResponse>;
  sendSmsBatch(
    creds: SmsCredentials,
    batch: EightByEightBatchRequest,
    timeoutMs: number,
  ): Promise<EightByEightBatchResponse>;
}

export const eightByEightSms: EightByEightSms = { sendSms, sendSmsBatch };
