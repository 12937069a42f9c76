/**
 * The one catalogue of what the bridge is made of: HTTP routes, queue consumers, queues, tables and secrets.
 * The CDK stack (lib/stack.ts) and the local stack (lib/local/) both read this file, so a route or queue
 * added here exists in both forms with the same function, limits and wiring.
 * Their descriptions for people (routes, functions, queues, secrets and their keys, path parameters, headers) live
 * in catalogue-docs.ts: every function bundles this file, only lib/ and tests read those words. Add an entry
 * there with every route, function, queue or secret added here (type errors and a unit test say which is missing).
 */
import { DEFAULT_HANDOVER_RULES, handoverRulesSchema } from '../handover/rules';
import {
  decimal,
  flag,
  httpUrl,
  json,
  keywordList,
  oneOf,
  positiveNumber,
  text,
  wholeNumber,
  zodIssues,
  type SettingRule,
} from './setting-rules';

/** SQS's longest visibility timeout (12 hours): the longest a retry can be delayed. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** Logical names of the functions; each maps to `functions/<name>/handler.ts` exporting `handler`. */
export type FunctionName =
  | 'sms-accept'
  | 'sms-batch'
  | 'sms-status'
  | 'sms-cancel'
  | 'sms-erase'
  | 'sms-receipt'
  | 'sms-inbound-webhook'
  | 'sms-inbound'
  | 'sms-opt-out-get'
  | 'sms-opt-out-delete'
  | 'sms-deliver'
  | 'sms-sweeper'
  | 'handover-start'
  | 'handover-message'
  | 'handover-end'
  | 'handover-status'
  | 'handover-webhook'
  | 'handover-outbound'
  | 'handover-relay';

export type QueueName = 'sms' | 'smsInbound' | 'handoverOutbound' | 'handoverInbound';
export type TableName = 'messages' | 'conversations' | 'idempotency' | 'pacer' | 'optOuts' | 'smsSessions';
export type SecretName = 'smsCredentials' | 'smsWebhookAuth' | 'chatGatewayCredentials' | 'cognigy';

export interface RouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway resource path, with `{param}` placeholders. */
  path: string;
  function: FunctionName;
  /** `apiKey`: Cognigy-facing, needs `x-api-key` under the usage plan. `self`: the webhook authenticates itself. */
  auth: 'apiKey' | 'self';
  /** Largest accepted request body in bytes; bigger bodies are refused before the function does any work. */
  maxBodyBytes: number;
}

export interface QueueSpec {
  /** Environment variable through which functions learn the queue URL. */
  urlEnv: string;
  fifo: boolean;
  /** Receives before a message moves to the DLQ (the consumer reads it from `<urlEnv minus _URL>_MAX_RECEIVE_COUNT`). */
  maxReceiveCount: number;
  /** Seconds; at least 6 × the consumer timeout (AWS guidance for SQS event sources). */
  visibilityTimeoutSeconds: number;
  retentionDays: number;
  consumer: FunctionName;
  /** Records per invocation (the event source's BatchSize; default of `batchingSettings` when it has them). */
  batchSize: number;
  /** Seconds the poller may wait to fill a batch (Lambda's MaximumBatchingWindowInSeconds); FIFO queues use 0. */
  batchingWindowSeconds: number;
  /**
   * The SETTINGS names that override batchSize and batchingWindowSeconds (read by functions/shared/config.ts
   * queueBatching for both the CDK event source and the local poller).
   */
  batchingSettings?: { batchSize: SettingName; batchingWindowSeconds: SettingName };
  /** Caps concurrent consumer invocations so the downstream API is protected (ScalingConfig.MaximumConcurrency). */
  maxConcurrency: number;
}

export interface FunctionSpec {
  timeoutSeconds: number;
  memoryMb: number;
  /** Tables the function reads (`r`) or reads and writes (`rw`). */
  tables: Partial<Record<TableName, 'r' | 'rw'>>;
  /** Queues the function sends to. */
  sendsTo: QueueName[];
  secrets: SecretName[];
  /**
   * Runs on a timer instead of serving a route or a queue: CDK makes an EventBridge rule `rate(<minutes> minutes)`,
   * the local stack a timer with the same period (lib/local/scheduler.ts).
   */
  schedule?: { rateMinutes: number };
}

export interface TableSpec {
  nameEnv: string;
  partitionKey: string;
  /** DynamoDB TTL attribute; absent: items are kept until deleted (opt-outs must never expire). */
  ttlAttribute?: string;
  /** GSIs (string keys, every attribute projected); a sortKey makes range queries possible. */
  indexes: { name: string; partitionKey: string; sortKey?: string }[];
}

