import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { mockClient } from 'aws-sdk-client-mock';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiGatewayEvent, lambdaContext } from '../../helpers/lambda-events';

/* Handler-level tests: the real middy chain and AWS adapters, mocked only at the AWS SDK boundary. The JWK URL is
 * a real local HTTP server. */

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/handover-inbound.fifo';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1' };

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);

let jwkServer: Server;
let jwkHits = 0;
let handler: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  jwkServer = createServer((req, res) => {
    jwkHits++;
    if (req.url === '/jwk/k1/public')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwk));
    else res.writeHead(404).end('{"message":"Resource not found"}');
  });
  await new Promise<void>((resolve) => jwkServer.listen(0, '127.0.0.1', resolve));
  const jwkBase = `http://127.0.0.1:${(jwkServer.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    IDEMPOTENCY_TABLE: 'idempotency',
    HANDOVER_INBOUND_QUEUE_URL: QUEUE_URL,
    CHAT_GATEWAY_SECRET: 'chat-gateway',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_NAMESPACE: 'Test',
  });
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({
      apiKey: 'k',
      tenant: 'tenant01',
      baseUrl: 'https://api.8x8.com',
      jwkUrl: `${jwkBase}/jwk/{kid}/public`,
    }),
  });
  // Imported after the environment is set: the Powertools singletons read it at module load.
  ({ handler } = await import('../../../functions/handover-webhook/handler'));
});

afterAll(async () => {
  jwkServer.closeAllConnections();
  await new Promise((resolve) => jwkServer.close(resolve));
});

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

const BODY = JSON.stringify({
  eventType: 'MEMBERS_CHANGED',
  conversationId: 'conv-9',
  timestamp: Date.now(),
  data: { memberType: 'agent', change: 'joined', id: 'agent-1' },
});

function signedHeaders(body: string, eventId = 'evt-1', key = privateKey): Record<string, string> {
  const h = {
    'X-8x8-Tenant-Id': 'tenant01',
    'X-8x8-Customer-Id': 'cust-1',
    'X-8x8-Event-Id': eventId,
    'X-8x8-Transmission-Time': String(Date.now()),
    'X-8x8-Retry': '0',
  };
  const payload = `{"checksum":${crc32(Buffer.from(body))},"cid":"cust-1","eid":"${eventId}","retry":0,"tid":"tenant01","tt":${h['X-8x8-Transmission-Time']}}`;
  const header = Buffer.from(JSON.stringify({ b64: false, crit: ['b64'], kid: 'k1', alg: 'RS256' })).toString(
    'base64url',
  );
  return {
    ...h,
    'X-8x8-Signature': `${header}..${sign('sha256', Buffer.from(`${header}.${payload}`), key).toString('base64url')}`,
  };
}

const apiEvent = (body: string, headers: Record<string, string>, base64 = false): APIGatewayProxyEvent =>
  apiGatewayEvent('POST', '/handover/eightByEight', {
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

const context = lambdaContext(10_000);

const invoke = (event: APIGatewayProxyEvent) => handler(event, context);

describe('handover-webhook handler', () => {
  it('claims the event in the idempotency table, queues it FIFO by conversation and answers 200', async () => {
    const response = await invoke(apiEvent(BODY, signedHeaders(BODY)));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true });

    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.TableName).toBe('idempotency');
    expect(put.Item).toMatchObject({
      id: 'chat-event#evt-1',
      status: 'PENDING',
      conversationId: 'conv-9',
      eventType: 'MEMBERS_CHANGED',
    });
    expect(put.Item?.expiration).toBeGreaterThan(Date.now() / 1000);
    expect(put.ConditionExpression).toContain('attribute_not_exists(id)');

    const batch = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
    expect(batch.QueueUrl).toBe(QUEUE_URL);
    expect(batch.Entries).toHaveLength(1);
    const send = batch.Entries![0]!;
    expect(send).toMatchObject({ MessageGroupId: 'conv-9', MessageDeduplicationId: 'evt-1' });
    expect(JSON.parse(send.MessageBody!)).toMatchObject({
      eventId: 'evt-1',
      retry: 0,
      event: JSON.parse(BODY),
    });

    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      Key: { id: 'chat-event#evt-1' },
      ExpressionAttributeValues: { ':queued': 'QUEUED' },
    });
  });

  it('verifies a base64-encoded body on its decoded bytes', async () => {
    const response = await invoke(apiEvent(BODY, signedHeaders(BODY, 'evt-b64'), true));
    expect(response.statusCode).toBe(200);
  });

  it('answers a repeat of a queued event id with duplicate:true and sends nothing', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: { id: 'chat-event#evt-1', status: 'QUEUED' } });
    const response = await invoke(apiEvent(BODY, signedHeaders(BODY)));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true, duplicate: true });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('answers 409 while a claim is PENDING', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetCommand).resolves({ Item: { id: 'chat-event#evt-1', status: 'PENDING' } });
    const response = await invoke(apiEvent(BODY, signedHeaders(BODY)));
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(response.body).error.code).toBe('EVENT_IN_PROGRESS');
  });

  it('answers 503 and releases its PENDING claim (keeping the body hash) when SQS fails', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new Error('ServiceUnavailable'));
    const response = await invoke(apiEvent(BODY, signedHeaders(BODY)));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      ok: false,
      error: { code: 'EVENT_NOT_ACCEPTED', message: 'The event could not be queued; retry later' },
    });
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    const updates = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates).toEqual([
      expect.objectContaining({
        Key: { id: 'chat-event#evt-1' },
        UpdateExpression: 'SET #status = :released REMOVE lockedUntil',
        ConditionExpression: '#status = :pending',
      }),
    ]);
  });

  it('refuses a forged event with 401 and makes no DynamoDB or SQS call', async () => {
    const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const response = await invoke(apiEvent(BODY, signedHeaders(BODY, 'evt-x', forger)));
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body).error.code).toBe('SIGNATURE_INVALID');
    expect(ddb.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('fetches the JWK once for every event a warm function verifies', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await invoke(apiEvent(BODY, signedHeaders(BODY, `evt-warm-${i}`)))).statusCode).toBe(200);
    }
    // Earlier tests in this file verified signatures with the same kid in the same module instance.
    expect(jwkHits).toBe(1);
  });

  it('refuses an unsigned Test Connection by default, answers it when ACCEPT_UNSIGNED_VERIFY=true; no secret read', async () => {
    secrets.resetHistory();
    const verify = () =>
      invoke(apiEvent('{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}', {}));
    const refused = await verify();
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe('SIGNATURE_MISSING');
    process.env.ACCEPT_UNSIGNED_VERIFY = 'true';
    try {
      expect((await verify()).statusCode).toBe(200);
    } finally {
      delete process.env.ACCEPT_UNSIGNED_VERIFY;
    }
    expect(secrets.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses an unsigned event with 401 SIGNATURE_MISSING in the standard error shape', async () => {
    const response = await invoke(apiEvent(BODY, {}));
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toEqual({
      ok: false,
      error: { code: 'SIGNATURE_MISSING', message: 'The x-8x8-signature header is missing' },
    });
  });

  it('refuses a body over the route limit with 413 before any verification', async () => {
    const big = 'x'.repeat(262_145);
    const response = await invoke(apiEvent(big, signedHeaders(big)));
    expect(response.statusCode).toBe(413);
    expect(ddb.calls()).toHaveLength(0);
  });
});
