/**
 * The 8x8 call pacer (functions/sms/pacer.ts): slot arithmetic, the learnt rate (AIMD), and reservations of several
 * instances against one shared bucket (an in-memory PacerStore with the DynamoDB adapter's conditions; the
 * adapter's own requests are checked with aws-sdk-client-mock).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { DynamoPacerStore } from '../../../functions/sms/dynamo-pacer-store';
import {
  DECREASE_FACTOR,
  DECREASE_HOLD_MS,
  EDGE_GUARD_MS,
  FLOOR_SHARE,
  MAX_LEAD_MS,
  OPEN_SLOTS_PER_SECOND,
  Pacer,
  SLOT_MS,
  SLOTS_PER_SECOND,
  callsInSecond,
  effectiveRate,
  loweredRate,
  placeTime,
  slotCapacity,
  slotOf,
  type LearntRate,
  type PacerStore,
} from '../../../functions/sms/pacer';
import { FakeClock } from './fakes';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
// Printed so a failing run can be replayed with FC_SEED=<seed>.
console.log(`pacer property tests: fast-check seed ${SEED}`);

/** The DynamoDB adapter's conditions, in memory: counts per slot, the rate written only past the hold. */
class InMemoryPacerStore implements PacerStore {
  readonly taken = new Map<number, number>();
  learnt: LearntRate | undefined;
  takes = 0;

  async take(slot: number, capacity: number): Promise<number | undefined> {
    this.takes++;
    const taken = this.taken.get(slot) ?? 0;
    if (taken >= capacity) return undefined;
    this.taken.set(slot, taken + 1);
    return taken + 1;
  }

  async readRate(): Promise<LearntRate | undefined> {
    return this.learnt;
  }

  async lowerRate(next: LearntRate, holdSinceMs: number): Promise<boolean> {
    if (this.learnt && this.learnt.at > holdSinceMs) return false;
    this.learnt = next;
    return true;
  }
}

describe('slot arithmetic', () => {
  const base = slotOf(Date.parse('2026-03-02T10:00:00.000Z'));
  const secondOf = (rate: number, first = base) =>
    Array.from({ length: SLOTS_PER_SECOND }, (_, i) => slotCapacity(first + i, rate));

  test('a second of slots holds the rate, spread over its open part; the edge guard holds nothing', () => {
    // 5/s: five of the seven open slots, one each; the last EDGE_GUARD_MS of the second stays empty.
    const caps = secondOf(5);
    expect(caps.reduce((a, b) => a + b, 0)).toBe(5);
    expect(Math.max(...caps)).toBe(1);
    expect(caps.slice(OPEN_SLOTS_PER_SECOND)).toEqual([0, 0, 0]);
    expect(OPEN_SLOTS_PER_SECOND * SLOT_MS).toBe(1000 - EDGE_GUARD_MS);
    // 10/s: 1-2 a slot over 700 ms; 1800/s (8x8's default): the second holds exactly 1800.
    expect(secondOf(10)).toEqual([1, 2, 1, 2, 1, 2, 1, 0, 0, 0]);
    expect(secondOf(1800).reduce((a, b) => a + b, 0)).toBe(1800);
    // One call a second sits in the middle of the open part.
    expect(secondOf(1)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Places within a slot are spread evenly over it.
    expect([1, 2, 3, 4].map((p) => placeTime(base, p, 4) - base * SLOT_MS)).toEqual([0, 25, 50, 75]);
  });

  test('property: whole seconds hold the rate × their number within one, none more than ⌈rate⌉, none in the guard', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 5000, noNaN: true }),
        fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
        fc.integer({ min: 1, max: 20 }),
        (rate, firstSecond, seconds) => {
          let sum = 0;
          for (let second = firstSecond; second < firstSecond + seconds; second++) {
            const caps = secondOf(rate, second * SLOTS_PER_SECOND);
            expect(caps.every((c) => c >= 0)).toBe(true);
            expect(caps.slice(OPEN_SLOTS_PER_SECOND).every((c) => c === 0)).toBe(true);
            const inSecond = caps.reduce((a, b) => a + b, 0);
            expect(inSecond).toBe(callsInSecond(second, rate));
            expect(inSecond).toBeLessThanOrEqual(Math.ceil(rate));
            sum += inSecond;
          }
          const exact = (Math.round(rate * 1000) * seconds) / 1000;
          expect(Math.abs(sum - exact)).toBeLessThan(1);
        },
      ),
      { seed: SEED },
    );
  });

  test('property: slot capacities only grow with the rate, so instances at different learnt rates never exceed the highest in a second', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.1, max: 2000, noNaN: true }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
        (rates, second) => {
          // Every slot holds at most what the highest rate gives it: the instances' places add up to no more.
          const together = Array.from({ length: SLOTS_PER_SECOND }, (_, i) =>
            Math.max(...rates.map((rate) => slotCapacity(second * SLOTS_PER_SECOND + i, rate))),
          ).reduce((a, b) => a + b, 0);
          expect(together).toBeLessThanOrEqual(Math.ceil(Math.max(...rates)));
        },
      ),
      { seed: SEED },
    );
  });

  test('property: a call up to EDGE_GUARD_MS late still reaches 8x8 in the second it was placed in', async () => {
    // The bench's failure mode: a call placed near a second's edge, leaving late, spent the next second's limit.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: EDGE_GUARD_MS - 1 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 999 }),
        async (rate, lateness, startOffset) => {
          const clock = new FakeClock();
          clock.advance(startOffset);
          const pacer = new Pacer(rate, new InMemoryPacerStore(), clock);
          const perSecond = new Map<number, number>();
          for (const late of lateness) {
            const now = clock.now().getTime();
            const at = await pacer.reserve(now, now + 120_000);
            if (at === undefined) throw new Error('no place within two minutes');
            const second = Math.floor((at + late) / 1000);
            expect(second).toBe(Math.floor(at / 1000));
            perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
          }
          expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(rate);
        },
      ),
      { seed: SEED },
    );
  });
});