export interface SecretSpec {
  /** Environment variable carrying the secret's name/ARN (never its value). */
  nameEnv: string;
}

/**
 * The `{param}` placeholders of ROUTES paths: one pattern each, used by the functions that read them, by the
 * webhook's event schema (conversationId) and by the OpenAPI document.
 */
export interface PathParameterSpec {
  /** ECMAScript regular expression source (also valid as an OpenAPI/JSON Schema `pattern`). */
  pattern: string;
}

export const PATH_PARAMETERS: ReadonlyMap<string, PathParameterSpec> = new Map([
  [
    'conversationId',
    {
      // 8x8 documents conversation ids only as `type: string` (examples "125", "ID-0", 22- and 86-character
      // base64url tokens such as "T6c-pPJ…"), so every base64url character may come first, `_` and `-` included;
      // `.`, `:`, `=` and `~` are allowed too. Only "." and ".." are left out: no URL path can carry them.
      pattern: '^(?!\\.{1,2}$)[A-Za-z0-9_~.:=-]{1,256}$',
    },
  ],
  [
    'number',
    {
      // E.164 with or without the leading '+' (a '+' in a URL path must be sent as %2B).
      pattern: '^\\+?[1-9][0-9]{5,14}$',
    },
  ],
  [
    'messageId',
    {
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
    },
  ],
]);

/** A request header some routes take besides `x-api-key` (documented as an OpenAPI `in: header` parameter). */
export interface HeaderParameterSpec {
  /** Lower-case header name. */
  name: string;
  /** The values the header takes (anything else is `400 INVALID_REQUEST`). */
  values: readonly string[];
  /** The value that means the same as leaving the header out. */
  defaultValue: string;
  /** Which routes take it: `apiKey` = every route a Cognigy flow calls (not the 8x8 webhooks). */
  routes: RouteSpec['auth'];
}

/**
 * `x-bridge-errors: body`: Cognigy's HTTP Request node takes its error path on any status above 299 and what it
 * stores then is not documented, so a flow can ask for business errors (the catalogue's 4xx codes) as `200` with
 * the usual `{ok:false, error}` body and branch on `error.code`. 5xx and the gateway's own refusals stay as they are.
 */
export const BRIDGE_ERRORS_HEADER: HeaderParameterSpec = {
  name: 'x-bridge-errors',
  values: ['body', 'status'],
  defaultValue: 'status',
  routes: 'apiKey',
};

/** Request headers by route kind, for the functions (functions/shared/http.ts) and the OpenAPI document. */
export const HEADER_PARAMETERS: readonly HeaderParameterSpec[] = [BRIDGE_ERRORS_HEADER];

/** Cognigy's HTTP Request node refuses bodies over 65 kB, so the API never needs more than this. */
export const COGNIGY_MAX_BODY_BYTES = 65_536;

export const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    path: '/sms',
    function: 'sms-accept',
    auth: 'apiKey',
    maxBodyBytes: 16_384,
  },
  {
    method: 'POST',
    path: '/sms/batch',
    function: 'sms-batch',
    auth: 'apiKey',
    maxBodyBytes: COGNIGY_MAX_BODY_BYTES,
  },
  {
    method: 'GET',
    path: '/sms/{messageId}',
    function: 'sms-status',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'DELETE',
    path: '/sms/{messageId}',
    function: 'sms-cancel',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'DELETE',
    path: '/sms/{messageId}/pii',
    function: 'sms-erase',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'POST',
    path: '/webhooks/8x8/sms',
    function: 'sms-receipt',
    auth: 'self',
    maxBodyBytes: 16_384,
  },
  {
    method: 'POST',
    path: '/webhooks/8x8/sms/inbound',
    function: 'sms-inbound-webhook',
    auth: 'self',
    maxBodyBytes: 16_384,
  },
  {
    method: 'GET',
    path: '/sms/opt-outs/{number}',
    function: 'sms-opt-out-get',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'DELETE',
    path: '/sms/opt-outs/{number}',
    function: 'sms-opt-out-delete',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'POST',
    path: '/handover',
    function: 'handover-start',
    auth: 'apiKey',
    maxBodyBytes: COGNIGY_MAX_BODY_BYTES,
  },
  {
    method: 'POST',
    path: '/handover/{conversationId}/messages',
    function: 'handover-message',
    auth: 'apiKey',
    maxBodyBytes: 16_384,
  },
  {
    method: 'POST',
    path: '/handover/{conversationId}/end',
    function: 'handover-end',
    auth: 'apiKey',
    maxBodyBytes: 4_096,
  },
  {
    method: 'GET',
    path: '/handover/{conversationId}',
    function: 'handover-status',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'POST',
    path: '/handover/eightByEight',
    function: 'handover-webhook',
    auth: 'self',
    maxBodyBytes: 262_144,
  },
];

