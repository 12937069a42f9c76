/**
 * The SMS Lambda handlers end to end inside one process: API Gateway / SQS events in, AWS SDK calls out
 * (aws-sdk-client-mock at the SDK boundary), 8x8 as a scripted HTTP server. Environment names come from
 * functions/shared/catalogue.ts, as the stack and the local stack set them.
 */
import '../../helpers/env';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { QUEUES } from '../../../functions/shared/catalogue';
import { handler as accept } from '../../../functions/sms-accept/handler';
import { handler as batch } from '../../../functions/sms-batch/handler';
import { handler as deliver } from '../../../functions/sms-deliver/handler';
import { handler as inboundWebhook } from '../../../functions/sms-inbound-webhook/handler';
import { handler as receipt } from '../../../functions/sms-receipt/handler';
import { handler as status } from '../../../functions/sms-status/handler';
import type { MessageRecord } from '../../../functions/sms/records';
import { apiGatewayEvent, lambdaContext } from '../../helpers/lambda-events';
import { mockSmsAwsClients, setSmsHandlerEnvironment } from './handler-environment';
import { ScriptedServer, json } from './http-server';

setSmsHandlerEnvironment();
const { ddb, doc, sqs, secrets, reset } = mockSmsAwsClients();
const eightByEight = new ScriptedServer();

const AUTHORIZATION = 'Basic dXNlcjpwYXNzd29yZA==';

beforeAll(() => eightByEight.start());
afterAll(() => eightByEight.stop());
beforeEach(() => {
  reset();
  eightByEight.reset();
  secrets.on(GetSecretValueCommand, { SecretId: 'sms-credentials' }).resolves({
    SecretString: JSON.stringify({
      apiKey: 'live-key',
      subAccountId: 'SubAccount-1',
      baseUrl: eightByEight.url,
    }),
  });
  secrets
    .on(GetSecretValueCommand, { SecretId: 'sms-webhook-auth' })
    .resolves({ SecretString: JSON.stringify({ authorization: AUTHORIZATION }) });
  secrets.on(GetSecretValueCommand, { SecretId: 'cognigy' }).resolves({ SecretString: JSON.stringify({}) });
  // No number opted out (POST /sms reads the opt-out list first; test/unit/sms/opt-out-handlers.test.ts).
  doc.on(GetCommand, { TableName: 'opt-outs-table' }).resolves({});
  doc.on(BatchGetCommand).resolves({ Responses: {} }); // tests reading messages set their own
});

const context = lambdaContext();

const apiEvent = (
  method: string,
  path: string,
  body?: string,
  extra: Partial<APIGatewayProxyEvent> = {},
): APIGatewayProxyEvent => apiGatewayEvent(method, path, { body: body ?? null, ...extra });

const parse = (result: APIGatewayProxyResult) => JSON.parse(result.body) as Record<string, unknown>;

const queued = (messageId: string, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  messageId,
  destination: '+6591234567',
  request: { destination: '+6591234567', text: 'Code 123456', encoding: 'AUTO' },
  status: 'queued',
  statusRank: 0,
  history: [{ status: 'queued', at: '2026-03-02T10:00:00.000Z' }],
  attempts: 0,
  ambiguousAttempts: 0,
  encoding: 'GSM7',
  parts: 1,
  createdAt: '2026-03-02T10:00:00.000Z',
  updatedAt: '2026-03-02T10:00:00.000Z',
  expiresAt: 1_775_037_600,
  ...extra,
});

