/**
 * The assembled local stack over real HTTP and the real AWS SDK clients, configured only through the
 * environment the stack gives the functions — the same way the functions find their tables, queues and secrets.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { functionEntry } from '../../lib/paths';
import {
  FUNCTIONS,
  QUEUES,
  SECRETS,
  TABLES,
  maxReceiveCountEnv,
  type FunctionName,
  type QueueName,
} from '../../functions/shared/catalogue';
import { LOCAL_CREDENTIALS } from '../../lib/local/constants';
import { DEFAULT_BACKGROUND_NICE } from '../../lib/local/sandbox';
import { LocalStackAlreadyRunningError, startLocalStack, type LocalStack } from '../../lib/local/stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    quiet: true,
    // No real 8x8/Cognigy credentials from the developer's shell: the simulators are used.
    env: {},
    apiKey: 'stack-test-key',
    smsWebhookAuthorization: 'Bearer receipts-test',
    maxReceiveCount: { sms: 3 },
    visibilityTimeoutSeconds: { sms: 5 },
    settings: { RECORD_TTL_DAYS: '2' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const exists = (fn: Parameters<typeof functionEntry>[0]) => existsSync(functionEntry(fn));

/** Every function's environment merged: each variable the stack hands out, with the endpoints a client needs. */
function functionsEnvironment(): Record<string, string> {
  return Object.assign(
    {},
    ...(Object.keys(FUNCTIONS) as FunctionName[]).map((fn) => stack.functionEnvironment(fn)),
  ) as Record<string, string>;
}

/** Client settings as the functions' SDK would resolve them, signing as the operator (full access). */
function operatorConfig(endpointEnv: string) {
  return {
    region: 'us-east-1',
    endpoint: functionsEnvironment()[endpointEnv],
    credentials: { ...LOCAL_CREDENTIALS },
  };
}

test('reports its URLs, API key and startup time', () => {
  expect(stack.apiKey).toBe('stack-test-key');
  expect(stack.urls.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(stack.urls.openapi).toBe(`${stack.urls.gateway}/openapi.json`);
  expect(stack.startupMs).toBeGreaterThan(0);
  expect(Object.keys(stack.queues).sort()).toEqual(Object.keys(QUEUES).sort());
  expect(Object.keys(stack.tables).sort()).toEqual(Object.keys(TABLES).sort());
});

test('every catalogue table exists with its key and GSIs, reached through AWS_ENDPOINT_URL_DYNAMODB', async () => {
  const dynamo = new DynamoDBClient(operatorConfig('AWS_ENDPOINT_URL_DYNAMODB'));
  const env = functionsEnvironment();
  try {
    for (const spec of Object.values(TABLES)) {
      const name = env[spec.nameEnv];
      expect(name).toMatch(/\S/);
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual([{ AttributeName: spec.partitionKey, KeyType: 'HASH' }]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((i) => ({
        name: i.IndexName,
        partitionKey: i.KeySchema?.[0]?.AttributeName,
        projection: i.Projection?.ProjectionType,
      }));
      expect(indexes.sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
        spec.indexes
          .map((i) => ({ name: i.name, partitionKey: i.partitionKey, projection: 'ALL' }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      );
    }
  } finally {
    dynamo.destroy();
  }
});

test('every catalogue queue exists with its DLQ and redrive policy, reached through AWS_ENDPOINT_URL_SQS', async () => {
  const sqs = new SQSClient(operatorConfig('AWS_ENDPOINT_URL_SQS'));
  const env = functionsEnvironment();
  try {
    for (const [queue, spec] of Object.entries(QUEUES) as [QueueName, (typeof QUEUES)[QueueName]][]) {
      const url = env[spec.urlEnv];
      expect(url).toBe(stack.queues[queue].url);
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      const dlq = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queues[queue].dlqUrl, AttributeNames: ['All'] }),
      );
      const expectedMax = queue === 'sms' ? 3 : spec.maxReceiveCount;
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: dlq.Attributes?.QueueArn,
        maxReceiveCount: expectedMax,
      });
      expect(stack.functionEnvironment(spec.consumer)[maxReceiveCountEnv(queue)]).toBe(String(expectedMax));
      expect(Attributes?.VisibilityTimeout).toBe(String(queue === 'sms' ? 5 : spec.visibilityTimeoutSeconds));
      expect(Attributes?.MessageRetentionPeriod).toBe(String(spec.retentionDays * 86_400));
      if (spec.fifo) {
        expect(url).toMatch(/\.fifo$/);
        expect(stack.queues[queue].dlqUrl).toMatch(/-dlq\.fifo$/);
        expect(Attributes?.FifoQueue).toBe('true');
        expect(Attributes?.ContentBasedDeduplication).toBe('false');
        expect(dlq.Attributes?.FifoQueue).toBe('true');
      } else {
        expect(Attributes?.FifoQueue).toBeUndefined();
        expect(stack.queues[queue].dlqUrl).toMatch(/-dlq$/);
      }
    }
  } finally {
    sqs.destroy();
  }
});

