/**
 * Agent handover end to end on the real local stack: Cognigy-facing API over HTTP → handover functions → SQS FIFO
 * → the 8x8 Chat Gateway simulator, and the simulator's signed webhooks → the webhook function → SQS FIFO → the
 * relay → the Cognigy Endpoint simulator. The simulator's webhook URL goes through a recording proxy so genuine
 * deliveries can be replayed and forged.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { FlattenedSign } from 'jose';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator, SimConversation } from '../../lib/simulators/chat-gateway';
import type { CognigyCall, CognigySimulator } from '../../lib/simulators/cognigy';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { oasViolations } from '../helpers/chat-gateway-contract';
import {
  apiClient,
  stackSecret,
  stackSqsClient,
  startTestStack,
  waitForDrained,
  type ApiClient,
} from '../helpers/local';
import { RecordingProxy, replay, type CapturedRequest } from '../helpers/recording-proxy';
import { waitFor } from '../helpers/wait';
import { newSession, type Session } from '../helpers/cognigy-session';

const COPILOT_BASE_URL = 'https://copilot.example.test/workspace';

let stack: LocalStack;
let api: ApiClient;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let sqs: SQSClient;
let proxy: RecordingProxy;
let webhookUrl: string;

beforeAll(async () => {
  stack = await startTestStack({
    env: { COGNIGY_COPILOT_BASE_URL: COPILOT_BASE_URL },
    settings: {
      SECRETS_MAX_AGE_SECONDS: '0',
      UPSTREAM_TIMEOUT_MS: '3000',
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
    },
    maxReceiveCount: { handoverInbound: 10, handoverOutbound: 10 },
    simulators: { chatGateway: { retryDelaysMs: [50, 200, 500], deliveryTimeoutMs: 10_000 } },
  });
  api = apiClient(stack);
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  sqs = stackSqsClient(stack);
  webhookUrl = `${stack.urls.gateway}/handover/eightByEight`;
  proxy = new RecordingProxy({ target: webhookUrl });
  chat.setWebhookUrl(await proxy.start());
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  sqs?.destroy();
  await stack?.stop();
});

// ---- helpers -------------------------------------------------------------------------------------------------

async function startHandover(session: Session, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await api.post<{ ok: boolean; conversationId: string; handover: { status: string } }>(
    '/handover',
    { cognigy: session, channelId: 'chat-api-channel', ...extra },
  );
  expect(answer.status).toBe(201);
  expect(answer.body).toMatchObject({ ok: true, handover: { status: 'queue' } });
  return answer.body.conversationId;
}

type HandoverData = { status: string; event: string; agentId?: string; conversationId: string };
const handoverOf = (call: CognigyCall) => (call.body.data as { handover: HandoverData }).handover;

const callsOf = (session: Session) => cognigy.callsFor(session.sessionId);

function waitForCall(session: Session, what: string, match: (call: CognigyCall) => boolean) {
  return waitFor(`Cognigy ${what} for ${session.sessionId}`, () => callsOf(session).find(match));
}

const injectWith = (status: string, event?: string) => (call: CognigyCall) =>
  call.mode === 'inject' &&
  handoverOf(call).status === status &&
  (!event || handoverOf(call).event === event);

const notifyWith = (text: string) => (call: CognigyCall) => call.mode === 'notify' && call.body.text === text;

/** Waits until the simulator has delivered everything and both handover queues are empty. */
function settle(): Promise<void> {
  return waitForDrained(sqs, stack, ['handoverInbound', 'handoverOutbound'], {
    beforeProbe: () => chat.settled(),
  });
}

const conversation = (id: string): SimConversation => chat.conversation(id);

/** The captured delivery of the first event of `eventType` in a conversation matching `match`. */
function capturedEvent(
  conversationId: string,
  eventType: string,
  match: (body: Record<string, unknown>) => boolean = () => true,
): CapturedRequest | undefined {
  return proxy.captured.find((c) => {
    const body = JSON.parse(c.body) as Record<string, unknown>;
    return body.conversationId === conversationId && body.eventType === eventType && match(body);
  });
}

