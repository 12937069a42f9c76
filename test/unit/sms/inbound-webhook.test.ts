/**
 * The inbound SMS webhook (functions/sms/inbound-webhook.ts): the receipt Authorization check (with rotation), the
 * envelope and payload validation, once-only queueing per umid, and no 2xx before SQS took the SMS. The claims run
 * against dynalite (the real condition expressions); SQS is mocked at the SDK boundary behind the real shared
 * sender, so what reaches SendMessageBatch is what AWS would get.
 */
import '../../helpers/env';
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createCatalogueTables,
  localDynamoDbClient,
  startDynamoDb,
  type RunningService,
} from '../../../lib/local/aws';
import { toErrorResponse, type ApiRequest, type ApiResponse } from '../../../functions/shared/http';
import { sqsSender } from '../../../functions/shared/sqs';
import { bodySha256 } from '../../../functions/shared/webhook-claims';
import { SMS_INBOUND_KEY_PREFIX, dynamoInboundDedupe } from '../../../functions/sms/dynamo-inbound-dedupe';
import {
  handleInboundWebhook,
  inboundGroupId,
  IN_PROGRESS_RETRY_AFTER_SECONDS,
  type InboundWebhookDeps,
} from '../../../functions/sms/inbound-webhook';
import { normaliseAddress, normaliseTimestamp } from '../../../functions/sms/inbound-schema';
import { callbackToken } from '../../../functions/sms/callback-token';
import { handleReceipt, type ReceiptDeps } from '../../../functions/sms/receipt';
import type { QueuedInboundSms } from '../../../functions/sms/inbound-ports';
import { FakeClock, InMemoryMessageStore, RecordingInjector, recordingTelemetry } from './fakes';

const AUTHORIZATION = 'Bearer inbound-9QQhlsEb8VY';
const PREVIOUS_AUTHORIZATION = 'Bearer previous-value';
const TOKEN_KEY = 'callback-token-key-of-32-characters!';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/000000000000/smsInbound.fifo';

let dynamo: RunningService;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let table: string;
const sqsMock = mockClient(SQSClient);
/** Every entry SQS accepted, in order. */
let queued: SendMessageBatchRequestEntry[];
let n = 0;

beforeAll(async () => {
  dynamo = await startDynamoDb();
  client = localDynamoDbClient(dynamo);
  doc = DynamoDBDocumentClient.from(client);
  table = (await createCatalogueTables(client)).idempotency;
}, 30_000);

afterAll(async () => {
  client?.destroy();
  sqsMock.restore();
  await dynamo?.stop();
});

beforeEach(() => {
  queued = [];
  sqsMock.reset();
  sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
    queued.push(...input.Entries);
    return {
      Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
    };
  });
});

function setup() {
  const clock = new FakeClock();
  const { telemetry, counts, warnings } = recordingTelemetry();
  const deps: InboundWebhookDeps = {
    webhookAuth: async () => ({ authorization: AUTHORIZATION, callbackTokenKey: TOKEN_KEY }),
    claims: dynamoInboundDedupe(doc, table, { ttlSeconds: 86_400, lockMs: 30_000, clock }),
    queue: sqsSender(new SQSClient({ region: 'eu-west-1' }), () => QUEUE_URL),
    clock,
    telemetry,
  };
  return { clock, deps, counts, warnings };
}

const newUmid = () => `f33cc4f5-7d4b-e811-8154-${String(++n).padStart(12, '0')}`;

/** 8x8's inbound SMS event as its docs show it (numbers without `+`). */
function inboundEvent(umid: string, payload: Record<string, unknown> = {}) {
  return {
    namespace: 'SMS',
    eventType: 'inbound_message_received',
    description: 'An inbound SMS message was received',
    payload: {
      umid,
      subAccountId: 'SubAccount-1',
      timestamp: '2026-03-02T09:38:04.27Z',
      source: '6512345678',
      destination: '6587654321',
      body: 'Yes, please',
      encoding: 'GSM7',
      smsCount: 1,
      price: { total: 0.0, perSms: 0.0, currency: 'EUR' },
      ...payload,
    },
  };
}

function request(
  body: unknown,
  headers: Record<string, string> = { authorization: AUTHORIZATION },
  query: Record<string, string> = {},
): ApiRequest {
  return {
    body: undefined,
    rawBody: typeof body === 'string' ? body : JSON.stringify(body),
    headers,
    pathParameters: {},
    query,
    requestId: 'req-1',
  };
}

/** The answer the route gives: the core's, or its error mapped as apiHandler maps it. */
async function answer(
  call: Promise<ApiResponse>,
): Promise<{ statusCode: number; body: Record<string, unknown>; headers?: Record<string, string> }> {
  try {
    return await call;
  } catch (error) {
    const result = toErrorResponse(error);
    return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
  }
}

