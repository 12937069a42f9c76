/**
 * POST /sms and POST /sms/batch honour the opt-out list (issue 14 item 4): an SMS to a number that texted STOP is
 * refused with 422 RECIPIENT_OPTED_OUT before the idempotency guard, nothing stored or sent, SmsRefusedOptedOut.
 */
import '../../helpers/env';
import { acceptSms, acceptSmsBatch, type AcceptDeps } from '../../../functions/sms/accept';
import { SmsError } from '../../../functions/sms/error-codes';
import type { OptOutScope } from '../../../functions/sms/inbound-ports';
import { metrics } from '../../../functions/shared/powertools';
import { FakeClock, FakeQueue, InMemoryMessageStore, MapIdempotency, SequenceIds } from './fakes';
import { InMemoryOptOutStore } from './fake-opt-out-store';

const OPTED_OUT = '+6591234567';
const OTHER = '+6591234568';
const STOP = { optedOutAt: '2026-03-01T09:00:00.000Z', keyword: 'STOP', umid: 'stop-1' };

async function setup(scope: OptOutScope = 'sender') {
  const optOuts = new InMemoryOptOutStore();
  await optOuts.optOut(OPTED_OUT, { sender: '+6580000001', ...STOP });
  const deps = {
    store: new InMemoryMessageStore(),
    queue: new FakeQueue(),
    idempotency: new MapIdempotency(),
    clock: new FakeClock(),
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
    optOuts: { store: optOuts, scope },
  } satisfies AcceptDeps;
  return { deps, optOuts };
}

let addMetric: jest.SpyInstance;
beforeEach(() => {
  addMetric = jest.spyOn(metrics, 'addMetric');
});
afterEach(() => addMetric.mockRestore());

const refusedCount = () =>
  addMetric.mock.calls
    .filter(([name]) => name === 'SmsRefusedOptedOut')
    .reduce((sum, call) => sum + (call[2] as number), 0);

async function refusal(promise: Promise<unknown>): Promise<SmsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SmsError)) throw new Error(`expected an SmsError, got ${String(error)}`);
  return error;
}

describe('POST /sms to an opted-out number', () => {
  test('is 422 RECIPIENT_OPTED_OUT: nothing stored, queued or claimed, counted', async () => {
    const { deps } = await setup();
    const error = await refusal(
      acceptSms(
        { destination: '6591234567', text: 'hi', source: '6580000001', clientMessageId: 'c-1' },
        deps,
      ),
    );
    expect([error.code, error.statusCode]).toEqual(['RECIPIENT_OPTED_OUT', 422]);
    expect(deps.store.records.size).toBe(0);
    expect(deps.queue.enqueued).toEqual([]);
    expect(deps.idempotency.runs).toBe(0);
    expect(refusedCount()).toBe(1);
  });

  test('sender scope: another sender may still text the number; no source (8x8 picks it) may not', async () => {
    const { deps } = await setup('sender');
    const other = await acceptSms({ destination: OPTED_OUT, text: 'hi', source: 'ACME' }, deps);
    expect(other.statusCode).toBe(202);
    const noSource = await refusal(acceptSms({ destination: OPTED_OUT, text: 'hi' }, deps));
    expect(noSource.code).toBe('RECIPIENT_OPTED_OUT');
    expect(deps.store.records.size).toBe(1);
  });

  test('account scope: no sender may text the number', async () => {
    const { deps } = await setup('account');
    const error = await refusal(acceptSms({ destination: OPTED_OUT, text: 'hi', source: 'ACME' }, deps));
    expect(error.code).toBe('RECIPIENT_OPTED_OUT');
  });

  test('is checked before the idempotency guard: a repeat of an SMS accepted before the STOP is refused', async () => {
    const { deps, optOuts } = await setup();
    const body = { destination: OTHER, text: 'hi', source: '+6580000001', clientMessageId: 'c-2' };
    expect((await acceptSms(body, deps)).statusCode).toBe(202);
    await optOuts.optOut(OTHER, { sender: '+6580000001', ...STOP, umid: 'stop-2' });
    expect((await refusal(acceptSms(body, deps))).code).toBe('RECIPIENT_OPTED_OUT');
    expect(deps.queue.enqueued).toHaveLength(1);
  });

  test('once lifted, the number is texted again', async () => {
    const { deps, optOuts } = await setup();
    await optOuts.optIn(OPTED_OUT, undefined, '2026-03-02T09:00:00.000Z', 'START');
    const response = await acceptSms({ destination: OPTED_OUT, text: 'hi', source: '+6580000001' }, deps);
    expect(response.statusCode).toBe(202);
  });

  test('an opt-out list that cannot be read refuses with 503 NOT_ACCEPTED (fails closed)', async () => {
    const { deps, optOuts } = await setup();
    optOuts.failReads = new Error('DynamoDB unavailable');
    const error = await refusal(acceptSms({ destination: OTHER, text: 'hi' }, deps));
    expect([error.code, error.statusCode]).toEqual(['NOT_ACCEPTED', 503]);
    expect(deps.store.records.size).toBe(0);
  });

  test('without an opt-out list (the bridge’s own HELP and confirmation SMS) nothing is checked', async () => {
    const { deps } = await setup();
    const { optOuts: _ignored, ...bypass } = deps;
    expect((await acceptSms({ destination: OPTED_OUT, text: 'Reply START…' }, bypass)).statusCode).toBe(202);
  });
});

