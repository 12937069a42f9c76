/**
 * The one SQS sender of the bridge: every function that enqueues (accepted SMS, the webhook's inbound events,
 * handover outbound work) goes through `sendToQueue`. It sends in chunks of 10 (SendMessageBatch's limit), retries
 * the entries SQS refused once, and returns the keys of the entries that still could not be queued, so the caller
 * decides what a refusal means (a 503 to the flow, a non-2xx to 8x8 so it retries).
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Log } from './runtime';

/** SQS takes at most 10 entries per SendMessageBatch. */
export const SQS_BATCH_LIMIT = 10;

/** Thrown when SQS did not take a message (the caller answers as it did for an SDK send failure). */
export class NotQueuedError extends Error {
  constructor(queue: string) {
    super(`SQS did not accept the message for ${queue}`);
    this.name = 'NotQueuedError';
  }
}

export interface QueueMessage {
  /** The caller's key for this message (returned when it could not be queued); never sent to SQS. */
  key: string;
  body: unknown;
  /** FIFO queues: ordering group and deduplication id. */
  groupId?: string;
  deduplicationId?: string;
}

export interface QueueSender {
  /** Sends every message; resolves with the keys of those that could NOT be queued (empty: all queued). */
  send(messages: QueueMessage[]): Promise<string[]>;
}

export interface SqsSenderOptions {
  /** Attempts per entry, the first included (default 2: one retry of the entries SQS refused). */
  attempts?: number;
  log?: Log;
}

export function sqsSender(
  sqs: SQSClient,
  queueUrl: () => string,
  options: SqsSenderOptions = {},
): QueueSender {
  const attempts = Math.max(1, options.attempts ?? 2);

  async function sendChunk(chunk: QueueMessage[]): Promise<string[]> {
    let pending = chunk;
    for (let attempt = 1; attempt <= attempts && pending.length > 0; attempt++) {
      const entries: SendMessageBatchRequestEntry[] = pending.map((message, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify(message.body),
        ...(message.groupId !== undefined && { MessageGroupId: message.groupId }),
        ...(message.deduplicationId !== undefined && { MessageDeduplicationId: message.deduplicationId }),
      }));
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl(), Entries: entries }),
        );
        const failed = result.Failed ?? [];
        if (failed.length > 0) {
          options.log?.warn('SQS refused part of a batch', {
            failed: failed.length,
            attempt,
            codes: failed.map((entry) => entry.Code),
          });
        }
        const refused = new Set(failed.map((entry) => Number(entry.Id)));
        pending = pending.filter((_, index) => refused.has(index));
      } catch (error) {
        // The SDK already retried the call itself; the whole chunk is still unsent.
        options.log?.error('Could not send to SQS', {
          count: pending.length,
          attempt,
          error: error as Error,
        });
      }
    }
    return pending.map((message) => message.key);
  }

  return {
    async send(messages) {
      const chunks: QueueMessage[][] = [];
      for (let i = 0; i < messages.length; i += SQS_BATCH_LIMIT)
        chunks.push(messages.slice(i, i + SQS_BATCH_LIMIT));
      return (await Promise.all(chunks.map(sendChunk))).flat();
    },
  };
}
