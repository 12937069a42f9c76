import '../../helpers/env';
import fc from 'fast-check';
import { UpstreamError } from '../../../functions/shared/errors';
import { logger } from '../../../functions/shared/powertools';
import { ChatGatewayError } from '../../../functions/handover/chat-gateway-client';
import { HandoverValidationError } from '../../../functions/handover/error-codes';
import { normaliseStartRequest, toEightByEightLanguage } from '../../../functions/handover/schema';
import {
  buildCreateConversationRequest,
  copilotLink,
  START_WAIT_POLL_MS,
  startHandoverApi,
  type StartDeps,
} from '../../../functions/handover/start';
import { sessionClaimKey } from '../../../functions/handover/record';
import {
  apiRequest,
  conversationRecord,
  FakeChatGateway,
  FakeClock,
  MemorySessionClaims,
  MemoryStore,
  sequentialIds,
} from './fakes';

beforeAll(() => logger.setLogLevel('SILENT'));

const cognigy = { userId: 'user-1', sessionId: 'session-1', URLToken: 'tok-123' };
const minimal = { cognigy, channelId: 'ch-1' };

function validationIssues(body: unknown) {
  try {
    normaliseStartRequest(body);
  } catch (error) {
    if (error instanceof HandoverValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a validation error');
}

function build(body: unknown, copilotBaseUrl?: string) {
  return buildCreateConversationRequest(
    normaliseStartRequest(body),
    copilotBaseUrl ? { copilotBaseUrl } : {},
  );
}

describe('POST /handover body → 8x8 create-conversation request', () => {
  it('sends the channel and the default language for a minimal body', () => {
    const { request, trimmed } = build(minimal);
    expect(request).toEqual({ channelId: 'ch-1', user: { language: 'en' } });
    expect(trimmed).toEqual({ history: 0, properties: 0, truncatedValues: 0 });
  });

  it('maps queueId to a queue assignment and scriptId to a script assignment; ids may be numbers', () => {
    expect(build({ ...minimal, queueId: 101 }).request.assignment).toEqual({ type: 'queue', id: '101' });
    expect(build({ ...minimal, scriptId: 's-7' }).request.assignment).toEqual({ type: 'script', id: 's-7' });
    expect(build({ ...minimal, queueId: '' }).request.assignment).toBeUndefined();
    expect(validationIssues({ ...minimal, queueId: '1', scriptId: '2' })[0]?.code).toBe('INVALID_ASSIGNMENT');
  });

  it("maps the customer's details to 8x8's user fields", () => {
    const { request } = build({
      ...minimal,
      customer: {
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        phone: '+44 20 7946 0000',
        language: 'de-DE',
        company: 'Analytical Engines',
        caseId: 'CASE-42',
        customerId: 'crm-9',
      },
    });
    expect(request.user).toEqual({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      language: 'de',
      company: 'Analytical Engines',
      caseId: 'CASE-42',
      userId: 'crm-9',
    });
  });

  it('treats "" and null as not given, as Cognigy renders unset values', () => {
    const { request } = build({
      ...minimal,
      customer: { name: '', email: null, language: '', phone: '   ' },
      properties: null,
      transcript: null,
    });
    expect(request).toEqual({ channelId: 'ch-1', user: { language: 'en' } });
  });

  it('treats transcript: "" and properties: "" (an empty Cognigy token) as none', () => {
    const { request, trimmed } = build({ ...minimal, transcript: '', properties: '' });
    expect(request).toEqual({ channelId: 'ch-1', user: { language: 'en' } });
    expect(trimmed.history).toBe(0);
    expect(validationIssues({ ...minimal, transcript: 'some text' })[0]).toMatchObject({ path: 'transcript' });
  });

  it.each([
    ['en', 'en'],
    ['EN-us', 'en'],
    ['de_DE', 'de'],
    ['zh', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['zh-Hant', 'zh-TW'],
    ['zh-HK', 'zh-TW'],
    ['nb-NO', 'no'],
    ['pt-BR', 'pt'],
    ['xx', undefined],
    ['hu', undefined],
  ])('language %s → %s', (tag, expected) => {
    expect(toEightByEightLanguage(tag)).toBe(expected);
  });

  it('refuses a language 8x8 cannot route with INVALID_LANGUAGE', () => {
    const issues = validationIssues({ ...minimal, customer: { language: 'hu-HU' } });
    expect(issues).toEqual([
      expect.objectContaining({ path: 'customer.language', code: 'INVALID_LANGUAGE' }),
    ]);
  });

  it.each([
    [{ ...minimal, extra: 1 }, 'extra', 'UNKNOWN_FIELD'],
    [{ ...minimal, customer: { nickname: 'x' } }, 'customer.nickname', 'UNKNOWN_FIELD'],
    [{ channelId: 'c', cognigy: { userId: 'u', sessionId: 's' } }, 'cognigy.URLToken', 'MISSING_FIELD'],
    [{ cognigy }, 'channelId', 'MISSING_FIELD'],
    [{ ...minimal, cognigy: { ...cognigy, sessionId: '' } }, 'cognigy.sessionId', 'MISSING_FIELD'],
    [{ ...minimal, channelId: true }, 'channelId', 'INVALID_TYPE'],
    [{ ...minimal, customer: { email: 'not-an-address' } }, 'customer.email', 'INVALID_EMAIL'],
    [
      { ...minimal, cognigy: { ...cognigy, endpointBaseUrl: 'ftp://x.example' } },
      'cognigy.endpointBaseUrl',
      'INVALID_URL',
    ],
    [
      // The relay would post agent messages to the cloud metadata service (SSRF).
      { ...minimal, cognigy: { ...cognigy, endpointBaseUrl: 'https://169.254.169.254/latest' } },
      'cognigy.endpointBaseUrl',
      'INVALID_URL',
    ],
    [
      { ...minimal, cognigy: { ...cognigy, endpointBaseUrl: 'http://endpoint.example.com' } },
      'cognigy.endpointBaseUrl',
      'INVALID_URL',
    ],
    [{ ...minimal, customer: { name: 'x'.repeat(256) } }, 'customer.name', 'FIELD_TOO_LONG'],
    [{ ...minimal, properties: 'a=b' }, 'properties', 'INVALID_PROPERTY'],
    [{ ...minimal, properties: [{ key: '', value: 'x' }] }, 'properties[0]', 'INVALID_PROPERTY'],
    [{ ...minimal, transcript: [{ text: 'hello' }] }, 'transcript[0]', 'INVALID_TRANSCRIPT'],
    [
      { ...minimal, transcript: [{ source: 'robot', text: 'hello' }] },
      'transcript[0].source',
      'INVALID_TRANSCRIPT',
    ],
    ['just text', '', 'INVALID_BODY'],
    [undefined, '', 'INVALID_BODY'],
  ])('refuses %j at %s with %s', (body, path, code) => {
    expect(validationIssues(body)).toContainEqual(expect.objectContaining({ path, code }));
  });

  it('lists every problem, not just the first', () => {
    const issues = validationIssues({ cognigy: { userId: 'u' }, channelId: 'c', bogus: 1 });
    expect(issues.map((i) => `${i.code}:${i.path}`).sort()).toEqual(
      ['MISSING_FIELD:cognigy.URLToken', 'MISSING_FIELD:cognigy.sessionId', 'UNKNOWN_FIELD:bogus'].sort(),
    );
  });

  it('turns an object map of properties into additionalProperties in the given order, values as text', () => {
    const { request } = build({
      ...minimal,
      properties: { Intent: 'balance', Authenticated: true, Score: 0.93, Skipped: null, Order: { id: 7 } },
    });
    expect(request.user.additionalProperties).toEqual([
      { key: 'Intent', value: 'balance' },
      { key: 'Authenticated', value: 'true' },
      { key: 'Score', value: '0.93' },
      { key: 'Order', value: '{"id":7}' },
    ]);
  });

  it('accepts the list form of properties as 8x8 has it', () => {
    const { request } = build({
      ...minimal,
      properties: [
        { key: 'A', value: '1' },
        { key: 'B', value: 2 },
      ],
    });
    expect(request.user.additionalProperties).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: '2' },
    ]);
  });

  it('gives the agent the Agent Copilot link first when a Copilot base URL is configured', () => {
    const body = {
      cognigy: { userId: 'user 1', sessionId: 'sess&ion=1', URLToken: 'tok/123' },
      channelId: 'ch-1',
      properties: { Intent: 'balance' },
    };
    const { request } = build(body, 'https://ai-copilot-trial.cognigy.ai/');
    expect(request.user.additionalProperties).toEqual([
      {
        key: 'Cognigy Copilot',
        value:
          'https://ai-copilot-trial.cognigy.ai/?userId=user%201&sessionId=sess%26ion%3D1&URLToken=tok%2F123',
      },
      { key: 'Intent', value: 'balance' },
    ]);
    expect(copilotLink('https://c.example', { userId: 'u', sessionId: 's', urlToken: 't' })).toBe(
      'https://c.example/?userId=u&sessionId=s&URLToken=t',
    );
  });

  it('keeps 30 properties: reserved first, then custom ones in order; says how many were left out', () => {
    const properties = Array.from({ length: 35 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const withCopilot = build({ ...minimal, properties }, 'https://copilot.example');
    expect(withCopilot.request.user.additionalProperties).toHaveLength(30);
    expect(withCopilot.request.user.additionalProperties?.[0]?.key).toBe('Cognigy Copilot');
    expect(withCopilot.request.user.additionalProperties?.slice(1).map((p) => p.key)).toEqual(
      properties.slice(0, 29).map((p) => p.key),
    );
    expect(withCopilot.trimmed.properties).toBe(6);

    const without = build({ ...minimal, properties });
    expect(without.request.user.additionalProperties?.map((p) => p.key)).toEqual(
      properties.slice(0, 30).map((p) => p.key),
    );
    expect(without.trimmed.properties).toBe(5);
  });

  it('leaves out a custom property that uses the reserved Copilot key', () => {
    const { request, trimmed } = build(
      { ...minimal, properties: { 'Cognigy Copilot': 'fake', X: '1' } },
      'https://c.example',
    );
    expect(request.user.additionalProperties?.map((p) => p.value)).toEqual([
      'https://c.example/?userId=user-1&sessionId=session-1&URLToken=tok-123',
      '1',
    ]);
    expect(trimmed.properties).toBe(1);
  });

  it('cuts values to 1000 characters with a visible ellipsis and counts them', () => {
    const { request, trimmed } = build({ ...minimal, properties: { Long: '😀'.repeat(1500), Short: 'ok' } });
    const long = request.user.additionalProperties?.[0]?.value ?? '';
    expect(Array.from(long)).toHaveLength(1000);
    expect(long.endsWith('😀…')).toBe(true);
    expect(request.user.additionalProperties?.[1]?.value).toBe('ok');
    expect(trimmed.truncatedValues).toBe(1);
  });

  it('maps Cognigy and 8x8 transcript shapes to 8x8 history, skipping entries without text', () => {
    const { request } = build({
      ...minimal,
      transcript: [
        { source: 'user', text: 'Hi', timestamp: '2026-01-01' },
        { source: 'bot', text: 'Hello, how can I help?', data: { x: 1 } },
        { source: 'bot', text: '', data: { _quickReplies: [] } },
        { authorType: 'user', text: 'My balance please' },
        { role: 'assistant', type: 'output', payload: { text: 'It is 12.34' } },
        { source: 'agent', text: 'Earlier agent reply' },
      ],
    });
    expect(request.history).toEqual({
      messages: [
        { authorType: 'user', text: 'Hi' },
        { authorType: 'bot', text: 'Hello, how can I help?' },
        { authorType: 'user', text: 'My balance please' },
        { authorType: 'bot', text: 'It is 12.34' },
        { authorType: 'bot', text: 'Earlier agent reply' },
      ],
    });
  });

  it('keeps the most recent 200 history messages and says how many older ones were left out', () => {
    const transcript = Array.from({ length: 250 }, (_, i) => ({
      source: i % 2 ? 'bot' : 'user',
      text: `m${i}`,
    }));
    const { request, trimmed } = build({ ...minimal, transcript });
    expect(request.history?.messages).toHaveLength(200);
    expect(request.history?.messages[0]?.text).toBe('m50');
    expect(request.history?.messages[199]?.text).toBe('m249');
    expect(trimmed.history).toBe(50);
  });

  it('always fits 8x8 limits and reports exactly what was left out (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            source: fc.constantFrom('user', 'bot', 'agent'),
            text: fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
          }),
          {
            maxLength: 400,
          },
        ),
        fc.uniqueArray(
          fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s !== ''),
          { maxLength: 60 },
        ),
        fc.boolean(),
        (transcript, keys, copilot) => {
          const properties = keys.map((key) => ({ key, value: key }));
          const { request, trimmed } = build(
            { ...minimal, transcript, properties },
            copilot ? 'https://c.example' : undefined,
          );
          const messages = request.history?.messages ?? [];
          expect(messages.length).toBe(Math.min(200, transcript.length));
          expect(messages.map((m) => m.text)).toEqual(transcript.slice(-200).map((t) => t.text));
          expect(trimmed.history).toBe(transcript.length - messages.length);
          const sent = request.user.additionalProperties ?? [];
          expect(sent.length).toBeLessThanOrEqual(30);
          const custom = sent.filter((p) => p.key !== 'Cognigy Copilot' || !copilot);
          const customGiven = properties.filter((p) => !(copilot && p.key === 'Cognigy Copilot'));
          expect(custom.map((p) => p.key)).toEqual(customGiven.slice(0, custom.length).map((p) => p.key));
          expect(trimmed.properties).toBe(properties.length - custom.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('startHandoverApi', () => {
  function setup(overrides: Partial<StartDeps> = {}) {
    const store = new MemoryStore();
    const chatGateway = new FakeChatGateway();
    chatGateway.nextId = 'vXg39aMTRlq4xCBFaUCTlA';
    const clock = new FakeClock();
    const sleeps: number[] = [];
    const sessions = new MemorySessionClaims();
    const deps: StartDeps = {
      store,
      sessions,
      chatGateway,
      clock,
      ids: sequentialIds('claim'),
      startWaitMs: 5000,
      cognigyConfig: async () => ({ endpointBaseUrl: 'https://endpoint-app.cognigy.ai' }),
      upstreamTimeoutMs: 8000,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
      ...overrides,
    };
    return { store, sessions, chatGateway, clock, deps, sleeps };
  }

  const start = (deps: StartDeps, body: unknown) => startHandoverApi(apiRequest({ body }), deps);

  it('creates the conversation, records the mapping and answers queue', async () => {
    const { store, chatGateway, deps } = setup();
    const body = {
      cognigy: { ...cognigy, endpointBaseUrl: 'https://endpoint-trial.cognigy.ai/' },
      channelId: 'ch-1',
      queueId: '101',
    };
    const response = await start(deps, body);
    expect(response).toEqual({
      statusCode: 201,
      body: { ok: true, conversationId: 'vXg39aMTRlq4xCBFaUCTlA', handover: { status: 'queue' } },
    });
    expect(chatGateway.calls).toHaveLength(1);
    expect(chatGateway.calls[0]).toMatchObject({ op: 'createConversation', options: { timeoutMs: 5000 } });
    expect(await store.get('vXg39aMTRlq4xCBFaUCTlA')).toEqual({
      conversationId: 'vXg39aMTRlq4xCBFaUCTlA',
      sessionId: 'session-1',
      userId: 'user-1',
      urlToken: 'tok-123',
      endpointBaseUrl: 'https://endpoint-trial.cognigy.ai',
      channelId: 'ch-1',
      queueId: '101',
      status: 'queue',
      createdAt: '2026-03-01T12:00:00.000Z',
      relayedEventIds: [],
      deliveredItemIds: [],
      version: 0,
      expiresAt: 0,
    });
  });

  it('says what was trimmed', async () => {
    const { deps } = setup();
    const transcript = Array.from({ length: 201 }, (_, i) => ({ source: 'user', text: `m${i}` }));
    const response = await start(deps, { ...minimal, transcript });
    expect(response.body.trimmed).toEqual({ history: 1, properties: 0, truncatedValues: 0 });
  });

  it('passes the Copilot link from the cognigy secret to the agent', async () => {
    const { chatGateway, deps } = setup({
      cognigyConfig: async () => ({
        endpointBaseUrl: 'https://e.example',
        copilotBaseUrl: 'https://copilot.example',
      }),
    });
    await start(deps, minimal);
    const call = chatGateway.calls[0];
    expect(call?.op === 'createConversation' && call.request.user.additionalProperties).toEqual([
      {
        key: 'Cognigy Copilot',
        value: 'https://copilot.example/?userId=user-1&sessionId=session-1&URLToken=tok-123',
      },
    ]);
  });

  it('refuses to start without any Cognigy Endpoint base URL, before calling 8x8', async () => {
    const { chatGateway, deps } = setup({ cognigyConfig: async () => ({}) });
    const response = await start(deps, minimal);
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatchObject({
      ok: false,
      error: { code: 'ENDPOINT_BASE_URL_REQUIRED' },
      handover: { status: 'error' },
    });
    expect(chatGateway.calls).toHaveLength(0);
  });

  it('answers a validation failure with a 400, a stable code and handover status error', async () => {
    const { chatGateway, deps } = setup();
    const response = await start(deps, { ...minimal, unexpected: true });
    expect(response).toEqual({
      statusCode: 400,
      body: {
        ok: false,
        error: {
          code: 'UNKNOWN_FIELD',
          message: 'Unknown field unexpected',
          details: [{ path: 'unexpected', code: 'UNKNOWN_FIELD', message: 'Unknown field unexpected' }],
        },
        handover: { status: 'error' },
      },
    });
    expect(chatGateway.calls).toHaveLength(0);
  });

  it('retries once, quickly, on a 5xx', async () => {
    const { chatGateway, deps, sleeps } = setup();
    chatGateway.failures.push(new UpstreamError('8x8-chat-gateway', 'transient', '500', 500));
    const response = await start(deps, minimal);
    expect(response.statusCode).toBe(201);
    expect(chatGateway.calls).toHaveLength(2);
    expect(sleeps).toEqual([200]);
  });

  it('gives up after the one retry with 503 UPSTREAM_UNAVAILABLE and records nothing', async () => {
    const { store, chatGateway, deps } = setup();
    chatGateway.failures.push(
      new UpstreamError('8x8-chat-gateway', 'transient', '502', 502),
      new UpstreamError('8x8-chat-gateway', 'transient', '503', 503),
    );
    const response = await start(deps, minimal);
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatchObject({
      error: { code: 'UPSTREAM_UNAVAILABLE' },
      handover: { status: 'error' },
    });
    expect(chatGateway.calls).toHaveLength(2);
    expect(store.records.size).toBe(0);
  });

  it('never retries a timeout: 8x8 may have created the conversation, and a retry could make a second', async () => {
    const { store, chatGateway, clock, deps } = setup();
    chatGateway.onCall = () => clock.advance(5000);
    chatGateway.failures.push(
      new UpstreamError('8x8-chat-gateway', 'transient', 'timeout', undefined, 'TIMEOUT'),
    );
    const response = await start(deps, minimal);
    expect(chatGateway.calls).toHaveLength(1);
    expect(response.statusCode).toBe(504);
    expect(response.body).toMatchObject({
      error: { code: 'UPSTREAM_TIMEOUT' },
      handover: { status: 'error' },
    });
    expect(store.records.size).toBe(0);
  });

  it('retries a refused connection (nothing was sent) within what is left of the budget', async () => {
    const { chatGateway, clock, deps } = setup();
    chatGateway.onCall = () => clock.advance(5000);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    chatGateway.failures.push(
      new UpstreamError('8x8-chat-gateway', 'transient', 'unreachable', undefined, 'NETWORK', undefined, {
        cause: refused,
      }),
    );
    const response = await start(deps, minimal);
    expect(chatGateway.calls).toHaveLength(2);
    // 5000 ms spent + 200 ms pause leaves 1300 ms of the 6500 ms budget for the one retry.
    expect(chatGateway.calls[1]).toMatchObject({ options: { timeoutMs: 1300 } });
    expect(response.statusCode).toBe(201);
  });

  it('does not retry a connection lost after sending', async () => {
    const { chatGateway, deps } = setup();
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    chatGateway.failures.push(
      new UpstreamError('8x8-chat-gateway', 'transient', 'reset', undefined, 'NETWORK', undefined, {
        cause: reset,
      }),
    );
    const response = await start(deps, minimal);
    expect(chatGateway.calls).toHaveLength(1);
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatchObject({ error: { code: 'UPSTREAM_UNAVAILABLE' } });
  });

  it('does not retry a 429 and tells the flow when to try again', async () => {
    const { chatGateway, deps } = setup();
    chatGateway.failures.push(
      new UpstreamError('8x8-chat-gateway', 'rateLimited', '429', 429, undefined, 3000),
    );
    const response = await start(deps, minimal);
    expect(chatGateway.calls).toHaveLength(1);
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatchObject({
      error: { code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterSeconds: 3 } },
    });
  });

  it("answers 8x8's refusal with 502 UPSTREAM_REJECTED and 8x8's reason, without retrying", async () => {
    const { chatGateway, deps } = setup();
    chatGateway.failures.push(
      new ChatGatewayError(
        'permanent',
        '8x8 answered 400',
        'Bad request — Queue ID 112 is invalid.',
        400,
        'invalid_queue',
      ),
    );
    const response = await start(deps, { ...minimal, queueId: '112' });
    expect(chatGateway.calls).toHaveLength(1);
    expect(response.statusCode).toBe(502);
    expect(response.body).toEqual({
      ok: false,
      error: {
        code: 'UPSTREAM_REJECTED',
        message: '8x8 refused the handover: Bad request — Queue ID 112 is invalid.',
        details: {
          httpStatus: 400,
          upstreamCode: 'invalid_queue',
          reason: 'Bad request — Queue ID 112 is invalid.',
        },
      },
      handover: { status: 'error' },
    });
  });

  it('ends the 8x8 conversation again when it cannot be recorded, and says the handover did not start', async () => {
    const { store, chatGateway, deps } = setup();
    store.create = async () => {
      throw new Error('DynamoDB unavailable');
    };
    const response = await start(deps, minimal);
    expect(response.statusCode).toBe(503);
    expect(response.body).toMatchObject({
      error: { code: 'HANDOVER_NOT_RECORDED' },
      handover: { status: 'error' },
    });
    expect(chatGateway.calls.map((c) => c.op)).toEqual(['createConversation', 'endConversationAsUser']);
  });

  describe('one chat per session', () => {
    const claimKey = (owner: string | undefined) => sessionClaimKey(owner, cognigy.sessionId);

    it('waits for a start in flight, polling within HANDOVER_START_WAIT_MS, then answers its chat', async () => {
      const { sessions, store, chatGateway, clock, deps, sleeps } = setup();
      await sessions.claim(
        { key: claimKey(undefined), claimId: 'other', claimedUntil: clock.ms + 10_000 },
        undefined,
      );
      // The other start finishes while this one waits (on its third look).
      let looks = 0;
      const get = sessions.get.bind(sessions);
      sessions.get = async (key) => {
        if (++looks === 3) {
          await store.create(
            conversationRecord({ conversationId: 'conv-other', sessionId: cognigy.sessionId }),
          );
          await sessions.open(key, 'other', 'conv-other');
        }
        return get(key);
      };
      const response = await start(deps, minimal);
      expect(response).toEqual({
        statusCode: 200,
        body: { ok: true, conversationId: 'conv-other', handover: { status: 'queue' }, existing: true },
      });
      expect(sleeps).toEqual([START_WAIT_POLL_MS, START_WAIT_POLL_MS]);
      expect(chatGateway.calls).toHaveLength(0);
    });

    it('answers 409 HANDOVER_START_IN_PROGRESS with Retry-After once the wait bound has passed', async () => {
      const { sessions, chatGateway, clock, deps, sleeps } = setup({ startWaitMs: 1000 });
      await sessions.claim(
        { key: claimKey(undefined), claimId: 'other', claimedUntil: clock.ms + 3500 },
        undefined,
      );
      const response = await start(deps, minimal);
      expect(response.statusCode).toBe(409);
      expect(response.headers).toEqual({ 'retry-after': '3' });
      expect(response.body).toMatchObject({
        ok: false,
        error: { code: 'HANDOVER_START_IN_PROGRESS', details: { retryAfterSeconds: 3 } },
        handover: { status: 'error' },
      });
      expect(sleeps.reduce((a, b) => a + b, 0)).toBe(1000);
      expect(chatGateway.calls).toHaveLength(0);
    });

    it('takes over the claim of a start that crashed (past claimedUntil) instead of waiting', async () => {
      const { sessions, chatGateway, clock, deps, sleeps } = setup();
      await sessions.claim(
        { key: claimKey(undefined), claimId: 'crashed', claimedUntil: clock.ms - 1 },
        undefined,
      );
      const response = await start(deps, minimal);
      expect(response.statusCode).toBe(201);
      expect(sleeps).toEqual([]);
      expect(chatGateway.calls.map((c) => c.op)).toEqual(['createConversation']);
      expect(await sessions.get(claimKey(undefined))).toMatchObject({
        state: 'open',
        conversationId: 'vXg39aMTRlq4xCBFaUCTlA',
      });
    });

    it('gives the claim up when 8x8 refuses, so the next start is not kept waiting', async () => {
      const { sessions, chatGateway, deps } = setup();
      chatGateway.failures.push(new UpstreamError('8x8-chat-gateway', 'permanent', '400', 400));
      expect((await start(deps, minimal)).statusCode).toBe(502);
      expect(sessions.claims.size).toBe(0);
      expect((await start(deps, minimal)).statusCode).toBe(201);
    });

    it('replace: true ends the open chat with the user-side end call first, then creates the new one', async () => {
      const { store, chatGateway, deps } = setup();
      await store.create(conversationRecord({ conversationId: 'conv-old', sessionId: cognigy.sessionId }));
      const response = await start(deps, { ...minimal, replace: true });
      expect(response.statusCode).toBe(201);
      expect(response.body).toMatchObject({ conversationId: 'vXg39aMTRlq4xCBFaUCTlA', replaced: 'conv-old' });
      expect(
        chatGateway.calls.map((c) => [c.op, 'conversationId' in c ? c.conversationId : undefined]),
      ).toEqual([
        ['endConversationAsUser', 'conv-old'],
        ['createConversation', undefined],
      ]);
      expect(await store.get('conv-old')).toMatchObject({ status: 'cancelled', endReason: 'userEnded' });
    });

    it("a chat of another key is not this key's open chat", async () => {
      const { store, chatGateway, deps } = setup();
      await store.create(
        conversationRecord({ conversationId: 'conv-a', sessionId: cognigy.sessionId, owner: 'key-a' }),
      );
      const response = await startHandoverApi(apiRequest({ body: minimal, callerId: 'key-b' }), deps);
      expect(response.statusCode).toBe(201);
      expect(chatGateway.calls.map((c) => c.op)).toEqual(['createConversation']);
      expect(await store.get('vXg39aMTRlq4xCBFaUCTlA')).toMatchObject({ owner: 'key-b' });
    });
  });
});