export const QUEUES: Record<QueueName, QueueSpec> = {
  sms: {
    urlEnv: 'SMS_QUEUE_URL',
    fifo: false,
    // With the RETRY_* defaults (2 s doubling up to 300 s, full jitter) ten receives span about 7 minutes on average (13 at most).
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 180,
    retentionDays: 4,
    consumer: 'sms-deliver',
    // Under a backlog one invocation sends up to 100 SMS in few 8x8 batch calls (8x8 takes 10 000 per call); the
    // 1 s window (Lambda's least above a batch of 10) is all a lone SMS on an idle queue waits for company.
    batchSize: 100,
    batchingWindowSeconds: 1,
    batchingSettings: {
      batchSize: 'SMS_QUEUE_BATCH_SIZE',
      batchingWindowSeconds: 'SMS_QUEUE_BATCHING_WINDOW_SECONDS',
    },
    maxConcurrency: 10,
  },
  smsInbound: {
    urlEnv: 'SMS_INBOUND_QUEUE_URL',
    // FIFO grouped by the texting number (hashed): one person's SMS reach the flow or the bot in the order sent.
    fifo: true,
    // Fifteen receives ride out about 20 minutes (38 at most) of Cognigy outage before the DLQ.
    maxReceiveCount: 15,
    visibilityTimeoutSeconds: 360,
    retentionDays: 4,
    consumer: 'sms-inbound',
    batchSize: 10,
    batchingWindowSeconds: 0,
    maxConcurrency: 10,
  },
  handoverOutbound: {
    urlEnv: 'HANDOVER_OUTBOUND_QUEUE_URL',
    fifo: true,
    // Fifteen receives ride out about 20 minutes (38 at most) of 8x8 or Cognigy outage before the DLQ.
    maxReceiveCount: 15,
    visibilityTimeoutSeconds: 360,
    retentionDays: 4,
    consumer: 'handover-outbound',
    batchSize: 10,
    batchingWindowSeconds: 0,
    maxConcurrency: 10,
  },
  handoverInbound: {
    urlEnv: 'HANDOVER_INBOUND_QUEUE_URL',
    fifo: true,
    // Fifteen receives ride out about 20 minutes (38 at most) of 8x8 or Cognigy outage before the DLQ.
    maxReceiveCount: 15,
    visibilityTimeoutSeconds: 360,
    retentionDays: 4,
    consumer: 'handover-relay',
    batchSize: 10,
    batchingWindowSeconds: 0,
    maxConcurrency: 10,
  },
};

export const TABLES: Record<TableName, TableSpec> = {
  messages: {
    nameEnv: 'MESSAGES_TABLE',
    partitionKey: 'messageId',
    ttlAttribute: 'expiresAt',
    indexes: [
      { name: 'byUmid', partitionKey: 'umid' },
      { name: 'byClientMessageId', partitionKey: 'clientMessageId' },
      // Transactional outbox: sparse, only records the API stored but SQS may not hold yet (`outbox` set).
      { name: 'byOutbox', partitionKey: 'outbox', sortKey: 'createdAt' },
      // Reply window: sparse, only SMS sent by a flow that gave its Cognigy session (`replyKey` = destination|source).
      { name: 'byReplyKey', partitionKey: 'replyKey', sortKey: 'createdAt' },
    ],
  },
  conversations: {
    nameEnv: 'CONVERSATIONS_TABLE',
    partitionKey: 'conversationId',
    ttlAttribute: 'expiresAt',
    indexes: [{ name: 'bySessionId', partitionKey: 'sessionId' }],
  },
  // Powertools idempotency layout (pk `id`, TTL `expiration`); also holds 8x8 webhook event ids.
  idempotency: {
    nameEnv: 'IDEMPOTENCY_TABLE',
    partitionKey: 'id',
    ttlAttribute: 'expiration',
    indexes: [],
  },
  // The SMS pacer's shared token bucket: per-slot call counters and the rate learnt from 429s (functions/sms/pacer.ts).
  pacer: {
    nameEnv: 'PACER_TABLE',
    partitionKey: 'id',
    ttlAttribute: 'expiresAt',
    indexes: [],
  },
  // STOP/START per phone number: one item per number, a map of the 8x8 senders it opted out of. No TTL: an
  // opt-out lasts until the person texts START or support staff lift it.
  optOuts: {
    nameEnv: 'OPT_OUTS_TABLE',
    partitionKey: 'number',
    indexes: [],
  },
  // The SMS bot's conversations: one Cognigy REST Endpoint session per phone number and 8x8 number, renewed
  // after SMS_BOT_SESSION_IDLE_MINUTES without a message; also the bot's answers per inbound umid (redelivery).
  smsSessions: {
    nameEnv: 'SMS_SESSIONS_TABLE',
    partitionKey: 'id',
    ttlAttribute: 'expiresAt',
    indexes: [],
  },
};

