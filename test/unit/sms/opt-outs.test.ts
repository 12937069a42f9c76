/** GET/DELETE /sms/opt-outs/{number} (functions/sms/opt-outs.ts): number normalised, account-wide, lifts recorded. */
import '../../helpers/env';
import { SmsError } from '../../../functions/sms/error-codes';
import { deleteOptOut, getOptOut, type OptOutRouteDeps } from '../../../functions/sms/opt-outs';
import type { Telemetry } from '../../../functions/shared/runtime';
import { FakeClock } from './fakes';
import { InMemoryOptOutStore } from './fake-opt-out-store';

function setup() {
  const counts = new Map<string, number>();
  const logs: { message: string; fields: unknown }[] = [];
  const record = (message: string, fields?: unknown) => void logs.push({ message, fields });
  const telemetry: Telemetry = {
    log: { debug: record, info: record, warn: record, error: record } as unknown as Telemetry['log'],
    count: (metric, value = 1) => void counts.set(metric, (counts.get(metric) ?? 0) + value),
    milliseconds: () => undefined,
  };
  const store = new InMemoryOptOutStore();
  const deps: OptOutRouteDeps = { store, clock: new FakeClock(), telemetry };
  return { deps, store, counts, logs };
}

const NUMBER = '+6591234567';
const STOP = { optedOutAt: '2026-03-01T09:00:00.000Z', keyword: 'STOP' };

async function refusal(promise: Promise<unknown>): Promise<SmsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SmsError)) throw new Error(`expected an SmsError, got ${String(error)}`);
  return error;
}

describe('GET /sms/opt-outs/{number}', () => {
  test('a never-seen number is not opted out, with empty lists', async () => {
    const { deps } = setup();
    await expect(getOptOut(NUMBER, deps)).resolves.toEqual({
      statusCode: 200,
      body: { ok: true, number: NUMBER, optedOut: false, senders: [], history: [] },
    });
  });

  test('an opted-out number answers its senders and history; the number may come without + or with separators', async () => {
    const { deps, store } = setup();
    await store.optOut(NUMBER, { sender: '+6580000001', ...STOP, umid: 'u-1' });
    for (const raw of [NUMBER, '6591234567', '+65 9123-4567']) {
      const { body } = await getOptOut(raw, deps);
      expect(body).toEqual({
        ok: true,
        number: NUMBER,
        optedOut: true,
        senders: [{ sender: '+6580000001', ...STOP, umid: 'u-1' }],
        history: [{ action: 'optOut', sender: '+6580000001', at: STOP.optedOutAt, via: 'STOP', umid: 'u-1' }],
      });
    }
  });

  test('every lift leaves the history but no sender: optedOut false', async () => {
    const { deps, store } = setup();
    await store.optOut(NUMBER, { sender: 'ACME', ...STOP });
    await store.optIn(NUMBER, undefined, '2026-03-02T09:00:00.000Z', 'START');
    const { body } = await getOptOut(NUMBER, deps);
    expect(body).toMatchObject({ optedOut: false, senders: [] });
    expect(body.history).toHaveLength(2);
  });

  test.each(['', '+0123456789', '12345', 'abc', '+1234567890123456'])(
    'a number that is not E.164 (%j) is 400 INVALID_DESTINATION and reads nothing',
    async (raw) => {
      const { deps, store } = setup();
      const error = await refusal(getOptOut(raw, deps));
      expect([error.code, error.statusCode]).toEqual(['INVALID_DESTINATION', 400]);
      expect(store.gets).toBe(0);
    },
  );
});

describe('DELETE /sms/opt-outs/{number}', () => {
  test('lifts every sender, records the API key, counts and logs the number masked', async () => {
    const { deps, store, counts, logs } = setup();
    await store.optOut(NUMBER, { sender: '+6580000001', ...STOP });
    await store.optOut(NUMBER, { sender: 'ACME', ...STOP });
    const response = await deleteOptOut('6591234567', {}, deps, { callerId: 'key-42' });
    expect(response).toEqual({
      statusCode: 200,
      body: { ok: true, number: NUMBER, lifted: ['+6580000001', 'ACME'], optedOut: false },
    });
    const history = store.records.get(NUMBER)?.history ?? [];
    expect(history.slice(-2)).toEqual([
      { action: 'optIn', sender: '+6580000001', at: deps.clock.now().toISOString(), via: 'api:key-42' },
      { action: 'optIn', sender: 'ACME', at: deps.clock.now().toISOString(), via: 'api:key-42' },
    ]);
    expect(counts.get('SmsOptOutLifted')).toBe(2);
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain('91234567');
    expect(logged).toContain('+65******67');
  });

  test('?sender= lifts that sender only (compared without + and case) and tells what remains', async () => {
    const { deps, store } = setup();
    await store.optOut(NUMBER, { sender: '+6580000001', ...STOP });
    await store.optOut(NUMBER, { sender: 'ACME', ...STOP });
    const { body } = await deleteOptOut(NUMBER, { sender: 'acme' }, deps, { callerId: 'key-1' });
    expect(body).toEqual({ ok: true, number: NUMBER, lifted: ['ACME'], optedOut: true });
    const last = await deleteOptOut(NUMBER, { sender: '6580000001' }, deps, { callerId: 'key-1' });
    expect(last.body).toEqual({ ok: true, number: NUMBER, lifted: ['+6580000001'], optedOut: false });
  });

  test('any API key may lift (opt-outs are per account), and nothing to lift is 200 with lifted []', async () => {
    const { deps, store, counts } = setup();
    await expect(deleteOptOut(NUMBER, {}, deps, { callerId: 'key-1' })).resolves.toEqual({
      statusCode: 200,
      body: { ok: true, number: NUMBER, lifted: [], optedOut: false },
    });
    expect(store.records.has(NUMBER)).toBe(false);
    expect(counts.has('SmsOptOutLifted')).toBe(false);
    await store.optOut(NUMBER, { sender: 'ACME', ...STOP });
    const other = await deleteOptOut(NUMBER, { sender: 'OTHER' }, deps, { callerId: 'key-2' });
    expect(other.body).toEqual({ ok: true, number: NUMBER, lifted: [], optedOut: true });
  });

  test('a bad number or sender is a 400 with a stable code, and nothing is lifted', async () => {
    const { deps, store } = setup();
    await store.optOut(NUMBER, { sender: 'ACME', ...STOP });
    const badNumber = await refusal(deleteOptOut('+0065', {}, deps));
    expect([badNumber.code, badNumber.statusCode]).toEqual(['INVALID_DESTINATION', 400]);
    for (const sender of ['', 'THIS-IS-TOO-LONG-A-SENDER', '+65-8000']) {
      const badSender = await refusal(deleteOptOut(NUMBER, { sender }, deps));
      expect([badSender.code, badSender.statusCode]).toEqual(['INVALID_SOURCE', 400]);
      expect(badSender.message).toMatch(/^sender/);
    }
    expect(store.records.get(NUMBER)?.senders).toHaveLength(1);
  });

  test('without an API key id the lift is recorded as via "api"', async () => {
    const { deps, store } = setup();
    await store.optOut(NUMBER, { sender: 'ACME', ...STOP });
    await deleteOptOut(NUMBER, {}, deps);
    expect(store.records.get(NUMBER)?.history.at(-1)?.via).toBe('api');
  });
});
