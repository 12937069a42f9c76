/**
 * The webhook's once-only claims bind an 8x8 event id to the SHA-256 of its body (issue 10, gap 1). Run against
 * dynalite (the local stack's DynamoDB), because what matters are the condition expressions DynamoDB evaluates.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  createCatalogueTables,
  localDynamoDbClient,
  startDynamoDb,
  type RunningService,
} from '../../../lib/local/aws';
import { CHAT_EVENT_KEY_PREFIX, dynamoEventDedupe } from '../../../functions/handover/event-dedupe';
import { bodySha256 } from '../../../functions/handover/signature';
import type { EventDedupeStore } from '../../../functions/handover/webhook';

let dynamo: RunningService;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let table: string;
let now = Date.parse('2026-03-01T12:00:00.000Z');
let store: EventDedupeStore;
let n = 0;

const GENUINE = '{"eventType":"MESSAGE","conversationId":"conv-1","timestamp":1,"data":{"text":"hello"}}';
const FORGED = '{"eventType":"MESSAGE","conversationId":"conv-1","timestamp":1,"data":{"text":"evil!"}}';
const info = (body: string) => ({
  eventType: 'MESSAGE',
  conversationId: 'conv-1',
  receivedAt: now,
  bodySha256: bodySha256(body),
});

beforeAll(async () => {
  dynamo = await startDynamoDb();
  client = localDynamoDbClient(dynamo);
  doc = DynamoDBDocumentClient.from(client);
  table = (await createCatalogueTables(client)).idempotency;
  store = dynamoEventDedupe(doc, table, {
    ttlSeconds: 86_400,
    lockMs: 30_000,
    clock: { now: () => new Date(now) },
  });
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

const newEventId = () => `evt-${++n}`;

test('the claim stores the SHA-256 of the body next to the event id', async () => {
  const eventId = newEventId();
  expect(await store.claim(eventId, info(GENUINE))).toBe('claimed');
  const { Item } = await doc.send(
    new GetCommand({ TableName: table, Key: { id: `${CHAT_EVENT_KEY_PREFIX}${eventId}` } }),
  );
  expect(Item).toMatchObject({ status: 'PENDING', bodySha256: bodySha256(GENUINE) });
  expect(Item?.bodySha256).toMatch(/^[0-9a-f]{64}$/);
});

test('after the genuine event is queued, the same body is a duplicate and another body a mismatch', async () => {
  const eventId = newEventId();
  await store.claim(eventId, info(GENUINE));
  await store.markQueued(eventId);
  expect(await store.claim(eventId, info(GENUINE))).toBe('duplicate');
  expect(await store.claim(eventId, info(FORGED))).toBe('bodyMismatch');
});

test('while the genuine delivery is in progress, another body is a mismatch, the same body waits', async () => {
  const eventId = newEventId();
  await store.claim(eventId, info(GENUINE));
  expect(await store.claim(eventId, info(GENUINE))).toBe('inProgress');
  expect(await store.claim(eventId, info(FORGED))).toBe('bodyMismatch');
});

test('a released claim keeps its hash: 8x8 retry of the same body takes it over, a forged body does not', async () => {
  const eventId = newEventId();
  await store.claim(eventId, info(GENUINE));
  await store.release(eventId);
  expect(await store.claim(eventId, info(FORGED))).toBe('bodyMismatch');
  expect(await store.claim(eventId, info(GENUINE))).toBe('claimed');
});

test('a stale claim (function died mid-way) is taken over only by the same body', async () => {
  const eventId = newEventId();
  await store.claim(eventId, info(GENUINE));
  now += 30_001;
  expect(await store.claim(eventId, info(FORGED))).toBe('bodyMismatch');
  expect(await store.claim(eventId, info(GENUINE))).toBe('claimed');
});

test('a claim stored before body hashes existed can still be taken over once stale', async () => {
  const eventId = newEventId();
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: {
        id: `${CHAT_EVENT_KEY_PREFIX}${eventId}`,
        status: 'PENDING',
        lockedUntil: now - 1,
        expiration: Math.floor(now / 1000) + 86_400,
      },
    }),
  );
  expect(await store.claim(eventId, info(GENUINE))).toBe('claimed');
});
