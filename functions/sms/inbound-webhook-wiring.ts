/**
 * Production wiring of 8x8's inbound SMS webhook (functions/sms/inbound-webhook.ts) and of the receipt Authorization
 * check both SMS webhooks share. It adds only the receipt secret, the once-only claims and the smsInbound queue to
 * the shared clients (base-wiring.ts): no 8x8 or Cognigy client and no Powertools idempotency, so
 * sms-inbound-webhook neither bundles nor evaluates them (issue 13, cold starts). The receipt webhook's wiring
 * (wiring.ts) reuses both pieces.
 */
import { loadSmsSettings, queueUrl, tableName } from '../shared/config';
import { logger } from '../shared/powertools';
import { powertoolsTelemetry, systemClock } from '../shared/runtime';
import { loadPreviousSecret, loadSecret } from '../shared/secrets';
import { sqsSender } from '../shared/sqs';
import { documentClient, memo, sqsClient } from './base-wiring';
import { dynamoInboundDedupe } from './dynamo-inbound-dedupe';
import type { InboundSmsDeps, InboundWebhookDeps } from './inbound-webhook';
import type { WebhookAuthDeps } from './webhook-auth';

/** A cache-bypassing re-read of the receipt secret happens at most this often per function instance. */
const WEBHOOK_AUTH_REFRESH_INTERVAL_MS = 30_000;

/**
 * How long an inbound SMS claim blocks other deliveries of its umid: longer than the webhooks' 10 s function
 * timeout, so only a claim whose function died is taken over.
 */
export const INBOUND_CLAIM_LOCK_MS = 30_000;

/** The receipt secret (`smsWebhookAuth`) with rotation: AWSCURRENT, AWSPREVIOUS, AWSCURRENT re-read. */
export const webhookAuthDeps = /* @__PURE__ */ memo((): WebhookAuthDeps => {
  let lastRefresh = Number.NEGATIVE_INFINITY;
  return {
    webhookAuth: () => loadSecret('smsWebhookAuth'),
    previousWebhookAuth: () => loadPreviousSecret('smsWebhookAuth'),
    refreshedWebhookAuth: async () => {
      const now = systemClock.now().getTime();
      if (now - lastRefresh < WEBHOOK_AUTH_REFRESH_INTERVAL_MS) return undefined;
      lastRefresh = now;
      return loadSecret('smsWebhookAuth', { forceFetch: true });
    },
  };
});

export const inboundSmsDeps = /* @__PURE__ */ memo((): InboundSmsDeps => {
  const settings = loadSmsSettings();
  return {
    // Remembered as long as the SMS records: a umid is 8x8's id for good, and an item costs a few hundred bytes.
    claims: dynamoInboundDedupe(documentClient(), tableName('idempotency'), {
      ttlSeconds: settings.recordTtlDays * 86_400,
      lockMs: INBOUND_CLAIM_LOCK_MS,
      clock: systemClock,
    }),
    // Read when an inbound SMS is queued: the receipt webhook builds these deps for every receipt.
    queue: sqsSender(sqsClient(), () => queueUrl('smsInbound'), { log: logger }),
    clock: systemClock,
    telemetry: powertoolsTelemetry,
  };
});

export const inboundWebhookDeps = /* @__PURE__ */ memo((): InboundWebhookDeps => ({
  ...webhookAuthDeps(),
  ...inboundSmsDeps(),
}));