// ---- scenarios -----------------------------------------------------------------------------------------------

test('a full handover: start → queue → agent joins → messages both ways → agent leaves → completed', async () => {
  const session = newSession('full');
  const conversationId = await startHandover(session, {
    queueId: 'queue-42',
    customer: {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      language: 'en-GB',
      company: 'Analytical Engines Ltd',
      caseId: 'CASE-7',
      customerId: 'crm-7',
    },
    properties: { plan: 'gold', orders: 3 },
    transcript: [
      { source: 'user', text: 'My order is late' },
      { source: 'bot', text: 'Let me find an agent for you' },
      { source: 'user', text: '' },
    ],
  });

  // What 8x8 received: channel, queue assignment, customer, properties with the Copilot link, transcript.
  const c = conversation(conversationId);
  expect(c.channelId).toBe('chat-api-channel');
  expect(c.assignment).toEqual({ type: 'queue', id: 'queue-42' });
  expect(c.user).toMatchObject({
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    phone: '+44 20 7946 0000',
    language: 'en',
    company: 'Analytical Engines Ltd',
    caseId: 'CASE-7',
    userId: 'crm-7',
  });
  const copilot = new URL(c.properties['Cognigy Copilot'] as string);
  expect(`${copilot.origin}${copilot.pathname}`).toBe(`${COPILOT_BASE_URL}/`);
  expect(Object.fromEntries(copilot.searchParams)).toEqual({
    userId: session.userId,
    sessionId: session.sessionId,
    URLToken: session.URLToken,
  });
  expect(c.properties).toMatchObject({ plan: 'gold', orders: '3' });
  expect(c.history.map((m) => [m.authorType, m.text])).toEqual([
    ['user', 'My order is late'],
    ['bot', 'Let me find an agent for you'],
  ]);

  const queued = await waitForCall(session, 'queue inject', injectWith('queue', 'queued'));
  expect(queued.urlToken).toBe(session.URLToken);
  expect(queued.body).toMatchObject({ userId: session.userId, sessionId: session.sessionId });
  expect(handoverOf(queued)).toMatchObject({ conversationId, provider: '8x8', queueId: 'queue-42' });

  await chat.agentJoin(conversationId, 'agent-grace');
  const active = await waitForCall(session, 'active inject', injectWith('active', 'agentJoined'));
  expect(handoverOf(active).agentId).toBe('agent-grace');
  expect(callsOf(session).indexOf(queued)).toBeLessThan(callsOf(session).indexOf(active));

  await chat.agentSay(conversationId, 'Hello, I am Grace. Let me check your order.');
  const said = await waitForCall(
    session,
    'agent notify',
    notifyWith('Hello, I am Grace. Let me check your order.'),
  );
  expect(said.urlToken).toBe(session.URLToken);
  expect(said.body).toMatchObject({ userId: session.userId, sessionId: session.sessionId, source: 'agent' });
  expect(handoverOf(said)).toMatchObject({ status: 'active', event: 'message', agentId: 'agent-grace' });

  const sent = await api.post(`/handover/${conversationId}/messages`, {
    text: 'It was due on Monday',
    sessionId: session.sessionId,
  });
  expect(sent.status).toBe(202);
  expect(sent.body).toEqual({ ok: true, queued: true, conversationId });
  await waitFor('the user message at the agent', () => c.userMessages.length === 1);
  expect(c.userMessages.map((m) => [m.authorType, m.text])).toEqual([['user', 'It was due on Monday']]);

  const during = await api.get(`/handover/${conversationId}`);
  expect(during.body).toMatchObject({ handover: { status: 'active' }, agent: { id: 'agent-grace' } });

  await chat.agentLeave(conversationId);
  const completed = await waitForCall(session, 'completed inject', injectWith('completed'));
  expect(handoverOf(completed)).toMatchObject({ event: 'agentLeft', agentId: 'agent-grace' });

  const after = await api.get(`/handover/${conversationId}`);
  expect(after.status).toBe(200);
  expect(after.body).toMatchObject({
    ok: true,
    conversationId,
    handover: { status: 'completed' },
    channelId: 'chat-api-channel',
    queueId: 'queue-42',
    endReason: 'agentLeft',
  });
  // The agent who ended the chat stays on the record.
  expect(after.body).toMatchObject({ agent: { id: 'agent-grace' } });
  expect(JSON.stringify(after.body)).not.toContain(session.URLToken);

  // The idle update after the agent left, and the echo of the user's own message, are not relayed.
  await settle();
  const relayed = callsOf(session).map(
    (call) => `${call.mode}:${handoverOf(call).status}:${handoverOf(call).event}`,
  );
  expect(relayed).toEqual([
    'inject:queue:queued',
    'inject:active:agentJoined',
    'notify:active:message',
    'inject:completed:agentLeft',
  ]);
});

