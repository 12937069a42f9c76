/**
 * The reply window on the messages table (functions/sms/dynamo-message-store.ts): dynamoReplyLookup over the sparse
 * byReplyKey index, and erase removing replyKey. At the AWS SDK boundary (aws-sdk-client-mock), as the other
 * DynamoMessageStore tests (adapters.test.ts).
 */
import '../../helpers/env';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoMessageStore, dynamoReplyLookup } from '../../../functions/sms/dynamo-message-store';
import type { MessageRecord } from '../../../functions/sms/records';

const doc = mockClient(DynamoDBDocumentClient);
beforeEach(() => doc.reset());

const documentClient = () => DynamoDBDocumentClient.from(new DynamoDBClient({}));
const store = () => new DynamoMessageStore(documentClient(), 'messages-table');
const replies = () => dynamoReplyLookup(documentClient(), 'messages-table');

const PHONE = '+6591234567';
const OUR_NUMBER = '+6580001111';
const SINCE = '2026-03-01T10:00:00.000Z';

const record = (overrides: Partial<MessageRecord> = {}): MessageRecord => ({
  messageId: '00000000-0000-4000-8000-000000000001',
  clientMessageId: 'confirm-42',
  destination: PHONE,
  request: { destination: PHONE, text: 'Reply YES to confirm', encoding: 'AUTO', source: OUR_NUMBER },
  cognigy: {
    userId: 'user-1',
    sessionId: 'session-1',
    URLToken: 'token-1',
    endpointBaseUrl: 'https://endpoint-trial.cognigy.ai',
    receiptEvents: [],
  },
  replyKey: '6591234567|6580001111',
  status: 'delivered',
  statusRank: 3,
  history: [],
  attempts: 1,
  ambiguousAttempts: 0,
  encoding: 'GSM7',
  parts: 1,
  createdAt: '2026-03-02T08:00:00.000Z',
  updatedAt: '2026-03-02T08:00:05.000Z',
  expiresAt: 1_775_037_600,
  ...overrides,
});

/** Answers each byReplyKey query with the record of its key (newest first, Limit 1, as DynamoDB would). */
function indexHolds(records: MessageRecord[]): void {
  doc.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => {
    const key = input.ExpressionAttributeValues[':key'];
    const since = input.ExpressionAttributeValues[':since'] ?? '';
    const items = records
      .filter((r) => r.replyKey === key && r.createdAt >= since)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, 1);
    return { Items: items };
  });
}

describe('latestSessionSms', () => {
  test('queries byReplyKey newest first from `since`, one item, for the sender and for "no sender"', async () => {
    indexHolds([record()]);
    await replies().latestSessionSms(PHONE, OUR_NUMBER, SINCE);
    const queries = doc.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries).toEqual(
      ['6591234567|6580001111', '6591234567|'].map((key) => ({
        TableName: 'messages-table',
        IndexName: 'byReplyKey',
        KeyConditionExpression: '#replyKey = :key AND #createdAt >= :since',
        ExpressionAttributeNames: { '#replyKey': 'replyKey', '#createdAt': 'createdAt' },
        ExpressionAttributeValues: { ':key': key, ':since': SINCE },
        ScanIndexForward: false,
        Limit: 1,
      })),
    );
  });

  test("answers the record's Cognigy session and ids", async () => {
    indexHolds([record()]);
    await expect(replies().latestSessionSms(PHONE, OUR_NUMBER, SINCE)).resolves.toEqual({
      messageId: '00000000-0000-4000-8000-000000000001',
      clientMessageId: 'confirm-42',
      createdAt: '2026-03-02T08:00:00.000Z',
      cognigy: {
        userId: 'user-1',
        sessionId: 'session-1',
        URLToken: 'token-1',
        endpointBaseUrl: 'https://endpoint-trial.cognigy.ai',
      },
    });
  });

  test('an SMS sent with no source (8x8 chose the sender) counts; the newer of the two wins', async () => {
    const noSource = record({
      messageId: '00000000-0000-4000-8000-000000000002',
      replyKey: '6591234567|',
      createdAt: '2026-03-02T09:00:00.000Z',
      cognigy: { userId: 'user-2', sessionId: 'session-2', URLToken: 'token-2', receiptEvents: [] },
    });
    indexHolds([record(), noSource]);
    const target = await replies().latestSessionSms(PHONE, OUR_NUMBER, SINCE);
    expect(target?.messageId).toBe('00000000-0000-4000-8000-000000000002');
    expect(target?.cognigy).toEqual({ userId: 'user-2', sessionId: 'session-2', URLToken: 'token-2' });

    doc.reset();
    indexHolds([record({ createdAt: '2026-03-02T09:30:00.000Z' }), noSource]);
    expect((await replies().latestSessionSms(PHONE, OUR_NUMBER, SINCE))?.messageId).toBe(
      '00000000-0000-4000-8000-000000000001',
    );
  });

  test('an alphanumeric sender compares without case; a `+` on either side does not matter', async () => {
    indexHolds([record({ replyKey: '6591234567|MYBANK' })]);
    expect(await replies().latestSessionSms('6591234567', 'MyBank', SINCE)).toMatchObject({
      cognigy: { sessionId: 'session-1' },
    });
  });

  test('nothing within the window, or a record without a complete session: undefined', async () => {
    indexHolds([record({ createdAt: '2026-03-01T09:59:59.999Z' })]);
    await expect(replies().latestSessionSms(PHONE, OUR_NUMBER, SINCE)).resolves.toBeUndefined();
    doc.reset();
    indexHolds([record({ cognigy: { userId: 'user-1', sessionId: 'session-1', receiptEvents: [] } })]);
    await expect(replies().latestSessionSms(PHONE, OUR_NUMBER, SINCE)).resolves.toBeUndefined();
  });
});

test('erase removes replyKey with the number and text', async () => {
  doc.on(UpdateCommand).resolves({});
  await store().erase('00000000-0000-4000-8000-000000000001', {
    at: '2026-03-02T11:00:00.000Z',
    fields: ['destination'],
    eightByEight: 'notSent',
  });
  const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
  expect(input?.UpdateExpression).toMatch(/ REMOVE .*#replyKey/);
  expect(input?.ExpressionAttributeNames).toMatchObject({ '#replyKey': 'replyKey' });
});
