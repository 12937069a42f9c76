import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { ApiRequest } from '../../../functions/shared/http';
import { BridgeError } from '../../../functions/shared/errors';
import * as events from '../../../functions/handover/events';
import type { InboundEnvelope } from '../../../functions/handover/events';
import {
  SigningKeyLookupDeferredError,
  SigningKeyUnavailableError,
  UnknownKeyError,
} from '../../../functions/handover/signature';
import {
  handleChatGatewayWebhook,
  SQS_MAX_MESSAGE_BYTES,
  type ClaimResult,
  type EventDedupeStore,
  type WebhookDeps,
} from '../../../functions/handover/webhook';

/* Core tests: the webhook logic with in-memory ports; signatures made here with node:crypto. */

const NOW = 1_760_000_000_000;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
const forger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

const SECRET_TEXT = 'my card number is 4111';
const messageBody = (text = SECRET_TEXT) =>
  JSON.stringify({
    eventType: 'MESSAGE',
    conversationId: 'conv-1',
    timestamp: NOW,
    data: { isEcho: false, sender: { id: 'agent-1', type: 'agent' }, text, attachments: [], cards: [] },
  });
const VERIFY_BODY = '{"notificationVersion":"Chat Gateway v1.0","eventType":"WEB_HOOK_VERIFY"}';

interface Signed {
  eventId?: string;
  retry?: number;
  tt?: number;
  tenant?: string;
  key?: KeyObject;
}

function signedRequest(body: string, o: Signed = {}): ApiRequest {
  const h = {
    'x-8x8-tenant-id': o.tenant ?? 'tenant01',
    'x-8x8-customer-id': 'cust-1',
    'x-8x8-event-id': o.eventId ?? 'evt-1',
    'x-8x8-transmission-time': String(o.tt ?? NOW),
    'x-8x8-retry': String(o.retry ?? 0),
  };
  const payload =
    `{"checksum":${crc32(Buffer.from(body))},"cid":"${h['x-8x8-customer-id']}","eid":"${h['x-8x8-event-id']}",` +
    `"retry":${h['x-8x8-retry']},"tid":"${h['x-8x8-tenant-id']}","tt":${h['x-8x8-transmission-time']}}`;
  const header = Buffer.from(JSON.stringify({ b64: false, crit: ['b64'], kid: 'k1', alg: 'RS256' })).toString(
    'base64url',
  );
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), o.key ?? privateKey).toString(
    'base64url',
  );
  return request(body, { ...h, 'x-8x8-signature': `${header}..${signature}` });
}

function request(body: string, headers: Record<string, string> = {}): ApiRequest {
  return { body: undefined, rawBody: body, headers, pathParameters: {}, query: {}, requestId: 'req-1' };
}

/**
 * Same semantics as the DynamoDB adapter (tested against dynalite in event-dedupe.test.ts): a claim binds the event
 * id to the body hash, PENDING → QUEUED; release marks a PENDING claim RELEASED and keeps its hash.
 */
class MemoryDedupe implements EventDedupeStore {
  readonly items = new Map<string, 'PENDING' | 'QUEUED' | 'RELEASED'>();
  readonly hashes = new Map<string, string>();
  failClaim = false;
  failMark = false;
  async claim(eventId: string, info: { bodySha256: string }): Promise<ClaimResult> {
    if (this.failClaim) throw new Error('DynamoDB unavailable');
    const existing = this.items.get(eventId);
    const hash = this.hashes.get(eventId);
    if (existing !== undefined && hash !== undefined && hash !== info.bodySha256) return 'bodyMismatch';
    if (existing === 'QUEUED') return 'duplicate';
    if (existing === 'PENDING') return 'inProgress';
    this.items.set(eventId, 'PENDING');
    this.hashes.set(eventId, info.bodySha256);
    return 'claimed';
  }
  async markQueued(eventId: string) {
    if (this.failMark) throw new Error('DynamoDB unavailable');
    this.items.set(eventId, 'QUEUED');
  }
  async release(eventId: string) {
    if (this.items.get(eventId) === 'PENDING') this.items.set(eventId, 'RELEASED');
  }
}

let dedupe: MemoryDedupe;
let queued: InboundEnvelope[];
let failSend: boolean;
let log: { info: jest.Mock; warn: jest.Mock; error: jest.Mock };
let metrics: string[];