test('secrets are written in their documented shapes and read through AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
  const client = new SecretsManagerClient(operatorConfig('AWS_ENDPOINT_URL_SECRETS_MANAGER'));
  const env = functionsEnvironment();
  const read = async (nameEnv: string) =>
    JSON.parse(
      (await client.send(new GetSecretValueCommand({ SecretId: env[nameEnv] }))).SecretString ?? '{}',
    ) as Record<string, string>;
  try {
    const receipts = await read(SECRETS.smsWebhookAuth.nameEnv);
    expect(receipts.authorization).toBe('Bearer receipts-test');
    expect(receipts.callbackTokenKey?.length).toBeGreaterThanOrEqual(16);

    if (stack.sms) {
      expect(stack.services.sms).toBe('simulator');
      const sms = await read(SECRETS.smsCredentials.nameEnv);
      expect(sms).toEqual({
        apiKey: expect.any(String),
        subAccountId: expect.any(String),
        baseUrl: stack.sms.url,
      });
    }
    if (stack.chatGateway) {
      expect(stack.services.chatGateway).toBe('simulator');
      const chat = await read(SECRETS.chatGatewayCredentials.nameEnv);
      expect(chat).toEqual({
        apiKey: expect.any(String),
        tenant: expect.any(String),
        baseUrl: stack.chatGateway.url,
        jwkUrl: `${stack.chatGateway.url}/chat-gateway/v1/jwk/{kid}/public`,
      });
    }
    if (stack.cognigy) {
      expect(await read(SECRETS.cognigy.nameEnv)).toEqual({ endpointBaseUrl: stack.cognigy.url });
    }
  } finally {
    client.destroy();
  }
});

