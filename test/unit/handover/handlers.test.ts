import '../../helpers/env';
/**
 * The handover Lambda handlers end to end with AWS mocked at the SDK boundary (aws-sdk-client-mock) and 8x8 /
 * Cognigy as local HTTP servers: event → middy chain → core → AWS calls → answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { logger } from '../../../functions/shared/powertools';
import { resetHandoverRuntime } from '../../../functions/handover/wiring';
import { handler as startHandler } from '../../../functions/handover-start/handler';
import { handler as messageHandler } from '../../../functions/handover-message/handler';
import { handler as endHandler } from '../../../functions/handover-end/handler';
import { handler as statusHandler } from '../../../functions/handover-status/handler';
import { handler as outboundHandler } from '../../../functions/handover-outbound/handler';
import { handler as relayHandler } from '../../../functions/handover-relay/handler';
import { apiGatewayEvent, lambdaContext } from '../../helpers/lambda-events';
import { conversationRecord } from './fakes';

const documents = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);

interface Hit {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}
let upstream: Server;
let upstreamUrl: string;
const hits: Hit[] = [];
const statuses: number[] = [];

const ENV = {
  AWS_REGION: 'us-east-1',
  CONVERSATIONS_TABLE: 'conversations-table',
  HANDOVER_OUTBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/handover-outbound.fifo',
  HANDOVER_INBOUND_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/handover-inbound.fifo',
  CHAT_GATEWAY_SECRET: 'chat-gateway-secret',
  COGNIGY_SECRET: 'cognigy-secret',
  UPSTREAM_TIMEOUT_MS: '3000',
};
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  logger.setLogLevel('SILENT');
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  upstream = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      hits.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
      });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        req.url === '/chat-gateway/v1/conversations' && status === 202
          ? JSON.stringify({ conversationId: 'conv-new', createdAt: '2026-01-01T00:00:00Z' })
          : '{}',
      );
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetHandoverRuntime();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

beforeEach(() => {
  documents.reset();
  sqs.reset();
  secrets.reset();
  clearCaches();
  resetHandoverRuntime();
  hits.length = 0;
  statuses.length = 0;
  secrets.on(GetSecretValueCommand, { SecretId: 'chat-gateway-secret' }).resolves({
    SecretString: JSON.stringify({
      apiKey: 'cg-key',
      tenant: 'tenant-1',
      baseUrl: upstreamUrl,
      jwkUrl: `${upstreamUrl}/jwk/{kid}`,
    }),
  });
  secrets.on(GetSecretValueCommand, { SecretId: 'cognigy-secret' }).resolves({
    SecretString: JSON.stringify({ endpointBaseUrl: upstreamUrl, copilotBaseUrl: 'https://copilot.example' }),
  });
});

const context = lambdaContext(10_000);

const httpEvent = (method: string, path: string, parts: Partial<APIGatewayProxyEvent> = {}) =>
  apiGatewayEvent(method, path, parts);

async function call(
  handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>,
  event: APIGatewayProxyEvent,
) {
  const result = await handler(event, context);
  return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
}

function sqsEvent(bodies: unknown[], queue = 'handover-outbound.fifo'): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `msg-${i + 1}`,
      receiptHandle: `rh-${i + 1}`,
      body: JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
        MessageGroupId:
          (body as { conversationId?: string; event?: { conversationId?: string } }).conversationId ??
          'conv-1',
        MessageDeduplicationId: `d-${i}`,
        SequenceNumber: `${i + 1}`,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:1:${queue}`,
      awsRegion: 'us-east-1',
    })),
  };
}

describe('handover handlers (AWS mocked at the SDK boundary)', () => {
  it('POST /handover creates the 8x8 conversation with the secret credentials and stores the mapping', async () => {
    statuses.push(202);
    documents.on(PutCommand).resolves({});
    documents.on(GetCommand).resolves({});
    documents.on(QueryCommand).resolves({ Items: [] });
    documents.on(UpdateCommand).resolves({});
    const body = {
      cognigy: { userId: 'u-1', sessionId: 's-1', URLToken: 'tok-1' },
      channelId: 'ch-1',
      queueId: '101',
      customer: { name: 'Ada' },
    };
    const response = await call(startHandler, httpEvent('POST', '/handover', { body: JSON.stringify(body) }));
    expect(response).toEqual({
      statusCode: 201,
      body: { ok: true, conversationId: 'conv-new', handover: { status: 'queue' } },
    });
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      method: 'POST',
      url: '/chat-gateway/v1/conversations',
      headers: { 'x-api-key': 'cg-key', 'x-8x8-tenant': 'tenant-1' },
      body: {
        channelId: 'ch-1',
        assignment: { type: 'queue', id: '101' },
        user: {
          name: 'Ada',
          language: 'en',
          additionalProperties: [
            {
              key: 'Cognigy Copilot',
              value: 'https://copilot.example/?userId=u-1&sessionId=s-1&URLToken=tok-1',
            },
          ],
        },
      },
    });
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'conversations-table',
      Item: expect.objectContaining({
        conversationId: 'conv-new',
        sessionId: 's-1',
        userId: 'u-1',
        urlToken: 'tok-1',
        status: 'queue',
        version: 0,
      }),
    });
    // The session's claim: taken before 8x8 is called (conditional put), opened with the conversation after.
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'conversations-table',
      Item: expect.objectContaining({ itemType: 'sessionClaim', state: 'starting' }),
      ConditionExpression: 'attribute_not_exists(conversationId)',
    });
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'conversations-table',
      ExpressionAttributeValues: expect.objectContaining({ ':open': 'open', ':conversationId': 'conv-new' }),
    });
  });

  it('POST /handover answers a malformed body with 400 and handover.status "error", and never calls 8x8', async () => {
    const response = await call(startHandler, httpEvent('POST', '/handover', { body: '{"cognigy":' }));
    expect(response).toEqual({
      statusCode: 400,
      body: {
        ok: false,
        error: { code: 'MALFORMED_JSON', message: expect.any(String) },
        handover: { status: 'error' },
      },
    });
    expect(hits).toHaveLength(0);
  });

  it('POST /handover answers 503 NOT_CONFIGURED while the Chat Gateway secret holds the stack placeholder', async () => {
    // What the stack writes into a new secret (lib/constructs/bridge-data.ts SECRET_TEMPLATES): no apiKey yet.
    secrets.on(GetSecretValueCommand, { SecretId: 'chat-gateway-secret' }).resolves({
      SecretString: JSON.stringify({
        apiKey: '',
        tenant: '',
        baseUrl: 'https://api.8x8.com',
        jwkUrl: 'https://api.8x8.com/chat-gateway/v1/jwk/{kid}/public',
      }),
    });
    documents.on(GetCommand).resolves({});
    documents.on(QueryCommand).resolves({ Items: [] });
    documents.on(PutCommand).resolves({});
    documents.on(DeleteCommand).resolves({});
    const body = {
      cognigy: { userId: 'u-1', sessionId: 's-1', URLToken: 'tok-1' },
      channelId: 'ch-1',
    };
    const response = await call(startHandler, httpEvent('POST', '/handover', { body: JSON.stringify(body) }));
    expect(response).toEqual({
      statusCode: 503,
      body: {
        ok: false,
        error: { code: 'NOT_CONFIGURED', message: expect.stringContaining('chatGatewayCredentials') },
        handover: { status: 'error' },
      },
    });
    expect(hits).toHaveLength(0);
    // No conversation was recorded, and the session's claim was given up for the next try.
    const puts = documents.commandCalls(PutCommand).map((c) => c.args[0].input.Item);
    expect(puts.filter((item) => item?.itemType !== 'sessionClaim')).toEqual([]);
    expect(documents).toHaveReceivedCommand(DeleteCommand);
  });

  it('POST /handover/{id}/messages sends the item to the FIFO queue with the conversation as group', async () => {
    documents.on(GetCommand).resolves({ Item: conversationRecord({ status: 'active' }) });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const response = await call(
      messageHandler,
      httpEvent('POST', '/handover/conv-1/messages', {
        pathParameters: { conversationId: 'conv-1' },
        body: JSON.stringify({ text: 'Hi there', sessionId: 'session-1' }),
      }),
    );
    expect(response).toEqual({ statusCode: 202, body: { ok: true, queued: true, conversationId: 'conv-1' } });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: ENV.HANDOVER_OUTBOUND_QUEUE_URL,
      Entries: [
        expect.objectContaining({ MessageGroupId: 'conv-1', MessageDeduplicationId: expect.any(String) }),
      ],
    });
    const sent = JSON.parse(
      sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageBody ?? '{}',
    );
    expect(sent).toMatchObject({ kind: 'message', conversationId: 'conv-1', text: 'Hi there' });
  });

  it('POST /handover/{id}/messages answers 404 for an unknown conversation', async () => {
    documents.on(GetCommand).resolves({});
    const response = await call(
      messageHandler,
      httpEvent('POST', '/handover/conv-9/messages', {
        pathParameters: { conversationId: 'conv-9' },
        body: '{"text":"hi","sessionId":"session-1"}',
      }),
    );
    expect(response).toMatchObject({
      statusCode: 404,
      body: { ok: false, error: { code: 'HANDOVER_NOT_FOUND' } },
    });
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('POST /handover/{id}/end queues the end and marks the record cancelled conditionally', async () => {
    documents.on(GetCommand).resolves({ Item: conversationRecord({ status: 'active', version: 3 }) });
    documents.on(UpdateCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const response = await call(
      endHandler,
      httpEvent('POST', '/handover/conv-1/end', {
        pathParameters: { conversationId: 'conv-1' },
        body: '{"sessionId":"session-1"}',
      }),
    );
    expect(response).toEqual({
      statusCode: 200,
      body: { ok: true, conversationId: 'conv-1', handover: { status: 'cancelled' } },
    });
    expect(
      JSON.parse(
        sqs.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries?.[0]?.MessageBody ?? '{}',
      ),
    ).toMatchObject({ kind: 'end' });
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      ConditionExpression: 'attribute_exists(conversationId) AND #version = :expected',
      ExpressionAttributeValues: expect.objectContaining({ ':expected': 3, ':v1': 'cancelled' }),
    });
  });

  it('GET /handover/active?sessionId= finds the open handover through the session index', async () => {
    documents
      .on(QueryCommand)
      .resolves({ Items: [conversationRecord({ status: 'active', agentId: 'agent-1' })] });
    const response = await call(
      statusHandler,
      httpEvent('GET', '/handover/active', {
        pathParameters: { conversationId: 'active' },
        queryStringParameters: { sessionId: 'session-1' },
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({
      conversationId: 'conv-1',
      handover: { status: 'active' },
      agent: { id: 'agent-1' },
    });
    expect(JSON.stringify(response.body)).not.toContain('url-token');
  });

  it('the outbound consumer sends the user text to 8x8 and marks the item delivered', async () => {
    documents.on(GetCommand).resolves({ Item: conversationRecord({ status: 'active' }) });
    documents.on(UpdateCommand).resolves({});
    statuses.push(202);
    const item = {
      kind: 'message',
      itemId: 'i-1',
      conversationId: 'conv-1',
      text: 'Hello agent',
      requestedAt: '2026-01-01T00:00:00Z',
    };
    const result = await outboundHandler(sqsEvent([item]), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(hits[0]).toMatchObject({
      method: 'POST',
      url: '/chat-gateway/v1/conversations/conv-1/messages',
      body: { authorType: 'user', text: 'Hello agent' },
    });
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':v1': ['i-1'] }),
    });
  });

  it('the outbound consumer leaves a 500 for a retry with backoff, and the later item of the group waits', async () => {
    documents.on(GetCommand).resolves({ Item: conversationRecord({ status: 'active' }) });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    statuses.push(500);
    const items = ['first', 'second'].map((text, i) => ({
      kind: 'message',
      itemId: `i-${i}`,
      conversationId: 'conv-1',
      text,
      requestedAt: 'x',
    }));
    const result = await outboundHandler(sqsEvent(items), context);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['msg-1', 'msg-2']);
    expect(hits).toHaveLength(1);
    expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { ReceiptHandle: 'rh-1' });
    expect(documents).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('a failing conversation does not hold back another conversation in the same batch', async () => {
    documents
      .on(GetCommand, { Key: { conversationId: 'conv-1' } })
      .resolves({ Item: conversationRecord({ status: 'active' }) });
    documents
      .on(GetCommand, { Key: { conversationId: 'conv-2' } })
      .resolves({ Item: conversationRecord({ conversationId: 'conv-2', status: 'active' }) });
    documents.on(UpdateCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    statuses.push(500, 202);
    const items = [
      { kind: 'message', itemId: 'a', conversationId: 'conv-1', text: 'one', requestedAt: 'x' },
      { kind: 'message', itemId: 'b', conversationId: 'conv-2', text: 'two', requestedAt: 'x' },
    ];
    const result = await outboundHandler(sqsEvent(items), context);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['msg-1']);
    expect(hits.map((h) => h.url)).toEqual([
      '/chat-gateway/v1/conversations/conv-1/messages',
      '/chat-gateway/v1/conversations/conv-2/messages',
    ]);
  });

  it('the relay consumer notifies Cognigy of agent text and marks the event on the record', async () => {
    documents
      .on(GetCommand)
      .resolves({ Item: conversationRecord({ status: 'active', agentId: 'agent-1', version: 2 }) });
    documents.on(UpdateCommand).resolves({});
    statuses.push(200);
    const envelope = {
      eventId: 'evt-1',
      retry: 0,
      receivedAt: Date.now(),
      event: {
        eventType: 'MESSAGE',
        conversationId: 'conv-1',
        timestamp: Date.now(),
        data: {
          isEcho: false,
          sender: { id: 'agent-1', type: 'agent' },
          text: 'How can I help?',
          attachments: [],
          cards: [],
        },
      },
    };
    const result = await relayHandler(sqsEvent([envelope], 'handover-inbound.fifo'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(hits[0]).toMatchObject({
      method: 'POST',
      url: '/notify/url-token-secret-123',
      body: { userId: 'user-1', sessionId: 'session-1', text: 'How can I help?', source: 'agent' },
    });
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':expected': 2, ':v1': ['evt-1'] }),
    });
  });

  it('the relay consumer retries after losing a write race instead of pushing twice', async () => {
    documents
      .on(GetCommand)
      .resolvesOnce({ Item: conversationRecord({ status: 'queue', version: 1 }) })
      .resolves({ Item: conversationRecord({ status: 'cancelled', version: 2 }) });
    documents
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }))
      .resolves({});
    statuses.push(200);
    const envelope = {
      eventId: 'evt-2',
      retry: 0,
      receivedAt: Date.now(),
      event: {
        eventType: 'MEMBERS_CHANGED',
        conversationId: 'conv-1',
        timestamp: Date.now(),
        data: { memberType: 'agent', change: 'joined', id: 'agent-1' },
      },
    };
    const result = await relayHandler(sqsEvent([envelope], 'handover-inbound.fifo'), context);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(hits).toHaveLength(1);
    const second = documents.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(second?.ExpressionAttributeValues).toMatchObject({ ':expected': 2 });
    expect(Object.values(second?.ExpressionAttributeNames ?? {})).not.toContain('status');
  });
});