describe('POST /sms handler', () => {
  test('stores the record, enqueues {messageId} and answers 202', async () => {
    doc.on(PutCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await accept(
      apiEvent('POST', '/sms', JSON.stringify({ destination: '+65 9123 4567', text: 'Code 123456' })),
      context,
    );

    expect(result.statusCode).toBe(202);
    const body = parse(result);
    expect(body).toMatchObject({
      ok: true,
      destination: '+6591234567',
      clientMessageId: null,
      status: { code: 'QUEUED' },
    });
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'messages-table',
      Item: expect.objectContaining({ messageId: body.messageId }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: process.env[QUEUES.sms.urlEnv],
      Entries: [{ Id: '0', MessageBody: JSON.stringify({ messageId: body.messageId }) }],
    });
    expect(ddb).not.toHaveReceivedCommand(PutItemCommand);
    expect(doc).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'opt-outs-table',
      Key: { number: '+6591234567' },
      ConsistentRead: true,
    });
  });

  test('a clientMessageId goes through Powertools idempotency on the idempotency table', async () => {
    doc.on(PutCommand).resolves({});
    // No record left behind by a crashed first request of this clientMessageId.
    doc.on(QueryCommand).resolves({ Items: [] });
    doc.on(UpdateCommand).resolves({});
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await accept(
      apiEvent(
        'POST',
        '/sms',
        JSON.stringify({ destination: '+6591234567', text: 'x', clientMessageId: 'otp-1' }),
      ),
      context,
    );
    expect(result.statusCode).toBe(202);
    expect(ddb).toHaveReceivedCommandWith(PutItemCommand, { TableName: 'idempotency-table' });
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, { TableName: 'idempotency-table' });
    expect(doc).toHaveReceivedCommandWith(QueryCommand, { IndexName: 'byClientMessageId' });
    // Outbox: the record is written with its marker, which is cleared once SQS took the SMS.
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ outbox: 'pending' }),
    });
    expect(doc).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression: 'SET #updatedAt = :now REMOVE #outbox',
    });
  });

  test('bad input is a 400 with a stable code and details, never a 5xx', async () => {
    const invalid = await accept(
      apiEvent('POST', '/sms', JSON.stringify({ destination: '12', text: 'x', colour: 'red' })),
      context,
    );
    expect(invalid.statusCode).toBe(400);
    expect(parse(invalid)).toMatchObject({
      ok: false,
      error: {
        code: 'UNKNOWN_FIELD',
        details: [
          { path: 'colour', code: 'UNKNOWN_FIELD' },
          { path: 'destination', code: 'INVALID_DESTINATION' },
        ],
      },
    });
    const malformed = await accept(apiEvent('POST', '/sms', '{"destination":'), context);
    expect(malformed.statusCode).toBe(400);
    expect(parse(malformed)).toMatchObject({ ok: false, error: { code: 'MALFORMED_JSON' } });
    expect(doc).not.toHaveReceivedCommand(PutCommand);
  });

  test('a body over the route limit is refused with 413 before any work', async () => {
    const result = await accept(
      apiEvent('POST', '/sms', JSON.stringify({ destination: '+6591234567', text: 'x'.repeat(20_000) })),
      context,
    );
    expect(result.statusCode).toBe(413);
    expect(doc).not.toHaveReceivedCommand(PutCommand);
  });
});