describe('the learnt rate (AIMD)', () => {
  test('a 429 lowers the rate in force; it recovers linearly to the configured rate, never above', () => {
    const lowered = loweredRate(10, undefined, 1_000);
    expect(lowered).toEqual({ rate: 10 * DECREASE_FACTOR, at: 1_000 });
    expect(effectiveRate(10, lowered, 1_000)).toBe(8);
    expect(effectiveRate(10, lowered, 2_000)).toBeCloseTo(9);
    expect(effectiveRate(10, lowered, 60_000)).toBe(10);
  });

  test('repeated 429s never take the rate below its floor', () => {
    let learnt: LearntRate | undefined;
    for (let i = 0; i < 50; i++) learnt = loweredRate(10, learnt, 0);
    expect(learnt?.rate).toBe(10 * FLOOR_SHARE);
  });
});

describe('Pacer', () => {
  test('reservations take the next slots with room and are spread over the open part of the second', async () => {
    const clock = new FakeClock();
    const store = new InMemoryPacerStore();
    const pacer = new Pacer(4, store, clock);
    const now = clock.now().getTime();
    const times: number[] = [];
    for (let i = 0; i < 8; i++) times.push((await pacer.reserve(now, now + 5_000)) as number);
    // 4/s: four a second, at least a slot apart, none in the edge guard; two seconds' worth.
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.every((g) => g >= SLOT_MS)).toBe(true);
    expect(times.every((t) => t % 1000 < 1000 - EDGE_GUARD_MS)).toBe(true);
    expect(times[7]! - times[0]!).toBeLessThan(2_000);
  });

  test('nothing is reserved past `latestMs`; undefined then', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(1, new InMemoryPacerStore(), clock);
    const now = clock.now().getTime();
    const first = await pacer.reserve(now, now + 1_000);
    expect(first).toBeDefined();
    expect(await pacer.reserve(now, now + 500)).toBeUndefined();
  });

  test('instances sharing one bucket never put more calls in a slot than its capacity', async () => {
    const clock = new FakeClock();
    const store = new InMemoryPacerStore();
    const pacers = [0, 1, 2].map(() => new Pacer(30, store, clock));
    const now = clock.now().getTime();
    const times = await Promise.all(
      Array.from({ length: 60 }, (_, i) => pacers[i % 3]!.reserve(now, now + 10_000)),
    );
    expect(times.every((t) => t !== undefined)).toBe(true);
    for (const [slot, taken] of store.taken) expect(taken).toBeLessThanOrEqual(slotCapacity(slot, 30));
    // 60 calls at 30/s take two seconds of slots.
    const perSecond = new Map<number, number>();
    for (const t of times)
      perSecond.set(Math.floor(t! / 1000), (perSecond.get(Math.floor(t! / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(30);
  });

  test('a 429 lowers the shared rate once per hold, and every instance paces at it', async () => {
    const clock = new FakeClock();
    const store = new InMemoryPacerStore();
    const a = new Pacer(10, store, clock);
    const b = new Pacer(10, store, clock);
    await a.rateLimited();
    await b.rateLimited(); // the same used-up window: no second decrease
    expect(store.learnt?.rate).toBe(8);
    clock.advance(DECREASE_HOLD_MS);
    expect(await b.rate()).toBeCloseTo(9);
    await b.rateLimited();
    expect(store.learnt?.rate).toBeCloseTo(9 * DECREASE_FACTOR);
  });

  test('the preparation lead follows what preparing took, bounded', () => {
    const pacer = new Pacer(10, new InMemoryPacerStore(), new FakeClock());
    expect(pacer.leadMs()).toBe(0);
    for (let i = 0; i < 20; i++) pacer.preparationTook(200);
    expect(pacer.leadMs()).toBeGreaterThan(190);
    expect(pacer.leadMs()).toBeLessThanOrEqual(200);
    for (let i = 0; i < 20; i++) pacer.preparationTook(60_000);
    expect(pacer.leadMs()).toBe(MAX_LEAD_MS);
  });
});

describe('DynamoPacerStore', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const store = new DynamoPacerStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    'pacer-table',
    async () => 'SubAccount-1',
  );
  beforeEach(() => ddb.reset());

  test('take: one conditional ADD per slot of the sub-account, answering the place', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { taken: 3 } });
    expect(await store.take(42, 5, 1_700_000_000_000)).toBe(3);
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ id: 'slot#SubAccount-1#42' });
    expect(input.ConditionExpression).toBe('attribute_not_exists(#taken) OR #taken < :capacity');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':one': 1, ':capacity': 5 });
    expect(input.ReturnValues).toBe('UPDATED_NEW');
  });

  test('take: a full slot (failed condition) is undefined; other errors are thrown', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'full', $metadata: {} }))
      .rejectsOnce(new Error('throttled'));
    expect(await store.take(42, 5, 0)).toBeUndefined();
    await expect(store.take(42, 5, 0)).rejects.toThrow('throttled');
  });

  test('the learnt rate: read back, and lowered only past the hold', async () => {
    ddb.on(GetCommand).resolves({ Item: { id: 'rate#SubAccount-1', rate: 8, at: 1000 } });
    expect(await store.readRate()).toEqual({ rate: 8, at: 1000 });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'held', $metadata: {} }));
    expect(await store.lowerRate({ rate: 6.4, at: 1500 }, 500)).toBe(false);
    const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(#at) OR #at <= :holdSince');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':rate': 6.4, ':at': 1500, ':holdSince': 500 });
  });
});
