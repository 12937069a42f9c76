import '../../helpers/env';
import { acceptSms } from '../../../functions/sms/accept';
import { isValidCallbackToken } from '../../../functions/sms/callback-token';
import {
  AttemptInProgressError,
  InjectionPendingError,
  deliverSms,
  markDeliveryExhausted,
  prepareDeliveries,
  type DeliverDeps,
  type PreparedDeliveries,
} from '../../../functions/sms/deliver';
import {
  EightByEightSmsError,
  UnreadableAnswerError,
} from '../../../functions/sms/eight-by-eight-sms-client';
import type { MessageRecord } from '../../../functions/sms/records';
import { powertoolsTelemetry } from '../../../functions/shared/runtime';
import { UpstreamError } from '../../../functions/shared/errors';
import type { BatchItem } from '../../../functions/shared/queue-consumer';
import { validateSmsBatchRequest, validateSmsRequest } from '../../../lib/simulators/contract/sms-schema';
import {
  FakeClock,
  FakeEightByEight,
  FakeQueue,
  InMemoryMessageStore,
  MapIdempotency,
  RecordingInjector,
  SequenceIds,
  fakeDeliverDeps,
} from './fakes';

const TOKEN_KEY = 'callback-token-key-of-32-characters!';

function setup(settings: Partial<DeliverDeps['settings']> = {}) {
  const store = new InMemoryMessageStore();
  const clock = new FakeClock();
  const sms = new FakeEightByEight();
  const injector = new RecordingInjector();
  // The rate-limit gate runs on real time: its waits are real setTimeout pauses.
  const deps = fakeDeliverDeps({
    store,
    sms,
    clock,
    injector,
    callbackTokenKey: async () => TOKEN_KEY,
    settings,
  });
  const acceptDeps = {
    store,
    clock,
    queue: new FakeQueue(),
    idempotency: new MapIdempotency(),
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
  };
  const accept = async (body: Record<string, unknown> = {}): Promise<string> => {
    const response = await acceptSms(
      { destination: '+6591234567', text: 'Your code is 123456', ...body },
      acceptDeps,
    );
    return response.body.messageId as string;
  };
  const record = async (messageId: string) => (await store.get(messageId)) as MessageRecord;
  return { store, clock, sms, injector, deps, accept, record };
}

const ctx = {};

function upstream(
  kind: UpstreamError['kind'],
  httpStatus?: number,
  code?: string | number,
  message = 'x',
  retryAfterMs?: number,
  cause?: unknown,
) {
  return new EightByEightSmsError(
    new UpstreamError(
      '8x8-sms',
      kind,
      `8x8-sms answered ${httpStatus}: ${message}`,
      httpStatus,
      code,
      retryAfterMs,
      { cause },
    ),
    message,
    'error-id-1',
  );
}

function batchItems(messageIds: string[]): BatchItem[] {
  return messageIds.map((messageId) => ({
    body: { messageId },
    ctx: { record: {} as never, receiveCount: 1, lastAttempt: false },
  }));
}

async function deliverAll(messageIds: string[], deps: DeliverDeps): Promise<PromiseSettledResult<void>[]> {
  const prepared: PreparedDeliveries = await prepareDeliveries(batchItems(messageIds), deps);
  return Promise.allSettled(messageIds.map((messageId) => deliverSms({ messageId }, { prepared }, deps)));
}

