/**
 * The inbound SMS webhook's once-only claims (InboundSmsDeps.claims): the shared webhook claims
 * (functions/shared/webhook-claims.ts) keyed `sms-inbound#<umid>` in the idempotency table, each bound to the
 * SHA-256 of the body first received with that umid. Items hold no phone number or text (only `receivedAt`).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../shared/runtime';
import { dynamoWebhookClaims, type WebhookClaims } from '../shared/webhook-claims';

/** Key prefix of inbound SMS umids in the shared idempotency table. */
export const SMS_INBOUND_KEY_PREFIX = 'sms-inbound#';

export function dynamoInboundDedupe(
  doc: DynamoDBDocumentClient,
  table: string,
  options: { ttlSeconds: number; lockMs: number; clock: Clock },
): WebhookClaims {
  return dynamoWebhookClaims(doc, table, { keyPrefix: SMS_INBOUND_KEY_PREFIX, ...options });
}
