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

describe('REST Endpoint', () => {
  const rest = (body: unknown, token = 'sms-bot-token', raw?: string) =>
    fetch(`${base}/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ?? JSON.stringify(body),
    });
  const restJson = async (body: unknown, token?: string) => {
    const res = await rest(body, token);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const input = (text: string, sessionId = 'sms-s-1') => ({
    userId: '+6591234567',
    sessionId,
    text,
    data: { sms: { inbound: { umid: 'u-1' } } },
  });

  it("is an echo bot by default, answering in Cognigy's REST shape with a turn counter per session", async () => {
    const first = await restJson(input('hello'));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      text: 'You said: hello (turn 1)',
      data: { echo: { turn: 1 } },
      outputStack: [
        {
          text: 'You said: hello (turn 1)',
          data: { echo: { turn: 1 } },
          traceId: expect.stringMatching(/^endpoint-httpIncomingMessage-/),
          disableSensitiveLogging: false,
          source: 'bot',
        },
      ],
      userId: '+6591234567',
      sessionId: 'sms-s-1',
    });
    expect((await restJson(input('again'))).body.text).toBe('You said: again (turn 2)');
    expect((await restJson(input('new session', 'sms-s-2'))).body.text).toBe('You said: new session (turn 1)');
    expect((await restJson({ userId: 'u', sessionId: 's', data: { only: 'data' } })).body.text).toBe(
      'You sent data (turn 1)',
    );

    expect(sim.restCalls.map((c) => [c.urlToken, c.body.sessionId, c.turn])).toEqual([
      ['sms-bot-token', 'sms-s-1', 1],
      ['sms-bot-token', 'sms-s-1', 2],
      ['sms-bot-token', 'sms-s-2', 1],
      ['sms-bot-token', 's', 1],
    ]);
    expect(sim.restCalls[0]?.body).toEqual(input('hello'));
    // REST calls are not pushes: inject/notify records stay empty.
    expect(sim.calls).toHaveLength(0);
    expect(sim.stats()).toMatchObject({ rest: 4, delivered: 0 });
  });

  it('answers scripted outputs per URLToken and turn, joined into text and data, then echoes or repeats', async () => {
    sim.setRestScript('scripted', [
      [{ text: 'Hi, I am the bot.' }, { text: 'What is your order number?', data: { step: 'ask' } }],
      [{ data: { quickReplies: ['Yes', 'No'] } }, { text: 'Shall I cancel it?' }],
    ]);
    const one = await restJson(input('hi'), 'scripted');
    expect(one.body).toMatchObject({
      text: 'Hi, I am the bot. What is your order number?',
      data: { step: 'ask' },
      outputStack: [
        { text: 'Hi, I am the bot.', data: {} },
        { text: 'What is your order number?', data: { step: 'ask' } },
      ],
    });
    const two = await restJson(input('1234'), 'scripted');
    expect(two.body).toMatchObject({ text: 'Shall I cancel it?', data: { quickReplies: ['Yes', 'No'] } });
    expect((await restJson(input('yes'), 'scripted')).body.text).toBe('You said: yes (turn 3)');
    // Other tokens keep the echo bot.
    expect((await restJson(input('hello'))).body.text).toBe('You said: hello (turn 1)');

    sim.setRestScript('scripted', [[{ text: 'Only this' }]], { then: 'repeatLast' });
    expect((await restJson(input('a'), 'scripted')).body.text).toBe('Only this');
    expect((await restJson(input('b'), 'scripted')).body.text).toBe('Only this');
    sim.clearRestScript('scripted');
    expect((await restJson(input('c'), 'scripted')).body.text).toBe('You said: c (turn 1)');
    expect(() => sim.setRestScript('x', [])).toThrow();
  });

  it('waitForRestCall resolves with a call already answered or still to come', async () => {
    const waiting = sim.waitForRestCall((c) => c.body.text === 'later');
    await rest(input('first'));
    await rest(input('later'));
    await expect(waiting).resolves.toMatchObject({ turn: 2, answer: { text: 'You said: later (turn 2)' } });
    await expect(sim.waitForRestCall((c) => c.turn === 1, 10)).resolves.toMatchObject({ body: { text: 'first' } });
    await expect(sim.waitForRestCall((c) => c.turn === 9, 20)).rejects.toThrow(/Timed out/);
  });

  it.each([
    ['without userId', { sessionId: 's', text: 'x' }, undefined],
    ['without text and data', { userId: 'u', sessionId: 's' }, undefined],
    ['that is not JSON', undefined, '{"userId":'],
  ])('refuses a body %s with 400 and records nothing', async (_name, body, raw) => {
    const res = await rest(body, 'sms-bot-token', raw);
    expect(res.status).toBe(400);
    expect(sim.restCalls).toHaveLength(0);
  });

  it('does not take the push routes or the controls', async () => {
    expect((await push('inject', joined)).status).toBe(200);
    expect((await rest(input('x'), 'inject')).status).toBe(404);
    expect((await rest(input('x'), '__control')).status).toBe(404);
    expect(sim.restCalls).toHaveLength(0);
    expect(sim.calls).toHaveLength(1);
  });

  it('is refused by an outage (all routes by default, or only the REST Endpoint), and recovers', async () => {
    sim.setOutage({ status: 503, count: 2 });
    expect((await rest(input('down'))).status).toBe(503);
    expect((await push('inject', joined)).status).toBe(503);
    expect((await rest(input('up'))).status).toBe(200);

    sim.setOutage({ status: 503, routes: ['rest'] });
    expect((await push('inject', joined)).status).toBe(200);
    expect((await rest(input('down again'))).status).toBe(503);
    sim.clearOutage();
    const res = await restJson(input('back'));
    // Refused calls were no turns of the session.
    expect(res.body.text).toBe('You said: back (turn 2)');
    expect(sim.rejected.map((r) => [r.mode, r.status])).toEqual([
      ['rest', 503],
      ['inject', 503],
      ['rest', 503],
    ]);

    sim.setOutage({ kind: 'timeout', count: 1, routes: ['rest'] });
    await expect(
      fetch(`${base}/sms-bot-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input('held')),
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sim.rejected[sim.rejected.length - 1]).toMatchObject({ mode: 'rest', status: 'timeout' });
  });

  it('is scripted and read over HTTP, and reset clears scripts and calls', async () => {
    const control = (method: string, route: string, body?: unknown) =>
      fetch(`${base}/__control/${route}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const set = await control('POST', 'rest-scripts/web-token', {
      turns: [[{ text: 'Scripted over HTTP' }]],
      then: 'repeatLast',
    });
    expect(set.status).toBe(200);
    expect((await restJson(input('x'), 'web-token')).body.text).toBe('Scripted over HTTP');
    expect(await (await control('GET', 'rest-scripts')).json()).toEqual({
      scripts: { 'web-token': { turns: [[{ text: 'Scripted over HTTP' }]], then: 'repeatLast' } },
    });
    expect(await (await control('GET', 'rest-calls')).json()).toMatchObject({
      count: 1,
      restCalls: [{ urlToken: 'web-token', answer: { text: 'Scripted over HTTP' } }],
    });
    expect((await control('POST', 'rest-scripts/web-token', { turns: [] })).status).toBe(400);
    expect((await control('POST', 'outage', { status: 503, routes: ['rest'] })).status).toBe(200);
    expect((await rest(input('x'), 'web-token')).status).toBe(503);
    expect((await control('POST', 'outage', { clear: true })).status).toBe(200);
    expect((await control('DELETE', 'rest-scripts/web-token')).status).toBe(200);
    expect((await restJson(input('y'), 'web-token')).body.text).toBe('You said: y (turn 1)');

    expect((await control('POST', 'reset', {})).status).toBe(200);
    expect(sim.restCalls).toHaveLength(0);
    expect(sim.stats().rest).toBe(0);
  });
});