describe('single hand-over to 8x8', () => {
  test('sends the normalised SMS with our messageId as clientMessageId and records sent + umid', async () => {
    const t = setup();
    const id = await t.accept({
      destination: '9123 4567',
      country: 'SG',
      source: 'MyBank',
      scheduled: '2026-03-03T10:00:00+08:00',
    });
    await deliverSms({ messageId: id }, ctx, t.deps);

    expect(t.sms.singleCalls).toEqual([
      {
        destination: '+6591234567',
        text: 'Your code is 123456',
        encoding: 'AUTO',
        source: 'MyBank',
        clientMessageId: id,
        scheduled: '2026-03-03T02:00:00.000Z',
      },
    ]);
    expect(validateSmsRequest(t.sms.singleCalls[0])).toEqual({ valid: true, errors: [] });
    expect(await t.record(id)).toMatchObject({
      status: 'sent',
      umid: 'umid-1',
      attempts: 1,
      ambiguousAttempts: 0,
    });
    expect((await t.record(id)).attemptLeaseUntil).toBeUndefined();
  });

  test("the caller's clientMessageId and dlrCallbackUrl go to 8x8 unchanged", async () => {
    const t = setup({ receiptMode: 'perMessage', publicBaseUrl: 'https://api.example.com/prod' });
    const id = await t.accept({ clientMessageId: 'otp-1', dlrCallbackUrl: 'https://caller.example.com/dlr' });
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls[0]).toMatchObject({
      clientMessageId: 'otp-1',
      dlrCallbackUrl: 'https://caller.example.com/dlr',
    });
  });

  test('perMessage receipt mode gives 8x8 our receipt URL with a valid token', async () => {
    const t = setup({ receiptMode: 'perMessage', publicBaseUrl: 'https://api.example.com/prod/' });
    const id = await t.accept();
    await deliverSms({ messageId: id }, ctx, t.deps);
    const url = new URL(t.sms.singleCalls[0]?.dlrCallbackUrl as string);
    expect(`${url.origin}${url.pathname}`).toBe('https://api.example.com/prod/webhooks/8x8/sms');
    expect(url.searchParams.get('messageId')).toBe(id);
    expect(isValidCallbackToken(id, url.searchParams.get('token') as string, TOKEN_KEY)).toBe(true);
  });

  test('account receipt mode leaves dlrCallbackUrl out', async () => {
    const t = setup();
    const id = await t.accept();
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls[0]).not.toHaveProperty('dlrCallbackUrl');
  });

  test('a redelivered message is never sent again once 8x8 accepted it', async () => {
    const t = setup();
    const id = await t.accept();
    await deliverSms({ messageId: id }, ctx, t.deps);
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls).toHaveLength(1);
    expect((await t.record(id)).attempts).toBe(1);
  });

  test('a schedule that passed while the SMS waited is dropped (send now)', async () => {
    const t = setup();
    const id = await t.accept({ scheduled: '2026-03-02T10:30:00Z' });
    t.clock.advance(60 * 60_000);
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls[0]).not.toHaveProperty('scheduled');
  });

  test('an SMS whose expiry passed before 8x8 accepted it fails without a call', async () => {
    const t = setup();
    const id = await t.accept({ expiry: '2026-03-02T10:05:00Z' });
    t.clock.advance(10 * 60_000);
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls).toHaveLength(0);
    expect(await t.record(id)).toMatchObject({ status: 'failed', errorCode: 'EXPIRED' });
  });

  test('a queue message without a record is dropped; a malformed one is refused', async () => {
    const t = setup();
    await expect(
      deliverSms({ messageId: '00000000-0000-4000-8000-00000000dead' }, ctx, t.deps),
    ).resolves.toBeUndefined();
    await expect(deliverSms({ id: 'x' }, ctx, t.deps)).rejects.toThrow(/not \{messageId/);
    expect(t.sms.singleCalls).toHaveLength(0);
  });
});

