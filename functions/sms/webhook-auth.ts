/**
 * Authentication of 8x8's SMS webhooks (delivery receipts on /webhooks/8x8/sms, inbound SMS on
 * /webhooks/8x8/sms/inbound): 8x8 signs nothing, it sends the webhook's configured `httpAuthorization` as the
 * `Authorization` header. Both routes check it against the one `smsWebhookAuth` secret, with the same rotation
 * rules; receipts may instead carry a per-message callback token (SMS_RECEIPT_MODE=perMessage).
 *
 * The metric names keep the receipt webhook's (`SmsReceiptUnauthorized`, `SmsReceiptPreviousSecret`): they count
 * uses of the receipt Authorization secret, whichever route; the `service` dimension tells the function.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ApiRequest } from '../shared/http';
import { logger, metrics } from '../shared/powertools';
import { isValidCallbackToken, secretsEqual } from './callback-token';
import { SmsError } from './error-codes';

export interface WebhookAuth {
  authorization: string;
  callbackTokenKey?: string;
}

export interface WebhookAuthDeps {
  /** The receipt secret's AWSCURRENT value (cached). */
  webhookAuth: () => Promise<WebhookAuth>;
  /**
   * Rotation: the AWSPREVIOUS value (undefined when there is none), and AWSCURRENT read past the cache (undefined
   * when a re-read happened too recently). 8x8 keeps sending the old Authorization until its webhook is updated,
   * and a warm function may still hold the old value as current when 8x8 already sends the new one.
   */
  previousWebhookAuth?: () => Promise<WebhookAuth | undefined>;
  refreshedWebhookAuth?: () => Promise<WebhookAuth | undefined>;
}

export interface WebhookAuthOptions {
  /**
   * Whether a per-message callback token (`?messageId=…&token=…`) is a credential. Only for receipts: a token is
   * bound to one outbound SMS and proves nothing about an inbound one.
   */
  callbackToken: boolean;
  /** What the log line calls the refused delivery. */
  what: string;
}

/** Whether the request carries this secret version's Authorization value or a callback token made with its key. */
function authenticatedBy(
  request: ApiRequest,
  auth: WebhookAuth,
  options: WebhookAuthOptions,
): { byToken: boolean } | undefined {
  const header = request.headers.authorization;
  // Both checks run whatever the first says, each constant-time (secretsEqual hashes first).
  const byHeader = header !== undefined && secretsEqual(header, auth.authorization);
  const { messageId, token } = request.query;
  const byToken =
    options.callbackToken &&
    messageId !== undefined &&
    token !== undefined &&
    auth.callbackTokenKey !== undefined &&
    isValidCallbackToken(messageId, token, auth.callbackTokenKey);
  if (byHeader) return { byToken: false };
  return byToken ? { byToken: true } : undefined;
}

/**
 * AWSCURRENT first; during a rotation AWSPREVIOUS; then AWSCURRENT read past the cache (at most once per interval,
 * so a flood of bad credentials cannot turn into Secrets Manager calls). Throws 401 UNAUTHORIZED.
 */
export async function authenticateWebhook(
  request: ApiRequest,
  deps: WebhookAuthDeps,
  options: WebhookAuthOptions,
): Promise<{ byToken: boolean }> {
  const current = await deps.webhookAuth();
  let verdict = authenticatedBy(request, current, options);
  if (!verdict) {
    const previous = await deps.previousWebhookAuth?.();
    verdict = previous && authenticatedBy(request, previous, options);
    if (verdict) metrics.addMetric('SmsReceiptPreviousSecret', MetricUnit.Count, 1);
  }
  if (!verdict) {
    const refreshed = await deps.refreshedWebhookAuth?.();
    verdict = refreshed && authenticatedBy(request, refreshed, options);
  }
  if (verdict) return verdict;
  metrics.addMetric('SmsReceiptUnauthorized', MetricUnit.Count, 1);
  logger.warn(
    `${options.what} refused: no valid Authorization value${options.callbackToken ? ' or callback token' : ''}`,
    {
      hasAuthorization: !!request.headers.authorization,
      hasToken: !!request.query.token,
    },
  );
  throw new SmsError('UNAUTHORIZED', 'Missing or invalid credentials');
}
