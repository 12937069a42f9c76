/**
 * DELETE /sms/{messageId} and …/pii cores (functions/sms/manage.ts) with in-memory ports: the race between a cancel
 * and the worker's claim, 8x8's cancel answers (cancelledCount 0, refusals, outages), and an erase whose 8x8 call
 * fails (the bridge's copy is erased, a repeat asks 8x8 again). The HTTP paths are in
 * test/integration/sms-cancel-erase.test.ts.
 */
import '../../helpers/env';
import { acceptSms } from '../../../functions/sms/accept';
import { deliverSms, prepareDeliveries } from '../../../functions/sms/deliver';
import type { EightByEightSmsManagement } from '../../../functions/sms/eight-by-eight-sms-client';
import { cancelSms, eraseSmsPii, type ManageDeps } from '../../../functions/sms/manage';
import type { MessageRecord } from '../../../functions/sms/records';
import { UpstreamError } from '../../../functions/shared/errors';
import { powertoolsTelemetry } from '../../../functions/shared/runtime';
import {
  FakeClock,
  FakeEightByEight,
  FakeQueue,
  InMemoryMessageStore,
  MapIdempotency,
  SequenceIds,
  fakeDeliverDeps,
  FAKE_SMS_CREDENTIALS,
} from './fakes';

const credentials = async () => FAKE_SMS_CREDENTIALS;

function setup() {
  const store = new InMemoryMessageStore();
  const clock = new FakeClock();
  const sms = new FakeEightByEight();
  const calls: { kind: 'cancel' | 'pii'; umid: string }[] = [];
  const management: EightByEightSmsManagement & { cancelledCount: number; fail?: Error } = {
    cancelledCount: 1,
    async cancelScheduledSms(_creds, umid) {
      calls.push({ kind: 'cancel', umid });
      if (management.fail) throw management.fail;
      return { cancelledCount: management.cancelledCount };
    },
    async removeSmsPii(_creds, umid) {
      calls.push({ kind: 'pii', umid });
      if (management.fail) throw management.fail;
    },
  };
  const deps: ManageDeps = {
    store,
    eightByEight: management,
    credentials,
    clock,
    telemetry: powertoolsTelemetry,
    settings: { upstreamTimeoutMs: 5000 },
  };
  const deliverDeps = fakeDeliverDeps({ store, sms, clock, credentials });
  const acceptDeps = {
    store,
    clock,
    queue: new FakeQueue(),
    idempotency: new MapIdempotency(),
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
  };
  const accept = async (body: Record<string, unknown> = {}) =>
    (await acceptSms({ destination: '+6591234567', text: 'Hello', ...body }, acceptDeps)).body
      .messageId as string;
  const deliver = async (messageId: string) => {
    const items = [
      { body: { messageId }, ctx: { record: {} as never, receiveCount: 1, lastAttempt: false } },
    ];
    const prepared = await prepareDeliveries(items, deliverDeps);
    await deliverSms({ messageId }, { prepared }, deliverDeps);
  };
  const record = async (id: string) => (await store.get(id)) as MessageRecord;
  return { store, clock, sms, management, calls, deps, accept, deliver, record };
}

const inMinutes = (clock: FakeClock, minutes: number) =>
  new Date(clock.now().getTime() + minutes * 60_000).toISOString();

test('a cancelled SMS is skipped by the worker: 8x8 is never called', async () => {
  const t = setup();
  const id = await t.accept();
  expect((await cancelSms(id, t.deps)).statusCode).toBe(200);
  await t.deliver(id);
  expect(t.sms.singleCalls).toHaveLength(0);
  expect(t.sms.batchCalls).toHaveLength(0);
  expect(await t.record(id)).toMatchObject({ status: 'cancelled', attempts: 0 });
});

