/** The Cognigy Endpoint simulator over real HTTP: inject/notify recording, validation, outages and controls. */
import { CognigySimulator } from '../../../lib/simulators/cognigy';

let sim: CognigySimulator;
let base: string;

beforeEach(async () => {
  sim = new CognigySimulator();
  base = await sim.start(0);
});
afterEach(() => sim.stop());

function push(
  mode: 'inject' | 'notify',
  body: unknown,
  init: { token?: string; signal?: AbortSignal; raw?: string } = {},
) {
  return fetch(`${base}/${mode}/${init.token ?? 'url-token-1'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: init.raw ?? JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

const agentText = { userId: 'u-1', sessionId: 's-1', text: "Hi, I'm Anna", data: {}, source: 'agent' };
const joined = {
  userId: 'u-1',
  sessionId: 's-1',
  text: '',
  data: { handoverEvent: { type: 'agentJoined' } },
};

describe('inject and notify', () => {
  it('answers 200 {} and records mode, URLToken, body and time', async () => {
    const res = await push('notify', agentText);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    await push('inject', joined, { token: 'other-token' });
    await push('inject', { ...joined, sessionId: 's-2' });

    expect(sim.calls.map((c) => [c.mode, c.urlToken, c.body.sessionId])).toEqual([
      ['notify', 'url-token-1', 's-1'],
      ['inject', 'other-token', 's-1'],
      ['inject', 'url-token-1', 's-2'],
    ]);
    expect(sim.calls[0]?.body).toEqual(agentText);
    expect(Date.parse(sim.calls[0]?.receivedAt ?? '')).not.toBeNaN();
    expect(sim.callsFor('s-1')).toHaveLength(2);
    expect(Object.keys(sim.sessions())).toEqual(['s-1', 's-2']);
  });

  it.each([
    ['without userId', { sessionId: 's-1', text: 'x' }, undefined],
    ['without sessionId', { userId: 'u-1', text: 'x' }, undefined],
    ['that is not JSON', undefined, '{"userId":'],
    ['that is a JSON array', [agentText], undefined],
  ])('refuses a body %s with 400 and records nothing', async (_name, body, raw) => {
    const res = await push('inject', body, raw === undefined ? {} : { raw });
    expect(res.status).toBe(400);
    expect(sim.calls).toHaveLength(0);
    expect(sim.stats().badRequests).toBe(1);
  });

  it('waitFor resolves when a matching call arrives, or with one already received', async () => {
    const waiting = sim.waitFor((c) => c.mode === 'notify' && c.body.sessionId === 's-9', 5_000);
    await push('inject', { ...joined, sessionId: 's-9' });
    await push('notify', { ...agentText, sessionId: 's-9' });
    await expect(waiting).resolves.toMatchObject({ mode: 'notify', body: { sessionId: 's-9' } });
    await expect(sim.waitFor((c) => c.mode === 'inject', 10)).resolves.toMatchObject({ mode: 'inject' });
  });

  it('waitFor rejects after its timeout', async () => {
    await expect(sim.waitFor(() => true, 20)).rejects.toThrow(/Timed out/);
  });

  it('waitForCount resolves once enough calls matched', async () => {
    const waiting = sim.waitForCount(3, (c) => c.body.sessionId === 's-1');
    for (let i = 0; i < 3; i += 1) await push('notify', { ...agentText, text: `m${i}` });
    const calls = await waiting;
    expect(calls.map((c) => c.body.text)).toEqual(['m0', 'm1', 'm2']);
  });
});

describe('outages', () => {
  it('refuses the given number of calls with the status and keeps them out of the delivered calls', async () => {
    sim.setOutage({ status: 503, count: 2 });
    expect((await push('notify', agentText)).status).toBe(503);
    expect((await push('notify', agentText)).status).toBe(503);
    expect((await push('notify', agentText)).status).toBe(200);
    expect(sim.calls).toHaveLength(1);
    expect(sim.rejected.map((r) => r.status)).toEqual([503, 503]);
    expect(sim.rejected[0]?.body).toEqual(agentText);
  });

  it('lasts until cleared when no count is given, and sends Retry-After on a 429', async () => {
    sim.setOutage({ status: 429, retryAfter: 3, count: 'untilCleared' });
    for (let i = 0; i < 3; i += 1) {
      const res = await push('inject', joined);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
    }
    sim.clearOutage();
    expect((await push('inject', joined)).status).toBe(200);
    expect(sim.stats()).toMatchObject({ delivered: 1, rejected: 3 });
  });

  it('holds the socket on a timeout outage until the client gives up', async () => {
    sim.setOutage({ kind: 'timeout', count: 1 });
    await expect(push('inject', joined, { signal: AbortSignal.timeout(150) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(sim.rejected).toEqual([expect.objectContaining({ status: 'timeout', mode: 'inject' })]);
    expect(sim.calls).toHaveLength(0);
    expect((await push('inject', joined)).status).toBe(200);
  });

  it('still answers with latency configured', async () => {
    sim.setLatency(20);
    expect((await push('notify', agentText)).status).toBe(200);
    expect(() => sim.setLatency(-1)).toThrow();
  });
});

describe('HTTP controls', () => {
  const post = (route: string, body: unknown) =>
    fetch(`${base}/__control/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = async (route: string) =>
    (await fetch(`${base}/__control/${route}`)).json() as Promise<Record<string, unknown>>;

  it('shows sessions, sets and clears an outage, and resets', async () => {
    await push('notify', agentText);
    await push('inject', { ...joined, sessionId: 's-2' });
    const sessions = (await get('sessions')).sessions as Record<string, unknown[]>;
    expect(Object.keys(sessions)).toEqual(['s-1', 's-2']);
    expect(await get('sessions/s-2')).toMatchObject({ sessionId: 's-2', calls: [{ mode: 'inject' }] });
    expect(await get('sessions/unknown')).toEqual({ sessionId: 'unknown', calls: [] });

    expect((await post('outage', { status: 500, count: 1 })).status).toBe(200);
    expect((await push('notify', agentText)).status).toBe(500);
    expect((await post('outage', { status: 503 })).status).toBe(200);
    expect((await post('outage', { clear: true })).status).toBe(200);
    expect((await push('notify', agentText)).status).toBe(200);
    expect(await get('stats')).toMatchObject({ delivered: 3, rejected: 1, sessions: 2 });

    expect((await post('reset', {})).status).toBe(200);
    expect(await get('stats')).toMatchObject({ delivered: 0, rejected: 0 });
  });

  it('counts repeats by bridgeEventId per session, with and without the bounded flow-side dedupe', async () => {
    const withId = (sessionId: string, bridgeEventId: string) => ({
      ...joined,
      sessionId,
      data: { bridgeEventId },
    });
    await push('inject', withId('s-1', 'a'));
    await push('inject', withId('s-1', 'a')); // a retry: dropped by the flow
    await push('inject', withId('s-2', 'a')); // another session: not a repeat
    for (let i = 0; i < 3; i += 1) await push('inject', withId('s-3', `fill-${i}`));
    await push('inject', withId('s-1', 'b'));
    await push('notify', agentText); // no id at all
    expect(await get('duplicates')).toEqual({
      duplicates: 1,
      duplicatesAfterFlowDedupe: 0,
      withoutBridgeEventId: 1,
      window: 50,
      repeated: [{ sessionId: 's-1', bridgeEventId: 'a', count: 2 }],
    });
    // A repeat that arrives after the flow's list has moved past its id gets through.
    for (let i = 0; i < 2; i += 1) await push('inject', withId('s-1', `later-${i}`));
    expect(sim.duplicates(2)).toMatchObject({ duplicates: 1, duplicatesAfterFlowDedupe: 0 });
    await push('inject', withId('s-1', 'a'));
    expect(sim.duplicates(2)).toMatchObject({ duplicates: 2, duplicatesAfterFlowDedupe: 1 });
    expect(await get('stats')).toMatchObject({
      duplicates: 2,
      duplicatesAfterFlowDedupe: 0,
      withoutBridgeEventId: 1,
    });
  });

  it('refuses invalid control bodies with 400', async () => {
    expect((await post('outage', { status: 200 })).status).toBe(400);
    expect((await post('latency', { ms: 'slow' })).status).toBe(400);
  });
});

describe('slow answers (chaos: Cognigy slower than the push timeout)', () => {
  it('records the push at once and answers late, so a client that gave up pushes again and a repeat is counted', async () => {
    sim.setSlowAnswers({ share: 1, ms: 2_000, random: () => 0 });
    const body = { ...agentText, data: { bridgeEventId: 'e-1' } };
    // The client's timeout is shorter than the answer's delay: it gives up although Cognigy has the push.
    await expect(push('notify', body, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(sim.calls).toHaveLength(1);
    sim.setSlowAnswers(undefined);
    expect((await push('notify', body)).status).toBe(200);
    expect(sim.slowAnswerCount).toBe(1);
    expect(sim.duplicates()).toMatchObject({ duplicates: 1, duplicatesAfterFlowDedupe: 0 });
  });

  it('slows only the drawn share of answers', async () => {
    const draws = [0.9, 0.1];
    sim.setSlowAnswers({ share: 0.5, ms: 50, random: () => draws.shift() ?? 1 });
    await push('notify', agentText);
    await push('notify', agentText);
    expect(sim.slowAnswerCount).toBe(1);
    expect(sim.calls).toHaveLength(2);
  });
});
