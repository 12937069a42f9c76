/**
 * The SMS wiring every SMS function shares: the AWS SDK clients, the message store and the SMS queue, built on
 * first use and kept for the function instance; and the deps of the functions that need nothing more (sms-status,
 * sms-sweeper). It imports no secrets, no 8x8 or Cognigy client and no Powertools idempotency, so a function that
 * imports only this file neither bundles nor evaluates them (wiring.ts, accept-wiring.ts; issue 13).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadSmsSettings, queueUrl, tableName } from '../shared/config';
import { logger } from '../shared/powertools';
import { powertoolsTelemetry, systemClock } from '../shared/runtime';
import { sqsSender, type QueueSender } from '../shared/sqs';
import { DynamoMessageStore } from './dynamo-message-store';
import type { SmsQueue } from './records';
import type { SweepDeps } from './sweeper';

/**
 * Built on first use and kept. Calls are marked pure so esbuild drops the wiring a function never uses (sms-status
 * then bundles no SQS client).
 */
export function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

// No X-Ray SDK capture of the clients: it cost ~115 KB of bundle and ~250 ms of cold start (bin/bench.ts); the
// function's own segment still comes from Lambda's active tracing (lib/constructs/bridge-function.ts).
export const dynamoClient = /* @__PURE__ */ memo(() => new DynamoDBClient({}));
export const documentClient = /* @__PURE__ */ memo(() =>
  DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } }),
);
export const sqsClient = /* @__PURE__ */ memo(() => new SQSClient({}));
export const messageStore = /* @__PURE__ */ memo(
  () => new DynamoMessageStore(documentClient(), tableName('messages')),
);

/** SmsQueue over the shared SQS sender: bodies are `{messageId}`, because the record is the source of truth. */
export function smsQueue(sender: QueueSender): SmsQueue {
  return {
    enqueue: (messageIds) =>
      sender.send(messageIds.map((messageId) => ({ key: messageId, body: { messageId } }))),
  };
}

/** The SMS queue as the accepting paths and the sweeper send to it. */
export const smsQueueSender = /* @__PURE__ */ memo((): SmsQueue => {
  const smsQueueUrl = queueUrl('sms');
  return smsQueue(sqsSender(sqsClient(), () => smsQueueUrl, { log: logger }));
});

export const sweepDeps = /* @__PURE__ */ memo((): SweepDeps => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    queue: smsQueueSender(),
    clock: systemClock,
    telemetry: powertoolsTelemetry,
    settings: { sweepAgeSeconds: settings.sweepAgeSeconds, sweepBatchSize: settings.sweepBatchSize },
  };
});

export const statusDeps = /* @__PURE__ */ memo(() => ({ store: messageStore() }));