test('the worker claimed it first: the cancel answers 409 SMS_SEND_IN_PROGRESS with a retry hint', async () => {
  const t = setup();
  const id = await t.accept();
  // The worker's conditional claim (queued → sending) wins the race.
  const claimed = await t.store.startAttempt(id, {
    seenAttempts: 0,
    previousAmbiguous: false,
    leaseUntil: t.clock.now().getTime() + 12_000,
    now: t.clock.now().toISOString(),
  });
  expect(claimed).toBe(true);
  await expect(cancelSms(id, t.deps)).rejects.toMatchObject({
    code: 'SMS_SEND_IN_PROGRESS',
    statusCode: 409,
    details: { retryAfterSeconds: 12 },
  });
  expect((await t.record(id)).status).toBe('sending');
});

test("scheduled at 8x8: cancelled through 8x8's call; cancelledCount 0 means it went out: 409", async () => {
  const t = setup();
  const id = await t.accept({ scheduled: inMinutes(t.clock, 30) });
  await t.deliver(id);
  const { umid } = await t.record(id);
  t.management.cancelledCount = 0;
  await expect(cancelSms(id, t.deps)).rejects.toMatchObject({ code: 'SMS_NOT_CANCELLABLE' });
  expect((await t.record(id)).status).toBe('sent');
  t.management.cancelledCount = 1;
  const answer = await cancelSms(id, t.deps);
  expect(answer.body).toMatchObject({ status: { code: 'CANCELLED' }, umid });
  expect(t.calls).toEqual([
    { kind: 'cancel', umid },
    { kind: 'cancel', umid },
  ]);
});

test('8x8 refusing or failing the cancel: 502 UPSTREAM_REJECTED / 503 UPSTREAM_UNAVAILABLE, record unchanged', async () => {
  const t = setup();
  const id = await t.accept({ scheduled: inMinutes(t.clock, 30) });
  await t.deliver(id);
  t.management.fail = new UpstreamError('8x8-sms', 'permanent', 'not found', 404, 1300);
  await expect(cancelSms(id, t.deps)).rejects.toMatchObject({
    code: 'UPSTREAM_REJECTED',
    statusCode: 502,
    details: { httpStatus: 404, code: 1300 },
  });
  t.management.fail = new UpstreamError('8x8-sms', 'transient', 'down', 503);
  await expect(cancelSms(id, t.deps)).rejects.toMatchObject({
    code: 'UPSTREAM_UNAVAILABLE',
    statusCode: 503,
  });
  expect((await t.record(id)).status).toBe('sent');
});

test('a scheduled time already passed: not cancellable, 8x8 not asked', async () => {
  const t = setup();
  const id = await t.accept({ scheduled: inMinutes(t.clock, 5) });
  await t.deliver(id);
  t.clock.advance(10 * 60_000);
  await expect(cancelSms(id, t.deps)).rejects.toMatchObject({ code: 'SMS_NOT_CANCELLABLE' });
  expect(t.calls).toEqual([]);
});

test("erase when 8x8's PII call fails: the bridge copy is erased, tombstone says failed, a repeat asks again", async () => {
  const t = setup();
  const id = await t.accept();
  await t.deliver(id);
  const { umid } = await t.record(id);
  t.management.fail = new UpstreamError('8x8-sms', 'transient', 'down', 500);
  await expect(eraseSmsPii(id, t.deps, { callerId: 'key-a' })).rejects.toMatchObject({
    code: 'UPSTREAM_UNAVAILABLE',
  });
  expect(await t.record(id)).toMatchObject({
    destination: '[erased]',
    request: { destination: '[erased]', text: '[erased]' },
    erased: { by: 'key-a', eightByEight: 'failed' },
  });
  delete t.management.fail;
  const answer = await eraseSmsPii(id, t.deps, { callerId: 'key-a' });
  expect(answer.body).toMatchObject({ erased: { eightByEight: 'requested' } });
  // Once requested, a repeat changes nothing and does not call 8x8 again.
  await eraseSmsPii(id, t.deps, { callerId: 'key-a' });
  expect(t.calls).toEqual([
    { kind: 'pii', umid },
    { kind: 'pii', umid },
  ]);
});
