/**
 * The outbox sweeper (functions/sms/sweeper.ts) and the DLQ redrive of SMS (functions/sms/redrive.ts) on the
 * in-memory ports: which records the sweeper queues, and that a redriven SMS gets one fresh attempt and never a
 * second send of an SMS 8x8 accepted.
 */
import '../../helpers/env';
import { acceptSms, type AcceptDeps } from '../../../functions/sms/accept';
import { deliverSms, markDeliveryExhausted } from '../../../functions/sms/deliver';
import { EightByEightSmsError } from '../../../functions/sms/eight-by-eight-sms-client';
import { isRedrivable } from '../../../functions/sms/redrive';
import { sweepOutbox, type SweepDeps } from '../../../functions/sms/sweeper';
import { UpstreamError } from '../../../functions/shared/errors';
import {
  FakeClock,
  FakeEightByEight,
  FakeQueue,
  InMemoryMessageStore,
  MapIdempotency,
  SequenceIds,
  fakeDeliverDeps,
  recordingTelemetry,
} from './fakes';

function setup() {
  const store = new InMemoryMessageStore();
  const clock = new FakeClock();
  const queue = new FakeQueue();
  const sms = new FakeEightByEight();
  const { telemetry, counts } = recordingTelemetry();
  const acceptDeps: AcceptDeps = {
    store,
    queue,
    clock,
    idempotency: new MapIdempotency(),
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
  };
  const sweepDeps: SweepDeps = {
    store,
    queue,
    clock,
    telemetry,
    settings: { sweepAgeSeconds: 60, sweepBatchSize: 2 },
  };
  const deliverDeps = fakeDeliverDeps({ store, sms, clock, telemetry });
  /** An SMS whose accept "crashed" after the record write: SQS never got it. */
  const stranded = async (n: number): Promise<string> => {
    queue.refuseAll = true;
    const response = await acceptSms({ destination: '+6591234567', text: `Code ${n}` }, acceptDeps);
    queue.refuseAll = false;
    return response.body.messageId as string;
  };
  return { store, clock, queue, sms, counts, acceptDeps, sweepDeps, deliverDeps, stranded };
}

