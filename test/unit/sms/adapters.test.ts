/** The SMS adapters against the AWS SDK boundary (aws-sdk-client-mock): DynamoDB store, SQS queue, idempotency. */
import '../../helpers/env';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Context } from 'aws-lambda';
import { DynamoMessageStore } from '../../../functions/sms/dynamo-message-store';
import { IdempotencyConflictError } from '../../../functions/sms/error-codes';
import { PowertoolsIdempotency } from '../../../functions/sms/powertools-idempotency';
import { MessageAlreadyStoredError, type MessageRecord } from '../../../functions/sms/records';
import { smsQueue } from '../../../functions/sms/wiring';
import { sqsSender } from '../../../functions/shared/sqs';

const ddb = mockClient(DynamoDBClient);
const doc = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

beforeEach(() => {
  ddb.reset();
  doc.reset();
  sqs.reset();
});

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const record = (overrides: Partial<MessageRecord> = {}): MessageRecord => ({
  messageId: '00000000-0000-4000-8000-000000000001',
  destination: '+6591234567',
  request: { destination: '+6591234567', text: 'x', encoding: 'AUTO' },
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
  ...overrides,
});

describe('DynamoMessageStore', () => {
  const store = () =>
    new DynamoMessageStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'messages-table');

  test('create refuses to overwrite an existing messageId', async () => {
    doc.on(PutCommand).resolves({});
    await store().create(record());
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'messages-table',
      Item: record(),
      ConditionExpression: 'attribute_not_exists(messageId)',
    });
  });

  test('create of a messageId already stored throws MessageAlreadyStoredError; other failures pass through', async () => {
    doc.on(PutCommand).rejectsOnce(conditionFailed()).rejectsOnce(new Error('throttled'));
    const refused = await store()
      .create(record())
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(MessageAlreadyStoredError);
    expect(refused).toMatchObject({ messageId: record().messageId });
    await expect(store().create(record())).rejects.toThrow('throttled');
  });

  test('get reads consistently', async () => {
    doc.on(GetCommand).resolves({ Item: record() });
    await expect(store().get('id-1')).resolves.toEqual(record());
    expect(doc).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'messages-table',
      Key: { messageId: 'id-1' },
      ConsistentRead: true,
    });
  });

  test('getMany asks again for keys DynamoDB left unprocessed', async () => {
    const a = record({ messageId: 'a' });
    const b = record({ messageId: 'b' });
    doc
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'messages-table': [a] },
        UnprocessedKeys: { 'messages-table': { Keys: [{ messageId: 'b' }] } },
      })
      .resolvesOnce({ Responses: { 'messages-table': [b] } });
    await expect(store().getMany(['a', 'b', 'a'])).resolves.toEqual([a, b]);
    expect(doc).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(doc.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.['messages-table']).toEqual({
      Keys: [{ messageId: 'a' }, { messageId: 'b' }],
      ConsistentRead: true,
    });
  });

  test('findByUmid queries the byUmid index and takes the newest', async () => {
    const older = record({ messageId: 'old', createdAt: '2026-01-01T00:00:00.000Z' });
    const newer = record({ messageId: 'new', createdAt: '2026-03-01T00:00:00.000Z' });
    doc.on(QueryCommand).resolves({ Items: [older, newer] });
    await expect(store().findByUmid('umid-1')).resolves.toMatchObject({ messageId: 'new' });
    expect(doc).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'byUmid',
      KeyConditionExpression: '#umid = :umid',
      ExpressionAttributeValues: { ':umid': 'umid-1' },
    });
  });

  test('findByClientMessageId queries the byClientMessageId index', async () => {
    doc.on(QueryCommand).resolves({ Items: [] });
    await store().findByClientMessageId('otp-1');
    expect(doc).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'byClientMessageId',
      ExpressionAttributeValues: { ':cmid': 'otp-1' },
    });
  });

  test('changeStatus only moves a record to a higher rank, in one conditional update', async () => {
    doc.on(UpdateCommand).resolves({});
    const changed = await store().changeStatus('id-1', {
      status: 'delivered',
      at: '2026-03-02T10:00:05Z',
      now: '2026-03-02T10:00:06.000Z',
      umid: 'umid-1',
      detail: 'delivered_to_recipient',
      description: 'Delivered to the recipient',
    });
    expect(changed).toBe(true);
    const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('attribute_exists(messageId) AND #rank < :below');
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':status': 'delivered',
      ':rank': 3,
      ':below': 3,
      ':entry': [
        { status: 'delivered', at: '2026-03-02T10:00:05Z', detail: 'delivered_to_recipient', umid: 'umid-1' },
      ],
    });
    expect(input?.UpdateExpression).toContain(
      '#history = list_append(if_not_exists(#history, :empty), :entry)',
    );
    expect(input?.UpdateExpression).toContain('#umid = if_not_exists(#umid, :umid)');
    expect(input?.UpdateExpression).toMatch(/REMOVE .*#lease/);
  });

  test('changeStatus answers false (not an error) when the condition fails', async () => {
    doc.on(UpdateCommand).rejects(conditionFailed());
    await expect(store().changeStatus('id-1', { status: 'sent', at: 'a', now: 'b' })).resolves.toBe(false);
  });

  test('changeStatus passes other DynamoDB errors on', async () => {
    doc.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    await expect(store().changeStatus('id-1', { status: 'sent', at: 'a', now: 'b' })).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
  });

  test('a worker-side change can be limited to records that 8x8 has not accepted', async () => {
    doc.on(UpdateCommand).resolves({});
    await store().changeStatus(
      'id-1',
      { status: 'failed', at: 'a', now: 'b', errorCode: 1002, reason: 'Invalid MSISDN' },
      2,
    );
    expect(doc.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':rank': 3,
      ':below': 2,
      ':errorCode': 1002,
    });
  });

  test('startAttempt is an optimistic lock on attempts and refuses records with an umid', async () => {
    doc.on(UpdateCommand).resolves({});
    await store().startAttempt('id-1', {
      seenAttempts: 2,
      previousAmbiguous: true,
      leaseUntil: 1234,
      now: 'now',
    });
    const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      'attribute_exists(messageId) AND #attempts = :seen AND #rank <= :sendingRank AND attribute_not_exists(#umid)',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':seen': 2,
      ':next': 3,
      ':ambiguous': 1,
      ':lease': 1234,
      ':sending': 'sending',
    });
  });

  test('releaseAttempt only releases the attempt it started', async () => {
    doc.on(UpdateCommand).rejects(conditionFailed());
    const released = await store().releaseAttempt('id-1', {
      attempt: 3,
      ambiguous: false,
      lastError: { at: 'now', message: 'x' },
      now: 'now',
    });
    expect(released).toBe(false);
    expect(doc.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe(
      '#status = :sending AND #attempts = :attempt',
    );
  });

  test('findOutbox queries the sparse byOutbox index for marked records older than the cutoff, oldest first', async () => {
    doc.on(QueryCommand).resolves({ Items: [record({ outbox: 'pending' })] });
    const found = await store().findOutbox('2026-03-02T10:01:00.000Z', 50);
    expect(found.map((r) => r.messageId)).toEqual(['00000000-0000-4000-8000-000000000001']);
    expect(doc).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'messages-table',
      IndexName: 'byOutbox',
      KeyConditionExpression: '#outbox = :pending AND #createdAt < :before',
      ExpressionAttributeValues: { ':pending': 'pending', ':before': '2026-03-02T10:01:00.000Z' },
      ScanIndexForward: true,
      Limit: 50,
    });
  });

  test('clearOutbox removes the marker only where it is set (never creates an item)', async () => {
    doc.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    await store().clearOutbox(['a', 'b', 'a'], 'now');
    const inputs = doc.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.Key)).toEqual([{ messageId: 'a' }, { messageId: 'b' }]);
    expect(inputs[0]).toMatchObject({
      UpdateExpression: 'SET #updatedAt = :now REMOVE #outbox',
      ConditionExpression: 'attribute_exists(#outbox)',
    });
  });

  test('reopenForRedrive reopens only a redrivable failed record without umid, with a history entry', async () => {
    doc.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());
    expect(await store().reopenForRedrive('id-1', 'now')).toBe(true);
    expect(await store().reopenForRedrive('id-2', 'now')).toBe(false);
    const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      '#status = :failed AND #redrivable = :true AND attribute_not_exists(#umid)',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':queued': 'queued',
      ':queuedRank': 0,
      ':entry': [{ status: 'queued', at: 'now', detail: 'redriven from the DLQ' }],
    });
    expect(input?.UpdateExpression).toContain('REMOVE #redrivable, #errorCode, #reason');
  });

  test('a failure marked redrivable sets the flag in the same conditional update', async () => {
    doc.on(UpdateCommand).resolves({});
    await store().changeStatus(
      'id-1',
      { status: 'failed', at: 'now', now: 'now', errorCode: 'RETRIES_EXHAUSTED', redrivable: true },
      2,
    );
    const input = doc.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toContain('#redrivable = :redrivable');
    expect(input?.ExpressionAttributeValues).toMatchObject({ ':redrivable': true, ':below': 2 });
  });
});