test('GET /handover/active?sessionId= finds the open conversation of a session', async () => {
  const session = newSession('lookup');
  const conversationId = await startHandover(session);

  const found = await api.get(`/handover/active?sessionId=${encodeURIComponent(session.sessionId)}`);
  expect(found.status).toBe(200);
  expect(found.body).toMatchObject({ ok: true, conversationId, channelId: 'chat-api-channel' });

  const unknown = await api.get(`/handover/active?sessionId=${encodeURIComponent(`nobody-${randomUUID()}`)}`);
  expect(unknown.status).toBe(404);
  expect(unknown.body).toMatchObject({ ok: false, error: { code: 'HANDOVER_NOT_FOUND' } });

  const missing = await api.get('/handover/active');
  expect(missing.status).toBe(400);
  expect(missing.body).toMatchObject({ ok: false, error: { code: 'SESSION_ID_REQUIRED' } });

  // Once it has ended, the session has no open handover any more.
  expect((await api.post(`/handover/${conversationId}/end`, { sessionId: session.sessionId })).status).toBe(
    200,
  );
  const ended = await api.get(`/handover/active?sessionId=${encodeURIComponent(session.sessionId)}`);
  expect(ended.status).toBe(404);
});

test("the user's end reaches 8x8 as PATCH participants/user and the handover is cancelled", async () => {
  const session = newSession('user-end');
  const conversationId = await startHandover(session);
  await chat.agentJoin(conversationId, 'agent-ueli');
  await waitForCall(session, 'active inject', injectWith('active'));

  const end = await api.post(`/handover/${conversationId}/end`, {
    userId: session.userId,
    sessionId: session.sessionId,
  });
  expect(end.status).toBe(200);
  expect(end.body).toEqual({ ok: true, conversationId, handover: { status: 'cancelled' } });

  await waitFor('the user removed at 8x8', () => conversation(conversationId).userRemoved);
  const patches = chat.requests.filter(
    (r) => r.conversationId === conversationId && r.operation === 'removeUser',
  );
  expect(patches).toEqual([
    expect.objectContaining({
      method: 'PATCH',
      path: `/chat-gateway/v1/conversations/${conversationId}/participants/user`,
      body: { removed: true },
      status: 204,
    }),
  ]);

  const status = await api.get(`/handover/${conversationId}`);
  expect(status.body).toMatchObject({ handover: { status: 'cancelled' }, endReason: 'userEnded' });

  const late = await api.post(`/handover/${conversationId}/messages`, {
    text: 'Are you there?',
    sessionId: session.sessionId,
  });
  expect(late.status).toBe(409);
  expect(late.body).toMatchObject({ ok: false, error: { code: 'HANDOVER_CLOSED' } });

  const again = await api.post(`/handover/${conversationId}/end`, { sessionId: session.sessionId });
  expect(again.body).toEqual({
    ok: true,
    conversationId,
    handover: { status: 'cancelled' },
    alreadyEnded: true,
  });

  // 8x8 then reports the user leaving and the chat going idle; the flow ended it itself, so nothing is injected,
  // and the user is removed only once.
  await settle();
  expect(callsOf(session).map((call) => handoverOf(call).status)).toEqual(['queue', 'active']);
  expect(
    chat.requests.filter((r) => r.conversationId === conversationId && r.operation === 'removeUser'),
  ).toHaveLength(1);
  expect(conversation(conversationId).userMessages).toHaveLength(0);
});