describe('outbox sweeper', () => {
  test('queues every record still in the outbox past the age, oldest first, over several pages', async () => {
    const t = setup();
    const ids = [await t.stranded(1), await t.stranded(2), await t.stranded(3)];
    t.clock.advance(59_000);
    expect(await sweepOutbox(t.sweepDeps)).toEqual({ found: 0, swept: 0, cleared: 0, failed: 0 });
    expect(t.queue.enqueued).toEqual([]);

    t.clock.advance(1_001);
    expect(await sweepOutbox(t.sweepDeps)).toEqual({ found: 3, swept: 3, cleared: 0, failed: 0 });
    expect(t.queue.enqueued).toEqual(ids);
    expect(ids.map((id) => t.store.records.get(id)?.outbox)).toEqual([undefined, undefined, undefined]);
    expect(t.counts.get('SmsOutboxSwept')).toBe(3);

    // Swept once: the next run finds nothing.
    expect((await sweepOutbox(t.sweepDeps)).found).toBe(0);
    expect(t.queue.enqueued).toHaveLength(3);
  });

  test('leaves SMS that reached SQS alone (their marker is gone)', async () => {
    const t = setup();
    await acceptSms({ destination: '+6591234567', text: 'fine' }, t.acceptDeps);
    t.clock.advance(120_000);
    expect((await sweepOutbox(t.sweepDeps)).found).toBe(0);
    expect(t.queue.enqueued).toHaveLength(1);
  });

  test('a marked record that moved on (its enqueue worked, only the marker stayed) is cleared, not queued', async () => {
    const t = setup();
    const id = await t.stranded(1);
    await t.store.changeStatus(id, { status: 'sent', at: 'x', now: 'x', umid: 'umid-1' });
    t.clock.advance(120_000);
    expect(await sweepOutbox(t.sweepDeps)).toEqual({ found: 1, swept: 0, cleared: 1, failed: 0 });
    expect(t.queue.enqueued).toEqual([]);
    expect(t.store.records.get(id)?.outbox).toBeUndefined();
  });

  test('what SQS refuses stays marked for the next run, and the rest of the outbox is still swept', async () => {
    const t = setup();
    const ids = [await t.stranded(1), await t.stranded(2), await t.stranded(3)];
    t.queue.refuse.add(ids[0]!);
    t.clock.advance(120_000);
    expect(await sweepOutbox(t.sweepDeps)).toEqual({ found: 3, swept: 2, cleared: 0, failed: 1 });
    expect(t.queue.enqueued).toEqual([ids[1], ids[2]]);
    expect(t.store.records.get(ids[0]!)?.outbox).toBe('pending');
    expect(t.counts.get('SmsOutboxSweepFailed')).toBe(1);

    t.queue.refuse.clear();
    expect((await sweepOutbox(t.sweepDeps)).swept).toBe(1);
    expect(t.queue.enqueued).toEqual([ids[1], ids[2], ids[0]]);
  });

  test('a swept SMS queued twice (the accept was only slow) reaches 8x8 once', async () => {
    const t = setup();
    const response = await acceptSms({ destination: '+6591234567', text: 'twice' }, t.acceptDeps);
    const id = response.body.messageId as string;
    // The marker survived (its clear failed), so the sweeper queues the SMS a second time.
    t.store.records.get(id)!.outbox = 'pending';
    t.clock.advance(120_000);
    await sweepOutbox(t.sweepDeps);
    expect(t.queue.enqueued).toEqual([id, id]);

    for (const messageId of t.queue.enqueued) await deliverSms({ messageId }, {}, t.deliverDeps);
    expect(t.sms.singleCalls).toHaveLength(1);
    expect(t.store.records.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
  });
});

function transient() {
  return new EightByEightSmsError(
    new UpstreamError('8x8-sms', 'transient', '8x8-sms answered 503: down', 503),
    'down',
    'error-id',
  );
}

describe('DLQ redrive of SMS', () => {
  /** An SMS whose retries ran out on 8x8 503s: failed, its message on the way to the DLQ. */
  async function exhausted(t: ReturnType<typeof setup>): Promise<string> {
    const response = await acceptSms({ destination: '+6591234567', text: 'redrive me' }, t.acceptDeps);
    const messageId = response.body.messageId as string;
    t.sms.singleScript.push(transient());
    await expect(deliverSms({ messageId }, {}, t.deliverDeps)).rejects.toThrow();
    await markDeliveryExhausted({ messageId }, transient(), t.deliverDeps);
    return messageId;
  }

  test('retries exhausted: failed with RETRIES_EXHAUSTED and marked redrivable', async () => {
    const t = setup();
    const id = await exhausted(t);
    const record = t.store.records.get(id)!;
    expect(record).toMatchObject({ status: 'failed', errorCode: 'RETRIES_EXHAUSTED', redrivable: true });
    expect(isRedrivable(record)).toBe(true);
  });

  test('a redriven message gets a fresh, recorded attempt and is sent', async () => {
    const t = setup();
    const id = await exhausted(t);
    await deliverSms({ messageId: id }, {}, t.deliverDeps);

    const record = t.store.records.get(id)!;
    expect(record).toMatchObject({ status: 'sent', attempts: 2, umid: 'umid-1' });
    expect(record.redrivable).toBeUndefined();
    expect(record.errorCode).toBeUndefined();
    expect(record.history.map((h) => [h.status, h.detail])).toEqual([
      ['queued', undefined],
      ['failed', undefined],
      ['queued', 'redriven from the DLQ'],
      ['sent', undefined],
    ]);
    expect(t.sms.singleCalls).toHaveLength(2);
  });

  test('two copies of a redriven message send the SMS once', async () => {
    const t = setup();
    const id = await exhausted(t);
    await Promise.allSettled([
      deliverSms({ messageId: id }, {}, t.deliverDeps),
      deliverSms({ messageId: id }, {}, t.deliverDeps),
    ]);
    await deliverSms({ messageId: id }, {}, t.deliverDeps).catch(() => undefined);
    expect(t.sms.singleCalls).toHaveLength(2); // the failed first attempt and one redriven send
    expect(t.store.records.get(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  test('an SMS 8x8 accepted is never sent again, whatever is redriven', async () => {
    const t = setup();
    const response = await acceptSms({ destination: '+6591234567', text: 'sent once' }, t.acceptDeps);
    const messageId = response.body.messageId as string;
    await deliverSms({ messageId }, {}, t.deliverDeps);
    // Late exhaustion of a redundant copy cannot fail (nor mark) a sent SMS.
    await markDeliveryExhausted({ messageId }, transient(), t.deliverDeps);
    await deliverSms({ messageId }, {}, t.deliverDeps);
    expect(t.sms.singleCalls).toHaveLength(1);
    expect(t.store.records.get(messageId)).toMatchObject({ status: 'sent' });
    expect(t.store.records.get(messageId)?.redrivable).toBeUndefined();
  });

  test('an SMS 8x8 refused (4xx) is final: a redriven copy of it is dropped', async () => {
    const t = setup();
    const response = await acceptSms({ destination: '+6591234567', text: 'refused' }, t.acceptDeps);
    const messageId = response.body.messageId as string;
    t.sms.singleScript.push(
      new EightByEightSmsError(
        new UpstreamError('8x8-sms', 'permanent', '8x8-sms answered 400: bad', 400, 1002),
        'bad',
        'error-id',
      ),
    );
    await deliverSms({ messageId }, {}, t.deliverDeps);
    await deliverSms({ messageId }, {}, t.deliverDeps);
    expect(t.sms.singleCalls).toHaveLength(1);
    expect(t.store.records.get(messageId)).toMatchObject({ status: 'failed', errorCode: 1002 });
  });
});
