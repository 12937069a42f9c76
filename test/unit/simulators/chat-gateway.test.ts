import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatGatewaySimulator } from '../../../lib/simulators/chat-gateway';
import { httpJwkFetcher, JwkCache } from '../../../functions/handover/jwk-cache';
import { verifyWebhookSignature } from '../../../functions/handover/signature';
import { parseWebhookBody } from '../../../functions/handover/events';

const API_KEY = 'sim-api-key';
const TENANT = 'tenant01';

interface Received {
  headers: Record<string, string>;
  body: string;
  event: Record<string, unknown>;
  verified: boolean;
  verifyError?: string;
}

/** A webhook endpoint that verifies every delivery with the bridge's verifier and answers as scripted. */
class Receiver {
  readonly received: Received[] = [];
  /** Status to answer per delivery, in order; once used up, 200. `hang` never answers. */
  script: (number | 'hang')[] = [];
  private server!: Server;
  url = '';
  private keys: JwkCache | undefined;

  async start(sim: ChatGatewaySimulator) {
    this.keys = new JwkCache({
      fetchJwk: httpJwkFetcher({ urlTemplate: sim.jwkUrlTemplate, timeoutMs: 2000 }),
    });
    this.server = createServer((req, res) => {
      void readAll(req).then(async (body) => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        const entry: Received = {
          headers,
          body,
          event: JSON.parse(body) as Record<string, unknown>,
          verified: false,
        };
        if (headers['x-8x8-signature']) {
          try {
            await verifyWebhookSignature(body, headers, { getKey: this.keys!.getKey, maxAgeMs: 60_000 });
            entry.verified = true;
          } catch (error) {
            entry.verifyError = (error as { code?: string }).code ?? String(error);
          }
        }
        this.received.push(entry);
        const next = this.script.shift() ?? 200;
        if (next === 'hang') return;
        res.writeHead(next, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  types(conversationId?: string) {
    return this.received
      .filter((r) => !conversationId || r.event.conversationId === conversationId)
      .map((r) => r.event.eventType as string);
  }
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

async function until(check: () => boolean, what: string, limitMs = 5000) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > limitMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let sim: ChatGatewaySimulator;
let receiver: Receiver;

// One simulator (RSA key generation is the slow part) and one receiver for the file; reset before each test.
beforeAll(async () => {
  sim = new ChatGatewaySimulator({
    apiKey: API_KEY,
    tenant: TENANT,
    customerId: 'cust-1',
    kid: 'sim-key-1',
    retryDelaysMs: [10, 10, 10],
    deliveryTimeoutMs: 500,
    lifecycleStepMs: 1,
  });
  await sim.start();
  receiver = new Receiver();
  await receiver.start(sim);
  sim.setWebhookUrl(receiver.url);
});

beforeEach(async () => {
  await sim.settled();
  sim.reset();
  receiver.received.length = 0;
  receiver.script = [];
});

afterAll(async () => {
  await sim.stop();
  await receiver.stop();
});

function api(
  path: string,
  init: {
    method?: string;
    body?: unknown;
    apiKey?: string | null;
    tenant?: string | null;
    raw?: string;
  } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.apiKey !== null) headers['x-api-key'] = init.apiKey ?? API_KEY;
  if (init.tenant !== null) headers['x-8x8-tenant'] = init.tenant ?? TENANT;
  return fetch(`${sim.url}/chat-gateway/v1${path}`, {
    method: init.method ?? 'POST',
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
}

const createBody = {
  channelId: 'chan-1',
  assignment: { type: 'queue', id: 'q-7' },
  user: {
    name: 'Jane Doe',
    userId: 'u-1',
    language: 'en',
    additionalProperties: [{ key: 'Intent', value: 'balance' }],
  },
  history: {
    messages: [
      { authorType: 'user', text: 'Hi' },
      { authorType: 'bot', text: 'Hello, how can I help?' },
    ],
  },
};

async function createConversation(body: unknown = createBody): Promise<string> {
  const response = await api('/conversations', { body });
  expect(response.status).toBe(202);
  const id = ((await response.json()) as { conversationId: string }).conversationId;
  // created → QUEUED → active go out on timers after the 202; later steps of a test start from an active chat.
  await sim.settled();
  return id;
}

describe('Chat Gateway simulator API', () => {
  it('creates a conversation: 202 hal+json with conversationId and createdAt, and records it', async () => {
    const response = await api('/conversations', { body: createBody });
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('application/hal+json');
    const body = (await response.json()) as { conversationId: string; createdAt: string };
    expect(body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const c = sim.conversation(body.conversationId);
    expect(c).toMatchObject({
      channelId: 'chan-1',
      assignment: { type: 'queue', id: 'q-7' },
      properties: { Intent: 'balance' },
    });
    expect(c.history.map((m) => [m.authorType, m.text])).toEqual([
      ['user', 'Hi'],
      ['bot', 'Hello, how can I help?'],
    ]);
  });

  it("refuses a wrong or missing x-api-key with 8x8's 401 problem body", async () => {
    for (const apiKey of ['wrong', null]) {
      const response = await api('/conversations', { body: createBody, apiKey });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toEqual({
        message: 'Access Denied',
        errors: [{ message: 'Access Denied', code: 'access_denied' }],
        referenceId: expect.any(String),
      });
    }
    expect(sim.conversations.size).toBe(0);
  });

  it('refuses a wrong X-8x8-Tenant with 403 and accepts a missing one', async () => {
    const wrong = await api('/conversations', { body: createBody, tenant: 'other' });
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { message: string }).message).toBe(
      'The tenant does not belong to customer.',
    );
    expect((await api('/conversations', { body: createBody, tenant: null })).status).toBe(202);
  });

  it.each([
    ['no channelId', { user: { name: 'x' } }],
    ['no user', { channelId: 'c' }],
    [
      '201 history messages',
      {
        ...createBody,
        history: { messages: Array.from({ length: 201 }, () => ({ authorType: 'user', text: 'x' })) },
      },
    ],
    [
      '31 additional properties',
      {
        ...createBody,
        user: { additionalProperties: Array.from({ length: 31 }, (_, i) => ({ key: `k${i}`, value: 'v' })) },
      },
    ],
    ['an unknown language', { ...createBody, user: { language: 'xx' } }],
    ['an invalid email', { ...createBody, user: { email: 'not-an-email' } }],
  ])('refuses a create with %s: 400 problem+json invalid_parameter', async (_name, body) => {
    const response = await api('/conversations', { body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { message: string; errors: { code: string }[] };
    expect(problem.errors[0]?.code).toBe('invalid_parameter');
    expect(sim.conversations.size).toBe(0);
  });

  it('accepts exactly 200 history messages and 30 additional properties', async () => {
    await createConversation({
      ...createBody,
      user: { additionalProperties: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: 'v' })) },
      history: { messages: Array.from({ length: 200 }, () => ({ authorType: 'bot', text: 'x' })) },
    });
  });

  it('refuses a body that is not JSON with invalid_json_object', async () => {
    const response = await api('/conversations', { raw: '{"channelId":' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
      'invalid_json_object',
    );
  });

  it('answers 404 resource_not_found for an unknown conversation', async () => {
    for (const [path, method, body] of [
      ['/conversations/nope/messages', 'POST', { authorType: 'user', text: 'x' }],
      ['/conversations/nope', 'GET', undefined],
      ['/conversations/nope/participants/user', 'PATCH', { removed: true }],
      ['/conversations/nope/typing', 'POST', { authorType: 'user' }],
    ] as const) {
      const response = await api(path, { method, body });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
        'resource_not_found',
      );
    }
  });

  it('records user messages in order (202), typing (204), and answers GET with the conversation', async () => {
    const id = await createConversation();
    for (const text of ['one', 'two', 'three']) {
      expect(
        (await api(`/conversations/${id}/messages`, { body: { authorType: 'user', text } })).status,
      ).toBe(202);
    }
    expect(
      (await api(`/conversations/${id}/messages`, { body: { authorType: 'bot', text: 'bot says' } })).status,
    ).toBe(202);
    expect((await api(`/conversations/${id}/typing`, { body: { authorType: 'user' } })).status).toBe(204);
    expect((await api(`/conversations/${id}/typing`, { body: { authorType: 'agent' } })).status).toBe(400);
    expect((await api(`/conversations/${id}/messages`, { body: { authorType: 'user' } })).status).toBe(400);
    const c = sim.conversation(id);
    expect(c.userMessages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(c.botMessages.map((m) => m.text)).toEqual(['bot says']);
    expect(c.typingIndicators).toBe(1);
    const got = await api(`/conversations/${id}`, { method: 'GET' });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ id, channelId: 'chan-1', user: { name: 'Jane Doe' } });
    expect(sim.requests.filter((r) => r.operation === 'sendMessage').map((r) => r.status)).toEqual([
      202, 202, 202, 202, 400,
    ]);
  });

  it('ends the conversation on PATCH participants/user {removed:true}: 204, MEMBERS_CHANGED user left, then idle', async () => {
    const id = await createConversation();
    await sim.settled();
    const response = await api(`/conversations/${id}/participants/user`, {
      method: 'PATCH',
      body: { removed: true },
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    await sim.settled();
    const events = receiver.received.filter((r) => r.event.conversationId === id).map((r) => r.event);
    expect(events.slice(-2)).toEqual([
      expect.objectContaining({
        eventType: 'MEMBERS_CHANGED',
        data: { memberType: 'user', change: 'left', id: 'u-1' },
      }),
      expect.objectContaining({
        eventType: 'CONVERSATION_UPDATE',
        data: expect.objectContaining({ state: 'idle' }),
      }),
    ]);
    expect(
      (await api(`/conversations/${id}`, { method: 'GET' }).then((r) => r.json())) as object,
    ).toMatchObject({ state: 'idle' });
  });

  it('serves the public JWK of its signing key and 404 for an unknown kid', async () => {
    const jwk = await fetch(sim.jwkUrlTemplate.replace('{kid}', 'sim-key-1'));
    expect(jwk.status).toBe(200);
    expect(await jwk.json()).toEqual({ kty: 'RSA', e: 'AQAB', kid: 'sim-key-1', n: expect.any(String) });
    expect((await fetch(sim.jwkUrlTemplate.replace('{kid}', 'other'))).status).toBe(404);
  });

  it('fails API calls on demand: 429 with Retry-After, 503, then succeeds', async () => {
    sim.failApiCalls(429, 1, { retryAfterSeconds: 3 });
    sim.failApiCalls(503, 1);
    const limited = await api('/conversations', { body: createBody });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await api('/conversations', { body: createBody })).status).toBe(503);
    expect((await api('/conversations', { body: createBody })).status).toBe(202);
  });

  it('limits a fault to one operation when asked', async () => {
    const id = await createConversation();
    sim.failApiCalls(500, 1, { operation: 'sendMessage' });
    expect((await api(`/conversations/${id}/typing`, { body: { authorType: 'user' } })).status).toBe(204);
    expect(
      (await api(`/conversations/${id}/messages`, { body: { authorType: 'user', text: 'x' } })).status,
    ).toBe(500);
    expect(
      (await api(`/conversations/${id}/messages`, { body: { authorType: 'user', text: 'x' } })).status,
    ).toBe(202);
  });

  it('holds a request unanswered for a timeout fault', async () => {
    sim.failApiCalls('timeout', 1);
    await expect(
      fetch(`${sim.url}/chat-gateway/v1/conversations`, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify(createBody),
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await api('/conversations', { body: createBody })).status).toBe(202);
  });
});

describe('Chat Gateway simulator webhook events', () => {
  it('sends created → QUEUED → active after a create, each signed and verifiable by the bridge verifier', async () => {
    const id = await createConversation();
    await sim.settled();
    const events = receiver.received.filter((r) => r.event.conversationId === id);
    expect(events.map((r) => r.event.eventType)).toEqual([
      'CONVERSATION_UPDATE',
      'QUEUED',
      'CONVERSATION_UPDATE',
    ]);
    expect(events.map((r) => (r.event.data as { state?: string }).state)).toEqual([
      'created',
      undefined,
      'active',
    ]);
    expect(events[1]?.event.data).toEqual({ queueId: 'q-7', queueName: 'Queue q-7' });
    for (const r of events) {
      expect(r.verifyError).toBeUndefined();
      expect(r.verified).toBe(true);
      expect(r.headers).toMatchObject({
        'x-8x8-tenant-id': TENANT,
        'x-8x8-customer-id': 'cust-1',
        'x-8x8-retry': '0',
      });
      expect(parseWebhookBody(r.event).kind).toBe('event');
    }
    expect(new Set(events.map((r) => r.headers['x-8x8-event-id'])).size).toBe(3);
  });

  it('plays the agent: join, message, typing, leave — all events parse with the bridge schemas', async () => {
    const id = await createConversation();
    await sim.agentJoin(id, 'agent-9');
    await sim.agentTyping(id);
    await sim.agentSay(id, 'Hello, I am Sam');
    await sim.agentLeave(id);
    await sim.settled();
    const events = receiver.received.filter((r) => r.event.conversationId === id).map((r) => r.event);
    expect(events.slice(3).map((e) => [e.eventType, e.data])).toEqual([
      ['MEMBERS_CHANGED', { memberType: 'agent', change: 'joined', id: 'agent-9' }],
      [
        'CONVERSATION_UPDATE',
        expect.objectContaining({ state: 'active', assignment: { type: 'agent', id: 'agent-9' } }),
      ],
      ['ACTIVITY', { name: 'typing', value: { users: [{ type: 'agent', id: 'agent-9' }] } }],
      [
        'MESSAGE',
        {
          isEcho: false,
          sender: { id: 'agent-9', type: 'agent' },
          text: 'Hello, I am Sam',
          attachments: [],
          cards: [],
        },
      ],
      ['MEMBERS_CHANGED', { memberType: 'agent', change: 'left', id: 'agent-9' }],
      ['CONVERSATION_UPDATE', expect.objectContaining({ state: 'idle' })],
    ]);
    expect(events.every((e) => parseWebhookBody(e).kind === 'event')).toBe(true);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });

  it("auto-joins and echoes each user message, and echoes the integration's own posts with isEcho:true", async () => {
    sim.agent = { autoJoinMs: 0, agentId: 'agent-echo', replies: 'echo' };
    const id = await createConversation();
    await until(() => sim.conversation(id).agentId === 'agent-echo', 'the agent to join');
    await api(`/conversations/${id}/messages`, { body: { authorType: 'user', text: 'where is my parcel?' } });
    await until(() => receiver.types(id).filter((t) => t === 'MESSAGE').length === 2, 'echo and reply');
    await sim.settled();
    const messages = receiver.received
      .filter((r) => r.event.eventType === 'MESSAGE')
      .map((r) => r.event.data);
    expect(messages).toEqual([
      expect.objectContaining({
        isEcho: true,
        sender: { id: 'u-1', type: 'user' },
        text: 'where is my parcel?',
      }),
      expect.objectContaining({
        isEcho: false,
        sender: { id: 'agent-echo', type: 'agent' },
        text: 'Echo: where is my parcel?',
      }),
    ]);
  });

  it('uses a scripted reply list in order and then stays silent', async () => {
    sim.agent = { replies: ['First answer', 'Second answer'] };
    const id = await createConversation();
    await sim.agentJoin(id);
    for (const text of ['a', 'b', 'c'])
      await api(`/conversations/${id}/messages`, { body: { authorType: 'user', text } });
    await sim.settled();
    const agentTexts = receiver.received
      .filter(
        (r) => r.event.eventType === 'MESSAGE' && (r.event.data as { isEcho: boolean }).isEcho === false,
      )
      .map((r) => (r.event.data as { text: string }).text);
    expect(agentTexts).toEqual(['First answer', 'Second answer']);
  });

  it('transfers: TRANSFER, agent left, QUEUED, then a new agent joins', async () => {
    const id = await createConversation();
    await sim.agentJoin(id, 'agent-a');
    await sim.agentTransfer(id, { queueId: 'q-9', queueName: 'Billing', newAgentId: 'agent-b', rejoinMs: 1 });
    await until(() => sim.conversation(id).agentId === 'agent-b', 'the new agent');
    await sim.settled();
    const events = receiver.received.filter((r) => r.event.conversationId === id).map((r) => r.event);
    expect(events.slice(5).map((e) => [e.eventType, e.data])).toEqual([
      ['TRANSFER', undefined],
      ['MEMBERS_CHANGED', { memberType: 'agent', change: 'left', id: 'agent-a' }],
      ['QUEUED', { queueId: 'q-9', queueName: 'Billing' }],
      ['MEMBERS_CHANGED', { memberType: 'agent', change: 'joined', id: 'agent-b' }],
      ['CONVERSATION_UPDATE', expect.objectContaining({ assignment: { type: 'agent', id: 'agent-b' } })],
    ]);
  });

  it('delivers a burst of agent messages in order', async () => {
    const id = await createConversation();
    await sim.agentJoin(id);
    await sim.burst(id, 25);
    await sim.settled();
    const texts = receiver.received
      .filter((r) => r.event.eventType === 'MESSAGE')
      .map((r) => (r.event.data as { text: string }).text);
    expect(texts).toEqual(Array.from({ length: 25 }, (_, i) => `Burst ${i + 1}`));
  });

  it('retries an unacknowledged event with the same event id and retry+1, re-signed each time, until a 2xx', async () => {
    const id = await createConversation();
    await sim.agentJoin(id);
    await sim.settled();
    receiver.received.length = 0;
    receiver.script = [500, 503];
    await sim.agentSay(id, 'are you there?');
    await sim.settled();
    expect(receiver.received).toHaveLength(3);
    const eventIds = new Set(receiver.received.map((r) => r.headers['x-8x8-event-id']));
    expect(eventIds.size).toBe(1);
    expect(receiver.received.map((r) => r.headers['x-8x8-retry'])).toEqual(['0', '1', '2']);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const eventId = [...eventIds][0];
    expect(sim.deliveries.filter((d) => d.eventId === eventId).map((d) => d.status)).toEqual([500, 503, 200]);
    expect(sim.events.find((e) => e.eventId === eventId)?.acknowledged).toBe(true);
  });

  it('retries after a timeout and stops after the configured retries', async () => {
    const id = await createConversation();
    await sim.settled();
    receiver.script = ['hang', 500, 500, 500];
    await sim.idle(id);
    await sim.settled();
    const event = sim.events.at(-1)!;
    expect(sim.deliveries.filter((d) => d.eventId === event.eventId).map((d) => [d.retry, d.status])).toEqual(
      [
        [0, 'timeout'],
        [1, 500],
        [2, 500],
        [3, 500],
      ],
    );
    expect(event.acknowledged).toBe(false);
  });

  it('duplicates deliveries on demand (same event id and retry)', async () => {
    const id = await createConversation();
    await sim.agentJoin(id);
    await sim.settled();
    receiver.received.length = 0;
    sim.webhookFaults = { duplicate: true };
    await sim.agentSay(id, 'twice');
    await sim.settled();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0]?.headers['x-8x8-event-id']).toBe(
      receiver.received[1]?.headers['x-8x8-event-id'],
    );
    expect(receiver.received.map((r) => r.headers['x-8x8-retry'])).toEqual(['0', '0']);
  });

  it('reorders deliveries on demand (each pair swapped)', async () => {
    const id = await createConversation();
    await sim.agentJoin(id);
    await sim.settled();
    receiver.received.length = 0;
    sim.webhookFaults = { reorder: true };
    await Promise.all([sim.agentSay(id, 'first'), sim.agentSay(id, 'second')]);
    await sim.settled();
    expect(receiver.received.map((r) => (r.event.data as { text: string }).text)).toEqual([
      'second',
      'first',
    ]);
  });

  it('sends WEB_HOOK_VERIFY signed or unsigned', async () => {
    expect(await sim.sendVerify({ signed: true })).toBe(200);
    expect(await sim.sendVerify({ signed: false })).toBe(200);
    const [signed, unsigned] = receiver.received;
    expect(signed?.event).toEqual({ notificationVersion: 'Chat Gateway v1.0', eventType: 'WEB_HOOK_VERIFY' });
    expect(signed?.verified).toBe(true);
    expect(unsigned?.headers['x-8x8-signature']).toBeUndefined();
    expect(parseWebhookBody(unsigned?.event).kind).toBe('verify');
  });

  it('keeps publishing a rotated-out key so earlier signatures still verify, and signs with the new one', async () => {
    await sim.sendVerify();
    const newKid = sim.rotateKey('sim-key-2');
    await sim.sendVerify();
    expect(newKid).toBe('sim-key-2');
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect((await fetch(sim.jwkUrlTemplate.replace('{kid}', 'sim-key-1'))).status).toBe(200);
    expect((await fetch(sim.jwkUrlTemplate.replace('{kid}', 'sim-key-2'))).status).toBe(200);
  });
});

describe('Chat Gateway simulator control API', () => {
  const control = (path: string, body?: unknown, method = 'POST') =>
    fetch(`${sim.url}/__control${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  it('drives the agent over HTTP and shows the transcript', async () => {
    const id = await createConversation();
    expect((await control(`/conversations/${id}/agent/join`, { agentId: 'agent-http' })).status).toBe(202);
    await until(() => receiver.types(id).includes('MEMBERS_CHANGED'), 'the join event');
    expect((await control(`/conversations/${id}/agent/message`, { text: 'Hi from HTTP' })).status).toBe(202);
    await api(`/conversations/${id}/messages`, { body: { authorType: 'user', text: 'hello agent' } });
    await sim.settled();
    const list = (await (await control('/conversations', undefined, 'GET')).json()) as {
      id: string;
      agentId: string;
    }[];
    expect(list).toEqual([
      expect.objectContaining({ id, agentId: 'agent-http', state: 'active', userMessages: 1 }),
    ]);
    const detail = (await (await control(`/conversations/${id}`, undefined, 'GET')).json()) as {
      transcript: { from: string; text: string }[];
      deliveries: unknown[];
    };
    expect(detail.transcript.map((t) => `${t.from}: ${t.text}`)).toEqual([
      'user: Hi',
      'bot: Hello, how can I help?',
      'agent: Hi from HTTP',
      'user: hello agent',
    ]);
    expect(detail.deliveries.length).toBeGreaterThan(0);
  });

  it('refuses an agent message before any agent joined (409) and a missing text (400)', async () => {
    const id = await createConversation();
    const early = await control(`/conversations/${id}/agent/message`, { text: 'hello?' });
    expect(early.status).toBe(409);
    await sim.agentJoin(id);
    expect((await control(`/conversations/${id}/agent/message`, {})).status).toBe(400);
    expect((await control('/conversations/unknown/agent/join')).status).toBe(404);
  });

  it('sets API and webhook faults and sends a verify over HTTP', async () => {
    expect((await control('/faults/api', { fault: 503, count: 1 })).status).toBe(202);
    expect((await api('/conversations', { body: createBody })).status).toBe(503);
    expect((await control('/faults/api', { fault: 418 })).status).toBe(400);
    const verify = await control('/verify', { signed: true });
    expect(await verify.json()).toEqual({ ok: true, status: 200 });
  });
});