test('a transfer followed by the agent leaving is not the end; the next agent takes over', async () => {
  const session = newSession('transfer');
  const conversationId = await startHandover(session);
  await chat.agentJoin(conversationId, 'agent-first');
  await waitForCall(session, 'active inject', injectWith('active'));

  await chat.agentTransfer(conversationId, {
    queueId: 'queue-escalations',
    queueName: 'Escalations',
    rejoinMs: false,
  });
  const transfer = await waitForCall(session, 'transfer inject', injectWith('queue', 'transfer'));
  expect(handoverOf(transfer).agentId).toBe('agent-first');
  const requeued = await waitForCall(
    session,
    'queued inject after the transfer',
    (call) => injectWith('queue', 'queued')(call) && call.seq > transfer.seq,
  );
  expect(handoverOf(requeued)).toMatchObject({ queueId: 'queue-escalations', queueName: 'Escalations' });

  await settle();
  expect(callsOf(session).some(injectWith('completed'))).toBe(false);
  const waiting = await api.get(`/handover/${conversationId}`);
  expect(waiting.body).toMatchObject({ handover: { status: 'queue' }, queueId: 'queue-escalations' });
  expect(waiting.body).not.toHaveProperty('agent');

  await chat.agentJoin(conversationId, 'agent-second');
  const rejoined = await waitForCall(
    session,
    'active inject of the second agent',
    (call) => injectWith('active')(call) && handoverOf(call).agentId === 'agent-second',
  );
  expect(rejoined.seq).toBeGreaterThan(requeued.seq);

  await chat.agentSay(conversationId, 'Escalations here, I can help.');
  const said = await waitForCall(
    session,
    'notify of the second agent',
    notifyWith('Escalations here, I can help.'),
  );
  expect(handoverOf(said)).toMatchObject({ status: 'active', agentId: 'agent-second' });

  await chat.agentLeave(conversationId);
  const completed = await waitForCall(session, 'completed inject', injectWith('completed', 'agentLeft'));
  expect(handoverOf(completed).agentId).toBe('agent-second');
  expect((await api.get(`/handover/${conversationId}`)).body).toMatchObject({
    handover: { status: 'completed' },
    endReason: 'agentLeft',
  });
});

