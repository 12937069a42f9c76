import '../../helpers/env';
import {
  REPEAT_REQUEUE_AGE_MS,
  acceptSms,
  acceptSmsBatch,
  type AcceptDeps,
} from '../../../functions/sms/accept';
import { NotAcceptedError, SmsError } from '../../../functions/sms/error-codes';
import { FakeClock, FakeQueue, InMemoryMessageStore, MapIdempotency, SequenceIds } from './fakes';
import { waitFor } from '../../helpers/wait';

function setup() {
  const clock = new FakeClock();
  const sleeps: number[] = [];
  const deps = {
    store: new InMemoryMessageStore(),
    queue: new FakeQueue(),
    idempotency: new MapIdempotency(),
    clock,
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30, idempotencyTtlSeconds: 86_400, idempotencyWaitMs: 3_000 },
    // Waiting moves the fake clock, so a bounded wait ends without real time passing.
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
    sleeps,
  } satisfies AcceptDeps & { sleeps: number[] };
  return deps;
}

/** A promise the test resolves by hand. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
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

const otp = { destination: '+6591234567', text: 'Your code is 123456', source: 'MyBank' };

describe('POST /sms core', () => {
  test('accepts, stores a queued record and enqueues {messageId}', async () => {
    const deps = setup();
    const response = await acceptSms(
      { ...otp, destination: '9123 4567', country: 'SG', clientMessageId: 'otp-1' },
      deps,
    );

    expect(response.statusCode).toBe(202);
    expect(response.body).toEqual({
      ok: true,
      messageId: '00000000-0000-4000-8000-000000000001',
      clientMessageId: 'otp-1',
      destination: '+6591234567',
      encoding: 'GSM7',
      smsCount: 1,
      umid: null,
      status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
    });
    const record = deps.store.records.get('00000000-0000-4000-8000-000000000001');
    expect(record).toMatchObject({
      status: 'queued',
      statusRank: 0,
      clientMessageId: 'otp-1',
      destination: '+6591234567',
      request: {
        destination: '+6591234567',
        text: 'Your code is 123456',
        source: 'MyBank',
        country: 'SG',
        encoding: 'AUTO',
      },
      attempts: 0,
      ambiguousAttempts: 0,
      encoding: 'GSM7',
      parts: 1,
      history: [{ status: 'queued', at: '2026-03-02T10:00:00.000Z' }],
      createdAt: '2026-03-02T10:00:00.000Z',
      expiresAt: Date.parse('2026-04-01T10:00:00.000Z') / 1000,
    });
    expect(deps.queue.enqueued).toEqual(['00000000-0000-4000-8000-000000000001']);
  });

  test('without clientMessageId the answer says null and nothing is deduplicated', async () => {
    const deps = setup();
    const first = await acceptSms(otp, deps);
    const second = await acceptSms(otp, deps);
    expect(first.body.clientMessageId).toBeNull();
    expect(first.body.messageId).not.toBe(second.body.messageId);
    expect(deps.queue.enqueued).toHaveLength(2);
    expect(deps.idempotency.runs).toBe(0);
  });

  test('a repeated clientMessageId with the same content returns the first answer and sends nothing', async () => {
    const deps = setup();
    const first = await acceptSms({ ...otp, clientMessageId: 'otp-7' }, deps);
    // Same SMS, destination written differently: the normalised request is what counts.
    const repeat = await acceptSms(
      { ...otp, destination: '6591234567', clientMessageId: 'otp-7', encoding: '' },
      deps,
    );

    expect(repeat).toEqual(first);
    expect(deps.store.records.size).toBe(1);
    expect(deps.queue.enqueued).toHaveLength(1);
  });

  test('a repeated clientMessageId with different content is a 409 IDEMPOTENCY_CONFLICT and stores nothing', async () => {
    const deps = setup();
    await acceptSms({ ...otp, clientMessageId: 'otp-8' }, deps);
    const error = await rejection(
      acceptSms({ ...otp, text: 'Your code is 999999', clientMessageId: 'otp-8' }, deps),
    );

    expect(error).toMatchObject({ statusCode: 409, code: 'IDEMPOTENCY_CONFLICT' });
    expect(deps.store.records.size).toBe(1);
    expect(deps.queue.enqueued).toHaveLength(1);
  });

  test('asking for receipt injection is part of the content', async () => {
    const deps = setup();
    const cognigy = { userId: 'u', sessionId: 's', URLToken: 't' };
    await acceptSms({ ...otp, clientMessageId: 'otp-9', cognigy }, deps);
    const error = await rejection(
      acceptSms({ ...otp, clientMessageId: 'otp-9', cognigy: { ...cognigy, injectReceipts: true } }, deps),
    );
    expect(error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  test('an invalid SMS is refused before anything is stored', async () => {
    const deps = setup();
    const error = await rejection(acceptSms({ ...otp, destination: '12' }, deps));
    expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_DESTINATION' });
    expect(deps.store.records.size).toBe(0);
    expect(deps.queue.enqueued).toHaveLength(0);
  });

  test('a new record is in the outbox until SQS took it; then its marker is cleared', async () => {
    const deps = setup();
    const creates: (string | undefined)[] = [];
    const create = deps.store.create.bind(deps.store);
    deps.store.create = async (record) => {
      creates.push(record.outbox);
      return create(record);
    };
    const response = await acceptSms({ ...otp, clientMessageId: 'otp-box' }, deps);
    expect(creates).toEqual(['pending']);
    expect(deps.queue.enqueued).toEqual([response.body.messageId]);
    expect(deps.store.records.get(response.body.messageId as string)?.outbox).toBeUndefined();
  });

  test('when SQS refuses the SMS it is still accepted (202): the record is the commit, it stays in the outbox', async () => {
    const deps = setup();
    deps.queue.refuseAll = true;
    const response = await acceptSms({ ...otp, clientMessageId: 'otp-10' }, deps);
    expect(response.statusCode).toBe(202);
    const record = deps.store.records.get(response.body.messageId as string);
    expect(record).toMatchObject({ status: 'queued', outbox: 'pending' });
    expect(deps.queue.enqueued).toEqual([]);
  });

  test('a marker that cannot be cleared leaves the SMS accepted and queued (the sweeper may queue it again)', async () => {
    const deps = setup();
    deps.store.failClearOutbox = true;
    const response = await acceptSms({ ...otp, clientMessageId: 'otp-clear' }, deps);
    expect(response.statusCode).toBe(202);
    expect(deps.queue.enqueued).toEqual([response.body.messageId]);
    expect(deps.store.records.get(response.body.messageId as string)?.outbox).toBe('pending');
  });

  test('the answer does not wait for the outbox marker to be cleared: stored and queued is accepted', async () => {
    const deps = setup();
    const clearing = deferred();
    const clearOutbox = deps.store.clearOutbox.bind(deps.store);
    deps.store.clearOutbox = async (ids, now) => {
      await clearing.promise;
      return clearOutbox(ids, now);
    };
    const afterAnswer: Promise<unknown>[] = [];
    const response = await acceptSms(
      { ...otp, clientMessageId: 'otp-later' },
      { ...deps, afterAnswer: (work) => afterAnswer.push(work) },
    );
    const id = response.body.messageId as string;
    // Answered while the clear is still pending: the SMS is stored and SQS has it.
    expect(response.statusCode).toBe(202);
    expect(deps.queue.enqueued).toEqual([id]);
    expect(deps.store.records.get(id)?.outbox).toBe('pending');
    expect(afterAnswer).toHaveLength(1);
    clearing.resolve();
    await Promise.all(afterAnswer);
    expect(deps.store.records.get(id)?.outbox).toBeUndefined();
  });

  test('a repeat of an SMS that never reached SQS queues it again, once it is no longer being accepted', async () => {
    const deps = setup();
    deps.queue.refuseAll = true;
    const first = await acceptSms({ ...otp, clientMessageId: 'otp-12' }, deps);
    deps.queue.refuseAll = false;

    // Moments later the first request may still be enqueueing it: the repeat leaves that to it.
    await acceptSms({ ...otp, clientMessageId: 'otp-12' }, deps);
    expect(deps.queue.enqueued).toEqual([]);

    deps.clock.advance(REPEAT_REQUEUE_AGE_MS);
    const repeat = await acceptSms({ ...otp, clientMessageId: 'otp-12' }, deps);
    expect(repeat).toEqual(first);
    expect(deps.queue.enqueued).toEqual([first.body.messageId]);
    expect(deps.store.records.get(first.body.messageId as string)?.outbox).toBeUndefined();
    expect(deps.store.records.size).toBe(1);
  });

  test('a first request that died before saving its answer: the repeat reuses its record, one SMS in all', async () => {
    const deps = setup();
    deps.queue.refuseAll = true;
    const first = await acceptSms({ ...otp, clientMessageId: 'otp-13' }, deps);
    // The idempotency entry of a crashed invocation expires as in progress; Powertools then runs the work again.
    await deps.idempotency.forget('otp-13');
    deps.queue.refuseAll = false;
    deps.clock.advance(10_000);

    const repeat = await acceptSms({ ...otp, clientMessageId: 'otp-13' }, deps);
    expect(repeat.body.messageId).toBe(first.body.messageId);
    expect(deps.store.records.size).toBe(1);
    expect(deps.queue.enqueued).toEqual([first.body.messageId]);
  });

  test('a crashed first request of another API key is never reused (tenancy)', async () => {
    const deps = setup();
    deps.queue.refuseAll = true;
    const first = await acceptSms(
      { ...otp, clientMessageId: 'otp-shared' },
      { ...deps, tenancy: { callerId: 'key-a' } },
    );
    await deps.idempotency.forget('key-a\u0000otp-shared');
    deps.queue.refuseAll = false;
    const other = await acceptSms(
      { ...otp, clientMessageId: 'otp-shared' },
      { ...deps, tenancy: { callerId: 'key-b' } },
    );
    expect(other.body.messageId).not.toBe(first.body.messageId);
    expect(deps.store.records.get(other.body.messageId as string)?.owner).toBe('key-b');
    // The owner itself does get its record back.
    await deps.idempotency.forget('key-a\u0000otp-shared');
    const again = await acceptSms(
      { ...otp, clientMessageId: 'otp-shared' },
      { ...deps, tenancy: { callerId: 'key-a' } },
    );
    expect(again.body.messageId).toBe(first.body.messageId);
  });

  test('a crashed first request with other content does not capture a new SMS', async () => {
    const deps = setup();
    deps.queue.refuseAll = true;
    const first = await acceptSms({ ...otp, clientMessageId: 'otp-14' }, deps);
    await deps.idempotency.forget('otp-14');
    deps.queue.refuseAll = false;
    const other = await acceptSms({ ...otp, text: 'Another code', clientMessageId: 'otp-14' }, deps);
    expect(other.body.messageId).not.toBe(first.body.messageId);
    expect(deps.store.records.size).toBe(2);
  });

  test('a repeat arriving while the first request is in flight waits and gets the same answer', async () => {
    const deps = setup();
    const gate = deferred();
    const create = deps.store.create.bind(deps.store);
    deps.store.create = async (record) => {
      await gate.promise;
      return create(record);
    };
    const first = acceptSms({ ...otp, clientMessageId: 'otp-15' }, deps);
    const sleep = deps.sleep;
    // The first request finishes while the repeat waits.
    deps.sleep = async (ms) => {
      gate.resolve();
      await sleep(ms);
    };
    const repeat = await acceptSms({ ...otp, clientMessageId: 'otp-15' }, deps);
    expect(repeat).toEqual(await first);
    expect(repeat.statusCode).toBe(202);
    expect(deps.sleeps.length).toBeGreaterThan(0);
    expect(deps.store.records.size).toBe(1);
    expect(deps.queue.enqueued).toEqual([repeat.body.messageId]);
  });

  test('the crashed-first lookup is made while the idempotency claim is on its way, not after it', async () => {
    const deps = setup();
    const claim = deferred();
    const run = deps.idempotency.run.bind(deps.idempotency);
    deps.idempotency.run = async (key, fingerprint, work) => {
      await claim.promise;
      return run(key, fingerprint, work);
    };
    const lookups: string[] = [];
    const find = deps.store.findByClientMessageId.bind(deps.store);
    deps.store.findByClientMessageId = async (clientMessageId) => {
      lookups.push(clientMessageId);
      return find(clientMessageId);
    };
    const answer = acceptSms({ ...otp, clientMessageId: 'otp-17' }, deps);
    await waitFor('the lookup', () => lookups.length === 1);
    claim.resolve();
    expect((await answer).statusCode).toBe(202);
    expect(lookups).toEqual(['otp-17']);
  });

  test('a repeat that waited for a first request which then failed after writing its record reuses that record', async () => {
    const deps = setup();
    const gate = deferred();
    const create = deps.store.create.bind(deps.store);
    let creates = 0;
    deps.store.create = async (record) => {
      if (++creates > 1) return create(record);
      await gate.promise;
      await create(record);
      // The write reached DynamoDB, its answer did not: the claim is released and no answer is saved.
      throw new Error('timed out after the write');
    };
    const first = acceptSms({ ...otp, clientMessageId: 'otp-16' }, deps).catch((error: unknown) => error);
    const sleep = deps.sleep;
    // The repeat looked for a crashed first request's record before that record existed, then found the first
    // request in flight; it fails while the repeat waits.
    deps.sleep = async (ms) => {
      gate.resolve();
      await first;
      await sleep(ms);
    };
    const repeat = await acceptSms({ ...otp, clientMessageId: 'otp-16' }, deps);
    expect(await first).toBeInstanceOf(NotAcceptedError);
    expect(repeat.statusCode).toBe(202);
    expect(deps.store.records.size).toBe(1);
    expect(repeat.body.messageId).toBe([...deps.store.records.keys()][0]);
    // Written moments ago: the outbox sweeper queues it (or a repeat once it is older), as for any fresh record.
    expect(deps.store.records.get(repeat.body.messageId as string)?.outbox).toBe('pending');
  });

  test('a repeat waits at most SMS_IDEMPOTENCY_WAIT_MS, then answers 409 IDEMPOTENCY_IN_PROGRESS with Retry-After', async () => {
    const deps = setup();
    const gate = deferred();
    const create = deps.store.create.bind(deps.store);
    deps.store.create = async (record) => {
      await gate.promise;
      return create(record);
    };
    const first = acceptSms({ ...otp, clientMessageId: 'otp-16' }, deps);
    const repeat = await acceptSms({ ...otp, clientMessageId: 'otp-16' }, deps);
    expect(repeat).toEqual({
      statusCode: 409,
      headers: { 'retry-after': '1' },
      body: {
        ok: false,
        error: {
          code: 'IDEMPOTENCY_IN_PROGRESS',
          message: expect.any(String),
          details: { retryAfterSeconds: 1 },
        },
      },
    });
    expect(deps.sleeps.reduce((a, b) => a + b, 0)).toBe(3_000);
    gate.resolve();
    expect((await first).statusCode).toBe(202);
  });

  test('when the record cannot be stored: 503 NOT_ACCEPTED, and the clientMessageId stays free', async () => {
    const deps = setup();
    deps.store.failCreate = true;
    const error = await rejection(acceptSms({ ...otp, clientMessageId: 'otp-11' }, deps));
    expect(error).toMatchObject({ statusCode: 503, code: 'NOT_ACCEPTED' });
    expect(deps.queue.enqueued).toHaveLength(0);

    deps.store.failCreate = false;
    expect((await acceptSms({ ...otp, clientMessageId: 'otp-11' }, deps)).statusCode).toBe(202);
  });
});

describe("POST /sms answers in the shape of 8x8's SmsResponse", () => {
  test.each([
    ['a short GSM7 text', 'Your code is 123456', 'AUTO', 'GSM7', 1],
    ['161 GSM7 characters (two parts of 153)', 'a'.repeat(161), 'AUTO', 'GSM7', 2],
    ['extension characters count two septets', '€'.repeat(81), 'AUTO', 'GSM7', 2],
    ['a Cyrillic text is UCS2', 'Ваш код 123456', 'AUTO', 'UCS2', 1],
    ['71 UCS2 units (two parts of 67)', 'é'.repeat(10) + 'ж'.repeat(61), 'AUTO', 'UCS2', 2],
    ['UCS2 asked for a GSM7 text', 'Hello', 'UCS2', 'UCS2', 1],
  ])('%s', async (_name, text, encoding, expected, smsCount) => {
    const response = await acceptSms({ ...otp, text, encoding }, setup());
    expect(response.body).toMatchObject({ encoding: expected, smsCount, umid: null });
  });

  test('a repeat answered from an older stored answer (without encoding) gets encoding and smsCount too', async () => {
    const deps = setup();
    const first = await acceptSms({ ...otp, clientMessageId: 'old-1' }, deps);
    // An answer stored before these fields existed.
    for (const entry of deps.idempotency.entries.values()) {
      const stored = entry.result as Record<string, unknown> | undefined;
      if (stored) for (const key of ['encoding', 'smsCount', 'umid']) delete stored[key];
    }
    const repeat = await acceptSms({ ...otp, clientMessageId: 'old-1' }, deps);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.body).toMatchObject({ encoding: 'GSM7', smsCount: 1, umid: null });
  });

  test('batch items carry encoding, smsCount and umid null', async () => {
    const response = await acceptSmsBatch(
      { messages: [{ ...otp }, { ...otp, text: 'Привет' }, { destination: '1' }] },
      setup(),
    );
    const items = (response.body as { items: Record<string, unknown>[] }).items;
    expect(items[0]).toMatchObject({ ok: true, encoding: 'GSM7', smsCount: 1, umid: null });
    expect(items[1]).toMatchObject({ ok: true, encoding: 'UCS2', smsCount: 1, umid: null });
    expect(items[2]).not.toHaveProperty('encoding');
  });
});

describe('POST /sms waitForUmidMs', () => {
  const ID = '00000000-0000-4000-8000-000000000001';

  /** Plays 8x8's answer into the record on the `at`-th pause of the wait, as the delivery worker would. */
  function answerOnPause(
    deps: ReturnType<typeof setup>,
    at: number,
    change: (id: string) => Promise<unknown>,
  ) {
    const sleep = deps.sleep;
    let pauses = 0;
    deps.sleep = async (ms: number) => {
      await sleep(ms);
      if (++pauses === at) await change(ID);
    };
  }

  const sent = (deps: ReturnType<typeof setup>) => (id: string) =>
    deps.store.changeStatus(id, {
      status: 'sent',
      at: deps.clock.now().toISOString(),
      now: deps.clock.now().toISOString(),
      umid: 'umid-from-8x8',
    });

  test('8x8 answers within the wait: the 202 carries its umid and status QUEUED, as 8x8 answers', async () => {
    const deps = setup();
    answerOnPause(deps, 3, sent(deps));
    const response = await acceptSms({ ...otp, waitForUmidMs: 2000 }, deps);
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      messageId: ID,
      umid: 'umid-from-8x8',
      encoding: 'GSM7',
      smsCount: 1,
      status: { code: 'QUEUED' },
    });
    expect(deps.sleeps).toHaveLength(3);
    // The pauses grow, so a slow 8x8 costs few reads.
    expect(deps.sleeps[1]!).toBeGreaterThan(deps.sleeps[0]!);
  });

  test('no answer within the wait: the usual QUEUED with umid null, after waiting exactly the wait', async () => {
    const deps = setup();
    const response = await acceptSms({ ...otp, waitForUmidMs: 1200 }, deps);
    expect(response.body).toMatchObject({ umid: null, status: { code: 'QUEUED' } });
    expect(deps.sleeps.reduce((a, b) => a + b, 0)).toBe(1200);
  });

  test('8x8 refuses the first attempt within the wait: REJECTED with its error code', async () => {
    const deps = setup();
    answerOnPause(deps, 1, (id) =>
      deps.store.changeStatus(id, {
        status: 'rejected',
        at: deps.clock.now().toISOString(),
        now: deps.clock.now().toISOString(),
        description: 'Invalid destination',
        errorCode: 1002,
        reason: 'Invalid MSISDN',
      }),
    );
    const response = await acceptSms({ ...otp, waitForUmidMs: 3000 }, deps);
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      umid: null,
      status: { code: 'REJECTED', description: 'Invalid destination' },
      errorCode: 1002,
      reason: 'Invalid MSISDN',
    });
  });

  test('a first attempt that ended without a verdict (timeout, 5xx) ends the wait at once with QUEUED', async () => {
    const deps = setup();
    answerOnPause(deps, 1, async (id) => {
      const record = deps.store.records.get(id)!;
      Object.assign(record, {
        attempts: 1,
        status: 'queued',
        lastError: { at: '', message: '8x8 timed out' },
      });
    });
    const response = await acceptSms({ ...otp, waitForUmidMs: 5000 }, deps);
    expect(response.body).toMatchObject({ umid: null, status: { code: 'QUEUED' } });
    expect(deps.sleeps).toHaveLength(1);
  });

  test('the wait never outlasts the invocation: it keeps one second of the remaining time', async () => {
    const deps = { ...setup(), remainingTimeMs: () => 1800 };
    await acceptSms({ ...otp, waitForUmidMs: 5000 }, deps);
    expect(deps.sleeps.reduce((a, b) => a + b, 0)).toBe(800);
  });

  test('waitForUmidMs 0, null or "" does not wait', async () => {
    for (const waitForUmidMs of [0, null, '']) {
      const deps = setup();
      const response = await acceptSms({ ...otp, waitForUmidMs }, deps);
      expect(response.statusCode).toBe(202);
      expect(deps.sleeps).toEqual([]);
    }
  });

  test('a repeat with another wait is the same SMS, and gets the umid 8x8 gave the first', async () => {
    const deps = setup();
    const first = await acceptSms({ ...otp, clientMessageId: 'w-1' }, deps);
    await sent(deps)(ID);
    const repeat = await acceptSms({ ...otp, clientMessageId: 'w-1', waitForUmidMs: 4000 }, deps);
    expect(repeat.statusCode).toBe(202);
    expect(repeat.body).toEqual({ ...first.body, umid: 'umid-from-8x8' });
    expect(deps.store.records.size).toBe(1);
    expect(deps.sleeps).toEqual([]);
  });

  test.each([
    [5001, 'waitForUmidMs must be at most 5000'],
    [-1, 'waitForUmidMs must be at least 0'],
    [1.5, 'waitForUmidMs must be a whole number'],
  ])('waitForUmidMs %p is a 400 INVALID_WAIT_FOR_UMID and stores nothing', async (waitForUmidMs, message) => {
    const deps = setup();
    const error = await rejection(acceptSms({ ...otp, waitForUmidMs }, deps));
    expect(error).toMatchObject({ code: 'INVALID_WAIT_FOR_UMID', statusCode: 400, message });
    expect(deps.store.records.size).toBe(0);
  });

  test('waitForUmidMs is not a batch field', async () => {
    const error = await rejection(acceptSmsBatch({ messages: [otp], waitForUmidMs: 100 }, setup()));
    expect(error.code).toBe('UNKNOWN_FIELD');
  });
});