const queuedBodies = () => queued.map((entry) => JSON.parse(entry.MessageBody!) as QueuedInboundSms);

async function claimItem(umid: string) {
  const { Item } = await doc.send(
    new GetCommand({
      TableName: table,
      Key: { id: `${SMS_INBOUND_KEY_PREFIX}${umid}` },
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe('accepted inbound SMS', () => {
  test('is queued once on the FIFO queue: group = hash of the numbers, deduplication id = umid, numbers in E.164', async () => {
    const s = setup();
    const umid = newUmid();
    const event = inboundEvent(umid);
    expect(await answer(handleInboundWebhook(request(event), s.deps))).toEqual({
      statusCode: 200,
      body: { ok: true, umid, queued: true },
    });
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({
      MessageGroupId: createHash('sha256').update('+6512345678|+6587654321').digest('hex'),
      MessageDeduplicationId: umid,
    });
    expect(queuedBodies()).toEqual([
      {
        umid,
        from: '+6512345678',
        to: '+6587654321',
        text: 'Yes, please',
        receivedAt: '2026-03-02T09:38:04.270Z',
        subAccountId: 'SubAccount-1',
        encoding: 'GSM7',
        smsCount: 1,
      },
    ]);
    // The claim holds the body's hash and no phone number or text.
    const item = await claimItem(umid);
    expect(item).toMatchObject({ status: 'QUEUED', bodySha256: bodySha256(JSON.stringify(event)) });
    expect(JSON.stringify(item)).not.toMatch(/6512345678|Yes, please/);
    expect(s.counts.get('SmsInboundReceived')).toBe(1);
  });

  test('a retry of the same umid (8x8 got no answer) is acknowledged as a duplicate and queued no second time', async () => {
    const s = setup();
    const umid = newUmid();
    const event = inboundEvent(umid);
    await handleInboundWebhook(request(event), s.deps);
    for (let i = 0; i < 2; i++) {
      expect(await answer(handleInboundWebhook(request(event), s.deps))).toEqual({
        statusCode: 200,
        body: { ok: true, umid, duplicate: true },
      });
    }
    expect(queued).toHaveLength(1);
    expect(s.counts.get('SmsInboundDuplicate')).toBe(2);
    expect(s.counts.get('SmsInboundReceived')).toBe(1);
  });

  test('the same umid with another body is refused and not queued', async () => {
    const s = setup();
    const umid = newUmid();
    await handleInboundWebhook(request(inboundEvent(umid)), s.deps);
    const forged = await answer(handleInboundWebhook(request(inboundEvent(umid, { body: 'STOP' })), s.deps));
    expect(forged).toMatchObject({ statusCode: 409, body: { error: { code: 'INBOUND_SMS_BODY_MISMATCH' } } });
    expect(queued).toHaveLength(1);
    expect(s.counts.get('SmsInboundBodyMismatch')).toBe(1);
  });

  test('while another delivery of the umid is being queued: 503 with Retry-After, nothing queued', async () => {
    const s = setup();
    const umid = newUmid();
    const event = inboundEvent(umid);
    await s.deps.claims.claim(umid, { bodySha256: bodySha256(JSON.stringify(event)) });
    expect(await answer(handleInboundWebhook(request(event), s.deps))).toEqual({
      statusCode: 503,
      headers: { 'retry-after': String(IN_PROGRESS_RETRY_AFTER_SECONDS) },
      body: { ok: false, error: expect.objectContaining({ code: 'INBOUND_SMS_IN_PROGRESS' }) },
    });
    expect(queued).toEqual([]);
    // A claim whose function died is taken over once its lock has passed.
    s.clock.advance(30_001);
    expect(await answer(handleInboundWebhook(request(event), s.deps))).toMatchObject({
      statusCode: 200,
      body: { queued: true },
    });
    expect(queued).toHaveLength(1);
  });

  test('an SQS failure answers 503 and releases the claim, so 8x8 retry queues the SMS', async () => {
    const s = setup();
    const umid = newUmid();
    const event = inboundEvent(umid);
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('SQS is down'));
    expect(await answer(handleInboundWebhook(request(event), s.deps))).toMatchObject({
      statusCode: 503,
      body: { ok: false, error: { code: 'INBOUND_SMS_NOT_ACCEPTED' } },
    });
    expect(await claimItem(umid)).toMatchObject({ status: 'RELEASED' });
    expect(s.counts.get('SmsInboundNotQueued')).toBe(1);

    // SQS refuses the entry (a partial batch failure) on the first retry: still not accepted.
    sqsMock.on(SendMessageBatchCommand).resolves({
      Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }],
    });
    expect((await answer(handleInboundWebhook(request(event), s.deps))).statusCode).toBe(503);

    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      queued.push(...input.Entries);
      return { Successful: [{ Id: '0', MessageId: 'm-0', MD5OfMessageBody: '' }] };
    });
    expect(await answer(handleInboundWebhook(request(event), s.deps))).toEqual({
      statusCode: 200,
      body: { ok: true, umid, queued: true },
    });
    expect(queuedBodies().map((sms) => sms.umid)).toEqual([umid]);
    expect(await claimItem(umid)).toMatchObject({ status: 'QUEUED' });
  });

  test('a claim that cannot be written answers 503 and queues nothing', async () => {
    const s = setup();
    s.deps.claims = dynamoInboundDedupe(doc, 'no-such-table', {
      ttlSeconds: 60,
      lockMs: 30_000,
      clock: s.clock,
    });
    expect(await answer(handleInboundWebhook(request(inboundEvent(newUmid())), s.deps))).toMatchObject({
      statusCode: 503,
      body: { error: { code: 'INBOUND_SMS_NOT_ACCEPTED' } },
    });
    expect(queued).toEqual([]);
  });

  test('events of other types sent to the inbound URL are acknowledged and ignored', async () => {
    const s = setup();
    const receipt = {
      namespace: 'SMS',
      eventType: 'outbound_message_status_changed',
      payload: { umid: 'x' },
    };
    expect(await answer(handleInboundWebhook(request(receipt), s.deps))).toEqual({
      statusCode: 200,
      body: { ok: true, ignored: true },
    });
    expect(queued).toEqual([]);
  });
});