describe('webhook authentication', () => {
  /** A signer of our own (jose, RFC 7797 detached unencoded payload) for deliveries 8x8 never made. */
  async function forgeDelivery(options: {
    body: string;
    privateKey: KeyObject;
    kid: string;
    tenantId: string;
    customerId: string;
    transmissionTime?: number;
  }): Promise<Record<string, string>> {
    const headers = {
      'content-type': 'application/json',
      'x-8x8-tenant-id': options.tenantId,
      'x-8x8-customer-id': options.customerId,
      'x-8x8-event-id': randomUUID(),
      'x-8x8-retry': '0',
      'x-8x8-transmission-time': String(options.transmissionTime ?? Date.now()),
    };
    const payload = JSON.stringify({
      checksum: crc32(Buffer.from(options.body, 'utf8')),
      cid: headers['x-8x8-customer-id'],
      eid: headers['x-8x8-event-id'],
      retry: 0,
      tid: headers['x-8x8-tenant-id'],
      tt: Number(headers['x-8x8-transmission-time']),
    });
    const jws = await new FlattenedSign(new TextEncoder().encode(payload))
      .setProtectedHeader({ alg: 'RS256', kid: options.kid, b64: false, crit: ['b64'] })
      .sign(options.privateKey);
    return { ...headers, 'x-8x8-signature': `${jws.protected}..${jws.signature}` };
  }

  test('forged deliveries (bad signature, another key, unknown key, stale time) get 401 and nothing is relayed', async () => {
    const session = newSession('forged');
    const conversationId = await startHandover(session);
    await chat.agentJoin(conversationId, 'agent-real');
    await chat.agentSay(conversationId, 'genuine words');
    await waitForCall(session, 'genuine notify', notifyWith('genuine words'));
    const genuine = capturedEvent(
      conversationId,
      'MESSAGE',
      (b) => (b.data as { text?: string }).text === 'genuine words',
    ) as CapturedRequest;
    expect(genuine.status).toBe(200);

    const forgedBody = (text: string) => {
      const body = JSON.parse(genuine.body) as { data: { text: string }; timestamp: number };
      body.data.text = text;
      body.timestamp = Date.now();
      return JSON.stringify(body);
    };

    // A genuine delivery with another body (and a fresh event id, so deduplication cannot be what stops it).
    const tampered = await replay(webhookUrl, genuine, {
      body: forgedBody('forged: tampered body'),
      headers: { 'x-8x8-event-id': randomUUID() },
    });
    expect(tampered.status).toBe(401);
    expect(tampered.body).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });

    // Signed with a key that is not 8x8's, under 8x8's current kid.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const identity = {
      tenantId: genuine.headers['x-8x8-tenant-id'] as string,
      customerId: genuine.headers['x-8x8-customer-id'] as string,
    };
    const otherKeyBody = forgedBody('forged: other key');
    const otherKey = await fetch(webhookUrl, {
      method: 'POST',
      headers: await forgeDelivery({ body: otherKeyBody, privateKey, kid: chat.kid, ...identity }),
      body: otherKeyBody,
    });
    expect(otherKey.status).toBe(401);
    expect(await otherKey.json()).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });

    // Signed with a key 8x8's JWK endpoint does not know.
    const unknownKeyBody = forgedBody('forged: unknown key');
    const unknownKey = await fetch(webhookUrl, {
      method: 'POST',
      headers: await forgeDelivery({ body: unknownKeyBody, privateKey, kid: 'not-an-8x8-key', ...identity }),
      body: unknownKeyBody,
    });
    expect(unknownKey.status).toBe(401);
    expect(await unknownKey.json()).toMatchObject({ ok: false, error: { code: 'UNKNOWN_SIGNING_KEY' } });

    // Correctly signed by 8x8's key, but from a clock ten minutes behind (a replay of an old delivery looks so):
    // every retry is refused too.
    chat.webhookFaults = { clockSkewMs: -600_000 };
    try {
      await chat.agentSay(conversationId, 'forged: stale delivery');
      await chat.settled();
    } finally {
      chat.webhookFaults = {};
    }
    const staleEvent = chat.events.find(
      (e) => e.conversationId === conversationId && e.body.includes('forged: stale delivery'),
    );
    const staleAttempts = chat.deliveries.filter((d) => d.eventId === staleEvent?.eventId);
    expect(staleAttempts.map((d) => d.retry)).toEqual([0, 1, 2, 3]); // the first attempt and three retries
    for (const attempt of staleAttempts) {
      expect(attempt.status).toBe(401);
      expect(JSON.parse(attempt.response ?? '{}')).toMatchObject({ error: { code: 'EVENT_STALE' } });
    }

    // A genuine delivery replayed unchanged is a duplicate: acknowledged, not relayed again.
    const replayed = await replay(webhookUrl, genuine);
    expect(replayed.status).toBe(200);
    expect(replayed.body).toMatchObject({ ok: true, duplicate: true });

    await chat.agentSay(conversationId, 'genuine again');
    await waitForCall(session, 'second genuine notify', notifyWith('genuine again'));
    await settle();
    expect(
      callsOf(session)
        .filter((call) => call.mode === 'notify')
        .map((call) => call.body.text),
    ).toEqual(['genuine words', 'genuine again']);
  });

  test('WEB_HOOK_VERIFY (Test Connection) is answered 200 when signed (unsigned: test/security/webhook-verify)', async () => {
    expect(await chat.sendVerify({ signed: true, url: webhookUrl })).toBe(200);
    expect(await chat.sendVerify({ signed: false, url: webhookUrl })).toBe(401);

    // 8x8's own verify call (POST /webhooks/verify) reaches the bridge and reports success.
    const credentials = stackSecret(stack, 'chatGatewayCredentials');
    const verify = await fetch(`${chat.url}/chat-gateway/v1/webhooks/verify`, {
      method: 'POST',
      headers: {
        'x-api-key': credentials.apiKey,
        'x-8x8-tenant': credentials.tenant ?? '',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ version: 'Chat Gateway v1.0', uri: webhookUrl }),
    });
    expect(verify.status).toBe(204);
  });
});