describe('POST /sms/batch handler', () => {
  test('answers 202 with one verdict per item', async () => {
    doc.on(PutCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await batch(
      apiEvent(
        'POST',
        '/sms/batch',
        JSON.stringify({ destinations: ['+6591234567', 'nope'], template: { text: 'Hi' } }),
      ),
      context,
    );
    expect(result.statusCode).toBe(202);
    expect(parse(result)).toMatchObject({ ok: true, acceptedCount: 1, rejectedCount: 1 });
  });
});

describe('GET /sms/{messageId} handler', () => {
  const id = '0b9f4c1e-3c55-4c51-9a39-6c3e1d1a2b3c';

  test('answers the record with upper-case status codes', async () => {
    doc.on(GetCommand).resolves({
      Item: queued(id, {
        clientMessageId: 'otp-1',
        cognigy: { URLToken: 'secret-token', receiptEvents: [] },
      }),
    });
    const result = await status(
      apiEvent('GET', `/sms/${id}`, undefined, { pathParameters: { messageId: id } }),
      context,
    );
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({
      ok: true,
      messageId: id,
      clientMessageId: 'otp-1',
      status: { code: 'QUEUED' },
      history: [{ status: 'QUEUED' }],
    });
    expect(result.body).not.toContain('secret-token');
  });

  test('an unknown id is 404 MESSAGE_NOT_FOUND; a malformed one 400 INVALID_MESSAGE_ID', async () => {
    doc.on(GetCommand).resolves({});
    const missing = await status(
      apiEvent('GET', `/sms/${id}`, undefined, { pathParameters: { messageId: id } }),
      context,
    );
    expect([missing.statusCode, parse(missing).error]).toEqual([
      404,
      expect.objectContaining({ code: 'MESSAGE_NOT_FOUND' }),
    ]);
    const malformed = await status(
      apiEvent('GET', '/sms/abc', undefined, { pathParameters: { messageId: 'abc' } }),
      context,
    );
    expect([malformed.statusCode, parse(malformed).error]).toEqual([
      400,
      expect.objectContaining({ code: 'INVALID_MESSAGE_ID' }),
    ]);
  });
});

describe('POST /webhooks/8x8/sms handler', () => {
  const dlr = JSON.stringify({
    namespace: 'SMS',
    eventType: 'outbound_message_status_changed',
    payload: {
      umid: 'umid-1',
      clientMessageId: null,
      status: { state: 'delivered', detail: 'delivered_to_recipient', timestamp: '2026-03-02T10:00:05Z' },
    },
  });

  test('with the configured Authorization value the receipt updates the record', async () => {
    doc.on(QueryCommand).resolves({
      Items: [
        queued('0b9f4c1e-3c55-4c51-9a39-6c3e1d1a2b3c', { status: 'sent', statusRank: 2, umid: 'umid-1' }),
      ],
    });
    doc.on(UpdateCommand).resolves({});
    const result = await receipt(
      apiEvent('POST', '/webhooks/8x8/sms', dlr, { headers: { Authorization: AUTHORIZATION } }),
      context,
    );
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toMatchObject({ ok: true, status: 'DELIVERED', changed: true });
    expect(doc).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({ ':status': 'delivered' }),
    });
  });

  test('without it: 401 and nothing is read or written', async () => {
    const result = await receipt(
      apiEvent('POST', '/webhooks/8x8/sms', dlr, { headers: { Authorization: 'Basic d3Jvbmc=' } }),
      context,
    );
    expect(result.statusCode).toBe(401);
    expect(parse(result)).toEqual({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'Missing or invalid credentials' },
    });
    expect(doc).not.toHaveReceivedCommand(QueryCommand);
    expect(doc).not.toHaveReceivedCommand(UpdateCommand);
  });

  test('before the receipt secret is set: 503 NOT_CONFIGURED (8x8 retries), the secret never echoed', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: 'sms-webhook-auth' })
      .rejects(new Error('ResourceNotFoundException: Secrets Manager can not find the specified secret'));
    const result = await receipt(
      apiEvent('POST', '/webhooks/8x8/sms', dlr, { headers: { Authorization: AUTHORIZATION } }),
      context,
    );
    expect(result.statusCode).toBe(503);
    expect(parse(result)).toEqual({
      ok: false,
      error: { code: 'NOT_CONFIGURED', message: expect.stringContaining('smsWebhookAuth') },
    });
    expect(result.body).not.toContain(AUTHORIZATION);
    expect(doc).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe('SMS queue consumer handler', () => {
  const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
  const sqsEvent: SQSEvent = {
    Records: ids.map((messageId, i) => ({
      messageId: `sqs-${i}`,
      receiptHandle: `rh-${i}`,
      body: JSON.stringify({ messageId }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sms',
      awsRegion: 'us-east-1',
    })),
  };

  beforeEach(() => {
    // The pacer's bucket: every slot has room (the first place).
    doc.on(UpdateCommand, { TableName: 'pacer-table' }).resolves({ Attributes: { taken: 1 } });
    doc.on(GetCommand, { TableName: 'pacer-table' }).resolves({});
  });

  test('hands a poll batch to 8x8 in one batch call and records each umid', async () => {
    doc.on(BatchGetCommand).resolves({ Responses: { 'messages-table': ids.map((id) => queued(id)) } });
    doc.on(UpdateCommand, { TableName: 'messages-table' }).resolves({});
    eightByEight.replies.push((res, received) => {
      const messages = (received.body as { messages: { clientMessageId: string }[] }).messages;
      json(200, {
        batchId: 'batch-1',
        acceptedCount: messages.length,
        rejectedCount: 0,
        messages: messages.map((m, i) => ({
          umid: `umid-${i}`,
          clientMessageId: m.clientMessageId,
          status: { code: 'QUEUED' },
        })),
      })(res, received);
    });

    const result = await deliver(sqsEvent, context);

    expect(result.batchItemFailures).toEqual([]);
    // The call took its place in the pacer's bucket first: one conditional counter update.
    expect(doc).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'pacer-table',
      ConditionExpression: 'attribute_not_exists(#taken) OR #taken < :capacity',
    });
    expect(eightByEight.received).toHaveLength(1);
    expect(eightByEight.received[0]).toMatchObject({
      url: '/api/v1/subaccounts/SubAccount-1/messages/batch',
      headers: { authorization: 'Bearer live-key' },
      body: {
        includeMessagesInResponse: true,
        messages: ids.map((id) =>
          expect.objectContaining({ clientMessageId: id, destination: '+6591234567' }),
        ),
      },
    });
    const sentUpdates = doc
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues ?? {})
      .filter((v) => v[':status'] === 'sent');
    expect(sentUpdates.map((v) => v[':umid']).sort()).toEqual(['umid-0', 'umid-1']);
  });

  test('a 503 from 8x8 reports both messages for retry with a backoff delay', async () => {
    doc.on(BatchGetCommand).resolves({ Responses: { 'messages-table': ids.map((id) => queued(id)) } });
    doc.on(UpdateCommand, { TableName: 'messages-table' }).resolves({});
    eightByEight.replies.push(json(503, { code: 2000, message: 'Service unavailable' }));
    const result = await deliver(sqsEvent, context);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['sqs-0', 'sqs-1']);
    expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 2);
    expect(eightByEight.received).toHaveLength(1);
  });
});

