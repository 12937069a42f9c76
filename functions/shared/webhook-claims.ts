/**
 * Once-only claims of 8x8 webhook deliveries in the shared idempotency table, next to the Powertools idempotency
 * records: the Chat Gateway webhook claims `chat-event#<eventId>` (functions/handover/event-dedupe.ts), the SMS
 * webhooks claim `sms-inbound#<umid>` (functions/sms/dynamo-inbound-dedupe.ts). 8x8 retries a delivery it got no
 * 2xx for, so a claim is what turns at-least-once deliveries into once-only queueing.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from './runtime';

/** Result of claiming a delivery id. */
export type ClaimResult =
  /** First delivery (or a stale or released claim taken over): go ahead and queue it. */
  | 'claimed'
  /** Already queued by an earlier delivery. */
  | 'duplicate'
  /** Another delivery of the same id is being queued right now. */
  | 'inProgress'
  /** The id was first received with another body. */
  | 'bodyMismatch';

/** Once-only bookkeeping per delivery id. */
export interface WebhookClaims {
  /**
   * Claims `id` for a delivery whose raw body hashes to `bodySha256`. `attributes` are stored on the item for
   * operators (never message text or phone numbers).
   */
  claim(
    id: string,
    info: { bodySha256: string; attributes?: Record<string, string | number> },
  ): Promise<ClaimResult>;
  /** Records that the delivery is on the queue, so later deliveries are answered as duplicates. */
  markQueued(id: string): Promise<void>;
  /** Gives the claim up after a failed enqueue, so 8x8's retry (same body) is processed; the body hash stays. */
  release(id: string): Promise<void>;
}

/** Where queueClaimed logs (a Powertools Logger, or a test's recorder). */
export interface ClaimLog {
  warn(message: string, context: Record<string, unknown>): void;
  error(message: string, context: Record<string, unknown>): void;
}

/**
 * The end of a claimed delivery, the same for every 8x8 webhook: `enqueue` it, then mark the claim QUEUED. If the
 * enqueue throws, the claim is released so 8x8's retry (same body) takes it over, and the error is returned for the
 * caller's 503; a release that fails too only waits for the claim's lock to expire. A mark that fails is only
 * logged: the delivery is queued, and the FIFO deduplication id drops a re-queue by a later retry.
 * `what` names the delivery in log lines, e.g. "8x8 event" or "Inbound SMS".
 */
export async function queueClaimed(
  claims: Pick<WebhookClaims, 'markQueued' | 'release'>,
  id: string,
  enqueue: () => Promise<unknown>,
  log: ClaimLog & { what: string; context: Record<string, unknown> },
): Promise<{ queued: true } | { queued: false; error: unknown }> {
  const { what, context } = log;
  try {
    await enqueue();
  } catch (error) {
    log.error(`${what} could not be queued; claim released, answered 503 for a retry`, {
      ...context,
      error: error as Error,
    });
    try {
      await claims.release(id);
    } catch (releaseError) {
      log.error(`${what} claim could not be released`, { ...context, error: releaseError as Error });
    }
    return { queued: false, error };
  }
  try {
    await claims.markQueued(id);
  } catch (error) {
    log.warn(`${what} queued but not marked; a retry may queue it again`, {
      ...context,
      error: error as Error,
    });
  }
  return { queued: true };
}

export interface DynamoWebhookClaimsOptions {
  /** Key prefix of the ids (Powertools records use `<function>#<hash>`), e.g. `chat-event#`. */
  keyPrefix: string;
  /** Seconds a queued id is remembered (DynamoDB TTL attribute `expiration`). */
  ttlSeconds: number;
  /** Milliseconds a claim blocks other deliveries of the same id; longer than the function timeout. */
  lockMs: number;
  clock: Clock;
}

/** SHA-256 (hex) of the raw body bytes: what ties a delivery id to the body first received with it. */
export function bodySha256(rawBody: string | Uint8Array): string {
  return createHash('sha256')
    .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
    .digest('hex');
}

/**
 * Claims in the idempotency table: item `{id: "<keyPrefix><id>", status, bodySha256, lockedUntil, expiration, …}`.
 *
 * A claim is PENDING until the delivery is queued (then QUEUED). It binds the id to the SHA-256 of the raw body,
 * so only a genuine retry (same bytes) counts as the same delivery. A PENDING claim older than `lockMs` (a function
 * that died mid-way) and a RELEASED one (the enqueue failed) may be taken over, but only by a delivery of the same
 * body, so no genuine delivery is refused forever and no other body slips in after a failure.
 */
export function dynamoWebhookClaims(
  doc: DynamoDBDocumentClient,
  table: string,
  options: DynamoWebhookClaimsOptions,
): WebhookClaims {
  const now = () => options.clock.now().getTime();
  const key = (id: string) => ({ id: `${options.keyPrefix}${id}` });
  return {
    async claim(id, info): Promise<ClaimResult> {
      const at = now();
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...info.attributes,
              ...key(id),
              status: 'PENDING',
              bodySha256: info.bodySha256,
              lockedUntil: at + options.lockMs,
              expiration: Math.floor(at / 1000) + options.ttlSeconds,
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
        new GetCommand({ TableName: table, Key: key(id), ConsistentRead: true }),
      );
      const stored = existing.Item;
      if (typeof stored?.bodySha256 === 'string' && stored.bodySha256 !== info.bodySha256)
        return 'bodyMismatch';
      return stored?.status === 'QUEUED' ? 'duplicate' : 'inProgress';
    },
    async markQueued(id) {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: key(id),
          UpdateExpression: 'SET #status = :queued REMOVE lockedUntil',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': 'QUEUED' },
        }),
      );
    },
    async release(id) {
      // The item (and its body hash) stays: 8x8's retry of the same body takes the claim over, any other body is
      // refused. Deleting it would let another body be the first to claim the id.
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: key(id),
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
