import '../../helpers/env';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ConversationExistsError, DynamoConversationStore } from '../../../functions/handover/store';
import { conversationRecord, FakeClock } from './fakes';

const documents = mockClient(DynamoDBDocumentClient);
const NOW_S = Date.parse('2026-03-01T12:00:00.000Z') / 1000;

function store(ttlDays = 30) {
  return new DynamoConversationStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    tableName: 'conversations-table',
    ttlDays,
    clock: new FakeClock(),
  });
}

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

beforeEach(() => documents.reset());

describe('DynamoConversationStore', () => {
  it('creates a record only if the conversation is new, with a TTL of RECORD_TTL_DAYS', async () => {
    documents.on(PutCommand).resolves({});
    await store().create(conversationRecord({ agentId: undefined }));
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'conversations-table',
      ConditionExpression: 'attribute_not_exists(conversationId)',
      Item: { ...conversationRecord(), expiresAt: NOW_S + 30 * 86_400 },
    });
    const item = documents.commandCalls(PutCommand)[0]?.args[0].input.Item ?? {};
    expect('agentId' in item).toBe(false);
  });

  it('keeps records at least 7 days, as long as Cognigy keeps the session', async () => {
    documents.on(PutCommand).resolves({});
    await store(1).create(conversationRecord());
    expect(documents.commandCalls(PutCommand)[0]?.args[0].input.Item?.expiresAt).toBe(NOW_S + 7 * 86_400);
  });

  it('reports an already recorded conversation', async () => {
    documents.on(PutCommand).rejects(conditionFailed());
    await expect(store().create(conversationRecord())).rejects.toBeInstanceOf(ConversationExistsError);
  });

  it('reads strongly consistent and fills in lists missing from older items', async () => {
    documents
      .on(GetCommand)
      .resolves({ Item: { conversationId: 'conv-1', sessionId: 's', status: 'queue' } });
    const record = await store().get('conv-1');
    expect(documents).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'conversations-table',
      Key: { conversationId: 'conv-1' },
      ConsistentRead: true,
    });
    expect(record).toEqual({
      conversationId: 'conv-1',
      sessionId: 's',
      status: 'queue',
      relayedEventIds: [],
      deliveredItemIds: [],
      version: 0,
    });
    documents.on(GetCommand).resolves({});
    expect(await store().get('nope')).toBeUndefined();
  });

  it('finds a session’s records through the bySessionId index, across pages', async () => {
    documents
      .on(QueryCommand)
      .resolvesOnce({
        Items: [conversationRecord({ conversationId: 'a' })],
        LastEvaluatedKey: { conversationId: 'a', sessionId: 'session-1' },
      })
      .resolvesOnce({ Items: [conversationRecord({ conversationId: 'b' })] });
    const records = await store().findBySession('session-1');
    expect(records.map((r) => r.conversationId)).toEqual(['a', 'b']);
    expect(documents).toHaveReceivedCommandTimes(QueryCommand, 2);
    const [first, second] = documents.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(first).toEqual({
      TableName: 'conversations-table',
      IndexName: 'bySessionId',
      KeyConditionExpression: 'sessionId = :sessionId',
      ExpressionAttributeValues: { ':sessionId': 'session-1' },
    });
    expect(second).toMatchObject({ ExclusiveStartKey: { conversationId: 'a', sessionId: 'session-1' } });
  });

  it('updates conditionally on the version, increments it, slides the TTL and removes fields', async () => {
    documents.on(UpdateCommand).resolves({});
    const result = await store().update('conv-1', {
      set: { status: 'queue', transferPendingSince: 123, agentId: undefined },
      remove: ['agentId', 'transferPendingSince'],
      ifVersion: 4,
    });
    expect(result).toBe('updated');
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'conversations-table',
      Key: { conversationId: 'conv-1' },
      UpdateExpression:
        'SET #version = #version + :one, #expiresAt = :expiresAt, #f1 = :v1, #f2 = :v2 REMOVE #f3',
      ConditionExpression: 'attribute_exists(conversationId) AND #version = :expected',
      ExpressionAttributeNames: {
        '#version': 'version',
        '#expiresAt': 'expiresAt',
        '#f1': 'status',
        '#f2': 'transferPendingSince',
        '#f3': 'agentId',
      },
      ExpressionAttributeValues: {
        ':expected': 4,
        ':one': 1,
        ':expiresAt': NOW_S + 30 * 86_400,
        ':v1': 'queue',
        ':v2': 123,
      },
    });
  });

  it('tells a version conflict from a missing record', async () => {
    documents.on(UpdateCommand).rejects(conditionFailed());
    documents.on(GetCommand).resolves({ Item: conversationRecord({ version: 5 }) });
    expect(await store().update('conv-1', { set: { status: 'active' }, ifVersion: 4 })).toBe('conflict');
    documents.on(GetCommand).resolves({});
    expect(await store().update('conv-1', { set: { status: 'active' }, ifVersion: 4 })).toBe('missing');
  });

  it('lets other DynamoDB failures through', async () => {
    documents.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    await expect(store().update('conv-1', { set: {}, ifVersion: 0 })).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
  });
});