describe('POST /webhooks/8x8/sms/inbound handler', () => {
  const inbound = JSON.stringify({
    namespace: 'SMS',
    eventType: 'inbound_message_received',
    payload: { umid: 'umid-in-1', source: '6591234567', destination: '6587654321', body: 'YES' },
  });

  test('with the receipt Authorization value: claimed, queued on the FIFO queue by umid, marked queued, 200', async () => {
    doc.on(PutCommand).resolves({});
    doc.on(UpdateCommand).resolves({});
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }] });
    const result = await inboundWebhook(
      apiEvent('POST', '/webhooks/8x8/sms/inbound', inbound, { headers: { Authorization: AUTHORIZATION } }),
      context,
    );
    expect([result.statusCode, parse(result)]).toEqual([200, { ok: true, umid: 'umid-in-1', queued: true }]);
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'idempotency-table',
      Item: expect.objectContaining({ id: 'sms-inbound#umid-in-1', status: 'PENDING' }),
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: process.env[QUEUES.smsInbound.urlEnv],
      Entries: [expect.objectContaining({ MessageDeduplicationId: 'umid-in-1' })],
    });
    expect(doc).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { id: 'sms-inbound#umid-in-1' },
      ExpressionAttributeValues: { ':queued': 'QUEUED' },
    });
  });

  test('without it: 401, nothing claimed or queued', async () => {
    const result = await inboundWebhook(
      apiEvent('POST', '/webhooks/8x8/sms/inbound', inbound, {
        headers: { Authorization: 'Basic d3Jvbmc=' },
      }),
      context,
    );
    expect([result.statusCode, parse(result).error]).toEqual([
      401,
      expect.objectContaining({ code: 'UNAUTHORIZED' }),
    ]);
    expect(doc).not.toHaveReceivedCommand(PutCommand);
    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });
});
