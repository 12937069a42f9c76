import '../../helpers/env';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { acceptSms } from '../../../functions/sms/accept';
import { callbackToken } from '../../../functions/sms/callback-token';
import { SmsError } from '../../../functions/sms/error-codes';
import { handleReceipt, receiptChange, type ReceiptDeps } from '../../../functions/sms/receipt';
import { STATUS_RANK, type MessageRecord } from '../../../functions/sms/records';
import { getSmsStatus } from '../../../functions/sms/status';
import type { ApiRequest } from '../../../functions/shared/http';
import { metrics } from '../../../functions/shared/powertools';
import { projectRoot } from '../../../lib/paths';
import {
  FakeClock,
  FakeQueue,
  InMemoryMessageStore,
  MapIdempotency,
  MapWebhookClaims,
  RecordingInjector,
  RecordingSender,
  SequenceIds,
  recordingTelemetry,
} from './fakes';

const AUTHORIZATION = 'Bearer 9QQhlsEb8VY';
const TOKEN_KEY = 'callback-token-key-of-32-characters!';
const SAMPLE = JSON.parse(
  readFileSync(
    path.join(projectRoot(), 'test', 'fixtures', '8x8', 'sms-delivery-receipt.sample.json'),
    'utf8',
  ),
) as { payload: { umid: string } };

function setup() {
  const store = new InMemoryMessageStore();
  const clock = new FakeClock();
  const injector = new RecordingInjector();
  const inbound = {
    claims: new MapWebhookClaims(),
    queue: new RecordingSender(),
    clock,
    telemetry: recordingTelemetry().telemetry,
  };
  const deps: ReceiptDeps = {
    store,
    clock,
    injector,
    webhookAuth: async () => ({ authorization: AUTHORIZATION, callbackTokenKey: TOKEN_KEY }),
    // Inbound SMS on the receipt URL: test/unit/sms/inbound-webhook.test.ts.
    inbound: () => inbound,
  };
  const acceptDeps = {
    store,
    clock,
    queue: new FakeQueue(),
    idempotency: new MapIdempotency(),
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
  };
  return { store, clock, injector, deps, acceptDeps };
}

type Setup = ReturnType<typeof setup>;

/** Accepts an SMS through the real core and marks it sent with `umid`, as the worker would. */
async function sentSms(
  s: Setup,
  extra: Record<string, unknown> = {},
  umid = 'umid-1',
): Promise<MessageRecord> {
  const accepted = await acceptSms(
    { destination: '+12025550293', text: 'Code 123456', ...extra },
    s.acceptDeps,
  );
  const messageId = accepted.body.messageId as string;
  const now = s.clock.now().toISOString();
  await s.store.changeStatus(messageId, { status: 'sent', at: now, now, umid }, STATUS_RANK.sent);
  return (await s.store.get(messageId)) as MessageRecord;
}

