/**
 * How a poll batch becomes 8x8 batch calls (functions/sms/outcome.ts batchGroups, batchRequest) and how each
 * call's answer maps back to its SMS (functions/sms/deliver.ts prepareDeliveries), with the pacer in the way.
 */
import '../../helpers/env';
import fc from 'fast-check';
import { acceptSms } from '../../../functions/sms/accept';
import {
  PacerBusyError,
  deliverSms,
  prepareDeliveries,
  STORE_CALLS_IN_FLIGHT,
  type DeliverDeps,
} from '../../../functions/sms/deliver';
import type { EightByEightSmsRequest } from '../../../functions/sms/eight-by-eight-sms-client';
import { batchGroupKey, batchGroups, batchRequest } from '../../../functions/sms/outcome';
import type { CallPacer } from '../../../functions/sms/ports';
import type { BatchItem } from '../../../functions/shared/queue-consumer';
import { mergeTemplate } from '../../../lib/simulators/sms-rules';
import { validateSmsBatchRequest } from '../../../lib/simulators/contract/sms-schema';
import {
  FakeClock,
  FakeEightByEight,
  FakeQueue,
  InMemoryMessageStore,
  MapIdempotency,
  SequenceIds,
  fakeDeliverDeps,
} from './fakes';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
// Printed so a failing run can be replayed with FC_SEED=<seed>.
console.log(`batch call property tests: fast-check seed ${SEED}`);

const request = fc.record(
  {
    destination: fc.constantFrom('+6591234567', '+6591234568', '+12025550123'),
    text: fc.constantFrom('Your code is 1', 'Your code is 2', 'Hello'),
    clientMessageId: fc.uuid(),
    encoding: fc.constantFrom('AUTO', 'GSM7', 'UCS2') as fc.Arbitrary<EightByEightSmsRequest['encoding']>,
    source: fc.constantFrom('MyBank', 'Shop'),
    expiry: fc.constantFrom('2026-03-03T10:00:00.000Z', '2026-03-04T10:00:00.000Z'),
    dlrCallbackUrl: fc.constantFrom('https://a.example/dlr', 'https://b.example/dlr'),
  },
  { requiredKeys: ['destination', 'text', 'clientMessageId'] },
);

describe('batchGroups and batchRequest', () => {
  test('property: every SMS lands in exactly one call, calls share their grouped properties and respect the maximum', () => {
    fc.assert(
      fc.property(fc.array(request, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (requests, max) => {
        const groups = batchGroups(requests, max);
        expect(groups.flat().sort((a, b) => a - b)).toEqual(requests.map((_, i) => i));
        for (const group of groups) {
          expect(group.length).toBeGreaterThan(0);
          expect(group.length).toBeLessThanOrEqual(max);
          expect(new Set(group.map((i) => batchGroupKey(requests[i]!))).size).toBe(1);
        }
        // As few calls as the grouping allows: only the last call of a group may be short.
        const keys = new Set(requests.map(batchGroupKey));
        const needed = [...keys].reduce(
          (sum, key) => sum + Math.ceil(requests.filter((r) => batchGroupKey(r) === key).length / max),
          0,
        );
        expect(groups).toHaveLength(needed);
      }),
      { seed: SEED },
    );
  });

  test('property: 8x8 merging the template back gives every SMS exactly as it was', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 30 }), (requests) => {
        const body = batchRequest(requests);
        expect(validateSmsBatchRequest(body).errors).toEqual([]);
        if (body.template) expect(typeof body.template.text).toBe('string');
        const merged = body.messages.map((m) =>
          mergeTemplate(body.template as Record<string, unknown> | undefined, m as Record<string, unknown>),
        );
        expect(merged).toEqual(requests);
      }),
      { seed: SEED },
    );
  });

  test('a template only when every message has the same text; it carries what they all share', () => {
    const shared = { text: 'Sale today', source: 'Shop', encoding: 'AUTO' as const };
    const body = batchRequest([
      { ...shared, destination: '+6591234567', clientMessageId: 'a' },
      { ...shared, destination: '+6591234568', clientMessageId: 'b', expiry: '2026-03-04T10:00:00.000Z' },
    ]);
    expect(body.template).toEqual(shared);
    expect(body.messages).toEqual([
      { destination: '+6591234567', clientMessageId: 'a' },
      { destination: '+6591234568', clientMessageId: 'b', expiry: '2026-03-04T10:00:00.000Z' },
    ]);
    const personal = batchRequest([
      { ...shared, destination: '+6591234567', clientMessageId: 'a' },
      { ...shared, text: 'Other', destination: '+6591234568', clientMessageId: 'b' },
    ]);
    expect(personal.template).toBeUndefined();
    expect(personal.messages.map((m) => m.text)).toEqual(['Sale today', 'Other']);
  });
});

/** Reserves whatever is asked, or nothing (busy), and records each reservation. */
class ScriptedPacer implements CallPacer {
  readonly reservations: [number, number][] = [];
  rateLimits = 0;
  constructor(private readonly busy = false) {}
  async reserve(earliestMs: number, latestMs: number): Promise<number | undefined> {
    this.reservations.push([earliestMs, latestMs]);
    return this.busy ? undefined : earliestMs;
  }
  async rateLimited(): Promise<void> {
    this.rateLimits++;
  }
  leadMs(): number {
    return 0;
  }
  preparationTook(): void {}
}

