/**
 * The pacer's shared bucket (functions/sms/pacer.ts) on the pacer table (pk `id`, TTL `expiresAt`):
 *
 * - `slot#<subAccountId>#<slot>`: `taken`, one conditional `ADD taken 1` per reservation (condition: below the
 *   slot's capacity), answering the new count (the caller's place in the slot).
 * - `rate#<subAccountId>`: the learnt rate after the last 429 (`rate`, `at`), written at most once per second by
 *   a conditional update.
 *
 * Cost per 8x8 call: one UpdateItem (1 write request unit, items < 1 KB) when the first slot tried has room, plus
 * one per full slot tried (a failed condition is still charged), bounded by MAX_TAKES_PER_RESERVATION and made
 * rare by each instance remembering the slots it saw full. Besides, per instance at most one eventually consistent
 * GetItem of the rate a second (0.5 read units), and one UpdateItem per 429. Slot items are written for ~100 ms
 * each, so no single item (partition) gets near DynamoDB's 1 000 writes/s per partition at 8x8's default 1 800
 * requests/s (at most 258 per slot: a second's 1 800 over its seven open slots, see slotCapacity).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LearntRate, PacerStore } from './pacer';

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

export class DynamoPacerStore implements PacerStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The bucket's scope: 8x8 counts requests per sub-account. */
    private readonly subAccountId: () => Promise<string>,
  ) {}

  async take(slot: number, capacity: number, expiresAtMs: number): Promise<number | undefined> {
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: `slot#${await this.subAccountId()}#${slot}` },
          UpdateExpression: 'SET #expiresAt = if_not_exists(#expiresAt, :expiresAt) ADD #taken :one',
          ConditionExpression: 'attribute_not_exists(#taken) OR #taken < :capacity',
          ExpressionAttributeNames: { '#taken': 'taken', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':capacity': capacity,
            ':expiresAt': Math.ceil(expiresAtMs / 1000),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const taken = result.Attributes?.taken;
      return typeof taken === 'number' ? taken : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async readRate(): Promise<LearntRate | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { id: `rate#${await this.subAccountId()}` } }),
    );
    const item = result.Item;
    return typeof item?.rate === 'number' && typeof item.at === 'number'
      ? { rate: item.rate, at: item.at }
      : undefined;
  }

  async lowerRate(next: LearntRate, holdSinceMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: `rate#${await this.subAccountId()}` },
          UpdateExpression: 'SET #rate = :rate, #at = :at, #expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#at) OR #at <= :holdSince',
          ExpressionAttributeNames: { '#rate': 'rate', '#at': 'at', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: {
            ':rate': next.rate,
            ':at': next.at,
            ':holdSince': holdSinceMs,
            // Recovered fully after 1 / RECOVERY_SHARE_PER_SECOND seconds; kept a day for the record.
            ':expiresAt': Math.ceil(next.at / 1000) + 86_400,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