test("messages accepted before the user's end reach the agent before the chat is closed", async () => {
  const session = newSession('end-after-messages');
  const conversationId = await startHandover(session);
  await chat.agentJoin(conversationId, 'agent-ordered');
  await waitForCall(session, 'active inject', injectWith('active'));

  for (const text of ['One more thing', 'My address changed', 'Bye']) {
    const answer = await api.post(`/handover/${conversationId}/messages`, {
      text,
      sessionId: session.sessionId,
    });
    expect(answer.status).toBe(202);
  }
  expect((await api.post(`/handover/${conversationId}/end`, { sessionId: session.sessionId })).status).toBe(
    200,
  );
  await waitFor('the user removed at 8x8', () => conversation(conversationId).userRemoved);
  await settle();

  const calls = chat.requests
    .filter((r) => r.conversationId === conversationId && r.operation !== 'createConversation')
    .map((r) => (r.operation === 'sendMessage' ? (r.body as { text: string }).text : r.operation));
  expect(calls).toEqual(['One more thing', 'My address changed', 'Bye', 'removeUser']);
});

describe('8x8 failing when the handover starts', () => {
  test('one quick retry rides over a 5xx', async () => {
    chat.failApiCalls(503, 1, { operation: 'createConversation' });
    const conversationId = await startHandover(newSession('start-retry'));
    expect(conversation(conversationId).channelId).toBe('chat-api-channel');
  });

  test('8x8 down, rate limiting or refusing: the flow gets a code to branch on and handover.status "error"', async () => {
    const session = newSession('start-fail');
    const start = () => api.post('/handover', { cognigy: session, channelId: 'chat-api-channel' });

    chat.failApiCalls(503, 2, { operation: 'createConversation' });
    const down = await start();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      ok: false,
      error: { code: 'UPSTREAM_UNAVAILABLE' },
      handover: { status: 'error' },
    });

    chat.failApiCalls(429, 1, { operation: 'createConversation', retryAfterSeconds: 7 });
    const limited = await start();
    expect(limited.status).toBe(503);
    expect(limited.body).toMatchObject({
      error: { code: 'UPSTREAM_RATE_LIMITED', details: { retryAfterSeconds: 7 } },
      handover: { status: 'error' },
    });

    // 8x8 refuses the credentials (a rotated API key): its own reason is passed on. The secret is read again
    // on every call here (SECRETS_MAX_AGE_SECONDS=0), so the rotation and its repair take effect at once.
    const secretName = stack.secretNames.chatGatewayCredentials;
    const credentials = stackSecret(stack, 'chatGatewayCredentials');
    stack.secretsManager.setSecret(secretName, { ...credentials, apiKey: 'revoked-key' });
    try {
      const refused = await start();
      expect(refused.status).toBe(502);
      expect(refused.body).toMatchObject({
        ok: false,
        error: {
          code: 'UPSTREAM_REJECTED',
          details: { httpStatus: 401, reason: expect.stringContaining('Access Denied') },
        },
        handover: { status: 'error' },
      });
      expect(JSON.stringify(refused.body)).not.toContain('revoked-key');
    } finally {
      stack.secretsManager.setSecret(secretName, credentials);
    }

    // Nothing of these attempts was recorded as a handover of the session.
    const lookup = await api.get(`/handover/active?sessionId=${encodeURIComponent(session.sessionId)}`);
    expect(lookup.status).toBe(404);
  });
});

