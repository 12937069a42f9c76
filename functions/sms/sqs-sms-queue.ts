/** SmsQueue on the SMS queue: bodies are `{messageId}`, because the record is the source of truth. */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { logger } from '../shared/powertools';
import type { SmsQueue } from './records';

/** SQS takes at most 10 entries per SendMessageBatch. */
const SQS_BATCH_LIMIT = 10;

export class SqsSmsQueue implements SmsQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(messageIds: string[]): Promise<string[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < messageIds.length; i += SQS_BATCH_LIMIT)
      chunks.push(messageIds.slice(i, i + SQS_BATCH_LIMIT));
    const failed = await Promise.all(chunks.map((chunk) => this.sendChunk(chunk)));
    return failed.flat();
  }

  private async sendChunk(messageIds: string[]): Promise<string[]> {
    try {
      const result = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messageIds.map((messageId, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify({ messageId }),
          })),
        }),
      );
      const failed = (result.Failed ?? [])
        .map((entry) => messageIds[Number(entry.Id)])
        .filter((id): id is string => !!id);
      if (failed.length > 0) {
        logger.warn('SQS refused part of a batch', {
          failed: failed.length,
          codes: (result.Failed ?? []).map((f) => f.Code),
        });
      }
      return failed;
    } catch (error) {
      logger.error('Could not enqueue SMS', { count: messageIds.length, error: error as Error });
      return messageIds;
    }
  }
}