describe("8x8's answers and failures", () => {
  test.each([
    ['400 invalid MSISDN', 400, 1002, 'Invalid MSISDN format (not E.164 international number)'],
    ['401 not authenticated', 401, 1200, 'Request was not authenticated properly'],
    ['403 forbidden', 403, 1201, 'Access forbidden'],
    ['404 not found', 404, 1300, "Object wasn't found or is already expired"],
  ])('%s → failed with 8x8 code, never retried', async (_name, httpStatus, code, message) => {
    const t = setup();
    const id = await t.accept();
    t.sms.singleScript.push(upstream('permanent', httpStatus, code, message));
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).resolves.toBeUndefined();
    expect(await t.record(id)).toMatchObject({
      status: 'failed',
      errorCode: code,
      reason: message,
      attempts: 1,
    });
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls).toHaveLength(1);
  });

  test.each([
    [
      '429 with Retry-After',
      false,
      upstream('rateLimited', 429, 429, 'Quota exceeded. Please try again in 1 second(s).', 1000),
    ],
    ['500 internal error', false, upstream('transient', 500, 2000, 'Internal server error')],
    ['503 unavailable', false, upstream('transient', 503, undefined, 'HTTP 503')],
    [
      'timeout after sending',
      true,
      upstream('transient', undefined, 'TIMEOUT', '8x8-sms did not answer within 5000 ms'),
    ],
    [
      'connection reset',
      true,
      upstream(
        'transient',
        undefined,
        'NETWORK',
        'reset',
        undefined,
        Object.assign(new Error('socket'), { code: 'ECONNRESET' }),
      ),
    ],
    [
      'connection refused',
      false,
      upstream(
        'transient',
        undefined,
        'NETWORK',
        'refused',
        undefined,
        Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      ),
    ],
  ])('%s → thrown for a retry, back to queued (ambiguous: %s)', async (_name, ambiguous, error) => {
    const t = setup();
    const id = await t.accept();
    t.sms.singleScript.push(error);
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toBe(error);
    expect(await t.record(id)).toMatchObject({
      status: 'queued',
      attempts: 1,
      ambiguousAttempts: ambiguous ? 1 : 0,
    });
    expect((await t.record(id)).lastError).toEqual({
      at: '2026-03-02T10:00:00.000Z',
      ...(error.httpStatus !== undefined && { httpStatus: error.httpStatus }),
      ...(error.upstreamCode !== undefined && { code: error.upstreamCode }),
      message: error.eightByEightMessage,
    });
    // The retry sends again and succeeds.
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(await t.record(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  test('200 with status REJECTED → rejected with 8x8 description, not retried', async () => {
    const t = setup();
    const id = await t.accept();
    t.sms.singleScript.push({
      umid: 'umid-r',
      status: { code: 'REJECTED', description: 'Invalid MSISDN format (not E.164 international number)' },
    });
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(await t.record(id)).toMatchObject({
      status: 'rejected',
      reason: 'Invalid MSISDN format (not E.164 international number)',
      statusDescription: '8x8 rejected the SMS: Invalid MSISDN format (not E.164 international number)',
    });
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls).toHaveLength(1);
  });

  test('200 with an unreadable body counts as accepted: sent, never sent again', async () => {
    const t = setup();
    const id = await t.accept();
    t.sms.singleScript.push(new UnreadableAnswerError(200));
    await deliverSms({ messageId: id }, ctx, t.deps);
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(await t.record(id)).toMatchObject({ status: 'sent' });
    expect(t.sms.singleCalls).toHaveLength(1);
  });

  test('an attempt lost with its worker is counted as ambiguous when the message comes back', async () => {
    const t = setup();
    const id = await t.accept();
    const before = await t.record(id);
    // A worker started an attempt and died before recording an outcome.
    await t.store.startAttempt(id, {
      seenAttempts: 0,
      previousAmbiguous: false,
      leaseUntil: t.clock.now().getTime() + 20_000,
      now: t.clock.now().toISOString(),
    });
    expect(before.status).toBe('queued');

    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toBeInstanceOf(AttemptInProgressError);
    expect(t.sms.singleCalls).toHaveLength(0);

    t.clock.advance(21_000);
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(await t.record(id)).toMatchObject({ status: 'sent', attempts: 2, ambiguousAttempts: 1 });
  });

  test('retries exhausted → failed RETRIES_EXHAUSTED with the last error', async () => {
    const t = setup();
    const id = await t.accept();
    const error = upstream('transient', 500, 2000, 'Internal server error');
    t.sms.singleScript.push(error);
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toBe(error);
    await markDeliveryExhausted({ messageId: id }, error, t.deps);
    expect(await t.record(id)).toMatchObject({
      status: 'failed',
      errorCode: 'RETRIES_EXHAUSTED',
      reason: expect.stringContaining('Internal server error (8x8 code 2000)'),
    });
  });

  test('exhaustion never overrides an SMS 8x8 accepted meanwhile', async () => {
    const t = setup();
    const id = await t.accept();
    await deliverSms({ messageId: id }, ctx, t.deps);
    await markDeliveryExhausted({ messageId: id }, new Error('late'), t.deps);
    expect((await t.record(id)).status).toBe('sent');
  });

  test('failed and rejected are injected into Cognigy when the flow asked', async () => {
    const t = setup();
    const cognigy = { userId: 'u', sessionId: 's', URLToken: 't', injectReceipts: true };
    const id = await t.accept({ cognigy });
    t.sms.singleScript.push(
      upstream('permanent', 400, 1002, 'Invalid MSISDN format (not E.164 international number)'),
    );
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.injector.calls).toEqual([
      {
        messageId: id,
        event: {
          status: 'failed',
          errorCode: 1002,
          errorMessage: 'Invalid MSISDN format (not E.164 international number)',
        },
      },
    ]);
  });
});