test('the functions’ secret loader (Powertools Parameters) reads them with a function’s credentials and sees a rotation', async () => {
  // This process runs no function; for the loader it borrows sms-receipt's environment (its grants include smsWebhookAuth).
  const borrowed = stack.functionEnvironment('sms-receipt');
  const before = new Map(Object.keys(borrowed).map((name) => [name, process.env[name]]));
  Object.assign(process.env, borrowed);
  try {
    const { loadSecret } = await import('../../functions/shared/secrets');
    expect((await loadSecret('smsWebhookAuth')).authorization).toBe('Bearer receipts-test');
    // Powertools caches values for SECRETS_MAX_AGE_SECONDS; a forced fetch shows the stand-in's current value.
    stack.secretsManager.setSecret(stack.secretNames.smsWebhookAuth, { authorization: 'Bearer rotated' });
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    expect(
      await getSecret(stack.secretNames.smsWebhookAuth, { transform: 'json', forceFetch: true }),
    ).toEqual({
      authorization: 'Bearer rotated',
    });
  } finally {
    stack.secretsManager.setSecret(stack.secretNames.smsWebhookAuth, {
      authorization: 'Bearer receipts-test',
      callbackTokenKey: 'k'.repeat(32),
    });
    for (const [name, value] of before) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('plain settings reach the functions: PUBLIC_BASE_URL, options.settings, quiet Powertools', async () => {
  const env = await stack.sandboxEnvironment('sms-accept');
  expect(env.PUBLIC_BASE_URL).toBe(stack.urls.gateway);
  expect(env.RECORD_TTL_DAYS).toBe('2');
  expect(env.AWS_REGION).toBe('us-east-1');
  expect(env.POWERTOOLS_LOG_LEVEL).toBe('WARN');
  expect(env.POWERTOOLS_TRACE_ENABLED).toBe('false');
  expect(env.AWS_ENDPOINT_URL_DYNAMODB).toBe(stack.urls.dynamodb);
  expect(env.AWS_ENDPOINT_URL_SECRETS_MANAGER).toBe(stack.urls.secretsManager);
});

/** The threads of this process (the stack's sandboxes among them) at `nice`, from /proc (Linux). */
function threadsAtNice(nice: number): Set<string> {
  const at = new Set<string>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      // Fields after the command name; niceness is field 19 of proc_pid_stat(5), index 16 here.
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(fields[16]) === nice) at.add(tid);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return at;
}

/** Starts a fresh sandbox of `fn` (as a configuration change does) and returns the threads that took `nice` meanwhile. */
async function newThreadsAtNice(fn: FunctionName, nice: number): Promise<string[]> {
  await stack.sandboxEnvironment(fn);
  const before = threadsAtNice(nice);
  stack.updateFunctionSettings(fn, {});
  await stack.sandboxEnvironment(fn);
  return [...threadsAtNice(nice)].filter((tid) => !before.has(tid));
}

(process.platform === 'linux' ? test : test.skip)(
  'delivery, receipts and the sweeper run at a lower CPU priority than the routes; POST /sms does not',
  async () => {
    expect(DEFAULT_BACKGROUND_NICE).toBeGreaterThan(0);
    for (const fn of ['sms-deliver', 'sms-receipt', 'sms-sweeper'] as const) {
      expect({ fn, niced: (await newThreadsAtNice(fn, DEFAULT_BACKGROUND_NICE)).length }).toEqual({
        fn,
        niced: 1,
      });
    }
    expect(await newThreadsAtNice('sms-accept', DEFAULT_BACKGROUND_NICE)).toEqual([]);
  },
);

describe('the gateway in front of the catalogue', () => {
  test('API key routes refuse a missing or wrong key with 403', async () => {
    const missing = await fetch(`${stack.urls.gateway}/sms/some-id`);
    const wrong = await fetch(`${stack.urls.gateway}/sms/some-id`, { headers: { 'x-api-key': 'nope' } });
    expect([missing.status, wrong.status]).toEqual([403, 403]);
    expect(await missing.json()).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'Missing or invalid API key' },
    });
  });

  (exists('sms-status') ? test : test.skip)(
    'with the key, GET /sms/{messageId} runs the function against the local DynamoDB',
    async () => {
      const response = await fetch(`${stack.urls.gateway}/sms/${randomUUID()}`, {
        headers: { 'x-api-key': stack.apiKey },
      });
      expect(response.status).toBe(404);
      const body = (await response.json()) as { ok: boolean; error: { code: string } };
      expect(body.ok).toBe(false);
      expect(body.error.code).toBe('MESSAGE_NOT_FOUND');
    },
  );

  (exists('sms-receipt') ? test : test.skip)('webhook routes are not behind the API key', async () => {
    const response = await fetch(`${stack.urls.gateway}/webhooks/8x8/sms`, { method: 'POST', body: '{}' });
    // The function answers (it checks the receipt's own Authorization), not the gateway's API key check.
    const body = (await response.json()) as { error?: { message?: string } };
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(body.error?.message).not.toBe('Missing or invalid API key');
  });

  test('unknown routes are 404 and wrong methods 405', async () => {
    const unknown = await fetch(`${stack.urls.gateway}/does/not/exist`, {
      headers: { 'x-api-key': stack.apiKey },
    });
    const method = await fetch(`${stack.urls.gateway}/sms/batch`, { headers: { 'x-api-key': stack.apiKey } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
    expect(method.status).toBe(405);
    expect(((await method.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
  });

  test('GET /openapi.json serves the API description without a key', async () => {
    const response = await fetch(stack.urls.openapi);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toContain('/sms');
  });
});

test('a second stack in the same process is refused', async () => {
  await expect(startLocalStack({ port: 0, quiet: true, env: {} })).rejects.toBeInstanceOf(
    LocalStackAlreadyRunningError,
  );
});
