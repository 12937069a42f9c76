/**
 * Production wiring of the SMS cores: AWS SDK clients, secrets and settings, built once per cold start (lazily,
 * on the first request, so importing a handler needs no environment). Locally the same clients reach the
 * embedded stand-ins through AWS_ENDPOINT_URL_* (lib/local).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queueUrl, tableName } from '../shared/config';
import { tracer } from '../shared/powertools';
import { loadSecret } from '../shared/secrets';
import type { AcceptDeps } from './accept';
import { cognigyInjector, type ReceiptInjector } from './cognigy-inject';
import type { DeliverDeps } from './deliver';
import { DynamoMessageStore } from './dynamo-message-store';
import { eightByEightSms } from './eight-by-eight-sms-client';
import { PowertoolsIdempotency } from './powertools-idempotency';
import type { ReceiptDeps } from './receipt';
import type { Clock, Ids } from './records';
import { loadSmsSettings } from './settings';
import { SqsSmsQueue } from './sqs-sms-queue';

/** Cognigy injections from the receipt webhook must finish well inside 8x8's webhook timeout. */
const INJECT_TIMEOUT_CAP_MS = 3_000;

export const systemClock: Clock = { now: () => new Date() };
export const uuidIds: Ids = { messageId: () => randomUUID(), batchId: () => randomUUID() };

function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

const dynamoClient = memo(() => tracer.captureAWSv3Client(new DynamoDBClient({})));
const documentClient = memo(() =>
  DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } }),
);
const sqsClient = memo(() => tracer.captureAWSv3Client(new SQSClient({})));
const messageStore = memo(() => new DynamoMessageStore(documentClient(), tableName('messages')));

function injector(): ReceiptInjector {
  const settings = loadSmsSettings();
  return cognigyInjector({
    defaultEndpointBaseUrl: async () => (await loadSecret('cognigy')).endpointBaseUrl,
    timeoutMs: Math.min(settings.upstreamTimeoutMs, INJECT_TIMEOUT_CAP_MS),
  });
}

export const acceptDeps = memo((): AcceptDeps & { idempotency: PowertoolsIdempotency } => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    queue: new SqsSmsQueue(sqsClient(), queueUrl('sms')),
    idempotency: new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: settings.idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
    clock: systemClock,
    ids: uuidIds,
    settings: { recordTtlDays: settings.recordTtlDays },
  };
});

export const statusDeps = memo(() => ({ store: messageStore() }));

export const receiptDeps = memo((): ReceiptDeps => ({
  store: messageStore(),
  clock: systemClock,
  webhookAuth: () => loadSecret('smsWebhookAuth'),
  injector: injector(),
}));

export const deliverDeps = memo((): DeliverDeps => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    sms: eightByEightSms,
    credentials: () => loadSecret('smsCredentials'),
    callbackTokenKey: async () => (await loadSecret('smsWebhookAuth')).callbackTokenKey,
    injector: injector(),
    clock: systemClock,
    settings: {
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      receiptMode: settings.receiptMode,
      ...(settings.publicBaseUrl && { publicBaseUrl: settings.publicBaseUrl }),
    },
  };
});