describe('the Cognigy injection of a status the worker records is retried through the queue', () => {
  const cognigy = { userId: 'u', sessionId: 's', URLToken: 't', receiptEvents: ['sent', 'failed'] };

  test('a failed `sent` injection throws; the redelivery repeats only the injection, with the longer timeout', async () => {
    const t = setup();
    const id = await t.accept({ cognigy });
    t.injector.script.push('transient');
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toBeInstanceOf(InjectionPendingError);
    expect(await t.record(id)).toMatchObject({ status: 'sent', injectPending: 'sent' });

    await deliverSms({ messageId: id }, ctx, t.deps); // SQS redelivers the message
    expect(t.sms.singleCalls).toHaveLength(1); // 8x8 was asked once
    const umid = (await t.record(id)).umid;
    expect(t.injector.calls).toEqual([
      { messageId: id, event: { status: 'sent', umid } },
      { messageId: id, event: { status: 'sent', umid } },
    ]);
    expect(t.injector.options).toEqual([{ retry: false }, { retry: true }]);
    expect((await t.record(id)).injectPending).toBeUndefined();

    await deliverSms({ messageId: id }, ctx, t.deps); // a stray third copy injects nothing
    expect(t.injector.calls).toHaveLength(2);
  });

  test('a failed `failed` injection is retried too, with the recorded error', async () => {
    const t = setup();
    const id = await t.accept({ cognigy });
    t.sms.singleScript.push(upstream('permanent', 400, 1002, 'Invalid MSISDN'));
    t.injector.script.push('transient');
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toBeInstanceOf(InjectionPendingError);
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.injector.calls.map((c) => c.event)).toEqual([
      { status: 'failed', errorCode: 1002, errorMessage: 'Invalid MSISDN' },
      { status: 'failed', errorCode: 1002, errorMessage: 'Invalid MSISDN' },
    ]);
    expect(t.sms.singleCalls).toHaveLength(1);
    expect(await t.record(id)).toMatchObject({ status: 'failed' });
    expect((await t.record(id)).injectPending).toBeUndefined();
  });

  test('a permanent Cognigy refusal is not retried, and exhaustion of the injection leaves the SMS sent', async () => {
    const t = setup();
    const refused = await t.accept({ cognigy });
    t.injector.script.push('permanent');
    await deliverSms({ messageId: refused }, ctx, t.deps);
    expect((await t.record(refused)).injectPending).toBeUndefined();

    const pending = await t.accept({ cognigy, clientMessageId: 'second' });
    t.injector.script.push('transient');
    await expect(deliverSms({ messageId: pending }, ctx, t.deps)).rejects.toBeInstanceOf(
      InjectionPendingError,
    );
    await markDeliveryExhausted({ messageId: pending }, new InjectionPendingError(pending), t.deps);
    expect(await t.record(pending)).toMatchObject({ status: 'sent', injectPending: 'sent' });
    expect(t.sms.singleCalls).toHaveLength(2);
  });
});

