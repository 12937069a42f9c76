/**
 * The webhook's once-only claims (the EventDedupeStore port of webhook.ts) in the shared idempotency table, next to
 * the Powertools idempotency records.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
 * Once-only claims in the idempotency table: item
 * `{id: "chat-event#<eventId>", status, bodySha256, lockedUntil, expiration}`.
 *
 * A claim is PENDING until the event is queued (then QUEUED). It binds the event id to the SHA-256 of the raw body:
 * 8x8 signs only the CRC32 of the body, so a captured signature also verifies any other body with the same CRC32,
 * and only the stored hash tells a genuine retry (same bytes) from a forged body. A PENDING claim older than
 * `lockMs` (a function that died mid-way) and a RELEASED one (the enqueue failed) may be taken over, but only by a
 * delivery of the same body, so no genuine delivery is refused forever and no forged one slips in after a failure.
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
              bodySha256: info.bodySha256,
              lockedUntil: at + options.lockMs,
              expiration: Math.floor(at / 1000) + options.ttlSeconds,
              eventType: info.eventType,
              conversationId: info.conversationId,
              receivedAt: info.receivedAt,
            },
            // A claim from before body hashes were stored (no bodySha256) may be taken over as it always could.
            ConditionExpression:
              'attribute_not_exists(id) OR expiration < :nowSeconds OR ' +
              '((bodySha256 = :hash OR attribute_not_exists(bodySha256)) AND ' +
              '(#status = :released OR (#status = :pending AND lockedUntil < :now)))',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':pending': 'PENDING',
              ':released': 'RELEASED',
              ':hash': info.bodySha256,
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
      const stored = existing.Item;
      if (typeof stored?.bodySha256 === 'string' && stored.bodySha256 !== info.bodySha256)
        return 'bodyMismatch';
      return stored?.status === 'QUEUED' ? 'duplicate' : 'inProgress';
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
      // The item (and its body hash) stays: 8x8's retry of the same body takes the claim over, any other body is
      // refused. Deleting it would let a forged body with a captured signature be the first to claim the id.
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: key(eventId),
            UpdateExpression: 'SET #status = :released REMOVE lockedUntil',
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pending': 'PENDING', ':released': 'RELEASED' },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
