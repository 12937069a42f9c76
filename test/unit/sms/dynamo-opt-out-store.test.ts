/**
 * The opt-out list's DynamoDB adapter (issue 14 item 4). Its semantics (idempotent per umid, lifting, the history
 * cap, the version guard) run against dynalite, because what matters are the condition expressions DynamoDB
 * evaluates; BatchGetItem's chunking and UnprocessedKeys run at the AWS SDK boundary (aws-sdk-client-mock).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  createCatalogueTables,
  localDynamoDbClient,
  startDynamoDb,
  type RunningService,
} from '../../../lib/local/aws';
import { dynamoOptOutStore, OPT_OUT_HISTORY_LIMIT } from '../../../functions/sms/dynamo-opt-out-store';
import { isOptedOut, type OptOutStore } from '../../../functions/sms/inbound-ports';

describe('on dynalite', () => {
  let dynamo: RunningService;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let table: string;
  let store: OptOutStore;
  let n = 0;
  const newNumber = () => `+6591${String(++n).padStart(6, '0')}`;
  const AT = '2026-03-01T12:00:00.000Z';
  const LATER = '2026-03-02T12:00:00.000Z';

  beforeAll(async () => {
    dynamo = await startDynamoDb();
    client = localDynamoDbClient(dynamo);
    doc = DynamoDBDocumentClient.from(client);
    table = (await createCatalogueTables(client)).optOuts;
    store = dynamoOptOutStore(doc, table);
  }, 30_000);

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  test('a never-seen number has no record', async () => {
    const number = newNumber();
    await expect(store.get(number)).resolves.toBeUndefined();
    expect(isOptedOut(await store.get(number), '+6580000001', 'sender')).toBe(false);
  });

  test('an opt-out is stored as one item per number, keyed by sender, with no TTL attribute', async () => {
    const number = newNumber();
    await store.optOut(number, { sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'u-1' });
    const { Item } = await doc.send(new GetCommand({ TableName: table, Key: { number } }));
    expect(Item).toEqual({
      number,
      senders: { '+6580000001': { optedOutAt: AT, keyword: 'STOP', umid: 'u-1' } },
      history: [{ action: 'optOut', sender: '+6580000001', at: AT, via: 'STOP', umid: 'u-1' }],
      version: 1,
    });
    expect(Object.keys(Item ?? {})).not.toContain('expiresAt');
    await expect(store.get(number)).resolves.toEqual({
      number,
      senders: [{ sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'u-1' }],
      history: [{ action: 'optOut', sender: '+6580000001', at: AT, via: 'STOP', umid: 'u-1' }],
    });
  });

  test('a redelivered STOP (same umid) changes nothing', async () => {
    const number = newNumber();
    const entry = { sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'u-2' };
    await store.optOut(number, entry);
    const before = await doc.send(new GetCommand({ TableName: table, Key: { number } }));
    await store.optOut(number, { ...entry, optedOutAt: LATER });
    const after = await doc.send(new GetCommand({ TableName: table, Key: { number } }));
    expect(after.Item).toEqual(before.Item);
  });

  test('a second STOP to the same sender keeps the first time and adds to the history', async () => {
    const number = newNumber();
    await store.optOut(number, { sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'a' });
    // 8x8 may write the sender without `+`: the same sender.
    await store.optOut(number, { sender: '6580000001', optedOutAt: LATER, keyword: 'QUIT', umid: 'b' });
    const record = await store.get(number);
    expect(record?.senders).toEqual([{ sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'a' }]);
    expect(record?.history.map((h) => [h.via, h.umid, h.sender])).toEqual([
      ['STOP', 'a', '+6580000001'],
      ['QUIT', 'b', '+6580000001'],
    ]);
  });

  test('optIn lifts one sender, returns it, and records who lifted it', async () => {
    const number = newNumber();
    await store.optOut(number, { sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'a' });
    await store.optOut(number, { sender: 'ACME', optedOutAt: AT, keyword: 'STOP', umid: 'b' });
    await expect(store.optIn(number, 'acme', LATER, 'api:key-1')).resolves.toEqual(['ACME']);
    const record = await store.get(number);
    expect(record?.senders.map((s) => s.sender)).toEqual(['+6580000001']);
    expect(record?.history.at(-1)).toEqual({ action: 'optIn', sender: 'ACME', at: LATER, via: 'api:key-1' });
    expect(isOptedOut(record, 'ACME', 'sender')).toBe(false);
    expect(isOptedOut(record, '6580000001', 'sender')).toBe(true);
  });

  test('optIn without a sender lifts every sender; the item stays with its history', async () => {
    const number = newNumber();
    await store.optOut(number, { sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: 'a' });
    await store.optOut(number, { sender: '+6580000002', optedOutAt: AT, keyword: 'END', umid: 'b' });
    const lifted = await store.optIn(number, undefined, LATER, 'START', 'c');
    expect([...lifted].sort()).toEqual(['+6580000001', '+6580000002']);
    const record = await store.get(number);
    expect(record?.senders).toEqual([]);
    expect(record?.history).toHaveLength(4);
    expect(isOptedOut(record, undefined, 'account')).toBe(false);
    // A redelivered START lifts nothing more, and a STOP after it opts out again.
    await expect(store.optIn(number, undefined, LATER, 'START', 'c')).resolves.toEqual([]);
    await store.optOut(number, { sender: '+6580000001', optedOutAt: LATER, keyword: 'STOP', umid: 'd' });
    expect(isOptedOut(await store.get(number), '+6580000001', 'sender')).toBe(true);
  });

  test('optIn with nothing to lift writes nothing (a never-seen number stays unseen)', async () => {
    const number = newNumber();
    await expect(store.optIn(number, undefined, AT, 'api:key-1')).resolves.toEqual([]);
    await expect(store.get(number)).resolves.toBeUndefined();
  });

  test(`the history keeps the last ${OPT_OUT_HISTORY_LIMIT} entries`, async () => {
    const number = newNumber();
    for (let i = 0; i < 30; i++) {
      await store.optOut(number, { sender: '+6580000001', optedOutAt: AT, keyword: 'STOP', umid: `o-${i}` });
      await store.optIn(number, undefined, LATER, 'START', `i-${i}`);
    }
    const record = await store.get(number);
    expect(record?.history).toHaveLength(OPT_OUT_HISTORY_LIMIT);
    expect(record?.history[0]).toMatchObject({ action: 'optOut', umid: 'o-5' });
    expect(record?.history.at(-1)).toMatchObject({ action: 'optIn', umid: 'i-29' });
  });

  test('concurrent opt-outs of one number from different senders are all kept (version guard)', async () => {
    const number = newNumber();
    const senders = ['+6580000001', '+6580000002', '+6580000003', 'ACME'];
    await Promise.all(
      senders.map((sender, i) =>
        store.optOut(number, { sender, optedOutAt: AT, keyword: 'STOP', umid: `c-${i}` }),
      ),
    );
    const record = await store.get(number);
    expect(record?.senders.map((s) => s.sender).sort()).toEqual([...senders].sort());
    expect(record?.history).toHaveLength(senders.length);
  });

  test('a sender named like an Object.prototype property is refused and matches nothing', async () => {
    const number = newNumber();
    // The SDK's marshaller would lose or choke on such map keys: refused rather than silently lost.
    for (const sender of ['__proto__', 'constructor', 'toString']) {
      await expect(
        store.optOut(number, { sender, optedOutAt: AT, keyword: 'STOP', umid: `p-${sender}` }),
      ).rejects.toMatchObject({ name: 'UnstorableSenderError' });
    }
    await expect(store.get(number)).resolves.toBeUndefined();
    await store.optOut(number, { sender: 'Proto', optedOutAt: AT, keyword: 'STOP', umid: 'q' });
    const record = await store.get(number);
    expect(isOptedOut(record, 'toString', 'sender')).toBe(false);
    expect(isOptedOut(record, 'constructor', 'sender')).toBe(false);
    await expect(store.optIn(number, 'toString', LATER, 'api:k')).resolves.toEqual([]);
    await expect(store.optIn(number, '__proto__', LATER, 'api:k')).resolves.toEqual([]);
    await expect(store.optIn(number, 'PROTO', LATER, 'api:k')).resolves.toEqual(['Proto']);
  });

  test('getMany answers the numbers that have a record', async () => {
    const a = newNumber();
    const b = newNumber();
    const never = newNumber();
    await store.optOut(a, { sender: 'ACME', optedOutAt: AT, keyword: 'STOP', umid: 'm-a' });
    await store.optOut(b, { sender: 'ACME', optedOutAt: AT, keyword: 'STOP', umid: 'm-b' });
    const found = await store.getMany([a, never, b, a]);
    expect([...found.keys()].sort()).toEqual([a, b].sort());
    expect(found.get(a)?.senders[0]?.sender).toBe('ACME');
  });
});

describe('at the AWS SDK boundary', () => {
  // This instance only: the dynalite tests above use real clients.
  const mocked = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const doc = mockClient(mocked);
  const store = () => dynamoOptOutStore(mocked, 'opt-outs');
  const item = (number: string) => ({
    number,
    senders: { ACME: { optedOutAt: '2026-03-01T12:00:00.000Z', keyword: 'STOP' } },
    history: [],
    version: 1,
  });

  beforeEach(() => doc.reset());
  afterAll(() => doc.restore());

  test('getMany reads in chunks of 100 with consistent reads', async () => {
    doc.on(BatchGetCommand).resolves({ Responses: { 'opt-outs': [] } });
    const numbers = Array.from({ length: 250 }, (_, i) => `+65900${String(i).padStart(5, '0')}`);
    await expect(store().getMany(numbers)).resolves.toEqual(new Map());
    const calls = doc.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.['opt-outs']);
    expect(calls.map((c) => c?.Keys?.length)).toEqual([100, 100, 50]);
    expect(calls.every((c) => c?.ConsistentRead === true)).toBe(true);
  });

  test('getMany of one number (repeated or not) is one consistent GetItem, no BatchGetItem', async () => {
    doc.on(GetCommand, { Key: { number: '+1' } }).resolves({ Item: item('+1') });
    const found = await store().getMany(['+1', '+1']);
    expect([...found.keys()]).toEqual(['+1']);
    expect(doc.commandCalls(BatchGetCommand)).toHaveLength(0);
    expect(doc.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: 'opt-outs', Key: { number: '+1' }, ConsistentRead: true },
    ]);
  });

  test('getMany asks again for UnprocessedKeys, then reads what is still left one by one', async () => {
    doc
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'opt-outs': [item('+1')] },
        UnprocessedKeys: { 'opt-outs': { Keys: [{ number: '+2' }, { number: '+3' }] } },
      })
      .resolves({
        Responses: { 'opt-outs': [] },
        UnprocessedKeys: { 'opt-outs': { Keys: [{ number: '+3' }] } },
      });
    doc.on(GetCommand, { Key: { number: '+3' } }).resolves({ Item: item('+3') });
    const found = await store().getMany(['+1', '+2', '+3']);
    expect([...found.keys()]).toEqual(['+1', '+3']);
    expect(doc).toHaveReceivedCommandTimes(BatchGetCommand, 4);
    expect(doc.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.['opt-outs']?.Keys).toEqual([
      { number: '+2' },
      { number: '+3' },
    ]);
    expect(doc).toHaveReceivedCommandWith(GetCommand, { Key: { number: '+3' }, ConsistentRead: true });
  });

  test('a write that keeps losing the race gives up with a named error', async () => {
    doc.on(GetCommand).resolves({ Item: item('+1') });
    doc
      .on(PutCommand)
      .rejects(
        Object.assign(new Error('The conditional request failed'), {
          name: 'ConditionalCheckFailedException',
        }),
      );
    await expect(
      store().optOut('+1', { sender: 'OTHER', optedOutAt: '2026-03-01T12:00:00.000Z', keyword: 'STOP' }),
    ).rejects.toMatchObject({ name: 'OptOutWriteConflictError' });
    expect(doc).toHaveReceivedCommandTimes(PutCommand, 5);
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: '#version = :version',
      ExpressionAttributeValues: { ':version': 1 },
    });
  });
});