describe('AMBIGUOUS_TIMEOUT_POLICY', () => {
  const timeout = () => upstream('transient', undefined, 'TIMEOUT', '8x8-sms did not answer within 5000 ms');

  function counting(t: ReturnType<typeof setup>) {
    const counts = new Map<string, number>();
    t.deps.telemetry = {
      ...powertoolsTelemetry,
      count: (metric, value = 1) => counts.set(metric, (counts.get(metric) ?? 0) + value),
    };
    return counts;
  }

  test('resend (default): a timeout is retried and counted as an ambiguous attempt', async () => {
    const t = setup();
    const counts = counting(t);
    const id = await t.accept();
    t.sms.singleScript.push(timeout());
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toMatchObject({
      upstreamCode: 'TIMEOUT',
    });
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(t.sms.singleCalls).toHaveLength(2);
    expect(await t.record(id)).toMatchObject({ status: 'sent', ambiguousAttempts: 1 });
    expect(counts.get('SmsAmbiguousAttempt')).toBe(1);
    expect(counts.get('SmsAmbiguousFailed')).toBeUndefined();
  });

  test('fail: a timeout ends the SMS failed AMBIGUOUS_TIMEOUT and 8x8 is not asked again', async () => {
    const t = setup({ ambiguousTimeoutPolicy: 'fail' });
    const counts = counting(t);
    const id = await t.accept();
    t.sms.singleScript.push(timeout());
    await deliverSms({ messageId: id }, ctx, t.deps);
    await deliverSms({ messageId: id }, ctx, t.deps); // a redelivery sends nothing
    expect(t.sms.singleCalls).toHaveLength(1);
    expect(await t.record(id)).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_TIMEOUT' });
    expect(counts.get('SmsAmbiguousAttempt')).toBe(1);
    expect(counts.get('SmsAmbiguousFailed')).toBe(1);
  });

  test('fail: an answer that surely did not reach 8x8 (503, refused) is still retried', async () => {
    const t = setup({ ambiguousTimeoutPolicy: 'fail' });
    const id = await t.accept();
    t.sms.singleScript.push(upstream('transient', 503, undefined, 'HTTP 503'));
    await expect(deliverSms({ messageId: id }, ctx, t.deps)).rejects.toMatchObject({ httpStatus: 503 });
    await deliverSms({ messageId: id }, ctx, t.deps);
    expect(await t.record(id)).toMatchObject({ status: 'sent' });
  });

  test('fail: an attempt lost with its worker ends failed, in a batch poll too, without another 8x8 call', async () => {
    const t = setup({ ambiguousTimeoutPolicy: 'fail' });
    const lost = await t.accept();
    const fresh = [await t.accept(), await t.accept()];
    await t.store.startAttempt(lost, {
      seenAttempts: 0,
      previousAmbiguous: false,
      leaseUntil: t.clock.now().getTime() + 20_000,
      now: t.clock.now().toISOString(),
    });
    t.clock.advance(21_000);
    await deliverAll([lost, ...fresh], t.deps);
    expect(await t.record(lost)).toMatchObject({ status: 'failed', errorCode: 'AMBIGUOUS_TIMEOUT' });
    for (const id of fresh) expect(await t.record(id)).toMatchObject({ status: 'sent' });
    const sentIds = [...t.sms.batchCalls.flatMap((b) => b.messages), ...t.sms.singleCalls].map(
      (m) => m.clientMessageId,
    );
    expect(sentIds).not.toContain(lost);
  });

  test('fail: an SMS missing from the batch answer is ambiguous and ends failed', async () => {
    const t = setup({ ambiguousTimeoutPolicy: 'fail' });
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push((b: { messages: { clientMessageId?: string }[] }) => ({
      batchId: 'b-1',
      acceptedCount: 2,
      rejectedCount: 0,
      messages: [
        { umid: 'umid-only', clientMessageId: b.messages[0]?.clientMessageId, status: { code: 'QUEUED' } },
      ],
    }));
    await deliverAll(ids, t.deps);
    expect(await t.record(ids[0] as string)).toMatchObject({ status: 'sent' });
    expect(await t.record(ids[1] as string)).toMatchObject({
      status: 'failed',
      errorCode: 'AMBIGUOUS_TIMEOUT',
    });
  });
});