test('bad requests get a 4xx with a stable code over HTTP, never a 5xx', async () => {
  const session = newSession('bad');
  const cases: [string, string, unknown, number, string][] = [
    ['POST', '/handover', '{"cognigy":', 400, 'MALFORMED_JSON'],
    ['POST', '/handover', { channelId: 'c' }, 400, 'MISSING_FIELD'],
    ['POST', '/handover', { cognigy: session, channelId: 'c', colour: 'blue' }, 400, 'UNKNOWN_FIELD'],
    [
      'POST',
      '/handover',
      { cognigy: session, channelId: 'c', customer: { language: 'xx' } },
      400,
      'INVALID_LANGUAGE',
    ],
    [
      'POST',
      '/handover/unknown-conversation/messages',
      { text: 'hi', sessionId: 's' },
      404,
      'HANDOVER_NOT_FOUND',
    ],
    ['POST', '/handover/unknown-conversation/end', { sessionId: 's' }, 404, 'HANDOVER_NOT_FOUND'],
    ['POST', '/handover/unknown-conversation/end', {}, 400, 'SESSION_ID_REQUIRED'],
    ['GET', '/handover/unknown-conversation', undefined, 404, 'HANDOVER_NOT_FOUND'],
    ['GET', '/handover/bad%20id', undefined, 400, 'INVALID_CONVERSATION_ID'],
  ];
  for (const [method, path, body, status, code] of cases) {
    const answer = await api.request(method, path, body);
    expect({
      method,
      path,
      status: answer.status,
      code: (answer.body as { error?: { code?: string } }).error?.code,
    }).toEqual({
      method,
      path,
      status,
      code,
    });
  }

  const conversationId = await startHandover(session);
  const empty = await api.post(`/handover/${conversationId}/messages`, {
    text: '   ',
    sessionId: session.sessionId,
  });
  expect(empty.body).toMatchObject({ ok: false, error: { code: 'TEXT_MISSING' } });
  const foreign = await api.post(`/handover/${conversationId}/messages`, {
    text: 'hi',
    sessionId: 'another-session',
  });
  expect(foreign.status).toBe(403);
  expect(foreign.body).toMatchObject({ ok: false, error: { code: 'HANDOVER_SESSION_MISMATCH' } });
  const noKey = await api.request('GET', `/handover/${conversationId}`, undefined, { 'x-api-key': 'wrong' });
  expect(noKey.status).toBe(403);
});

test('every request the stack sent to the Chat Gateway simulator matches the official OAS', async () => {
  const { tenant } = stackSecret(stack, 'chatGatewayCredentials');
  // The verify call in this file came from the test, not from the stack.
  const fromStack = chat.requests.filter((r) => r.operation !== 'verifyWebhook');
  // This file exercised each call the bridge makes…
  expect([...new Set(fromStack.map((r) => r.operation))].sort()).toEqual([
    'createConversation',
    'removeUser',
    'sendMessage',
  ]);
  // …and 8x8 accepted every one of them but the attempts this file made fail on purpose.
  const refused = fromStack.filter((r) => r.status < 200 || r.status >= 300).map((r) => r.status);
  expect(refused.sort()).toEqual([401, 429, 503, 503, 503]);
  expect(oasViolations(fromStack, tenant as string)).toEqual([]);
});
