import middy from '@middy/core';
import {
  BatchProcessor,
  EventType,
  SqsFifoPartialProcessorAsync,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { QUEUES, maxReceiveCountEnv, type QueueName } from './catalogue';
import { checkSettingsOnce, loadSettings, queueUrl } from './config';
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
  const ceiling = Math.min(
    policy.maxDelaySeconds,
    policy.baseDelaySeconds * 2 ** Math.max(0, receiveCount - 1),
  );
  return Math.max(1, Math.round(ceiling * random()));
}

export interface RecordContext<P = unknown> {
  record: SQSRecord;
  /** 1 on the first delivery. */
  receiveCount: number;
  /** True when this is the last delivery before SQS moves the message to the DLQ. */
  lastAttempt: boolean;
  /** What `prepareBatch` returned for this invocation's batch (undefined without the hook or when it failed). */
  prepared?: P;
}

/** One readable record of a batch, as `prepareBatch` sees it. */
export interface BatchItem {
  body: unknown;
  ctx: RecordContext;
}

export interface ConsumerOptions<P = unknown> {
  queue: QueueName;
  /** Handles one record; throw to retry it (later, with backoff), return to delete it.
   * Permanent failures should be recorded by the handler and returned, not thrown. */
  handleRecord: (body: unknown, ctx: RecordContext<P>) => Promise<void>;
  /** Called before a message's last failed attempt sends it to the DLQ, so its record can show `failed`. */
  onExhausted?: (body: unknown, error: unknown, ctx: RecordContext<P>) => Promise<void>;
  /**
   * Optional: runs once per invocation before any record is handled, with every record whose body is JSON, so a
   * consumer can do work for the whole batch at once (e.g. one upstream call for many messages). Its result reaches
   * each `handleRecord` as `ctx.prepared`. If it throws, the error is logged and records are handled without it.
   */
  prepareBatch?: (items: BatchItem[]) => Promise<P>;
  sqs?: SQSClient;
  retryPolicy?: RetryPolicy;
}

let sharedSqs: SQSClient | undefined;

/**
 * An SQS consumer with partial batch responses (Powertools Batch; the FIFO processor stops at the first
 * failure so later messages of a group are not processed out of order). A retryable failure moves the
 * message's visibility to the backoff delay so SQS redelivers it then.
 */
export function queueConsumer<P = unknown>(options: ConsumerOptions<P>) {
  const spec = QUEUES[options.queue];
  // Read on the first batch, not at import: invalid settings then fail batches (below), not the module's load.
  let policy = options.retryPolicy;
  const maxReceiveCount = Number(process.env[maxReceiveCountEnv(options.queue)] ?? spec.maxReceiveCount);

  const contextOf = (record: SQSRecord, prepared?: P): RecordContext<P> => {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    return { record, receiveCount, lastAttempt: receiveCount >= maxReceiveCount, prepared };
  };

  const prepare = async (records: SQSRecord[]): Promise<P | undefined> => {
    if (!options.prepareBatch) return undefined;
    const items: BatchItem[] = [];
    for (const record of records) {
      try {
        items.push({ body: JSON.parse(record.body), ctx: contextOf(record) });
      } catch {
        // Reported by the record handler.
      }
    }
    try {
      return await options.prepareBatch(items);
    } catch (error) {
      logger.error('Batch preparation failed; handling records one by one', {
        queue: options.queue,
        error: error as Error,
      });
      return undefined;
    }
  };

  const recordHandlerFor = (prepared: P | undefined, attempted?: Set<string>) => {
    return async (record: SQSRecord): Promise<void> => {
      attempted?.add(record.messageId);
      const ctx = contextOf(record, prepared);
      const receiveCount = ctx.receiveCount;
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
          policy ??= retryPolicyFromSettings();
          await delayRedelivery(record, retryDelaySeconds(error, receiveCount, policy), options);
        }
        throw error;
      }
    };
  };

  // A processor per invocation, like the prepared result: both belong to one batch (the local stack runs several
  // pollers against one handler in the same process).
  const lambdaHandler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // An invalid setting (named in the error) fails the whole batch before any record is touched: every message
    // stays in the queue, SQS redelivers it, and it succeeds once the setting is fixed (or waits in the DLQ).
    try {
      checkSettingsOnce();
    } catch (error) {
      logger.error('Invalid setting: no message of the batch is handled until it is fixed', {
        queue: options.queue,
        error: error as Error,
      });
      throw error;
    }
    const prepared = await prepare(event.Records ?? []);
    // The async FIFO processor (the plain one is sync-only and refuses processPartialResponse). skipGroupOnError:
    // a failing conversation holds back only its own later messages, not other groups in the batch.
    if (spec.fifo) {
      const attempted = new Set<string>();
      const response = await processPartialResponse(
        event,
        recordHandlerFor(prepared, attempted),
        new SqsFifoPartialProcessorAsync(),
        { context, throwOnFullBatchFailure: false, skipGroupOnError: true },
      );
      await releaseSkipped(event.Records ?? [], response, attempted, options);
      return response;
    }
    return processPartialResponse(event, recordHandlerFor(prepared), new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  };

  return middy<SQSEvent, SQSBatchResponse>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics))
    .handler(lambdaHandler);
}

async function delayRedelivery<P>(
  record: SQSRecord,
  seconds: number,
  options: ConsumerOptions<P>,
): Promise<void> {
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

/**
 * FIFO only: records skipped because an earlier record of their group failed are returned to the queue at once.
 * Left alone they would stay in flight for the queue's whole visibility timeout, and SQS delivers nothing of a
 * group while any of its messages is in flight, so the failed record's short backoff would become minutes. Made
 * visible, they wait behind the failed record (still in flight for its backoff) and come back after it, in order.
 */
async function releaseSkipped<P>(
  records: SQSRecord[],
  response: SQSBatchResponse,
  attempted: ReadonlySet<string>,
  options: ConsumerOptions<P>,
): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const skipped = records.filter((r) => failed.has(r.messageId) && !attempted.has(r.messageId));
  if (skipped.length === 0) return;
  const sqs = options.sqs ?? (sharedSqs ??= new SQSClient({}));
  try {
    // A Lambda batch holds at most 10 records, the most one ChangeMessageVisibilityBatch takes.
    const result = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl(options.queue),
        Entries: skipped.map((r, i) => ({
          Id: String(i),
          ReceiptHandle: r.receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    if (result.Failed?.length) {
      logger.warn('Could not return skipped records of a failed group', {
        queue: options.queue,
        failed: result.Failed.length,
      });
    }
  } catch (error) {
    // They still come back after the visibility timeout; only the wait is longer.
    logger.warn('Could not return skipped records of a failed group', {
      queue: options.queue,
      error: error as Error,
    });
  }
}
