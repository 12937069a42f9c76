/**
 * The one composition root of the handover domain: the ports wired to AWS and HTTP for the Lambda handlers, one set
 * per function instance, built on first use so a function only touches the tables, queues and secrets it has rights
 * to (functions/shared/catalogue.ts FUNCTIONS).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { cognigyEndpoint, type CognigyEndpoint } from '../shared/cognigy-client';
import { loadSettings, queueUrl, tableName, type Settings } from '../shared/config';
import { logger } from '../shared/powertools';
import {
  powertoolsTelemetry,
  systemClock,
  uuidIds,
  type Clock,
  type Ids,
  type Telemetry,
} from '../shared/runtime';
import { loadSecret } from '../shared/secrets';
import { sqsSender, type QueueSender } from '../shared/sqs';
import { chatGatewayClient } from './chat-gateway-client';
import { dynamoEventDedupe } from './event-dedupe';
import { inboundQueueIds, type InboundEnvelope } from './events';
import { httpJwkFetcher, JwkCache } from './jwk-cache';
import { type ChatGateway, type OutboundQueue } from './ports';
import type { HandoverRules } from './rules';
import type { CognigyConfig } from './start';
import { DynamoConversationStore, DynamoSessionClaims } from './store';
import type { InboundQueue, WebhookDeps } from './webhook';

/** Thrown when SQS did not take a message (the caller answers as it did for an SDK send failure). */
export class NotQueuedError extends Error {
  constructor(queue: string) {
    super(`SQS did not accept the message for ${queue}`);
    this.name = 'NotQueuedError';
  }
}

/** The handoverOutbound FIFO queue over the shared SQS sender; a message not queued is thrown. */
export function outboundQueue(sender: QueueSender): OutboundQueue {
  return {
    async send(item, ids) {
      const notQueued = await sender.send([
        { key: item.itemId, body: item, groupId: ids.groupId, deduplicationId: ids.deduplicationId },
      ]);
      if (notQueued.length > 0) throw new NotQueuedError('handoverOutbound');
    },
  };
}

/** The handoverInbound FIFO queue over the shared SQS sender: grouped by conversation, deduplicated by 8x8 event id. */
export function inboundQueue(sender: QueueSender): InboundQueue {
  return {
    async send(envelope: InboundEnvelope) {
      const ids = inboundQueueIds(envelope);
      const notQueued = await sender.send([
        {
          key: envelope.eventId,
          body: envelope,
          groupId: ids.MessageGroupId,
          deduplicationId: ids.MessageDeduplicationId,
        },
      ]);
      if (notQueued.length > 0) throw new NotQueuedError('handoverInbound');
    },
  };
}

export const cognigySecret = (): Promise<CognigyConfig> => loadSecret('cognigy');

export interface HandoverRuntime {
  settings: Settings;
  rules: HandoverRules;
  clock: Clock;
  ids: Ids;
  telemetry: Telemetry;
  store: DynamoConversationStore;
  sessions: DynamoSessionClaims;
  /** UNOWNED_RECORDS_OWNER, for the tenancy checks of the API cores. */
  unownedRecordsOwner?: string;
  queue: OutboundQueue;
  chatGateway: ChatGateway;
  cognigy: CognigyEndpoint;
  cognigyConfig: () => Promise<CognigyConfig>;
}

let documents: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

/** One DynamoDB document client per function instance (connections are reused across invocations). */
function documentClient(): DynamoDBDocumentClient {
  documents ??= DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documents;
}

function sqsClient(): SQSClient {
  sqs ??= new SQSClient({});
  return sqs;
}

let runtime: HandoverRuntime | undefined;

/** The ports for this function instance (AWS clients reuse their connections across invocations). */
export function handoverRuntime(): HandoverRuntime {
  if (runtime) return runtime;
  const settings = loadSettings();
  const clock = systemClock;
  runtime = {
    settings,
    rules: settings.handoverRules,
    clock,
    ids: uuidIds,
    telemetry: powertoolsTelemetry,
    store: new DynamoConversationStore({
      client: documentClient(),
      tableName: tableName('conversations'),
      ttlDays: settings.recordTtlDays,
      clock,
    }),
    sessions: new DynamoSessionClaims({
      client: documentClient(),
      tableName: tableName('conversations'),
      clock,
    }),
    ...(settings.unownedRecordsOwner ? { unownedRecordsOwner: settings.unownedRecordsOwner } : {}),
    queue: outboundQueue(sqsSender(sqsClient(), () => queueUrl('handoverOutbound'), { log: logger })),
    chatGateway: chatGatewayClient(() => loadSecret('chatGatewayCredentials')),
    cognigy: cognigyEndpoint({
      timeoutMs: settings.upstreamTimeoutMs,
      retryTimeoutMs: settings.cognigyRetryTimeoutMs,
      defaultEndpointBaseUrl: async () => (await cognigySecret()).endpointBaseUrl,
    }),
    cognigyConfig: cognigySecret,
  };
  return runtime;
}

/** Forgets the cached wiring (tests that change the environment between cases). */
export function resetHandoverRuntime(): void {
  runtime = undefined;
}

const JWK_FETCH_TIMEOUT_MS = 2_500;
/** Milliseconds a webhook claim blocks other deliveries of the same event; longer than the function timeout. */
const WEBHOOK_CLAIM_LOCK_MS = 30_000;

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

/**
 * The ports of `POST /handover/eightByEight` for one delivery. The `chatGatewayCredentials` secret (JWK URL, tenant)
 * is only read for a signed delivery, so an unsigned Test Connection works before it is configured.
 */
export async function webhookDeps(signed: boolean): Promise<WebhookDeps> {
  const settings = loadSettings();
  const secret = signed ? await loadSecret('chatGatewayCredentials') : undefined;
  // Up to 3 JWK attempts must fit in the function's 10 s timeout, so each gets at most 2.5 s.
  const jwkTimeoutMs = Math.min(settings.upstreamTimeoutMs, JWK_FETCH_TIMEOUT_MS);
  const keys = secret ? jwkCacheFor(secret.jwkUrl, secret.tenant, jwkTimeoutMs) : undefined;
  return {
    getKey: async (kid) => {
      if (!keys) throw new Error('Signing keys requested without the Chat Gateway secret');
      return keys.getKey(kid);
    },
    dedupe: dynamoEventDedupe(documentClient(), tableName('idempotency'), {
      ttlSeconds: settings.recordTtlDays * 86_400,
      lockMs: WEBHOOK_CLAIM_LOCK_MS,
      clock: systemClock,
    }),
    queue: inboundQueue(sqsSender(sqsClient(), () => queueUrl('handoverInbound'), { log: logger })),
    maxAgeMs: settings.webhookMaxAgeMs,
    acceptUnsignedVerify: settings.acceptUnsignedVerify,
    expectedTenantId: secret?.tenant,
    log: logger,
    count: (metric) => powertoolsTelemetry.count(metric),
  };
}