describe('authentication (the receipt webhook Authorization value, with rotation)', () => {
  test.each([
    ['no Authorization header', {}],
    ['a wrong Authorization value', { authorization: 'Bearer guessed' }],
    ['the value without its scheme', { authorization: AUTHORIZATION.replace('Bearer ', '') }],
  ])('%s: 401 UNAUTHORIZED, nothing claimed or queued', async (_label, headers) => {
    const s = setup();
    const umid = newUmid();
    expect(await answer(handleInboundWebhook(request(inboundEvent(umid), headers), s.deps))).toMatchObject({
      statusCode: 401,
      body: { ok: false, error: { code: 'UNAUTHORIZED' } },
    });
    expect(queued).toEqual([]);
    expect(await claimItem(umid)).toBeUndefined();
  });

  test('an unauthenticated body is not parsed: garbage without credentials is a 401, not a 400', async () => {
    const s = setup();
    expect((await answer(handleInboundWebhook(request('not json', {}), s.deps))).statusCode).toBe(401);
  });

  test('a receipt callback token is no credential for an inbound SMS', async () => {
    const s = setup();
    const messageId = '00000000-0000-4000-8000-000000000001';
    const query = { messageId, token: callbackToken(messageId, TOKEN_KEY) };
    expect(
      (await answer(handleInboundWebhook(request(inboundEvent(newUmid()), {}, query), s.deps))).statusCode,
    ).toBe(401);
    expect(queued).toEqual([]);
  });

  test('during a rotation the previous value is accepted, and a value newer than the cached one after a re-read', async () => {
    const s = setup();
    s.deps.previousWebhookAuth = async () => ({ authorization: PREVIOUS_AUTHORIZATION });
    let refreshed = AUTHORIZATION;
    s.deps.refreshedWebhookAuth = async () => ({ authorization: refreshed });
    const old = await answer(
      handleInboundWebhook(
        request(inboundEvent(newUmid()), { authorization: PREVIOUS_AUTHORIZATION }),
        s.deps,
      ),
    );
    expect(old).toMatchObject({ statusCode: 200, body: { queued: true } });

    refreshed = 'Bearer rotated-just-now';
    const rotated = await answer(
      handleInboundWebhook(request(inboundEvent(newUmid()), { authorization: refreshed }), s.deps),
    );
    expect(rotated).toMatchObject({ statusCode: 200, body: { queued: true } });
    expect(queued).toHaveLength(2);
  });
});

