/**
 * The webhook's once-only claims (the EventDedupeStore port of webhook.ts): the shared webhook claims
 * (functions/shared/webhook-claims.ts) keyed `chat-event#<eventId>` in the idempotency table.
 *
 * The claim binds the event id to the SHA-256 of the raw body: 8x8 signs only the CRC32 of the body, so a captured
 * signature also verifies any other body with the same CRC32, and only the stored hash tells a genuine retry (same
 * bytes) from a forged body.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../shared/runtime';
import { dynamoWebhookClaims } from '../shared/webhook-claims';
import type { EventDedupeStore } from './webhook';

/** Key prefix of webhook event ids in the shared idempotency table (Powertools records use `<function>#<hash>`). */
export const CHAT_EVENT_KEY_PREFIX = 'chat-event#';

export interface DynamoEventDedupeOptions {
  /** Seconds a processed event id is remembered (DynamoDB TTL attribute `expiration`). */
  ttlSeconds: number;
  /** Milliseconds a claim blocks other deliveries of the same event; longer than the function timeout. */
  lockMs: number;
  clock: Clock;
}

/** Item `{id: "chat-event#<eventId>", status, bodySha256, lockedUntil, expiration, eventType, conversationId, receivedAt}`. */
export function dynamoEventDedupe(
  doc: DynamoDBDocumentClient,
  table: string,
  options: DynamoEventDedupeOptions,
): EventDedupeStore {
  const claims = dynamoWebhookClaims(doc, table, { keyPrefix: CHAT_EVENT_KEY_PREFIX, ...options });
  return {
    claim: (eventId, { bodySha256, eventType, conversationId, receivedAt }) =>
      claims.claim(eventId, { bodySha256, attributes: { eventType, conversationId, receivedAt } }),
    markQueued: (eventId) => claims.markQueued(eventId),
    release: (eventId) => claims.release(eventId),
  };
}