export const SECRETS: Record<SecretName, SecretSpec> = {
  smsCredentials: {
    nameEnv: 'SMS_CREDENTIALS_SECRET',
  },
  smsWebhookAuth: {
    nameEnv: 'SMS_WEBHOOK_AUTH_SECRET',
  },
  chatGatewayCredentials: {
    nameEnv: 'CHAT_GATEWAY_SECRET',
  },
  cognigy: {
    nameEnv: 'COGNIGY_SECRET',
  },
};

export const FUNCTIONS: Record<FunctionName, FunctionSpec> = {
  'sms-accept': {
    timeoutSeconds: 10,
    memoryMb: 512,
    // optOuts: a recipient who texted STOP is refused (422 RECIPIENT_OPTED_OUT).
    tables: { messages: 'rw', idempotency: 'rw', optOuts: 'r' },
    sendsTo: ['sms'],
    // No secret: accepting stores and enqueues; only the delivery worker and the receipt webhook read one.
    secrets: [],
  },
  'sms-batch': {
    timeoutSeconds: 15,
    memoryMb: 512,
    tables: { messages: 'rw', idempotency: 'rw', optOuts: 'r' },
    sendsTo: ['sms'],
    // No secret: accepting stores and enqueues; only the delivery worker and the receipt webhook read one.
    secrets: [],
  },
  'sms-status': {
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { messages: 'r' },
    sendsTo: [],
    secrets: [],
  },
  'sms-cancel': {
    timeoutSeconds: 10,
    memoryMb: 256,
    tables: { messages: 'rw' },
    sendsTo: [],
    // smsCredentials: 8x8's cancel call for an SMS it holds scheduled.
    secrets: ['smsCredentials'],
  },
  'sms-erase': {
    timeoutSeconds: 10,
    memoryMb: 256,
    // idempotency: the first answer of the SMS's clientMessageId holds its destination.
    tables: { messages: 'rw', idempotency: 'rw' },
    sendsTo: [],
    secrets: ['smsCredentials'],
  },
  'sms-receipt': {
    timeoutSeconds: 10,
    memoryMb: 256,
    // idempotency and smsInbound: inbound SMS that arrive on the receipt URL (one 8x8 webhook for every event type).
    tables: { messages: 'rw', idempotency: 'rw' },
    sendsTo: ['smsInbound'],
    secrets: ['smsWebhookAuth', 'cognigy'],
  },
  'sms-inbound-webhook': {
    timeoutSeconds: 10,
    memoryMb: 256,
    // idempotency: the once-per-umid claim (8x8 retries a webhook it got no 2xx for).
    tables: { idempotency: 'rw' },
    sendsTo: ['smsInbound'],
    secrets: ['smsWebhookAuth'],
  },
  // An inbound SMS: opt-out keywords, else the reply window's session, else the SMS bot (answers through
  // acceptSmsBatch; their messageIds are derived from their clientMessageIds, so no idempotency table).
  'sms-inbound': {
    timeoutSeconds: 60,
    memoryMb: 512,
    tables: { messages: 'rw', optOuts: 'rw', smsSessions: 'rw' },
    sendsTo: ['sms'],
    secrets: ['cognigy'],
  },
  'sms-opt-out-get': {
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { optOuts: 'r' },
    sendsTo: [],
    secrets: [],
  },
  'sms-opt-out-delete': {
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { optOuts: 'rw' },
    sendsTo: [],
    secrets: [],
  },
  'sms-deliver': {
    timeoutSeconds: 30,
    memoryMb: 512,
    // pacer: every 8x8 call takes its place in the shared bucket first (SMS_RATE_LIMIT_PER_SECOND).
    tables: { messages: 'rw', pacer: 'rw' },
    sendsTo: [],
    // cognigy: a flow that asked for it hears about `sent`, `rejected` and `failed` from the worker itself.
    secrets: ['smsCredentials', 'smsWebhookAuth', 'cognigy'],
  },
  // The outbox sweeper: queues SMS whose record was stored but whose enqueue never happened (a crashed accept).
  'sms-sweeper': {
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { messages: 'rw' },
    sendsTo: ['sms'],
    secrets: [],
    schedule: { rateMinutes: 1 },
  },
  'handover-start': {
    timeoutSeconds: 8,
    memoryMb: 512,
    tables: { conversations: 'rw' },
    sendsTo: [],
    secrets: ['chatGatewayCredentials', 'cognigy'],
  },
  'handover-message': {
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { conversations: 'r' },
    sendsTo: ['handoverOutbound'],
    secrets: [],
  },
  'handover-end': {
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { conversations: 'rw' },
    sendsTo: ['handoverOutbound'],
    secrets: [],
  },
  'handover-status': {
    timeoutSeconds: 5,
    memoryMb: 256,
    tables: { conversations: 'r' },
    sendsTo: [],
    secrets: [],
  },
  'handover-webhook': {
    timeoutSeconds: 10,
    memoryMb: 512,
    tables: { idempotency: 'rw' },
    sendsTo: ['handoverInbound'],
    secrets: ['chatGatewayCredentials'],
  },
  // A batch holds up to 10 conversations; each may wait one upstream timeout (UPSTREAM_TIMEOUT_MS) before failing.
  'handover-outbound': {
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { conversations: 'rw' },
    sendsTo: [],
    secrets: ['chatGatewayCredentials'],
  },
  'handover-relay': {
    timeoutSeconds: 60,
    memoryMb: 256,
    tables: { conversations: 'rw' },
    sendsTo: [],
    secrets: ['cognigy'],
  },
};