describe('bad bodies: 400 INVALID_INBOUND_SMS, nothing queued', () => {
  test.each([
    ['not JSON', 'this is not json', undefined],
    ['not an 8x8 event', { hello: 'world' }, 'namespace'],
    ['no payload umid', inboundEvent('', { umid: undefined }), 'payload.umid'],
    ['an empty umid', inboundEvent(''), 'payload.umid'],
    ['a umid SQS cannot take as deduplication id', inboundEvent('has spaces in it'), 'payload.umid'],
    ['no source', inboundEvent('u-1', { source: undefined }), 'payload.source'],
    ['no destination', inboundEvent('u-1', { destination: null }), 'payload.destination'],
    ['a source with control characters', inboundEvent('u-1', { source: '65123\n45678' }), 'payload.source'],
    ['a body that is not text', inboundEvent('u-1', { body: 42 }), 'payload.body'],
  ])('%s', async (_label, body, path) => {
    const s = setup();
    const result = await answer(handleInboundWebhook(request(body), s.deps));
    expect(result).toMatchObject({
      statusCode: 400,
      body: { ok: false, error: { code: 'INVALID_INBOUND_SMS' } },
    });
    if (path) {
      const details = (result.body.error as { details: { path: string }[] }).details;
      expect(details.map((d) => d.path)).toContain(path);
    }
    expect(queued).toEqual([]);
  });

  test('extra fields 8x8 may add, a missing body and a missing timestamp are accepted', async () => {
    const s = setup();
    const umid = newUmid();
    const event = inboundEvent(umid, { body: undefined, timestamp: undefined, newField: { nested: true } });
    expect((await answer(handleInboundWebhook(request(event), s.deps))).statusCode).toBe(200);
    expect(queuedBodies()[0]).toMatchObject({ text: '', receivedAt: s.clock.now().toISOString() });
  });
});

describe('the receipt URL carries inbound SMS too (one 8x8 account webhook for every event type)', () => {
  function receiptDeps(s: ReturnType<typeof setup>): ReceiptDeps {
    return {
      ...s.deps,
      store: new InMemoryMessageStore(),
      injector: new RecordingInjector(),
      inbound: () => s.deps,
    };
  }

  test('an inbound event on /webhooks/8x8/sms is queued by the same core, once per umid across both routes', async () => {
    const s = setup();
    const umid = newUmid();
    const event = inboundEvent(umid);
    expect(await answer(handleReceipt(request(event), receiptDeps(s)))).toEqual({
      statusCode: 200,
      body: { ok: true, umid, queued: true },
    });
    expect(await answer(handleInboundWebhook(request(event), s.deps))).toMatchObject({
      statusCode: 200,
      body: { duplicate: true },
    });
    expect(queuedBodies()).toEqual([
      expect.objectContaining({ umid, from: '+6512345678', to: '+6587654321' }),
    ]);
  });

  test('an invalid inbound event there is a 400 of the inbound SMS; a callback token is not enough for it', async () => {
    const s = setup();
    const invalid = await answer(
      handleReceipt(request(inboundEvent('', { source: undefined })), receiptDeps(s)),
    );
    expect(invalid).toMatchObject({ statusCode: 400, body: { error: { code: 'INVALID_INBOUND_SMS' } } });

    const messageId = '00000000-0000-4000-8000-000000000001';
    const query = { messageId, token: callbackToken(messageId, TOKEN_KEY) };
    const byToken = await answer(handleReceipt(request(inboundEvent(newUmid()), {}, query), receiptDeps(s)));
    expect(byToken).toMatchObject({ statusCode: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(queued).toEqual([]);
  });
});

describe('normalisation', () => {
  test('phone numbers get their +, short codes and alphanumeric senders stay as sent', () => {
    expect(normaliseAddress('6512345678')).toBe('+6512345678');
    expect(normaliseAddress('+44 7700 900123')).toBe('+447700900123');
    expect(normaliseAddress('12345')).toBe('12345');
    expect(normaliseAddress('MyBank')).toBe('MyBank');
  });

  test('8x8 timestamps become ISO UTC with milliseconds; a time without a zone is UTC', () => {
    expect(normaliseTimestamp('2026-03-02T09:38:04.27Z')).toBe('2026-03-02T09:38:04.270Z');
    expect(normaliseTimestamp('2026-03-02T10:38:04+01:00')).toBe('2026-03-02T09:38:04.000Z');
    expect(normaliseTimestamp('2026-03-02T09:38:04')).toBe('2026-03-02T09:38:04.000Z');
    expect(normaliseTimestamp('yesterday')).toBeUndefined();
    expect(normaliseTimestamp(undefined)).toBeUndefined();
  });

  test('the FIFO group is a hash of the ordered pair of numbers: no phone number in SQS metadata', () => {
    expect(inboundGroupId({ from: '+6512345678', to: '+6587654321' })).toMatch(/^[0-9a-f]{64}$/);
    expect(inboundGroupId({ from: '+6512345678', to: '+6587654321' })).not.toBe(
      inboundGroupId({ from: '+6587654321', to: '+6512345678' }),
    );
  });
});
