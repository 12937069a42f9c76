/**
 * `POST /handover/eightByEight`: 8x8 Chat Gateway v1.0 webhook events. The logic is in
 * functions/handover/webhook.ts; this file wires it to DynamoDB (once-only claims), SQS (the handoverInbound FIFO
 * queue), Secrets Manager (JWK URL, tenant) and the in-memory JWK cache kept across warm invocations.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { loadSettings, queueUrl, tableName } from '../shared/config';
import { apiHandler, type ApiRequest, type ApiResponse } from '../shared/http';
import { logger, metrics } from '../shared/powertools';
import { loadSecret } from '../shared/secrets';
import { inboundQueueIds, type InboundEnvelope } from '../handover/events';
import { httpJwkFetcher, JwkCache } from '../handover/jwk-cache';
import { WEBHOOK_HEADERS } from '../handover/signature';
import {
  handleChatGatewayWebhook,
  type ClaimResult,
  type EventDedupeStore,
  type InboundQueue,
} from '../handover/webhook';

/** Key prefix of webhook event ids in the shared idempotency table (Powertools records use `<function>#<hash>`). */
export const CHAT_EVENT_KEY_PREFIX = 'chat-event#';

export interface DynamoEventDedupeOptions {
  /** Seconds a processed event id is remembered (DynamoDB TTL attribute `expiration`). */
  ttlSeconds: number;
  /** Milliseconds a claim blocks other deliveries of the same event; longer than the function timeout. */
  lockMs: number;
  now?: () => number;
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
  const now = options.now ?? Date.now;
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

/** Sends envelopes to the handoverInbound FIFO queue: grouped by conversation, deduplicated by 8x8 event id. */
export function sqsInboundQueue(sqs: SQSClient, url: string): InboundQueue {
  return {
    async send(envelope: InboundEnvelope) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: JSON.stringify(envelope),
          ...inboundQueueIds(envelope),
        }),
      );
    },
  };
}

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const sqs = new SQSClient({});

const JWK_FETCH_TIMEOUT_MS = 2_500;

/** One JWK cache per warm function, rebuilt when the secret's JWK URL or tenant changes (rotation/reconfiguration). */
let jwkCache: { urlTemplate: string; tenant: string | undefined; cache: JwkCache } | undefined;

function jwkCacheFor(urlTemplate: string, tenant: string | undefined, timeoutMs: number): JwkCache {
  if (!jwkCache || jwkCache.urlTemplate !== urlTemplate || jwkCache.tenant !== tenant) {
    jwkCache = {
      urlTemplate,
      tenant,
      cache: new JwkCache({ fetchJwk: httpJwkFetcher({ urlTemplate, timeoutMs, tenant }) }),
    };
  }
  return jwkCache.cache;
}

/** Forgets the cached keys (tests use it to start from a cold function). */
export function resetJwkCache(): void {
  jwkCache = undefined;
}

async function core(request: ApiRequest): Promise<ApiResponse> {
  const settings = loadSettings();
  // The secret is only needed for signed deliveries; an unsigned Test Connection works before it is configured.
  const secret = request.headers[WEBHOOK_HEADERS.signature]
    ? await loadSecret('chatGatewayCredentials')
    : undefined;
  // Up to 3 JWK attempts must fit in the function's 10 s timeout, so each gets at most 2.5 s.
  const jwkTimeoutMs = Math.min(settings.upstreamTimeoutMs, JWK_FETCH_TIMEOUT_MS);
  const keys = secret ? jwkCacheFor(secret.jwkUrl, secret.tenant, jwkTimeoutMs) : undefined;
  return handleChatGatewayWebhook(request, {
    getKey: async (kid) => {
      if (!keys) throw new Error('Signing keys requested without the Chat Gateway secret');
      return keys.getKey(kid);
    },
    dedupe: dynamoEventDedupe(doc, tableName('idempotency'), {
      ttlSeconds: settings.recordTtlDays * 86_400,
      lockMs: 30_000,
    }),
    queue: sqsInboundQueue(sqs, queueUrl('handoverInbound')),
    maxAgeMs: settings.webhookMaxAgeMs,
    acceptUnsignedVerify: settings.acceptUnsignedVerify,
    expectedTenantId: secret?.tenant,
    log: logger,
    count: (metric) => metrics.addMetric(metric, MetricUnit.Count, 1),
  });
}

export const handler = apiHandler('handover-webhook', core, { parseJson: false });