/** The environment name of a setting. */
export type SettingName = (typeof SETTINGS)[keyof typeof SETTINGS];

/**
 * Plain (non-secret) settings every function may read, each with the rule its value must follow
 * (functions/shared/setting-rules.ts); the stack and the local stack set the same names. The rule is checked at
 * `npm start`, at `cdk synth` and when a function first runs (functions/shared/config.ts checkSettings), so a
 * setting added here is validated everywhere; its default is the rule's fallback.
 */
export const SETTING_SPECS = {
  /** Public base URL of the API (used to build per-message receipt callback URLs). */
  publicBaseUrl: setting('PUBLIC_BASE_URL', httpUrl()),
  /** Milliseconds each upstream HTTP call may take before it is abandoned and retried. */
  upstreamTimeoutMs: setting(
    'UPSTREAM_TIMEOUT_MS',
    wholeNumber({ min: 1, max: 60_000, unit: 'milliseconds', fallback: 5000 }),
  ),
  /** Seconds a cached secret value is trusted before it is fetched again (rotation pick-up). */
  secretsMaxAgeSeconds: setting(
    'SECRETS_MAX_AGE_SECONDS',
    wholeNumber({ min: 0, max: 86_400, unit: 'seconds', fallback: 300 }),
  ),
  /** Days records are kept before DynamoDB TTL removes them. */
  recordTtlDays: setting('RECORD_TTL_DAYS', wholeNumber({ min: 1, max: 3650, unit: 'days', fallback: 30 })),
  /** Milliseconds x-8x8-transmission-time may be from now, either way (default 60 000: skew and transit only). */
  webhookMaxAgeMs: setting(
    'WEBHOOK_MAX_AGE_MS',
    wholeNumber({ min: 1, max: 3_600_000, unit: 'milliseconds', fallback: 60_000 }),
  ),
  /**
   * "true" to accept an unsigned WEB_HOOK_VERIFY (Test Connection); default "false", as 8x8 documents signatures on
   * every webhook POST. Either way a verify is answered without queueing or relaying anything.
   */
  acceptUnsignedVerify: setting('ACCEPT_UNSIGNED_VERIFY', flag(false)),
  /**
   * "true" only in the local stack (lib/local/stack.ts sets it; the CDK stack refuses it): caller-given URLs that
   * a server calls (`dlrCallbackUrl`, `cognigy.endpointBaseUrl`) may name 127.0.0.1/localhost over http. Default
   * "false": https to public hosts only (README "Security model").
   */
  allowLoopbackUrls: setting('ALLOW_LOOPBACK_URLS', flag(false)),
  /** Relay rules for open questions: JSON, see functions/handover/rules.ts. */
  handoverRules: setting(
    'HANDOVER_RULES',
    json(
      'a JSON object of relay rules (README "Relay rules")',
      (value) => {
        const parsed = handoverRulesSchema().safeParse(value);
        if (!parsed.success) throw new Error(zodIssues(parsed.error));
        return parsed.data;
      },
      DEFAULT_HANDOVER_RULES,
    ),
  ),
  /** First backoff step (seconds) for transient upstream failures; doubled per attempt with full jitter. */
  retryBaseDelaySeconds: setting(
    'RETRY_BASE_DELAY_SECONDS',
    positiveNumber({ max: MAX_VISIBILITY_SECONDS, unit: 'seconds', fallback: 2 }),
  ),
  /** Largest backoff (seconds). */
  retryMaxDelaySeconds: setting(
    'RETRY_MAX_DELAY_SECONDS',
    positiveNumber({ max: MAX_VISIBILITY_SECONDS, unit: 'seconds', fallback: 300 }),
  ),
  /**
   * How 8x8 delivery receipts reach the stack: `account` (default) relies on the webhook configured on the 8x8
   * account; `perMessage` gives every SMS its own dlrCallbackUrl on the receipt route with an HMAC token
   * (needs PUBLIC_BASE_URL and smsWebhookAuth.callbackTokenKey). A caller's own dlrCallbackUrl always wins.
   */
  smsReceiptMode: setting('SMS_RECEIPT_MODE', oneOf(['account', 'perMessage'], 'account')),
  /** Seconds a clientMessageId is remembered for deduplication (default 86400, never longer than RECORD_TTL_DAYS). */
  smsIdempotencyTtlSeconds: setting(
    'SMS_IDEMPOTENCY_TTL_SECONDS',
    wholeNumber({ min: 1, unit: 'seconds', fallback: 86_400 }),
  ),
  /**
   * Milliseconds a repeat of a clientMessageId whose first request is still being accepted waits for that first
   * answer (default 3000, well inside Cognigy's 8 s HTTP node timeout); past it: 409 IDEMPOTENCY_IN_PROGRESS with
   * Retry-After.
   */
  smsIdempotencyWaitMs: setting(
    'SMS_IDEMPOTENCY_WAIT_MS',
    wholeNumber({ min: 0, max: 7000, unit: 'milliseconds', fallback: 3000 }),
  ),
  /** Seconds an accepted SMS may sit in the outbox (stored, not known to be queued) before the sweeper queues it (default 60). */
  smsSweepAgeSeconds: setting(
    'SMS_SWEEP_AGE_SECONDS',
    wholeNumber({ min: 0, unit: 'seconds', fallback: 60 }),
  ),
  /** Outbox records the sweeper reads per page (default 100; it reads up to 10 pages a run). */
  smsSweepBatchSize: setting('SMS_SWEEP_BATCH_SIZE', wholeNumber({ min: 1, max: 1000, fallback: 100 })),
  /**
   * CDK only: alarm when the sweeper queued at least this many SMS within 5 minutes (default 1: any swept SMS
   * means an accept crashed or SQS refused it after the record was stored). 0 turns the alarm off.
   */
  smsSweepAlarmThreshold: setting('SMS_SWEEP_ALARM_THRESHOLD', wholeNumber({ min: 0, fallback: 1 })),
  /**
   * apiKeyId that owns records written before tenancy (they carry no owner). The CDK stack sets it to the default
   * API key's id, so only that key still reads them; unset, records without an owner are readable by every key.
   */
  unownedRecordsOwner: setting('UNOWNED_RECORDS_OWNER', text('an API key id')),
  /**
   * Milliseconds a repeated POST /handover for the same session waits for the one in flight before it is answered
   * 409 HANDOVER_START_IN_PROGRESS (default 5000, at most 7000: Cognigy's HTTP Request node gives up after 8 s).
   */
  handoverStartWaitMs: setting(
    'HANDOVER_START_WAIT_MS',
    wholeNumber({ min: 0, max: 7000, unit: 'milliseconds', fallback: 5000 }),
  ),
  /**
   * Milliseconds a retried Cognigy push (inject/notify) may take (default 8000; never below UPSTREAM_TIMEOUT_MS). A
   * push that timed out may have arrived, so its retry waits longer: a slow Cognigy then sees one repeat, not one
   * per retry. Receipt-webhook injections are capped at 6000 (8x8 waits for the webhook's answer).
   */
  cognigyRetryTimeoutMs: setting(
    'COGNIGY_RETRY_TIMEOUT_MS',
    wholeNumber({ min: 1, max: 60_000, unit: 'milliseconds', fallback: 8000 }),
  ),
  /**
   * What the SMS worker does after an ambiguous attempt (8x8 timed out, or the connection broke, after the request
   * could have reached it; or a worker was lost mid-call): `resend` (default; OTP-like traffic, where a miss is worse
   * than a double) sends again; `fail` ends the SMS `failed` with AMBIGUOUS_TIMEOUT (traffic where a double is worse
   * than a miss). 8x8 can look an SMS up only by the umid a timed-out call never returned, so it cannot be asked.
   */
  ambiguousTimeoutPolicy: setting('AMBIGUOUS_TIMEOUT_POLICY', oneOf(['resend', 'fail'], 'resend')),
  /**
   * 8x8 requests per second the SMS workers send together, at most (default 1800, 8x8's documented default per
   * sub-account; 0 turns pacing off). Every worker instance draws from one token bucket in the pacer table, spread
   * evenly over each second; a 429 lowers the shared rate for a while (functions/sms/pacer.ts). Set it to the
   * limit 8x8 gave the sub-account: 8x8 publishes no way to read it.
   */
  smsRateLimitPerSecond: setting(
    'SMS_RATE_LIMIT_PER_SECOND',
    decimal({ min: 0, max: 100_000, unit: 'requests per second', fallback: 1800 }),
  ),
  /**
   * Milliseconds at the end of every second in which the SMS pacer places no 8x8 calls (default 300, 0–900, rounded
   * up to whole 100 ms slots): a call that reaches 8x8 up to this late still counts in the second it was placed in,
   * not on top of the next second's calls. 8x8 does not say how it aligns its one-second window; raise it when 429s
   * come although the rate is set to the sub-account's limit (calls arrive late), lower it to spread calls wider.
   * Every worker must use the same value (functions/sms/pacer.ts).
   */
  smsPacerEdgeGuardMs: setting(
    'SMS_PACER_EDGE_GUARD_MS',
    wholeNumber({ min: 0, max: 900, unit: 'milliseconds', fallback: 300 }),
  ),
  /**
   * SMS per sms-deliver invocation (the SQS event source's batch size; default 100, 1–10 000; above 10 it needs a
   * batching window of at least 1 s, functions/shared/config.ts queueBatching). Read by the CDK stack and the local
   * poller, not by the functions.
   */
  smsQueueBatchSize: setting(
    'SMS_QUEUE_BATCH_SIZE',
    wholeNumber({ min: 1, max: 10_000, unit: 'messages', fallback: 100 }),
  ),
  /**
   * Seconds the SQS event source waits to fill an SMS batch (MaximumBatchingWindowInSeconds; default 1, 0–300): the
   * most a lone SMS on an idle queue waits before it is sent. Read by the CDK stack and the local poller.
   */
  smsQueueBatchingWindowSeconds: setting(
    'SMS_QUEUE_BATCHING_WINDOW_SECONDS',
    wholeNumber({ min: 0, max: 300, unit: 'seconds', fallback: 1 }),
  ),
  /**
   * Hours after a flow's SMS (one that gave its Cognigy session) during which an SMS back from that number to the
   * same 8x8 sender is injected into that session (default 24; 0 turns replies to flows off). The most recent
   * sending session wins.
   */
  smsReplyWindowHours: setting(
    'SMS_REPLY_WINDOW_HOURS',
    decimal({ min: 0, max: 720, unit: 'hours', fallback: 24 }),
  ),
  /** Cognigy REST Endpoint URL of the SMS bot (the `cognigy` secret's smsBotEndpointUrl wins); unset: no bot. */
  smsBotEndpointUrl: setting('SMS_BOT_ENDPOINT_URL', httpUrl()),
  /** Minutes without a message after which the bot's next SMS from a number starts a new Cognigy session (default 60). */
  smsBotSessionIdleMinutes: setting(
    'SMS_BOT_SESSION_IDLE_MINUTES',
    wholeNumber({ min: 1, max: 10_080, unit: 'minutes', fallback: 60 }),
  ),
  /** `join` (default): a bot turn's outputs travel as one SMS (split only past SMS_BOT_MAX_PARTS); `separate`: one SMS each. */
  smsBotOutputs: setting('SMS_BOT_OUTPUTS', oneOf(['join', 'separate'], 'join')),
  /** Most 8x8 parts (segments) one bot SMS may take before it is split at word boundaries (default 3, 1–10). */
  smsBotMaxParts: setting('SMS_BOT_MAX_PARTS', wholeNumber({ min: 1, max: 10, unit: 'parts', fallback: 3 })),
  /** Inbound words that record an opt-out (comma-separated, case- and space-insensitive; add other languages). */
  smsOptOutKeywords: setting('SMS_OPT_OUT_KEYWORDS', keywordList('STOP,UNSUBSCRIBE,CANCEL,END,QUIT')),
  /** Inbound words that lift an opt-out. */
  smsOptInKeywords: setting('SMS_OPT_IN_KEYWORDS', keywordList('START,UNSTOP')),
  /** Inbound words answered with SMS_HELP_TEXT. */
  smsHelpKeywords: setting('SMS_HELP_KEYWORDS', keywordList('HELP')),
  /** The answer to HELP (default: a neutral sentence naming STOP and START; set your brand and contact). */
  smsHelpText: setting(
    'SMS_HELP_TEXT',
    text(
      'the SMS text answered to HELP',
      'Reply STOP to stop receiving messages, START to receive them again.',
    ),
  ),
  /** Sent once after an opt-out is recorded (unset: no confirmation). */
  smsOptOutConfirmationText: setting(
    'SMS_OPT_OUT_CONFIRMATION_TEXT',
    text('the SMS text confirming an opt-out'),
  ),
  /** Sent once after an opt-out is lifted (unset: no confirmation). */
  smsOptInConfirmationText: setting(
    'SMS_OPT_IN_CONFIRMATION_TEXT',
    text('the SMS text confirming an opt-in'),
  ),
  /**
   * `sender` (default): STOP to one 8x8 number stops SMS from that sender (an SMS with no `source` is refused when
   * the number opted out of any sender, since 8x8 then picks the sender); `account`: STOP to any number stops all.
   */
  smsOptOutScope: setting('SMS_OPT_OUT_SCOPE', oneOf(['sender', 'account'], 'sender')),
};

