/**
 * Production wiring of the SMS cores that reach beyond AWS (secrets, 8x8, Cognigy): the receipt webhook and the
 * delivery worker, built once per cold start (lazily, on the first request, so importing a handler needs no
 * environment). Locally the same clients reach the embedded stand-ins through AWS_ENDPOINT_URL_* (lib/local).
 *
 * Each function imports only its own piece of the wiring, so it neither bundles nor evaluates the others' (issue
 * 13, cold starts): base-wiring.ts has the AWS clients, the message store and the queue, and the deps of sms-status
 * and sms-sweeper; accept-wiring.ts adds Powertools idempotency for POST /sms and /sms/batch;
 * inbound-webhook-wiring.ts the receipt secret and the inbound SMS queueing (which receipts reuse); this file the
 * rest.
 */
import { loadSmsSettings, tableName } from '../shared/config';
import { mathRandom, powertoolsTelemetry, systemClock } from '../shared/runtime';
import { cognigyEndpoint } from '../shared/cognigy-client';
import { loadSecret } from '../shared/secrets';
import { logger } from '../shared/powertools';
import { cognigyInjector, type ReceiptInjector } from './cognigy-inject';
import type { DeliverDeps } from './ports';
import { documentClient, memo, messageStore } from './base-wiring';
import { DynamoPacerStore } from './dynamo-pacer-store';
import { eightByEightSms } from './eight-by-eight-sms-client';
import { inboundSmsDeps, webhookAuthDeps } from './inbound-webhook-wiring';
import { Pacer } from './pacer';
import type { ReceiptDeps } from './receipt';
import { RateLimitGate } from './rate-limit';

/**
 * An 8x8 429 is waited out inside the worker for up to this long (8x8 asks for about a second) before the SMS goes
 * back to the queue; well inside sms-deliver's 30 s timeout and the attempt lease (2 × upstream timeout + 10 s).
 */
const RATE_LIMIT_WAIT_MS = 5_000;

/**
 * An 8x8 call waits for its place in the pacer's bucket for up to this long before its SMS go back to the queue.
 * Batch calls wait before their attempts start (no lease held); with the call, a 429 wait and a single-send
 * fallback it stays inside sms-deliver's 30 s timeout, and a single send's wait inside its 20 s attempt lease.
 */
const PACE_WAIT_MS = 8_000;

/** Cognigy injections from the receipt webhook must finish well inside 8x8's webhook timeout. */
const INJECT_TIMEOUT_CAP_MS = 3_000;
/** A retried receipt injection waits longer, still inside sms-receipt's 10 s function timeout. */
const INJECT_RETRY_TIMEOUT_CAP_MS = 6_000;

// Kept where the code imported them from before the split.
export { smsQueue, statusDeps, sweepDeps } from './base-wiring';

function injector(): ReceiptInjector {
  const settings = loadSmsSettings();
  return cognigyInjector(
    cognigyEndpoint({
      defaultEndpointBaseUrl: async () => (await loadSecret('cognigy')).endpointBaseUrl,
      timeoutMs: Math.min(settings.upstreamTimeoutMs, INJECT_TIMEOUT_CAP_MS),
      retryTimeoutMs: Math.min(settings.cognigyRetryTimeoutMs, INJECT_RETRY_TIMEOUT_CAP_MS),
    }),
    powertoolsTelemetry,
  );
}

export const receiptDeps = /* @__PURE__ */ memo((): ReceiptDeps => ({
  ...webhookAuthDeps(),
  store: messageStore(),
  clock: systemClock,
  injector: injector(),
  inbound: inboundSmsDeps,
}));

/** The perMessage misconfiguration is reported once per container. */
let warnedAboutCallbacks = false;

export const deliverDeps = /* @__PURE__ */ memo((): DeliverDeps => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    sms: eightByEightSms,
    credentials: () => loadSecret('smsCredentials'),
    callbackTokenKey: async () => {
      const key = (await loadSecret('smsWebhookAuth')).callbackTokenKey;
      // Read only in perMessage mode: without a public base URL or key, receipts come through the account webhook.
      if ((!settings.publicBaseUrl || !key) && !warnedAboutCallbacks) {
        warnedAboutCallbacks = true;
        logger.error(
          'SMS_RECEIPT_MODE=perMessage needs PUBLIC_BASE_URL and smsWebhookAuth.callbackTokenKey; using the account webhook',
        );
      }
      return key;
    },
    injector: injector(),
    clock: systemClock,
    rateLimit: new RateLimitGate(systemClock, mathRandom),
    ...(settings.rateLimitPerSecond > 0 && {
      // One bucket per 8x8 sub-account, shared by every instance (and every stack using that sub-account).
      pacer: new Pacer(
        settings.rateLimitPerSecond,
        new DynamoPacerStore(
          documentClient(),
          tableName('pacer'),
          async () => (await loadSecret('smsCredentials')).subAccountId,
        ),
        systemClock,
        settings.pacerEdgeGuardMs,
      ),
    }),
    telemetry: powertoolsTelemetry,
    settings: {
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      rateLimitWaitMs: RATE_LIMIT_WAIT_MS,
      paceWaitMs: PACE_WAIT_MS,
      receiptMode: settings.receiptMode,
      ambiguousTimeoutPolicy: settings.ambiguousTimeoutPolicy,
      ...(settings.publicBaseUrl && { publicBaseUrl: settings.publicBaseUrl }),
    },
  };
});