describe('rate limit waits inside the invocation', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  test('a 429 answered while the gate is closed does not move the gate past the first Retry-After', async () => {
    // Past any gate an earlier test left (the gate is the container's, i.e. module state).
    jest.useFakeTimers({ now: Date.now() + 3_600_000 });
    jest.spyOn(Math, 'random').mockReturnValue(0); // no jitter
    const t = setup({ rateLimitWaitMs: 5_000 });
    const [a, b] = [await t.accept(), await t.accept({ destination: '+6591234568' })];
    const start = Date.now();
    const calls: { id: string; at: number }[] = [];
    const rateLimited = () => upstream('rateLimited', 429, 429, 'Quota exceeded', 1_000);
    const send = t.sms.sendSms.bind(t.sms);
    // Both first calls go out at once; a's 429 comes back at once, b's (the same used-up window) 600 ms later.
    t.sms.sendSms = async (creds, request) => {
      const id = request.clientMessageId!;
      const first = !calls.some((c) => c.id === id);
      calls.push({ id, at: Date.now() - start });
      if (!first) return send(creds, request);
      if (id === b) await new Promise((resolve) => setTimeout(resolve, 600));
      throw rateLimited();
    };
    const done = Promise.all([a, b].map((id) => deliverSms({ messageId: id }, ctx, t.deps)));
    await jest.advanceTimersByTimeAsync(3_000);
    await done;
    // Both wait for the first Retry-After (1 s after a's 429), not b's later one (1.6 s).
    expect(calls).toEqual([
      { id: a, at: 0 },
      { id: b, at: 0 },
      { id: a, at: 1_000 },
      { id: b, at: 1_000 },
    ]);
    expect(await t.record(a)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await t.record(b)).toMatchObject({ status: 'sent', attempts: 2 });
  });
});

