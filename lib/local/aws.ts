/**
 * Embedded AWS stand-ins that speak the real wire protocols, so the functions use their production SDK code
 * unchanged: DynamoDB through dynalite (in-memory), SQS through fauxqs. Both listen on 127.0.0.1 only, each on a
 * worker thread of this process (lib/local/stand-in-worker.mjs) so their work does not compete with the
 * gateway on the main thread, and both are reached through an access front (lib/local/access-front.ts) that
 * refuses what a function's catalogue grants do not allow.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { projectRoot } from '../paths';
import { QUEUES, TABLES, type QueueName, type TableName } from '../../functions/shared/catalogue';
import { startAccessFront, type AccessFront } from './access-front';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './constants';

export { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './constants';

/** SDK client configuration for talking to a stand-in directly (the functions use AWS_ENDPOINT_URL_* instead). */
export function localClientConfig(endpoint: string) {
  return { region: LOCAL_REGION, endpoint, credentials: { ...LOCAL_CREDENTIALS }, maxAttempts: 2 };
}

export interface RunningService {
  readonly url: string;
  stop(): Promise<void>;
}

/** A stand-in behind its access front (lib/local/access-front.ts): set `grants` to enforce the catalogue's. */
export interface GuardedService extends RunningService {
  readonly front: AccessFront;
}

/** Starts the stand-in's worker on a free port and its access front on `port`; `url` is the front's. */
async function startGuarded(kind: 'sqs' | 'dynamodb', port: number): Promise<GuardedService> {
  const worker = await startStandInWorker(kind, 0);
  let front: AccessFront;
  try {
    front = await startAccessFront(kind, worker.port, port);
  } catch (error) {
    await worker.stop();
    throw error;
  }
  return {
    url: front.url,
    front,
    stop: async () => {
      await front.stop();
      await worker.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB (dynalite)

export function startDynamoDb(port = 0): Promise<GuardedService> {
  return startGuarded('dynamodb', port);
}

interface WorkerMessage {
  ready?: boolean;
  stopped?: boolean;
  port?: number;
  error?: { message: string; code?: string };
}

/** Starts lib/local/stand-in-worker.mjs on a worker thread and waits until its server listens. */
async function startStandInWorker(
  kind: 'sqs' | 'dynamodb',
  port: number,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const worker = new Worker(path.join(projectRoot(), 'lib', 'local', 'stand-in-worker.mjs'), {
    workerData: { kind, port, region: LOCAL_REGION },
    // Plain JavaScript: no TypeScript loader needed on this thread.
    execArgv: [],
  });
  let onMessage!: (message: WorkerMessage) => void;
  let onError!: (error: Error) => void;
  let onExit!: (code: number) => void;
  let first: WorkerMessage;
  try {
    first = await new Promise<WorkerMessage>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`The local ${kind} stand-in exited early (code ${code})`));
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    });
  } finally {
    worker.off('message', onMessage).off('error', onError).off('exit', onExit);
  }
  if (!first.ready || first.port === undefined) {
    await worker.terminate();
    const error = new Error(
      `The local ${kind} stand-in failed to start: ${first.error?.message ?? 'no answer'}`,
    );
    throw Object.assign(error, { code: first.error?.code });
  }
  // An unexpected failure later surfaces as failing requests; keep the thread from crashing the process.
  worker.on('error', () => undefined);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (message: WorkerMessage) => message.stopped && resolve());
        worker.once('exit', () => resolve());
        setTimeout(resolve, 5_000).unref();
      });
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    })());
  return { port: first.port, stop };
}

export interface LocalTableSpec {
  tableName: string;
  partitionKey: string;
  ttlAttribute?: string;
  indexes: { name: string; partitionKey: string; sortKey?: string }[];
}

/** Creates a table like the CDK stack does: string partition key, string-keyed GSIs projecting ALL, on demand. */
export async function createTable(client: DynamoDBClient, spec: LocalTableSpec): Promise<void> {
  const keyNames = [
    ...new Set([
      spec.partitionKey,
      ...spec.indexes.flatMap((i) => (i.sortKey ? [i.partitionKey, i.sortKey] : [i.partitionKey])),
    ]),
  ];
  const attributeDefinitions: AttributeDefinition[] = keyNames.map((name) => ({
    AttributeName: name,
    AttributeType: 'S',
  }));
  await client.send(
    new CreateTableCommand({
      TableName: spec.tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributeDefinitions,
      KeySchema: [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes:
        spec.indexes.length === 0
          ? undefined
          : spec.indexes.map((index) => ({
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
                ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' as const }] : []),
              ],
              Projection: { ProjectionType: 'ALL' },
            })),
    }),
  );
  await waitForTableActive(client, spec.tableName);
  if (spec.ttlAttribute) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: spec.tableName,
          TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
        }),
      );
    } catch {
      // dynalite does not implement UpdateTimeToLive; expiry is irrelevant for a short-lived local run.
    }
  }
}

