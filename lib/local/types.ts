/**
 * Contracts between the local stack (lib/local/stack.ts) and the simulators (lib/simulators/*).
 * Every simulator runs an HTTP server on 127.0.0.1, is controllable in-process (tests) and over HTTP
 * under `/__control/...` (people, bench and chaos scripts).
 */
import type { QueueName, TableName } from '../../functions/shared/catalogue';

export interface Simulator {
  /** Starts listening; port 0 picks a free one. Resolves with the base URL, e.g. http://127.0.0.1:4010 */
  start(port?: number): Promise<string>;
  stop(): Promise<void>;
  readonly url: string;
}

export interface LocalStackOptions {
  /** Gateway port (env PORT for `npm start`); 0 = any free port. */
  port?: number;
  /** API key the gateway accepts in x-api-key (env LOCAL_API_KEY): the default tenant's. */
  apiKey?: string;
  /** Further tenants' API keys (env LOCAL_API_KEYS, comma-separated); records are owned per key. */
  apiKeys?: readonly string[];
  /** Receipt webhook Authorization value shared by the SMS simulator and the stack. */
  smsWebhookAuthorization?: string;
  /** Extra environment settings for the functions (names from functions/shared/catalogue.ts SETTINGS), e.g. shorter retries. */
  settings?: Record<string, string>;
  /** Overrides of maxReceiveCount per queue (tests use small values so exhaustion is quick). */
  maxReceiveCount?: Partial<Record<QueueName, number>>;
  /** Overrides of the visibility timeout (seconds) per queue, so a failed batch comes back quickly in tests. */
  visibilityTimeoutSeconds?: Partial<Record<QueueName, number>>;
  /** Concurrent pollers per queue (Lambda's concurrency stand-in). */
  pollers?: Partial<Record<QueueName, number>>;
  /** Usage-plan throttling per API key at the gateway (default: rate 10,000/s, burst 5,000). */
  throttle?: { rateLimit: number; burstLimit: number };
  /** Fixed ports for the simulators (default: free ports; env SMS_SIMULATOR_PORT etc. for `npm start`). */
  simulatorPorts?: { sms?: number; chatGateway?: number; cognigy?: number };
  /**
   * Fixed ports for the AWS stand-ins' endpoints (default: free ports; env LOCAL_DYNAMODB_PORT, LOCAL_SQS_PORT,
   * LOCAL_SECRETS_MANAGER_PORT for `npm start`). dynalite and fauxqs themselves listen on a free loopback port
   * behind these endpoints (lib/local/access-front.ts), reached by nothing else.
   */
  standInPorts?: { dynamodb?: number; sqs?: number; secretsManager?: number };
  /** Silence the startup banner and request logs. */
  quiet?: boolean;
  /**
   * Use real services instead of the simulators where credentials are given; by default read from the
   * environment (see README "Using the real 8x8 and Cognigy").
   */
  env?: NodeJS.ProcessEnv;
}

export interface LocalStackUrls {
  gateway: string;
  openapi: string;
  /** The local console page (lib/local/console/): the outbox, both sides of each handover, the webhook log. */
  console: string;
  /** Loopback SQS endpoint; queue URLs use `sqs.us-east-1.localhost`, so clients set useQueueUrlAsEndpoint: false. */
  sqs: string;
  dynamodb: string;
  secretsManager: string;
  smsSimulator?: string;
  chatGatewaySimulator?: string;
  cognigySimulator?: string;
  /** The SMS bot's Cognigy REST Endpoint (SMS_BOT_ENDPOINT_URL; locally the Cognigy simulator's echo bot by default). */
  smsBotEndpoint?: string;
}

export interface LocalStackInfo {
  urls: LocalStackUrls;
  apiKey: string;
  /** Every accepted key, the default one (`apiKey`) first. */
  apiKeys: string[];
  queues: Record<QueueName, { url: string; dlqUrl: string }>;
  tables: Record<TableName, string>;
  /** Milliseconds from start() call to ready. */
  startupMs: number;
}
