/**
 * The sms-inbound handler end to end inside one process, through its real wiring (functions/sms/inbound-wiring.ts):
 * SQS FIFO events in, AWS SDK calls out (aws-sdk-client-mock at the SDK boundary), Cognigy as a scripted HTTP
 * server. Environment names come from functions/shared/catalogue.ts, as the stack and the local stack set them.
 */
import '../../helpers/env';
import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { handler } from '../../../functions/sms-inbound/handler';
import type { QueuedInboundSms } from '../../../functions/sms/inbound-ports';
import type { MessageRecord } from '../../../functions/sms/records';
import { lambdaContext } from '../../helpers/lambda-events';
import { mockSmsAwsClients, setSmsHandlerEnvironment } from './handler-environment';
import { ScriptedServer, json } from './http-server';

setSmsHandlerEnvironment();
const { ddb, doc, sqs, secrets, reset } = mockSmsAwsClients();
const cognigy = new ScriptedServer();

const PHONE = '+6591234567';
const OUR_NUMBER = '+6580001111';
const UMID = '0f3c2b1a-5d4e-4f60-8a7b-9c0d1e2f3a4b';

beforeAll(() => cognigy.start());
afterAll(() => cognigy.stop());
beforeEach(() => {
  reset();
  cognigy.reset();
  secrets
    .on(GetSecretValueCommand, { SecretId: 'cognigy' })
    .resolves({ SecretString: JSON.stringify({ endpointBaseUrl: cognigy.url }) });
  // Nobody opted out; no flow SMS in the reply window unless a test says so.
  doc.on(GetCommand, { TableName: 'opt-outs-table' }).resolves({});
  doc.on(BatchGetCommand).resolves({ Responses: {} });
  doc.on(QueryCommand).resolves({ Items: [] });
});

const context = lambdaContext(50_000);

const inbound = (text: string): QueuedInboundSms => ({
  umid: UMID,
  from: PHONE,
  to: OUR_NUMBER,
  text,
  receivedAt: new Date(Date.now() - 2_000).toISOString(),
});

const fifoEvent = (body: unknown, receiveCount = 1): SQSEvent => ({
  Records: [
    {
      messageId: 'sqs-1',
      receiptHandle: 'rh-1',
      body: JSON.stringify(body),
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: '0',
        SenderId: 'x',
        ApproximateFirstReceiveTimestamp: '0',
        MessageGroupId: 'group-1',
        MessageDeduplicationId: UMID,
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:smsInbound.fifo',
      awsRegion: 'us-east-1',
    },
  ],
});

/** A flow's SMS to PHONE from OUR_NUMBER an hour ago, with its Cognigy session (no endpointBaseUrl: the secret's). */
const flowSms = (): MessageRecord => ({
  messageId: '00000000-0000-4000-8000-000000000001',
  clientMessageId: 'confirm-42',
  destination: PHONE,
  request: { destination: PHONE, text: 'Reply YES to confirm', encoding: 'AUTO', source: OUR_NUMBER },
  cognigy: { userId: 'user-1', sessionId: 'session-1', URLToken: 'token-1', receiptEvents: [] },
  replyKey: '6591234567|6580001111',
  status: 'delivered',
  statusRank: 3,
  history: [],
  attempts: 1,
  ambiguousAttempts: 0,
  encoding: 'GSM7',
  parts: 1,
  createdAt: new Date(Date.now() - 3_600_000).toISOString(),
  updatedAt: new Date(Date.now() - 3_600_000).toISOString(),
  expiresAt: 1_775_037_600,
});

test('a reply within the window is injected into the flow session through the cognigy secret base URL', async () => {
  doc.on(QueryCommand, { IndexName: 'byReplyKey' }).resolves({ Items: [flowSms()] });
  const result = await handler(fifoEvent(inbound('YES')), context);

  expect(result.batchItemFailures).toEqual([]);
  expect(doc).toHaveReceivedCommandWith(QueryCommand, {
    TableName: 'messages-table',
    IndexName: 'byReplyKey',
    ExpressionAttributeValues: expect.objectContaining({ ':key': '6591234567|6580001111' }),
  });
  expect(cognigy.received).toHaveLength(1);
  expect(cognigy.received[0]).toMatchObject({
    method: 'POST',
    url: '/inject/token-1',
    body: {
      userId: 'user-1',
      sessionId: 'session-1',
      text: 'YES',
      data: {
        sms: {
          inbound: {
            from: PHONE,
            to: OUR_NUMBER,
            text: 'YES',
            umid: UMID,
            inReplyTo: { messageId: '00000000-0000-4000-8000-000000000001', clientMessageId: 'confirm-42' },
          },
        },
        bridgeEventId: `sms:inbound:${UMID}`,
      },
    },
  });
});

test('Cognigy answering 503: the record fails (SQS redelivers it after a backoff), nothing is lost', async () => {
  doc.on(QueryCommand, { IndexName: 'byReplyKey' }).resolves({ Items: [flowSms()] });
  cognigy.replies.push(json(503, { error: 'unavailable' }));
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  const result = await handler(fifoEvent(inbound('YES')), context);

  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'sqs-1' }]);
  expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, {
    QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/smsInbound.fifo',
    ReceiptHandle: 'rh-1',
  });
});

test('HELP is answered through the SMS queue with clientMessageId kw:<umid>, from the texted number', async () => {
  ddb.on(PutItemCommand).resolves({});
  ddb.on(UpdateItemCommand).resolves({});
  doc.on(PutCommand).resolves({});
  doc.on(UpdateCommand).resolves({});
  sqs
    .on(SendMessageBatchCommand)
    .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: '' }] });
  const result = await handler(fifoEvent(inbound(' help! ')), context);

  expect(result.batchItemFailures).toEqual([]);
  expect(doc).toHaveReceivedCommandWith(PutCommand, {
    TableName: 'messages-table',
    Item: expect.objectContaining({
      clientMessageId: `kw:${UMID}`,
      destination: PHONE,
      request: expect.objectContaining({ source: OUR_NUMBER, destination: PHONE }),
    }),
  });
  expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  expect(cognigy.received).toEqual([]);
});

test('STOP writes the opt-out to the optOuts table and goes no further', async () => {
  doc.on(UpdateCommand, { TableName: 'opt-outs-table' }).resolves({});
  doc.on(PutCommand, { TableName: 'opt-outs-table' }).resolves({});
  const result = await handler(fifoEvent(inbound('Stop')), context);

  expect(result.batchItemFailures).toEqual([]);
  const writes = [...doc.commandCalls(UpdateCommand), ...doc.commandCalls(PutCommand)].map(
    (call) => call.args[0].input as { TableName?: string },
  );
  expect(writes.map((w) => w.TableName)).toEqual(['opt-outs-table']);
  expect(doc).not.toHaveReceivedCommandWith(QueryCommand, { IndexName: 'byReplyKey' });
  expect(cognigy.received).toEqual([]);
});

test('an unreadable queue message is dropped (acknowledged), not retried', async () => {
  const result = await handler(fifoEvent({ umid: UMID, text: 'no numbers' }), context);
  expect(result.batchItemFailures).toEqual([]);
  expect(doc).not.toHaveReceivedAnyCommand();
});