describe('SmsQueue over the shared SQS sender', () => {
  const queue = () => smsQueue(sqsSender(new SQSClient({}), () => 'https://sqs.example/sms'));
  const ids = Array.from({ length: 23 }, (_, i) => `id-${i}`);

  test('sends {messageId} bodies in SendMessageBatch chunks of 10', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await expect(queue().enqueue(ids)).resolves.toEqual([]);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.QueueUrl).toBe('https://sqs.example/sms');
    expect(calls[2]?.Entries?.[0]).toEqual({ Id: '0', MessageBody: JSON.stringify({ messageId: 'id-20' }) });
  });

  test('returns the ids SQS refused twice, and a whole chunk when both calls fail', async () => {
    // First chunk: id-4 refused on both attempts; second chunk: the call fails both times; third: all queued.
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => {
      const first = (JSON.parse(input.Entries[0]!.MessageBody) as { messageId: string }).messageId;
      if (first === 'id-10') throw new Error('network');
      const refused = input.Entries.find((e) => e.MessageBody === JSON.stringify({ messageId: 'id-4' }));
      return {
        Successful: [],
        Failed: refused ? [{ Id: refused.Id, Code: 'InternalError', SenderFault: false }] : [],
      };
    });
    const failed = await queue().enqueue(ids);
    expect(failed).toEqual(['id-4', ...ids.slice(10, 20)]);
  });

  test('queues an id SQS refused once on the retry', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [], Failed: [{ Id: '4', Code: 'InternalError', SenderFault: false }] })
      .resolves({ Successful: [], Failed: [] });
    await expect(queue().enqueue(ids.slice(0, 10))).resolves.toEqual([]);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls[1]?.Entries).toEqual([{ Id: '0', MessageBody: JSON.stringify({ messageId: 'id-4' }) }]);
  });
});