/** A setting: its environment variable and the rule of its value. */
export interface SettingSpec<E extends string = string, T = unknown> {
  env: E;
  rule: SettingRule<T>;
}

function setting<const E extends string, T>(env: E, rule: SettingRule<T>): SettingSpec<E, T> {
  return { env, rule };
}

export type SettingKey = keyof typeof SETTING_SPECS;

/** The settings' environment variable names, e.g. SETTINGS.upstreamTimeoutMs === 'UPSTREAM_TIMEOUT_MS'. */
export const SETTINGS = Object.freeze(
  Object.fromEntries(Object.entries(SETTING_SPECS).map(([key, spec]) => [key, spec.env])),
) as { readonly [K in SettingKey]: (typeof SETTING_SPECS)[K]['env'] };

/** Environment variable telling a consumer the queue's maxReceiveCount, so it knows a delivery is the last. */
export function maxReceiveCountEnv(queue: QueueName): string {
  return QUEUES[queue].urlEnv.replace(/_URL$/, '_MAX_RECEIVE_COUNT');
}

export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** Deployed (or local) names and URLs of the resources, as a stack resolves them. */
export interface ResolvedResources {
  tables: Record<TableName, string>;
  queueUrls: Record<QueueName, string>;
  secrets: Record<SecretName, string>;
  settings: Record<string, string>;
  /** A queue's maxReceiveCount where the stack overrides the catalogue's (the local stack's quick-retry tests). */
  maxReceiveCounts?: Partial<Record<QueueName, number>>;
}