describe('POST /sms/batch core', () => {
  test('valid items are accepted and enqueued, invalid ones are listed with their error', async () => {
    const deps = setup();
    const response = await acceptSmsBatch(
      {
        messages: [
          { destination: '+6591234567' },
          { destination: '123' },
          { destination: '+6591234568', text: 'Own' },
        ],
        template: { text: 'Shared', source: 'Brand' },
        clientBatchId: 'camp-1',
      },
      deps,
    );
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      ok: true,
      clientBatchId: 'camp-1',
      acceptedCount: 2,
      rejectedCount: 1,
      items: [
        { index: 0, ok: true, destination: '+6591234567', clientMessageId: null, status: { code: 'QUEUED' } },
        {
          index: 1,
          ok: false,
          error: { code: 'INVALID_DESTINATION', details: [{ path: 'messages[1].destination' }] },
        },
        { index: 2, ok: true, destination: '+6591234568' },
      ],
    });
    const batchId = response.body.batchId as string;
    const records = [...deps.store.records.values()];
    expect(records.map((r) => [r.destination, r.request.text, r.batchId, r.clientBatchId])).toEqual([
      ['+6591234567', 'Shared', batchId, 'camp-1'],
      ['+6591234568', 'Own', batchId, 'camp-1'],
    ]);
    expect(deps.queue.enqueued).toEqual(records.map((r) => r.messageId));
  });

  test('every item invalid: 400 BATCH_REJECTED with the items', async () => {
    const deps = setup();
    const response = await acceptSmsBatch({ destinations: ['12', '34'], template: { text: 'x' } }, deps);
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({
      ok: false,
      batchId: null,
      error: { code: 'BATCH_REJECTED' },
      acceptedCount: 0,
      rejectedCount: 2,
    });
    expect(deps.store.records.size).toBe(0);
  });

  test('a repeated destinations batch with the same clientBatchId sends nothing twice', async () => {
    const deps = setup();
    const body = {
      destinations: ['+6591234567', '+6591234568'],
      template: { text: 'Sale today' },
      clientBatchId: 'camp-2',
    };
    const first = await acceptSmsBatch(body, deps);
    const repeat = await acceptSmsBatch(body, deps);

    const ids = (r: typeof first) => (r.body.items as { messageId: string }[]).map((i) => i.messageId);
    expect(repeat.statusCode).toBe(202);
    expect(ids(repeat)).toEqual(ids(first));
    expect((repeat.body.items as { clientMessageId: string }[]).map((i) => i.clientMessageId)).toEqual([
      'camp-2/+6591234567',
      'camp-2/+6591234568',
    ]);
    expect(deps.queue.enqueued).toHaveLength(2);
  });

  test('a clientMessageId means one SMS whichever route carried it', async () => {
    const deps = setup();
    const single = await acceptSms({ ...otp, clientMessageId: 'shared-1' }, deps);
    const batch = await acceptSmsBatch({ messages: [{ ...otp, clientMessageId: 'shared-1' }] }, deps);
    expect((batch.body.items as { messageId: string }[])[0]?.messageId).toBe(single.body.messageId);
    expect(deps.queue.enqueued).toHaveLength(1);
  });

  test('an item reusing a clientMessageId with other content fails alone with IDEMPOTENCY_CONFLICT', async () => {
    const deps = setup();
    await acceptSms({ ...otp, clientMessageId: 'used' }, deps);
    const response = await acceptSmsBatch(
      {
        messages: [
          { ...otp, text: 'different', clientMessageId: 'used' },
          { ...otp, clientMessageId: 'fresh' },
        ],
      },
      deps,
    );
    expect(response.statusCode).toBe(202);
    expect(response.body.items).toMatchObject([
      { index: 0, ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } },
      { index: 1, ok: true, clientMessageId: 'fresh' },
    ]);
  });

  test('repeats of a clientMessageId inside one batch share the first item’s answer; other content conflicts', async () => {
    const deps = setup();
    const response = await acceptSmsBatch(
      {
        messages: [
          { ...otp, clientMessageId: 'twice' },
          { ...otp, clientMessageId: 'other' },
          { ...otp, clientMessageId: 'twice' },
          { ...otp, text: 'changed', clientMessageId: 'twice' },
        ],
      },
      deps,
    );
    expect(response.statusCode).toBe(202);
    const items = response.body.items as { index: number; ok: boolean; messageId?: string }[];
    expect(items).toMatchObject([
      { index: 0, ok: true, clientMessageId: 'twice' },
      { index: 1, ok: true, clientMessageId: 'other' },
      { index: 2, ok: true, clientMessageId: 'twice', messageId: items[0]?.messageId },
      { index: 3, ok: false, error: { code: 'IDEMPOTENCY_CONFLICT' } },
    ]);
    expect(response.body).toMatchObject({ acceptedCount: 3, rejectedCount: 1 });
    expect(deps.queue.enqueued).toEqual([items[0]?.messageId, items[1]?.messageId]);
    expect(deps.store.records.size).toBe(2);
  });

  test('items SQS refuses are accepted all the same and stay in the outbox for the sweeper', async () => {
    const deps = setup();
    deps.queue.refuse.add('00000000-0000-4000-8000-000000000003');
    const response = await acceptSmsBatch(
      { destinations: ['+6591234567', '+6591234568'], template: { text: 'x' } },
      deps,
    );
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({ acceptedCount: 2, rejectedCount: 0 });
    const [a, b] = (response.body.items as { messageId: string }[]).map((i) => i.messageId);
    expect(deps.queue.enqueued).toEqual([a]);
    expect(deps.store.records.get(a!)?.outbox).toBeUndefined();
    expect(deps.store.records.get(b!)?.outbox).toBe('pending');
  });

  test('a batch item whose clientMessageId is in flight elsewhere waits for it and shares its answer', async () => {
    const deps = setup();
    const gate = deferred();
    const create = deps.store.create.bind(deps.store);
    deps.store.create = async (record) => {
      await gate.promise;
      return create(record);
    };
    const single = acceptSms({ ...otp, clientMessageId: 'both-routes' }, deps);
    const sleep = deps.sleep;
    deps.sleep = async (ms) => {
      gate.resolve();
      await sleep(ms);
    };
    const batch = await acceptSmsBatch({ messages: [{ ...otp, clientMessageId: 'both-routes' }] }, deps);
    expect(batch.statusCode).toBe(202);
    expect((batch.body.items as { messageId: string }[])[0]?.messageId).toBe((await single).body.messageId);
    expect(deps.store.records.size).toBe(1);
  });

  test('batch items still in flight past the wait: 409 IDEMPOTENCY_IN_PROGRESS with Retry-After when nothing else was accepted', async () => {
    const deps = setup();
    const gate = deferred();
    const create = deps.store.create.bind(deps.store);
    deps.store.create = async (record) => {
      await gate.promise;
      return create(record);
    };
    const single = acceptSms({ ...otp, clientMessageId: 'slow' }, deps);
    const batch = await acceptSmsBatch({ messages: [{ ...otp, clientMessageId: 'slow' }] }, deps);
    expect(batch.statusCode).toBe(409);
    expect(batch.headers).toEqual({ 'retry-after': '1' });
    expect(batch.body).toMatchObject({
      ok: false,
      error: { code: 'IDEMPOTENCY_IN_PROGRESS' },
      items: [{ index: 0, ok: false, error: { code: 'IDEMPOTENCY_IN_PROGRESS' } }],
    });
    gate.resolve();
    expect((await single).statusCode).toBe(202);
  });

  test('500 destinations: every item keeps its own destination and id', async () => {
    const deps = setup();
    const destinations = Array.from(
      { length: 500 },
      (_, i) => `+659${String(1_000_000 + i).padStart(7, '0')}`,
    );
    const response = await acceptSmsBatch({ destinations, template: { text: 'Hello' } }, deps);
    expect(response.body).toMatchObject({ acceptedCount: 500, rejectedCount: 0 });
    const items = response.body.items as { index: number; messageId: string; destination: string }[];
    for (const item of items) {
      expect(item.destination).toBe(destinations[item.index]);
      expect(deps.store.records.get(item.messageId)?.destination).toBe(destinations[item.index]);
    }
    expect(new Set(deps.queue.enqueued).size).toBe(500);
  });

  test('a batch whose shape is wrong is refused as a whole', async () => {
    const deps = setup();
    const error = await rejection(acceptSmsBatch({ messages: [otp], unknown: true }, deps));
    expect(error).toMatchObject({ statusCode: 400, code: 'UNKNOWN_FIELD' });
    expect(deps.store.records.size).toBe(0);
  });
});