function deps(overrides: Partial<WebhookDeps> = {}): WebhookDeps {
  return {
    getKey: async (kid) => {
      if (kid !== 'k1') throw new UnknownKeyError(kid);
      return (await importJWK(publicJwk, 'RS256')) as CryptoKey;
    },
    dedupe,
    queue: {
      send: async (envelope) => {
        if (failSend) throw new Error('SQS unavailable');
        queued.push(envelope);
      },
    },
    maxAgeMs: 300_000,
    acceptUnsignedVerify: true,
    now: () => NOW,
    log: log as unknown as WebhookDeps['log'],
    count: (m) => metrics.push(m),
    ...overrides,
  };
}

async function outcome(req: ApiRequest, d: WebhookDeps = deps()) {
  try {
    const response = await handleChatGatewayWebhook(req, d);
    return { status: response.statusCode, body: response.body };
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    return { status: error.statusCode, code: error.code };
  }
}

beforeEach(() => {
  dedupe = new MemoryDedupe();
  queued = [];
  failSend = false;
  log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  metrics = [];
});

describe('handleChatGatewayWebhook', () => {
  it('verifies, claims and queues a signed event, then answers 200 {ok:true}', async () => {
    const result = await outcome(signedRequest(messageBody(), { retry: 2 }));
    expect(result).toEqual({ status: 200, body: { ok: true } });
    expect(queued).toEqual([
      {
        eventId: 'evt-1',
        retry: 2,
        receivedAt: NOW,
        event: expect.objectContaining({
          eventType: 'MESSAGE',
          conversationId: 'conv-1',
          data: expect.objectContaining({ text: SECRET_TEXT }),
        }),
      },
    ]);
    expect(dedupe.items.get('evt-1')).toBe('QUEUED');
    expect(metrics).toEqual(['ChatEventAccepted']);
  });

  it('processes an event id once: a replay or 8x8 retry is answered {ok:true, duplicate:true} and not queued again', async () => {
    await outcome(signedRequest(messageBody()));
    const replay = await outcome(signedRequest(messageBody()));
    const retry = await outcome(signedRequest(messageBody(), { retry: 1, tt: NOW + 2000 }));
    expect(replay).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    expect(retry).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    expect(queued).toHaveLength(1);
  });

  it('answers 409 EVENT_IN_PROGRESS while another delivery of the event is being queued', async () => {
    dedupe.items.set('evt-1', 'PENDING');
    expect(await outcome(signedRequest(messageBody()))).toEqual({ status: 409, code: 'EVENT_IN_PROGRESS' });
    expect(queued).toHaveLength(0);
  });

  it('refuses 409 EVENT_BODY_MISMATCH when a known event id comes with another body: logged, counted, not queued', async () => {
    await outcome(signedRequest(messageBody()));
    metrics = [];
    // In this test the forger can sign anything; in reality the captured signature fits a CRC32-matched body.
    const forged = signedRequest(messageBody('forged: call +44 20 7946 0000'), { retry: 1 });
    expect(await outcome(forged)).toEqual({ status: 409, code: 'EVENT_BODY_MISMATCH' });
    expect(queued).toHaveLength(1);
    expect(metrics).toEqual(['ChatEventBodyMismatch', 'ChatEventRejected']);
    const security = log.warn.mock.calls.find(([message]) => String(message).startsWith('SECURITY'));
    expect(security?.[1]).toEqual({
      securityEvent: 'EVENT_BODY_MISMATCH',
      eventId: 'evt-1',
      retry: 1,
      eventType: 'MESSAGE',
      conversationId: 'conv-1',
      tenantId: 'tenant01',
      kid: 'k1',
      requestId: 'req-1',
    });
    const logged = JSON.stringify([log.info.mock.calls, log.warn.mock.calls, log.error.mock.calls]);
    expect(logged).not.toContain('forged');
    expect(logged).not.toMatch(/7946|4111/);
    expect(logged).not.toContain(forged.headers['x-8x8-signature']);
  });

  it('a failed delivery releases its claim but keeps the body hash: another body is refused, the retry accepted', async () => {
    failSend = true;
    expect(await outcome(signedRequest(messageBody()))).toEqual({ status: 503, code: 'EVENT_NOT_ACCEPTED' });
    failSend = false;
    expect(await outcome(signedRequest(messageBody('forged'), { retry: 1 }))).toEqual({
      status: 409,
      code: 'EVENT_BODY_MISMATCH',
    });
    expect(await outcome(signedRequest(messageBody(), { retry: 2 }))).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(queued.map((e) => (e.event as { data: { text: string } }).data.text)).toEqual([SECRET_TEXT]);
  });

  it('refuses a forged event with 401 and touches neither the dedupe store nor the queue', async () => {
    const claim = jest.spyOn(dedupe, 'claim');
    expect(await outcome(signedRequest(messageBody(), { key: forger }))).toEqual({
      status: 401,
      code: 'SIGNATURE_INVALID',
    });
    const tampered = signedRequest(messageBody());
    tampered.rawBody = messageBody('I changed this');
    expect(await outcome(tampered)).toEqual({ status: 401, code: 'SIGNATURE_INVALID' });
    expect(claim).not.toHaveBeenCalled();
    expect(queued).toHaveLength(0);
    expect(metrics).toEqual(['ChatEventRejected', 'ChatEventRejected']);
  });

  it('refuses an unsigned event (401 SIGNATURE_MISSING) and an unknown kid (401 UNKNOWN_SIGNING_KEY)', async () => {
    expect(await outcome(request(messageBody()))).toEqual({ status: 401, code: 'SIGNATURE_MISSING' });
    const unknownKid = deps({ getKey: async (kid) => Promise.reject(new UnknownKeyError(kid)) });
    expect(await outcome(signedRequest(messageBody()), unknownKid)).toEqual({
      status: 401,
      code: 'UNKNOWN_SIGNING_KEY',
    });
    expect(queued).toHaveLength(0);
  });

  it('refuses a stale transmission time with 401 EVENT_STALE', async () => {
    expect(await outcome(signedRequest(messageBody(), { tt: NOW - 300_001 }))).toEqual({
      status: 401,
      code: 'EVENT_STALE',
    });
    expect(queued).toHaveLength(0);
  });

  it('answers an unsigned WEB_HOOK_VERIFY with 200 when acceptUnsignedVerify is on, 401 when off', async () => {
    const getKey = jest.fn();
    expect(await outcome(request(VERIFY_BODY), deps({ getKey }))).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(getKey).not.toHaveBeenCalled();
    expect(await outcome(request(VERIFY_BODY), deps({ acceptUnsignedVerify: false }))).toEqual({
      status: 401,
      code: 'SIGNATURE_MISSING',
    });
    expect(queued).toHaveLength(0);
  });

  it('always verifies a signed WEB_HOOK_VERIFY', async () => {
    expect(await outcome(signedRequest(VERIFY_BODY))).toEqual({ status: 200, body: { ok: true } });
    expect(await outcome(signedRequest(VERIFY_BODY, { key: forger }))).toEqual({
      status: 401,
      code: 'SIGNATURE_INVALID',
    });
    expect(queued).toHaveLength(0);
  });

  it('does not treat an unsigned body that merely mentions WEB_HOOK_VERIFY as a verify', async () => {
    const sneaky = JSON.stringify({ eventType: 'MESSAGE', conversationId: 'c', note: 'WEB_HOOK_VERIFY' });
    expect(await outcome(request(sneaky))).toEqual({ status: 401, code: 'SIGNATURE_MISSING' });
  });

  it('answers 400 MALFORMED_JSON and 400 INVALID_EVENT for signed bodies that are not Chat Gateway events', async () => {
    expect(await outcome(signedRequest('{"eventType":'))).toEqual({ status: 400, code: 'MALFORMED_JSON' });
    const noSender = JSON.stringify({
      eventType: 'MESSAGE',
      conversationId: 'c',
      timestamp: NOW,
      data: { text: 'x' },
    });
    expect(await outcome(signedRequest(noSender))).toEqual({ status: 400, code: 'INVALID_EVENT' });
    expect(queued).toHaveLength(0);
  });

  it('answers 400 for malformed delivery headers on a signed request', async () => {
    const req = signedRequest(messageBody());
    req.headers['x-8x8-retry'] = 'first';
    expect(await outcome(req)).toEqual({ status: 400, code: 'INVALID_WEBHOOK_HEADERS' });
  });

  it('acknowledges an event type it does not know without queueing it', async () => {
    const future = JSON.stringify({
      eventType: 'SENTIMENT',
      conversationId: 'conv-1',
      timestamp: NOW,
      data: {},
    });
    expect(await outcome(signedRequest(future))).toEqual({ status: 200, body: { ok: true, ignored: true } });
    expect(queued).toHaveLength(0);
  });

  it("answers 503 and releases the claim when the queue refuses, so 8x8's retry is accepted", async () => {
    failSend = true;
    expect(await outcome(signedRequest(messageBody()))).toEqual({ status: 503, code: 'EVENT_NOT_ACCEPTED' });
    expect(dedupe.items.get('evt-1')).toBe('RELEASED');
    failSend = false;
    expect(await outcome(signedRequest(messageBody(), { retry: 1 }))).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(queued.map((e) => [e.eventId, e.retry])).toEqual([['evt-1', 1]]);
  });

  it('answers 503 when the event cannot be claimed (nothing queued)', async () => {
    dedupe.failClaim = true;
    expect(await outcome(signedRequest(messageBody()))).toEqual({ status: 503, code: 'EVENT_NOT_ACCEPTED' });
    expect(queued).toHaveLength(0);
  });

  it('still answers 200 when the event is queued but the claim cannot be marked', async () => {
    dedupe.failMark = true;
    expect(await outcome(signedRequest(messageBody()))).toEqual({ status: 200, body: { ok: true } });
    expect(queued).toHaveLength(1);
  });

  it('refuses events of another tenant when the tenant is configured (case-insensitive match passes)', async () => {
    expect(
      await outcome(
        signedRequest(messageBody(), { tenant: 'intruder' }),
        deps({ expectedTenantId: 'tenant01' }),
      ),
    ).toEqual({
      status: 403,
      code: 'TENANT_MISMATCH',
    });
    expect(await outcome(signedRequest(messageBody()), deps({ expectedTenantId: 'TENANT01' }))).toMatchObject(
      { status: 200 },
    );
    expect(queued).toHaveLength(1);
  });

  it('answers 503 SIGNING_KEY_UNAVAILABLE when the JWK cannot be fetched, and logs it as an error', async () => {
    const unavailable = deps({ getKey: async () => Promise.reject(new SigningKeyUnavailableError()) });
    expect(await outcome(signedRequest(messageBody()), unavailable)).toEqual({
      status: 503,
      code: 'SIGNING_KEY_UNAVAILABLE',
    });
    expect(log.error).toHaveBeenCalledWith(
      '8x8 webhook delivery not processed',
      expect.objectContaining({ code: 'SIGNING_KEY_UNAVAILABLE', eventId: 'evt-1' }),
    );
    expect(queued).toHaveLength(0);
  });

  it('answers 503 when the unknown-kid budget is spent, as a counted warning (a flood must not flood the error log)', async () => {
    const deferred = deps({ getKey: async () => Promise.reject(new SigningKeyLookupDeferredError()) });
    expect(await outcome(signedRequest(messageBody()), deferred)).toEqual({
      status: 503,
      code: 'SIGNING_KEY_UNAVAILABLE',
    });
    expect(log.error).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledWith('8x8 webhook delivery deferred: unknown-kid lookup budget spent', {
      code: 'SIGNING_KEY_UNAVAILABLE',
      eventId: 'evt-1',
      retry: '0',
    });
    expect(metrics).toEqual(['ChatSigningKeyDeferred']);
  });

  it('refuses an event whose queue envelope would exceed the SQS size limit, before claiming it', async () => {
    const huge = messageBody('x'.repeat(SQS_MAX_MESSAGE_BYTES));
    expect(await outcome(signedRequest(huge))).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(dedupe.items.size).toBe(0);
    expect(queued).toHaveLength(0);
  });

  it('logs event type, conversation, event id and retry, never the message text', async () => {
    await outcome(signedRequest(messageBody()));
    await outcome(signedRequest(messageBody(), { key: forger, eventId: 'evt-2' }));
    failSend = true;
    await outcome(signedRequest(messageBody(), { eventId: 'evt-3' }));
    expect(log.info).toHaveBeenCalledWith('8x8 event accepted', {
      eventId: 'evt-1',
      retry: 0,
      eventType: 'MESSAGE',
      conversationId: 'conv-1',
    });
    expect(log.warn).toHaveBeenCalledWith('8x8 webhook delivery refused', {
      code: 'SIGNATURE_INVALID',
      eventId: 'evt-2',
      retry: '0',
    });
    const everything = JSON.stringify([log.info.mock.calls, log.warn.mock.calls, log.error.mock.calls]);
    expect(everything).not.toContain(SECRET_TEXT);
  });
});