describe('POST /sms/batch with opted-out numbers', () => {
  test('those items are refused one by one with RECIPIENT_OPTED_OUT, after one read of the list', async () => {
    const { deps, optOuts } = await setup();
    const response = await acceptSmsBatch(
      {
        destinations: ['+6591234569', OPTED_OUT, '123', OTHER],
        template: { text: 'Sale!', source: '+6580000001' },
      },
      deps,
    );
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      ok: true,
      acceptedCount: 2,
      rejectedCount: 2,
      items: [
        { index: 0, ok: true, destination: '+6591234569' },
        { index: 1, ok: false, error: { code: 'RECIPIENT_OPTED_OUT' } },
        { index: 2, ok: false, error: { code: 'INVALID_DESTINATION' } },
        { index: 3, ok: true, destination: OTHER },
      ],
    });
    expect(optOuts.getManyCalls).toEqual([['+6591234569', OPTED_OUT, OTHER]]);
    expect(optOuts.gets).toBe(0);
    expect([...deps.store.records.values()].map((r) => r.destination)).toEqual(['+6591234569', OTHER]);
    expect(refusedCount()).toBe(1);
  });

  test('every item opted out: 400 BATCH_REJECTED, each item says why', async () => {
    const { deps } = await setup('account');
    const response = await acceptSmsBatch({ messages: [{ destination: OPTED_OUT, text: 'x' }] }, deps);
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({
      ok: false,
      error: { code: 'BATCH_REJECTED' },
      items: [{ index: 0, ok: false, error: { code: 'RECIPIENT_OPTED_OUT' } }],
    });
    expect(deps.store.records.size).toBe(0);
  });

  test('an opt-out list that cannot be read refuses the whole batch with 503 NOT_ACCEPTED', async () => {
    const { deps, optOuts } = await setup();
    optOuts.failReads = new Error('DynamoDB unavailable');
    const response = await acceptSmsBatch({ destinations: [OTHER], template: { text: 'x' } }, deps);
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatchObject({ items: [{ ok: false, error: { code: 'NOT_ACCEPTED' } }] });
    expect(deps.store.records.size).toBe(0);
  });

  test('a batch of only invalid items does not read the list', async () => {
    const { deps, optOuts } = await setup();
    await acceptSmsBatch({ destinations: ['12'], template: { text: 'x' } }, deps);
    expect(optOuts.getManyCalls).toEqual([]);
  });
});