function setup(pacer?: CallPacer) {
  const store = new InMemoryMessageStore();
  const clock = new FakeClock();
  const sms = new FakeEightByEight();
  const deps = fakeDeliverDeps({
    store,
    sms,
    clock,
    ...(pacer && { pacer }),
    settings: { paceWaitMs: 8_000 },
  });
  const acceptDeps = {
    store,
    clock,
    queue: new FakeQueue(),
    idempotency: new MapIdempotency(),
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
  };
  const accept = async (body: Record<string, unknown>): Promise<string> =>
    (await acceptSms({ destination: '+6591234567', text: 'Hi', ...body }, acceptDeps)).body
      .messageId as string;
  return { store, sms, deps, accept };
}

const items = (ids: string[]): BatchItem[] =>
  ids.map((messageId) => ({
    body: { messageId },
    ctx: { record: {} as never, receiveCount: 1, lastAttempt: false },
  }));

async function deliverAll(ids: string[], deps: DeliverDeps) {
  const prepared = await prepareDeliveries(items(ids), deps);
  return Promise.allSettled(ids.map((messageId) => deliverSms({ messageId }, { prepared }, deps)));
}

/** The in-memory store, each write taking a turn of the event loop; records how many writes were open at once. */
class CountingStore extends InMemoryMessageStore {
  open = 0;
  maxOpen = 0;
  writes = 0;
  private async counted<R>(write: () => Promise<R>): Promise<R> {
    this.writes++;
    this.maxOpen = Math.max(this.maxOpen, ++this.open);
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      return await write();
    } finally {
      this.open--;
    }
  }
  override startAttempt(...args: Parameters<InMemoryMessageStore['startAttempt']>) {
    return this.counted(() => super.startAttempt(...args));
  }
  override changeStatus(...args: Parameters<InMemoryMessageStore['changeStatus']>) {
    return this.counted(() => super.changeStatus(...args));
  }
}

describe('prepareDeliveries: batch calls per group, verdicts mapped back', () => {
  test(`a batch's record writes are at most STORE_CALLS_IN_FLIGHT (${STORE_CALLS_IN_FLIGHT}) at once; every SMS still gets its verdict`, async () => {
    const t = setup();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await t.accept({ text: `Sale ${i}` }));
    const store = new CountingStore();
    for (const [id, record] of t.store.records) store.records.set(id, record);
    const deps = { ...t.deps, store };
    const results = await deliverAll(ids, deps);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(t.sms.batchCalls).toHaveLength(1);
    // 40 attempts started and 40 marked sent, in parallel but never more than the bound.
    expect(store.writes).toBe(80);
    expect(store.maxOpen).toBe(STORE_CALLS_IN_FLIGHT);
    const statuses = await Promise.all(ids.map(async (id) => (await store.get(id))?.status));
    expect(statuses.every((status) => status === 'sent')).toBe(true);
  });

  test('one call per sender; each SMS gets its own verdict from its call, each paced', async () => {
    const pacer = new ScriptedPacer();
    const t = setup(pacer);
    const ids = [
      await t.accept({ source: 'MyBank', text: 'one' }),
      await t.accept({ source: 'Shop', text: 'two' }),
      await t.accept({ source: 'MyBank', text: 'three' }),
      await t.accept({ source: 'Shop', text: 'four', destination: '+6591234568' }),
    ];
    t.sms.batchScript.push((b: { messages: { clientMessageId?: string }[] }) => ({
      batchId: 'b-1',
      acceptedCount: 1,
      rejectedCount: 1,
      messages: [
        { umid: 'u-1', clientMessageId: b.messages[0]!.clientMessageId, status: { code: 'QUEUED' } },
        {
          clientMessageId: b.messages[1]!.clientMessageId,
          status: { code: 'REJECTED', description: 'Invalid MSISDN' },
        },
      ],
    }));
    const results = await deliverAll(ids, t.deps);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(t.sms.batchCalls).toHaveLength(2);
    expect(t.sms.singleCalls).toHaveLength(0);
    expect(t.sms.batchCalls.map((b) => b.messages.map((m) => m.source))).toEqual([
      ['MyBank', 'MyBank'],
      ['Shop', 'Shop'],
    ]);
    expect(pacer.reservations).toHaveLength(2);
    const statuses = await Promise.all(ids.map(async (id) => (await t.store.get(id))?.status));
    expect(statuses).toEqual(['sent', 'sent', 'rejected', 'sent']);
    expect((await t.store.get(ids[0]!))?.umid).toBe('u-1');
  });

  test('no place in the bucket: no attempt starts, nothing is sent, each SMS goes back with the wait', async () => {
    const t = setup(new ScriptedPacer(true));
    const ids = [await t.accept({ text: 'a' }), await t.accept({ text: 'b' })];
    const results = await deliverAll(ids, t.deps);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as PacerBusyError;
      expect(reason).toBeInstanceOf(PacerBusyError);
      expect(reason.retryAfterMs).toBe(8_000);
    }
    expect(t.sms.batchCalls).toHaveLength(0);
    for (const id of ids) expect((await t.store.get(id))?.attempts).toBe(0);
  });
});