function receipt(
  state: string,
  extra: {
    umid?: string;
    clientMessageId?: string | null;
    detail?: string;
    errorCode?: number;
    errorMessage?: string;
    timestamp?: string;
  } = {},
) {
  return {
    namespace: 'SMS',
    eventType: 'outbound_message_status_changed',
    description: 'SMS outbound message delivery receipt',
    payload: {
      umid: extra.umid ?? 'umid-1',
      clientMessageId: extra.clientMessageId ?? null,
      subAccountId: 'SubAccount-1',
      source: 'MyBank',
      destination: '+12025550293',
      status: {
        state,
        ...(extra.detail && { detail: extra.detail }),
        timestamp: extra.timestamp ?? '2026-03-02T10:00:05Z',
        ...(extra.errorCode !== undefined && { errorCode: extra.errorCode }),
        ...(extra.errorMessage && { errorMessage: extra.errorMessage }),
      },
      smsCount: 1,
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

async function rejection(promise: Promise<unknown>): Promise<SmsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SmsError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('receipt authentication', () => {
  test('a missing or wrong Authorization value is a 401 that changes nothing and echoes nothing', async () => {
    const s = setup();
    const record = await sentSms(s);
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `${AUTHORIZATION} ` },
    ];
    for (const headers of attempts) {
      const error = await rejection(handleReceipt(request(receipt('delivered'), headers), s.deps));
      expect(error).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
      expect(error.message).not.toContain('Bearer');
    }
    expect((await s.store.get(record.messageId))?.status).toBe('sent');
  });

  test('authentication comes before parsing: junk from a stranger is a 401, not a 400', async () => {
    const s = setup();
    await expect(handleReceipt(request('not json', {}), s.deps)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  test('a per-message callback token authenticates without the Authorization header', async () => {
    const s = setup();
    const record = await sentSms(s);
    const query = { messageId: record.messageId, token: callbackToken(record.messageId, TOKEN_KEY) };
    const response = await handleReceipt(request(receipt('delivered'), {}, query), s.deps);
    expect(response).toMatchObject({
      statusCode: 200,
      body: { ok: true, messageId: record.messageId, status: 'DELIVERED' },
    });
  });

  test('a token made for another message, or with another key, is refused', async () => {
    const s = setup();
    const record = await sentSms(s);
    const other = '00000000-0000-4000-8000-000000000099';
    for (const token of [
      callbackToken(other, TOKEN_KEY),
      callbackToken(record.messageId, 'another-key-of-sufficient-length'),
    ]) {
      await expect(
        handleReceipt(request(receipt('delivered'), {}, { messageId: record.messageId, token }), s.deps),
      ).rejects.toMatchObject({
        statusCode: 401,
      });
    }
  });
});

describe('receipt authentication during a secret rotation', () => {
  const OLD = {
    authorization: 'Bearer old-value-1234',
    callbackTokenKey: 'old-callback-token-key-of-32-chars',
  };
  const NEW = {
    authorization: 'Bearer new-value-5678',
    callbackTokenKey: 'new-callback-token-key-of-32-chars',
  };

  function rotating(current: typeof OLD, previous?: typeof OLD, refreshed?: typeof OLD) {
    const s = setup();
    const calls = { previous: 0, refreshed: 0 };
    s.deps.webhookAuth = async () => current;
    s.deps.previousWebhookAuth = async () => (calls.previous++, previous);
    s.deps.refreshedWebhookAuth = async () => (calls.refreshed++, refreshed);
    return { s, calls };
  }

  test('the AWSPREVIOUS Authorization value and callback key are accepted', async () => {
    const { s } = rotating(NEW, OLD);
    const record = await sentSms(s);
    const byHeader = await handleReceipt(
      request(receipt('sent'), { authorization: OLD.authorization }),
      s.deps,
    );
    expect(byHeader.statusCode).toBe(200);
    const query = {
      messageId: record.messageId,
      token: callbackToken(record.messageId, OLD.callbackTokenKey),
    };
    const byToken = await handleReceipt(request(receipt('delivered'), {}, query), s.deps);
    expect(byToken.body).toMatchObject({ messageId: record.messageId, status: 'DELIVERED' });
  });

  test('the current value needs no other secret version (no extra Secrets Manager read)', async () => {
    const { s, calls } = rotating(NEW, OLD, NEW);
    await sentSms(s);
    await handleReceipt(request(receipt('sent'), { authorization: NEW.authorization }), s.deps);
    expect(calls).toEqual({ previous: 0, refreshed: 0 });
  });

  test('a value newer than the cached current one is accepted after a re-read past the cache', async () => {
    const { s, calls } = rotating(OLD, undefined, NEW);
    await sentSms(s);
    const response = await handleReceipt(
      request(receipt('sent'), { authorization: NEW.authorization }),
      s.deps,
    );
    expect(response.statusCode).toBe(200);
    expect(calls).toEqual({ previous: 1, refreshed: 1 });
  });

  test('a value that is neither current nor previous is refused, also when the re-read is throttled', async () => {
    for (const refreshed of [NEW, undefined]) {
      const { s } = rotating(NEW, OLD, refreshed);
      await expect(
        handleReceipt(request(receipt('sent'), { authorization: 'Bearer forged' }), s.deps),
      ).rejects.toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    }
  });
});

describe('receipt parsing', () => {
  test('a body that is not JSON is a 400 INVALID_RECEIPT', async () => {
    const s = setup();
    await expect(handleReceipt(request('{"namespace":'), s.deps)).rejects.toMatchObject({
      statusCode: 400,
      code: 'INVALID_RECEIPT',
    });
  });

  test('a delivery receipt without umid or state is a 400 INVALID_RECEIPT naming the fields', async () => {
    const s = setup();
    const body = receipt('delivered') as { payload: Record<string, unknown> };
    delete body.payload.umid;
    (body.payload.status as Record<string, unknown>).state = '';
    const error = await rejection(handleReceipt(request(body), s.deps));
    expect(error.code).toBe('INVALID_RECEIPT');
    expect((error.details as { path: string }[]).map((d) => d.path).sort()).toEqual([
      'payload.status.state',
      'payload.umid',
    ]);
  });

  test('other 8x8 events are acknowledged and ignored', async () => {
    const s = setup();
    const record = await sentSms(s);
    const other = { namespace: 'SMS', eventType: 'some_future_event', payload: { umid: 'umid-1' } };
    expect(await handleReceipt(request(other), s.deps)).toEqual({
      statusCode: 200,
      body: { ok: true, ignored: true },
    });
    expect((await s.store.get(record.messageId))?.history).toHaveLength(2);
  });

  test('an inbound SMS on the receipt URL is queued by the inbound core and changes no SMS record', async () => {
    const s = setup();
    const record = await sentSms(s);
    const inbound = {
      namespace: 'SMS',
      eventType: 'inbound_message_received',
      payload: { umid: 'umid-1', source: '12025550293', destination: '6500000000', body: 'STOP' },
    };
    expect(await handleReceipt(request(inbound), s.deps)).toEqual({
      statusCode: 200,
      body: { ok: true, umid: 'umid-1', queued: true },
    });
    const queue = s.deps.inbound().queue as RecordingSender;
    expect(queue.sent.map((m) => m.body)).toEqual([
      expect.objectContaining({ umid: 'umid-1', from: '+12025550293', to: '+6500000000', text: 'STOP' }),
    ]);
    expect((await s.store.get(record.messageId))?.history).toHaveLength(2);
  });

  test('the receipt sample from 8x8 docs is understood', async () => {
    const s = setup();
    const record = await sentSms(s, {}, SAMPLE.payload.umid);
    const response = await handleReceipt(request(SAMPLE), s.deps);
    expect(response).toMatchObject({ statusCode: 200, body: { status: 'UNDELIVERED', changed: true } });
    expect(await s.store.get(record.messageId)).toMatchObject({
      status: 'undelivered',
      errorCode: 15,
      reason: 'Invalid destination',
      statusDescription: 'Rejected by the operator: Invalid destination',
    });
  });
});

describe('receipt ordering', () => {
  test('delivered moves the record on and appears in the status history', async () => {
    const s = setup();
    const record = await sentSms(s);
    await handleReceipt(
      request(receipt('delivered', { detail: 'delivered_to_recipient', timestamp: '2026-03-02T10:00:09Z' })),
      s.deps,
    );
    const status = await getSmsStatus(record.messageId, { store: s.store });
    expect(status.body).toMatchObject({
      status: { code: 'DELIVERED', description: 'Delivered to the recipient' },
      umid: 'umid-1',
      history: [
        { status: 'QUEUED' },
        { status: 'SENT', umid: 'umid-1' },
        {
          status: 'DELIVERED',
          at: '2026-03-02T10:00:09.000Z',
          detail: 'delivered_to_recipient',
          umid: 'umid-1',
        },
      ],
    });
  });

  test('a late "sent" never moves a delivered record back, and a duplicate receipt is a no-op', async () => {
    const s = setup();
    const record = await sentSms(s);
    await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_recipient' })), s.deps);
    const late = await handleReceipt(request(receipt('sent')), s.deps);
    const duplicate = await handleReceipt(
      request(receipt('delivered', { detail: 'delivered_to_recipient' })),
      s.deps,
    );
    const after = await s.store.get(record.messageId);

    expect(late.body).toMatchObject({ ok: true, changed: false, status: 'DELIVERED' });
    expect(duplicate.body).toMatchObject({ ok: true, changed: false });
    expect(after?.status).toBe('delivered');
    expect(after?.history.map((h) => h.status)).toEqual(['queued', 'sent', 'delivered']);
  });

  test('final statuses are final: undelivered after delivered_to_recipient changes nothing', async () => {
    const s = setup();
    const record = await sentSms(s);
    await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_recipient' })), s.deps);
    await handleReceipt(
      request(receipt('undelivered', { detail: 'undelivered_to_recipient', errorCode: 36 })),
      s.deps,
    );
    expect((await s.store.get(record.messageId))?.status).toBe('delivered');
  });

  test('delivered to the operator is not final: a later undelivered still counts', async () => {
    const s = setup();
    const record = await sentSms(s);
    await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_operator' })), s.deps);
    await handleReceipt(request(receipt('sent')), s.deps);
    expect((await s.store.get(record.messageId))?.status).toBe('delivered');
    await handleReceipt(
      request(
        receipt('undelivered', {
          detail: 'undelivered_to_recipient',
          errorCode: 36,
          errorMessage: 'SMS expired',
        }),
      ),
      s.deps,
    );
    expect(await s.store.get(record.messageId)).toMatchObject({
      status: 'undelivered',
      errorCode: 36,
      reason: 'SMS expired',
    });
  });

  test('a receipt that beats the worker finds the record by clientMessageId and records the umid', async () => {
    const s = setup();
    const accepted = await acceptSms(
      { destination: '+12025550293', text: 'x', clientMessageId: 'order-77' },
      s.acceptDeps,
    );
    const messageId = accepted.body.messageId as string;
    await handleReceipt(
      request(receipt('sent', { umid: 'umid-early', clientMessageId: 'order-77' })),
      s.deps,
    );
    expect(await s.store.get(messageId)).toMatchObject({ status: 'sent', umid: 'umid-early' });
  });

  test('without a caller clientMessageId, 8x8 echoes our messageId, which finds the record', async () => {
    const s = setup();
    const accepted = await acceptSms({ destination: '+12025550293', text: 'x' }, s.acceptDeps);
    const messageId = accepted.body.messageId as string;
    await handleReceipt(
      request(receipt('delivered', { umid: 'umid-x', clientMessageId: messageId })),
      s.deps,
    );
    expect(await s.store.get(messageId)).toMatchObject({ status: 'delivered', umid: 'umid-x' });
  });

  test('a reused clientMessageId does not match a record that already has another umid', async () => {
    const s = setup();
    const old = await sentSms(s, { clientMessageId: 'reused' }, 'umid-old');
    const response = await handleReceipt(
      request(receipt('delivered', { umid: 'umid-new', clientMessageId: 'reused' })),
      s.deps,
    );
    expect(response.body).toEqual({ ok: true, matched: false });
    expect((await s.store.get(old.messageId))?.status).toBe('sent');
  });

  test('a receipt for an unknown umid is acknowledged (200) so 8x8 stops retrying', async () => {
    const s = setup();
    expect(await handleReceipt(request(receipt('delivered', { umid: 'unknown' })), s.deps)).toEqual({
      statusCode: 200,
      body: { ok: true, matched: false },
    });
  });

  test('a state that changes nothing (unknown) is acknowledged', async () => {
    const s = setup();
    const record = await sentSms(s);
    expect((await handleReceipt(request(receipt('unknown')), s.deps)).body).toEqual({
      ok: true,
      ignored: true,
    });
    expect((await s.store.get(record.messageId))?.status).toBe('sent');
  });
});

describe('receipt injection into Cognigy', () => {
  const cognigy = { userId: 'u-1', sessionId: 's-1', URLToken: 'tok-1', receiptEvents: ['undelivered'] };

  test('a status the flow asked for is injected; others are not', async () => {
    const s = setup();
    const record = await sentSms(s, { cognigy });
    await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_operator' })), s.deps);
    expect(s.injector.calls).toHaveLength(0);
    await handleReceipt(
      request(
        receipt('undelivered', {
          detail: 'undelivered_to_recipient',
          errorCode: 15,
          errorMessage: 'Invalid destination',
        }),
      ),
      s.deps,
    );
    expect(s.injector.calls).toEqual([
      {
        messageId: record.messageId,
        event: {
          status: 'undelivered',
          umid: 'umid-1',
          detail: 'undelivered_to_recipient',
          errorCode: 15,
          errorMessage: 'Invalid destination',
        },
      },
    ]);
    expect((await s.store.get(record.messageId))?.injectPending).toBeUndefined();
  });

  test('a transient Cognigy failure answers 502 so 8x8 retries; the retry injects again; then it is done', async () => {
    const s = setup();
    const record = await sentSms(s, { cognigy });
    s.injector.script.push('transient');
    const body = receipt('undelivered', { errorCode: 15 });

    const first = await handleReceipt(request(body), s.deps);
    expect(first).toMatchObject({
      statusCode: 502,
      body: { ok: false, error: { code: 'COGNIGY_UNAVAILABLE' } },
    });
    expect(await s.store.get(record.messageId)).toMatchObject({
      status: 'undelivered',
      injectPending: 'undelivered',
    });

    const retry = await handleReceipt(request(body), s.deps);
    expect(retry.statusCode).toBe(200);
    expect(s.injector.calls).toHaveLength(2);
    // The first try may have arrived: 8x8's repeat injects as a retry (COGNIGY_RETRY_TIMEOUT_MS).
    expect(s.injector.options).toEqual([{ retry: false }, { retry: true }]);
    expect((await s.store.get(record.messageId))?.injectPending).toBeUndefined();

    await handleReceipt(request(body), s.deps);
    expect(s.injector.calls).toHaveLength(2);
  });

  test('a permanent Cognigy refusal is acknowledged (retrying cannot help)', async () => {
    const s = setup();
    const record = await sentSms(s, { cognigy });
    s.injector.script.push('permanent');
    expect((await handleReceipt(request(receipt('undelivered')), s.deps)).statusCode).toBe(200);
    expect((await s.store.get(record.messageId))?.injectPending).toBeUndefined();
  });
});

describe('receiptChange', () => {
  it.each(['constructor', '__proto__', 'toString'])(
    'describes a detail named like an Object.prototype key (%s) by the detail itself',
    (detail) => {
      const payload = { umid: 'umid-1', status: { state: 'delivered', detail } } as Parameters<
        typeof receiptChange
      >[0];
      expect(receiptChange(payload, new Date('2026-03-02T10:00:00Z'))?.description).toBe(detail);
    },
  );

  it.each([
    ['2026-03-02T10:00:05Z', '2026-03-02T10:00:05.000Z'],
    ['2026-03-02T10:00:05.64Z', '2026-03-02T10:00:05.640Z'],
    ['2026-03-02T18:00:05.123+08:00', '2026-03-02T10:00:05.123Z'],
  ])(
    "8x8's timestamp %s becomes %s (ISO 8601 UTC with milliseconds, as every answer's)",
    (given, expected) => {
      const payload = { umid: 'umid-1', status: { state: 'delivered', timestamp: given } } as Parameters<
        typeof receiptChange
      >[0];
      expect(receiptChange(payload, new Date('2026-03-02T11:00:00Z'))?.at).toBe(expected);
    },
  );
});

describe('delivery metrics (the dashboard SMS row and the failure ratio alarm)', () => {
  /** The Powertools metric names added while `run` runs, in order (observed, not replaced). */
  async function metricNames(run: () => Promise<unknown>): Promise<string[]> {
    const spy = jest.spyOn(metrics, 'addMetric');
    try {
      await run();
      return spy.mock.calls.map((call) => call[0]);
    } finally {
      spy.mockRestore();
    }
  }

  test('SmsDelivered once per SMS: operator then recipient is one delivery, a repeated receipt none', async () => {
    const s = setup();
    await sentSms(s);
    const names = await metricNames(async () => {
      await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_operator' })), s.deps);
      await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_recipient' })), s.deps);
      await handleReceipt(request(receipt('delivered', { detail: 'delivered_to_recipient' })), s.deps);
    });
    expect(names.filter((n) => n === 'SmsDelivered')).toHaveLength(1);
    expect(names.filter((n) => n === 'SmsReceipt')).toHaveLength(3);
  });

  test('SmsUndelivered for undelivered and for an operator rejection after 8x8 took the SMS', async () => {
    const s = setup();
    await sentSms(s, {}, 'umid-1');
    await sentSms(s, {}, 'umid-2');
    const names = await metricNames(async () => {
      await handleReceipt(request(receipt('undelivered', { umid: 'umid-1', errorCode: 36 })), s.deps);
      await handleReceipt(request(receipt('rejected', { umid: 'umid-2' })), s.deps);
      await handleReceipt(request(receipt('undelivered', { umid: 'umid-1', errorCode: 36 })), s.deps);
    });
    expect(names.filter((n) => n === 'SmsUndelivered')).toHaveLength(2);
    expect(names).not.toContain('SmsDelivered');
  });
});
