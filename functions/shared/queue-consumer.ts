import middy from '@middy/core';
import {
  BatchProcessor,
  EventType,
  SqsFifoPartialProcessor,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { QUEUES, maxReceiveCountEnv, type QueueName } from '../../lib/routes';
import { loadSettings, queueUrl } from './config';
import { UpstreamError } from './errors';
import { logger, metrics } from './powertools';

export interface RetryPolicy {
  /** First backoff step in seconds for transient failures. */
  baseDelaySeconds: number;
  /** Largest backoff in seconds (SQS allows up to 12 hours; keep it well under the retention period). */
  maxDelaySeconds: number;
}

export function retryPolicyFromSettings(): RetryPolicy {
  const settings = loadSettings();
  return { baseDelaySeconds: settings.retryBaseDelaySeconds, maxDelaySeconds: settings.retryMaxDelaySeconds };
}

/**
 * Seconds until the next attempt: Retry-After for 429, otherwise exponential backoff with full jitter
 * (AWS Architecture Blog, "Exponential Backoff and Jitter"), never below one second.
 */
export function retryDelaySeconds(
  error: unknown,
  receiveCount: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  if (error instanceof UpstreamError && error.kind === 'rateLimited' && error.retryAfterMs !== undefined) {
    return Math.min(policy.maxDelaySeconds, Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  }
  const ceiling = Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(1, Math.round(ceiling * random()));
}

export interface RecordContext {
  record: SQSRecord;
  /** 1 on the first delivery. */
  receiveCount: number;
  /** True when this is the last delivery before SQS moves the message to the DLQ. */
  lastAttempt: boolean;
}

export interface ConsumerOptions {
  queue: QueueName;
  /** Handles one record; throw to retry it (later, with backoff), return to delete it.
   * Permanent failures should be recorded by the handler and returned, not thrown. */
  handleRecord: (body: unknown, ctx: RecordContext) => Promise<void>;
  /** Called before a message's last failed attempt sends it to the DLQ, so its record can show `failed`. */
  onExhausted?: (body: unknown, error: unknown, ctx: RecordContext) => Promise<void>;
  sqs?: SQSClient;
  retryPolicy?: RetryPolicy;
}

let sharedSqs: SQSClient | undefined;

/**
 * An SQS consumer with partial batch responses (Powertools Batch; the FIFO processor stops at the first
 * failure so later messages of a group are not processed out of order). A retryable failure moves the
 * message's visibility to the backoff delay so SQS redelivers it then.
 */
export function queueConsumer(options: ConsumerOptions) {
  const spec = QUEUES[options.queue];
  const processor = spec.fifo ? new SqsFifoPartialProcessor() : new BatchProcessor(EventType.SQS);
  const policy = options.retryPolicy ?? retryPolicyFromSettings();
  const maxReceiveCount = Number(process.env[maxReceiveCountEnv(options.queue)] ?? spec.maxReceiveCount);

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    const ctx: RecordContext = { record, receiveCount, lastAttempt: receiveCount >= maxReceiveCount };
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      // A body we cannot read will never succeed: let it reach the DLQ quickly with its reason logged.
      logger.error('Queue message is not JSON', { messageId: record.messageId, queue: options.queue });
      throw new Error('Queue message is not JSON');
    }
    try {
      await options.handleRecord(body, ctx);
    } catch (error) {
      if (ctx.lastAttempt) {
        metrics.addMetric(`${options.queue}Exhausted`, 'Count', 1);
        await options.onExhausted?.(body, error, ctx);
      } else {
        await delayRedelivery(record, retryDelaySeconds(error, receiveCount, policy), options);
      }
      throw error;
    }
  };

  const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });

  return middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics))
    .handler(lambdaHandler);
}

async function delayRedelivery(record: SQSRecord, seconds: number, options: ConsumerOptions): Promise<void> {
  const sqs = options.sqs ?? (sharedSqs ??= new SQSClient({}));
  try {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl(options.queue),
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  } catch (error) {
    // The message still comes back after the queue's visibility timeout; only the backoff is lost.
    logger.warn('Could not set the retry delay', { messageId: record.messageId, error: error as Error });
  }
}