describe('batched hand-over', () => {
  test('two or more sendable SMS go to 8x8 in one batch call; each gets its own umid', async () => {
    const t = setup();
    const ids = [
      await t.accept({ clientMessageId: 'a' }),
      await t.accept({ destination: '+6591234568' }),
      await t.accept({ text: 'Другой текст' }),
    ];
    const results = await deliverAll(ids, t.deps);

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(t.sms.singleCalls).toHaveLength(0);
    expect(t.sms.batchCalls).toHaveLength(1);
    const batch = t.sms.batchCalls[0];
    expect(batch?.includeMessagesInResponse).toBe(true);
    expect(batch?.messages.map((m) => m.clientMessageId)).toEqual(['a', ids[1], ids[2]]);
    expect(validateSmsBatchRequest(batch)).toEqual({ valid: true, errors: [] });
    const umids = await Promise.all(ids.map(async (id) => (await t.record(id)).umid));
    expect(new Set(umids).size).toBe(3);
    for (const id of ids) expect((await t.record(id)).status).toBe('sent');
  });

  test('answers are matched by clientMessageId, whatever their order; a REJECTED one is final', async () => {
    const t = setup();
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push((b: { messages: { clientMessageId?: string }[] }) => ({
      batchId: 'b-1',
      acceptedCount: 1,
      rejectedCount: 1,
      messages: [
        { umid: 'umid-second', clientMessageId: b.messages[1]?.clientMessageId, status: { code: 'QUEUED' } },
        {
          umid: 'umid-first',
          clientMessageId: b.messages[0]?.clientMessageId,
          status: { code: 'REJECTED', description: 'Blocked destination' },
        },
      ],
    }));
    await deliverAll(ids, t.deps);
    expect(await t.record(ids[0] as string)).toMatchObject({
      status: 'rejected',
      reason: 'Blocked destination',
    });
    expect(await t.record(ids[1] as string)).toMatchObject({ status: 'sent', umid: 'umid-second' });
  });

  test('a batch-wide 500 retries every SMS in it', async () => {
    const t = setup();
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push(upstream('transient', 500, 2000, 'Internal server error'));
    const results = await deliverAll(ids, t.deps);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const id of ids)
      expect(await t.record(id)).toMatchObject({ status: 'queued', attempts: 1, ambiguousAttempts: 0 });
  });

  test('a batch-wide timeout counts an ambiguous attempt for every SMS in it', async () => {
    const t = setup();
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push(upstream('transient', undefined, 'TIMEOUT', 'no answer'));
    await deliverAll(ids, t.deps);
    for (const id of ids)
      expect(await t.record(id)).toMatchObject({ status: 'queued', ambiguousAttempts: 1 });
  });

  test('a batch-wide 400 falls back to single sends, so one bad SMS cannot fail the others', async () => {
    const t = setup();
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push(upstream('permanent', 400, 1000, 'Invalid parameter'));
    t.sms.singleScript.push(
      upstream('permanent', 400, 1002, 'Invalid MSISDN format (not E.164 international number)'),
    );
    await deliverAll(ids, t.deps);
    expect(t.sms.singleCalls).toHaveLength(2);
    expect(await t.record(ids[0] as string)).toMatchObject({
      status: 'failed',
      errorCode: 1002,
      attempts: 1,
    });
    expect(await t.record(ids[1] as string)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  test('a batch-wide 401 fails every SMS in it (credentials are wrong for all)', async () => {
    const t = setup();
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push(upstream('permanent', 401, 1200, 'Request was not authenticated properly'));
    await deliverAll(ids, t.deps);
    expect(t.sms.singleCalls).toHaveLength(0);
    for (const id of ids) expect(await t.record(id)).toMatchObject({ status: 'failed', errorCode: 1200 });
  });

  test('an SMS missing from the batch answer is retried and counted as ambiguous', async () => {
    const t = setup();
    const ids = [await t.accept(), await t.accept()];
    t.sms.batchScript.push((b: { messages: { clientMessageId?: string }[] }) => ({
      batchId: 'b-2',
      acceptedCount: 2,
      rejectedCount: 0,
      messages: [
        { umid: 'umid-only', clientMessageId: b.messages[0]?.clientMessageId, status: { code: 'QUEUED' } },
      ],
    }));
    const results = await deliverAll(ids, t.deps);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await t.record(ids[1] as string)).toMatchObject({ status: 'queued', ambiguousAttempts: 1 });
  });

  test('SMS already sent are left out of the batch; a lone sendable SMS is sent singly', async () => {
    const t = setup();
    const sent = await t.accept();
    await deliverSms({ messageId: sent }, ctx, t.deps);
    const fresh = await t.accept();
    await deliverAll([sent, fresh], t.deps);
    expect(t.sms.batchCalls).toHaveLength(0);
    expect(t.sms.singleCalls.map((c) => c.clientMessageId)).toEqual([sent, fresh]);
  });

  test('two copies of one queue message in a batch send it once', async () => {
    const t = setup();
    const [a, b] = [await t.accept(), await t.accept()];
    await deliverAll([a as string, b as string, a as string], t.deps);
    expect(t.sms.batchCalls[0]?.messages).toHaveLength(2);
    expect(t.sms.singleCalls).toHaveLength(0);
    expect((await t.record(a as string)).attempts).toBe(1);
  });
});