/**
 * The environment one function gets: the settings, then exactly the variables of its FUNCTIONS grants (its tables'
 * names, the URLs of the queues it sends to, its own queue's URL and max-receive-count if it consumes one, and its
 * secrets' names). The CDK stack and the local stack both build function environments with this.
 */
export function functionEnvironment(name: FunctionName, resolved: ResolvedResources): Record<string, string> {
  const spec = FUNCTIONS[name];
  const environment: Record<string, string> = { ...resolved.settings };
  for (const table of Object.keys(spec.tables) as TableName[]) {
    environment[TABLES[table].nameEnv] = resolved.tables[table];
  }
  for (const queue of spec.sendsTo) environment[QUEUES[queue].urlEnv] = resolved.queueUrls[queue];
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    if (QUEUES[queue].consumer !== name) continue;
    // The consumer changes visibility on its own queue (backoff) and must know which receive is the last.
    environment[QUEUES[queue].urlEnv] = resolved.queueUrls[queue];
    environment[maxReceiveCountEnv(queue)] = String(
      resolved.maxReceiveCounts?.[queue] ?? QUEUES[queue].maxReceiveCount,
    );
  }
  for (const secret of spec.secrets) environment[SECRETS[secret].nameEnv] = resolved.secrets[secret];
  return environment;
}
