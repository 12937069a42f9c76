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
import { NotQueuedError, sqsSender, type QueueSender } from '../shared/sqs';
import { chatGatewayClient } from './chat-gateway-client';
import { dynamoEventDedupe } from './event-dedupe';
import { inboundQueueIds, type InboundEnvelope } from './events';
import { httpJwkFetcher, JwkCache } from './jwk-cache';
import { type ChatGateway, type OutboundQueue } from './ports';
import type { HandoverRules } from './rules';
import type { RequestDeps } from './message';
import type { OutboundDeps } from './outbound';
import type { RelayDeps } from './relay';
import type { CognigyConfig, StartDeps } from './start';
import type { StatusDeps } from './status';
import { DynamoConversationStore, DynamoSessionClaims } from './store';
import type { InboundQueue, WebhookDeps } from './webhook';

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

/** Everything built below, forgotten together by resetHandoverRuntime (tests that change the environment). */
const resets: (() => void)[] = [];

/**
 * Built on first use and kept for the function instance (connections are reused across invocations). Calls are
 * marked pure, so esbuild drops the pieces a function never uses: each handler asks for its own deps below, and
 * e.g. handover-status then bundles no SQS client, no Secrets Manager and no Chat Gateway client (issue 13).
 */
function memo<T>(build: () => T): () => T {
  let value: T | undefined;
  resets.push(() => (value = undefined));
  return () => (value ??= build());
}

/** One DynamoDB document client per function instance. */
const documentClient = /* @__PURE__ */ memo(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
);
const sqsClient = /* @__PURE__ */ memo(() => new SQSClient({}));

interface BaseDeps {
  settings: Settings;
  clock: Clock;
  ids: Ids;
  telemetry: Telemetry;
  /** UNOWNED_RECORDS_OWNER, for the tenancy checks of the API cores. */
  unownedRecordsOwner?: string;
}

const base = /* @__PURE__ */ memo((): BaseDeps => {
  const settings = loadSettings();
  return {
    settings,
    clock: systemClock,
    ids: uuidIds,
    telemetry: powertoolsTelemetry,
    ...(settings.unownedRecordsOwner ? { unownedRecordsOwner: settings.unownedRecordsOwner } : {}),
  };
});
// The settings loader parses HANDOVER_RULES once (functions/shared/config.ts).
const rules = (): HandoverRules => base().settings.handoverRules;
const store = /* @__PURE__ */ memo(
  () =>
    new DynamoConversationStore({
      client: documentClient(),
      tableName: tableName('conversations'),
      ttlDays: base().settings.recordTtlDays,
      clock: systemClock,
    }),
);
const sessions = /* @__PURE__ */ memo(
  () =>
    new DynamoSessionClaims({
      client: documentClient(),
      tableName: tableName('conversations'),
      clock: systemClock,
    }),
);
const queue = /* @__PURE__ */ memo(() =>
  outboundQueue(sqsSender(sqsClient(), () => queueUrl('handoverOutbound'), { log: logger })),
);
const chatGateway = /* @__PURE__ */ memo(() => chatGatewayClient(() => loadSecret('chatGatewayCredentials')));
const cognigy = /* @__PURE__ */ memo(() =>
  cognigyEndpoint({
    timeoutMs: base().settings.upstreamTimeoutMs,
    retryTimeoutMs: base().settings.cognigyRetryTimeoutMs,
    defaultEndpointBaseUrl: async () => (await cognigySecret()).endpointBaseUrl,
  }),
);

/** POST /handover (functions/handover/start.ts). */
export const startDeps = /* @__PURE__ */ memo((): StartDeps => {
  const { settings, clock, ids, unownedRecordsOwner } = base();
  return {
    store: store(),
    sessions: sessions(),
    chatGateway: chatGateway(),
    clock,
    ids,
    startWaitMs: settings.handoverStartWaitMs,
    ...(unownedRecordsOwner ? { unownedRecordsOwner } : {}),
    cognigyConfig: cognigySecret,
    upstreamTimeoutMs: settings.upstreamTimeoutMs,
    allowLoopbackUrls: settings.allowLoopbackUrls,
  };
});

/** POST /handover/{id}/messages and /end (functions/handover/message.ts). */
export const requestDeps = /* @__PURE__ */ memo((): RequestDeps => ({
  ...base(),
  store: store(),
  queue: queue(),
}));

/** GET /handover/{id} (functions/handover/status.ts). */
export const statusDeps = /* @__PURE__ */ memo((): StatusDeps => ({ ...base(), store: store() }));

/** The handoverOutbound consumer (functions/handover/outbound.ts). */
export const outboundDeps = /* @__PURE__ */ memo((): OutboundDeps => ({
  store: store(),
  chatGateway: chatGateway(),
  clock: systemClock,
  upstreamTimeoutMs: base().settings.upstreamTimeoutMs,
}));

/** The handoverInbound consumer (functions/handover/relay.ts). */
export const relayDeps = /* @__PURE__ */ memo((): RelayDeps => ({
  ...base(),
  store: store(),
  cognigy: cognigy(),
  rules: rules(),
}));

/** Every port at once, for code that needs more than one core's deps. */
export function handoverRuntime(): HandoverRuntime {
  return {
    ...base(),
    rules: rules(),
    store: store(),
    sessions: sessions(),
    queue: queue(),
    chatGateway: chatGateway(),
    cognigy: cognigy(),
    cognigyConfig: cognigySecret,
  };
}

/** Forgets the cached wiring (tests that change the environment between cases). */
export function resetHandoverRuntime(): void {
  for (const reset of resets) reset();
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
