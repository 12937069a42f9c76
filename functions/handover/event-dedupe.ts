/**
 * The webhook's once-only claims (the EventDedupeStore port of webhook.ts) in the shared idempotency table, next to
 * the Powertools idempotency records.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../shared/runtime';
import type { ClaimResult, EventDedupeStore } from './webhook';

/** Key prefix of webhook event ids in the shared idempotency table (Powertools records use `<function>#<hash>`). */
export const CHAT_EVENT_KEY_PREFIX = 'chat-event#';

export interface DynamoEventDedupeOptions {
  /** Seconds a processed event id is remembered (DynamoDB TTL attribute `expiration`). */
  ttlSeconds: number;
  /** Milliseconds a claim blocks other deliveries of the same event; longer than the function timeout. */
  lockMs: number;
  clock: Clock;
}

/**
 * Once-only claims in the idempotency table: item `{id: "chat-event#<eventId>", status, lockedUntil, expiration}`.
 * A claim is PENDING until the event is queued (then QUEUED); a PENDING claim older than `lockMs` (a function that
 * died mid-way) may be taken over, so no delivery is refused forever.
 */
export function dynamoEventDedupe(
  doc: DynamoDBDocumentClient,
  table: string,
  options: DynamoEventDedupeOptions,
): EventDedupeStore {
  const now = () => options.clock.now().getTime();
  const key = (eventId: string) => ({ id: `${CHAT_EVENT_KEY_PREFIX}${eventId}` });
  return {
    async claim(eventId, info): Promise<ClaimResult> {
      const at = now();
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...key(eventId),
              status: 'PENDING',
              lockedUntil: at + options.lockMs,
              expiration: Math.floor(at / 1000) + options.ttlSeconds,
              eventType: info.eventType,
              conversationId: info.conversationId,
              receivedAt: info.receivedAt,
            },
            ConditionExpression:
              'attribute_not_exists(id) OR (#status = :pending AND lockedUntil < :now) OR expiration < :nowSeconds',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':pending': 'PENDING',
              ':now': at,
              ':nowSeconds': Math.floor(at / 1000),
            },
          }),
        );
        return 'claimed';
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      const existing = await doc.send(
        new GetCommand({ TableName: table, Key: key(eventId), ConsistentRead: true }),
      );
      return existing.Item?.status === 'QUEUED' ? 'duplicate' : 'inProgress';
    },
    async markQueued(eventId) {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: key(eventId),
          UpdateExpression: 'SET #status = :queued REMOVE lockedUntil',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': 'QUEUED' },
        }),
      );
    },
    async release(eventId) {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: table,
            Key: key(eventId),
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pending': 'PENDING' },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