async function waitForTableActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`Local table ${tableName} did not become ACTIVE`);
}

/** Creates every table of the catalogue; resolves with logical name → table name. */
export async function createCatalogueTables(
  client: DynamoDBClient,
  tableName: (table: TableName) => string = (table) => `local-${table}`,
): Promise<Record<TableName, string>> {
  const entries = await Promise.all(
    (Object.keys(TABLES) as TableName[]).map(async (table) => {
      const spec = TABLES[table];
      const name = tableName(table);
      await createTable(client, {
        tableName: name,
        partitionKey: spec.partitionKey,
        ttlAttribute: spec.ttlAttribute,
        indexes: spec.indexes,
      });
      return [table, name] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<TableName, string>;
}

// ---------------------------------------------------------------------------------------------------------------
// SQS (fauxqs)

export { installLocalhostResolution } from './localhost';

export interface SqsStandIn extends GuardedService {
  /** The endpoint whose origin equals the queue URLs' origin, so the SDK keeps the configured endpoint. */
  readonly endpoint: string;
}

export async function startSqs(port = 0): Promise<SqsStandIn> {
  const service = await startGuarded('sqs', port);
  // Queue URLs carry the port of the Host header the queue was created through: the front's.
  return { ...service, endpoint: `http://sqs.${LOCAL_REGION}.localhost:${service.front.port}` };
}

/**
 * An SQS client for the stack's own use (queue setup, pollers): it talks to the stand-in's loopback address and
 * does not follow queue URLs, so it works without the `*.localhost` resolution.
 */
export function localSqsClient(sqs: Pick<SqsStandIn, 'url'>): SQSClient {
  return new SQSClient({ ...localClientConfig(sqs.url), useQueueUrlAsEndpoint: false });
}

export function localDynamoDbClient(dynamo: Pick<RunningService, 'url'>): DynamoDBClient {
  return new DynamoDBClient(localClientConfig(dynamo.url));
}

export interface QueuePairSpec {
  /** Queue name without `.fifo`; the DLQ is `<name>-dlq`, both get `.fifo` when fifo. */
  name: string;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  retentionDays: number;
  maxReceiveCount: number;
}

export interface QueuePair {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** Creates a queue and its DLQ with the redrive policy, as the CDK stack does. */
export async function createQueueWithDlq(client: SQSClient, spec: QueuePairSpec): Promise<QueuePair> {
  const suffix = spec.fifo ? '.fifo' : '';
  // Producers always give a deduplication id (the event id or the message id), so content dedup stays off.
  const fifoAttributes: Record<string, string> = spec.fifo
    ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' }
    : {};
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${spec.name}-dlq${suffix}`,
      Attributes: { ...fifoAttributes, MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) },
    }),
  );
  const dlqUrl = required(dlq.QueueUrl, 'DLQ url');
  const dlqArn = await queueArn(client, dlqUrl);
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: `${spec.name}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(Math.min(spec.retentionDays * 24 * 3600, DLQ_RETENTION_SECONDS)),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
      },
    }),
  );
  const url = required(queue.QueueUrl, 'queue url');
  return { url, arn: await queueArn(client, url), dlqUrl, dlqArn };
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return required(Attributes?.QueueArn, 'queue ARN');
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`The local SQS did not return a ${what}`);
  return value;
}

export interface CatalogueQueueOverrides {
  maxReceiveCount?: Partial<Record<QueueName, number>>;
  visibilityTimeoutSeconds?: Partial<Record<QueueName, number>>;
}

/** Creates every queue of the catalogue with its DLQ. */
export async function createCatalogueQueues(
  client: SQSClient,
  overrides: CatalogueQueueOverrides = {},
): Promise<Record<QueueName, QueuePair & { maxReceiveCount: number }>> {
  const entries = await Promise.all(
    (Object.keys(QUEUES) as QueueName[]).map(async (queue) => {
      const spec = QUEUES[queue];
      const maxReceiveCount = overrides.maxReceiveCount?.[queue] ?? spec.maxReceiveCount;
      const pair = await createQueueWithDlq(client, {
        name: queue,
        fifo: spec.fifo,
        visibilityTimeoutSeconds:
          overrides.visibilityTimeoutSeconds?.[queue] ?? spec.visibilityTimeoutSeconds,
        retentionDays: spec.retentionDays,
        maxReceiveCount,
      });
      return [queue, { ...pair, maxReceiveCount }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, QueuePair & { maxReceiveCount: number }>;
}