describe('PowertoolsIdempotency on the idempotency table', () => {
  const guard = () => {
    const g = new PowertoolsIdempotency({
      tableName: 'idempotency-table',
      expiresAfterSeconds: 3600,
      client: new DynamoDBClient({}),
    });
    g.registerLambdaContext({ getRemainingTimeInMillis: () => 9_000 } as Context);
    return g;
  };
  const answer = { ok: true, messageId: 'm-1' };

  /** The record Powertools stored for the first call, as DynamoDB would return it for a repeat. */
  function storedRecord(): Record<string, AttributeValue> {
    const put = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    const update = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    const values = update?.ExpressionAttributeValues ?? {};
    return {
      ...put?.Item,
      status: values[':status'] as AttributeValue,
      data: values[':response_data'] as AttributeValue,
      ...(values[':validation_key'] && { validation: values[':validation_key'] as AttributeValue }),
      expiration: values[':expiry'] as AttributeValue,
    };
  }

  test('the first call runs the work and stores its answer under the clientMessageId', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    const work = jest.fn(async () => answer);
    await expect(guard().run('otp-1', { request: { text: 'x' } }, work)).resolves.toEqual(answer);
    expect(work).toHaveBeenCalledTimes(1);
    const put = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe('idempotency-table');
    expect(put?.Item?.id?.S).toMatch(/^sms-message#/);
    // An in-progress key expires with the invocation, so a Lambda timeout cannot block the clientMessageId.
    expect(Number(put?.Item?.in_progress_expiration?.N)).toBeGreaterThan(Date.now());
    expect(
      ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':status'],
    ).toEqual({ S: 'COMPLETED' });
  });

  test('a repeat with the same fingerprint returns the stored answer without running the work', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    await guard().run('otp-1', { request: { text: 'x' } }, async () => answer);
    const existing = storedRecord();

    ddb.reset();
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: existing } as never),
      );
    ddb.on(GetItemCommand).resolves({ Item: existing });
    const work = jest.fn(async () => ({ ok: true, messageId: 'm-2' }));
    await expect(guard().run('otp-1', { request: { text: 'x' } }, work)).resolves.toEqual(answer);
    expect(work).not.toHaveBeenCalled();
  });

  test('a repeat with another fingerprint is an IdempotencyConflictError', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    await guard().run('otp-1', { request: { text: 'x' } }, async () => answer);
    const existing = storedRecord();

    ddb.reset();
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: existing } as never),
      );
    ddb.on(GetItemCommand).resolves({ Item: existing });
    await expect(
      guard().run('otp-1', { request: { text: 'other' } }, async () => answer),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  test('failed work releases the key; forget() deletes it', async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    await expect(
      guard().run('otp-1', {}, async () => Promise.reject(new Error('store down'))),
    ).rejects.toThrow('store down');
    expect(ddb).toHaveReceivedCommandTimes(DeleteItemCommand, 1);
    await guard().forget('otp-1', {});
    expect(ddb).toHaveReceivedCommandTimes(DeleteItemCommand, 2);
    const keys = ddb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input.Key?.id?.S);
    expect(keys[0]).toBe(keys[1]);
  });
});