describe('Chat Gateway event schemas', () => {
  it('keeps fields 8x8 may add and fills MESSAGE defaults', () => {
    const parsed = events.parseWebhookBody({
      eventType: 'MESSAGE',
      conversationId: 'c',
      timestamp: 0,
      newTopLevel: 1,
      data: { sender: { id: 'a', type: 'agent', displayName: 'Sam' } },
    });
    expect(parsed).toEqual({
      kind: 'event',
      event: {
        eventType: 'MESSAGE',
        conversationId: 'c',
        timestamp: 0,
        newTopLevel: 1,
        data: {
          isEcho: false,
          sender: { id: 'a', type: 'agent', displayName: 'Sam' },
          text: '',
          attachments: [],
          cards: [],
        },
      },
    });
  });

  it.each([
    [
      'a CONVERSATION_UPDATE with an unknown state',
      { eventType: 'CONVERSATION_UPDATE', conversationId: 'c', timestamp: 1, data: { state: 'gone' } },
    ],
    [
      'a MEMBERS_CHANGED without change',
      {
        eventType: 'MEMBERS_CHANGED',
        conversationId: 'c',
        timestamp: 1,
        data: { memberType: 'agent', id: 'a' },
      },
    ],
    ['an event without conversationId', { eventType: 'QUEUED', timestamp: 1, data: { queueId: 'q' } }],
    ['a body without eventType', { conversationId: 'c' }],
    ['a JSON array', []],
  ])('classifies %s as invalid', (_name, body) => {
    expect(events.parseWebhookBody(body).kind).toBe('invalid');
  });

  it('accepts TRANSFER without data and reads typing users from ACTIVITY', () => {
    expect(events.parseWebhookBody({ eventType: 'TRANSFER', conversationId: 'c', timestamp: 1 }).kind).toBe(
      'event',
    );
    const typing = events.ChatGatewayEventSchema.parse({
      eventType: 'ACTIVITY',
      conversationId: 'c',
      timestamp: 1,
      data: { name: 'typing', value: { users: [{ type: 'agent', id: 'a' }] } },
    });
    expect(events.typingUsers(typing)).toEqual([{ type: 'agent', id: 'a' }]);
    const card = events.ChatGatewayEventSchema.parse({
      eventType: 'ACTIVITY',
      conversationId: 'c',
      timestamp: 1,
      data: { name: 'quickReply/action', value: { type: 'postback', data: { title: 'Yes', payload: 'y' } } },
    });
    expect(events.typingUsers(card)).toBeUndefined();
  });

  it('makes valid SQS FIFO ids from any 8x8 id', () => {
    expect(events.sqsFifoId('vXg39aMTRlq4xCBFaUCTlA')).toBe('vXg39aMTRlq4xCBFaUCTlA');
    const valid = /^[\x21-\x7e]{1,128}$/;
    for (const id of ['a b\u00e9c', 'x'.repeat(200), '']) expect(events.sqsFifoId(id)).toMatch(valid);
    // Ids that differ only where a cut or a replacement would erase the difference stay different.
    expect(events.sqsFifoId(`${'x'.repeat(128)}-1`)).not.toBe(events.sqsFifoId(`${'x'.repeat(128)}-2`));
    expect(events.sqsFifoId('a b')).not.toBe(events.sqsFifoId('a\tb'));
    expect(events.sqsFifoId('a b')).toBe(events.sqsFifoId('a b'));
  });

  it('round-trips an InboundEnvelope through the queue body', () => {
    const envelope: InboundEnvelope = {
      eventId: 'e',
      retry: 0,
      receivedAt: 1,
      event: events.ChatGatewayEventSchema.parse({
        eventType: 'QUEUED',
        conversationId: 'c',
        timestamp: 1,
        data: { queueId: 'q' },
      }),
    };
    expect(events.parseInboundEnvelope(JSON.stringify(envelope))).toEqual(envelope);
    expect(events.inboundQueueIds(envelope)).toEqual({ MessageGroupId: 'c', MessageDeduplicationId: 'e' });
  });
});
