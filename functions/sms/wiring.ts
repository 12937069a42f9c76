/**
 * Production wiring of the SMS cores: AWS SDK clients, secrets and settings, built once per cold start (lazily,
 * on the first request, so importing a handler needs no environment). Locally the same clients reach the
 * embedded stand-ins through AWS_ENDPOINT_URL_* (lib/local).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadSmsSettings, queueUrl, tableName } from '../shared/config';
import { mathRandom, powertoolsTelemetry, systemClock, uuidIds } from '../shared/runtime';
import { cognigyEndpoint } from '../shared/cognigy-client';
import { loadPreviousSecret, loadSecret } from '../shared/secrets';
import { logger } from '../shared/powertools';
import { sqsSender, type QueueSender } from '../shared/sqs';
import type { AcceptDeps } from './accept';
import { cognigyInjector, type ReceiptInjector } from './cognigy-inject';
import type { DeliverDeps } from './ports';
import { DynamoMessageStore } from './dynamo-message-store';
import { DynamoPacerStore } from './dynamo-pacer-store';
import { eightByEightSms, eightByEightSmsManagement } from './eight-by-eight-sms-client';
import type { ManageDeps } from './manage';
import { Pacer } from './pacer';
import { PowertoolsIdempotency } from './powertools-idempotency';
import type { ReceiptDeps } from './receipt';
import { RateLimitGate } from './rate-limit';
import type { SmsQueue } from './records';
import type { SweepDeps } from './sweeper';

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

/**
 * Built on first use and kept. Calls are marked pure so esbuild drops the wiring a function never uses (sms-status
 * then bundles no SQS client).
 */
function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

// No X-Ray SDK capture of the clients: it cost ~115 KB of bundle and ~250 ms of cold start (bin/bench.ts); the
// function's own segment still comes from Lambda's active tracing (lib/constructs/bridge-function.ts).
const dynamoClient = /* @__PURE__ */ memo(() => new DynamoDBClient({}));
const documentClient = /* @__PURE__ */ memo(() =>
  DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } }),
);
const sqsClient = /* @__PURE__ */ memo(() => new SQSClient({}));
const messageStore = /* @__PURE__ */ memo(
  () => new DynamoMessageStore(documentClient(), tableName('messages')),
);

/** SmsQueue over the shared SQS sender: bodies are `{messageId}`, because the record is the source of truth. */
export function smsQueue(sender: QueueSender): SmsQueue {
  return {
    enqueue: (messageIds) =>
      sender.send(messageIds.map((messageId) => ({ key: messageId, body: { messageId } }))),
  };
}

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

export const acceptDeps = /* @__PURE__ */ memo((): AcceptDeps & { idempotency: PowertoolsIdempotency } => {
  const settings = loadSmsSettings();
  const smsQueueUrl = queueUrl('sms');
  return {
    store: messageStore(),
    queue: smsQueue(sqsSender(sqsClient(), () => smsQueueUrl, { log: logger })),
    idempotency: new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: settings.idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
    clock: systemClock,
    ids: uuidIds,
    settings: {
      recordTtlDays: settings.recordTtlDays,
      allowLoopbackUrls: settings.allowLoopbackUrls,
      idempotencyTtlSeconds: settings.idempotencyTtlSeconds,
      idempotencyWaitMs: settings.idempotencyWaitMs,
    },
  };
});

export const sweepDeps = /* @__PURE__ */ memo((): SweepDeps => {
  const settings = loadSmsSettings();
  const smsQueueUrl = queueUrl('sms');
  return {
    store: messageStore(),
    queue: smsQueue(sqsSender(sqsClient(), () => smsQueueUrl, { log: logger })),
    clock: systemClock,
    telemetry: powertoolsTelemetry,
    settings: { sweepAgeSeconds: settings.sweepAgeSeconds, sweepBatchSize: settings.sweepBatchSize },
  };
});

export const statusDeps = /* @__PURE__ */ memo(() => ({ store: messageStore() }));

/** DELETE /sms/{messageId}: no idempotency table (its grants have none). */
export const cancelDeps = /* @__PURE__ */ memo((): ManageDeps => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    eightByEight: eightByEightSmsManagement,
    credentials: () => loadSecret('smsCredentials'),
    clock: systemClock,
    telemetry: powertoolsTelemetry,
    settings: { upstreamTimeoutMs: settings.upstreamTimeoutMs },
  };
});

/** DELETE /sms/{messageId}/pii: also the idempotency table, whose stored answers hold the destination. */
export const eraseDeps = /* @__PURE__ */ memo((): ManageDeps => {
  const settings = loadSmsSettings();
  return {
    ...cancelDeps(),
    idempotency: new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: settings.idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
  };
});

/** A cache-bypassing re-read of the receipt secret happens at most this often per function instance. */
const WEBHOOK_AUTH_REFRESH_INTERVAL_MS = 30_000;

export const receiptDeps = /* @__PURE__ */ memo((): ReceiptDeps => {
  let lastRefresh = Number.NEGATIVE_INFINITY;
  return {
    store: messageStore(),
    clock: systemClock,
    webhookAuth: () => loadSecret('smsWebhookAuth'),
    previousWebhookAuth: () => loadPreviousSecret('smsWebhookAuth'),
    refreshedWebhookAuth: async () => {
      const now = systemClock.now().getTime();
      if (now - lastRefresh < WEBHOOK_AUTH_REFRESH_INTERVAL_MS) return undefined;
      lastRefresh = now;
      return loadSecret('smsWebhookAuth', { forceFetch: true });
    },
    injector: injector(),
  };
});

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
