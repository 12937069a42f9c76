/**
 * Tenancy between Cognigy projects (issue 10 gap 3) on the real local stack over HTTP: two API keys (tenants A and
 * B); neither reads, messages or ends the other's SMS or handover (404, like an unknown id), and messages/end need
 * the sessionId that started the handover.
 */
import { randomUUID } from 'node:crypto';
import { localApiKeyId } from '../../lib/local/gateway';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';
import { newSession, type Session } from '../helpers/cognigy-session';

const TENANT_B_KEY = 'tenant-b-key-0123456789abcdef';

let stack: LocalStack;
let api: ApiClient;
let apiB: ApiClient;
let chat: ChatGatewaySimulator;

beforeAll(async () => {
  stack = await startTestStack({ apiKeys: [TENANT_B_KEY] });
  api = apiClient(stack);
  apiB = apiClient({ ...stack, apiKey: TENANT_B_KEY });
  chat = stack.chatGateway as ChatGatewaySimulator;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const start = (client: ApiClient, session: Session) =>
  client.post<{ conversationId: string }>('/handover', { cognigy: session, channelId: 'chat-api-channel' });

const path = (id: string, suffix = '') => `/handover/${encodeURIComponent(id)}${suffix}`;

describe('tenancy: two API keys (10.3)', () => {
  test("key B cannot read, message or end key A's handover (404), nor find it by session", async () => {
    const session = newSession('tenant-a');
    const started = await start(api, session);
    const id = started.body.conversationId;

    const cases: [string, Promise<{ status: number; body: unknown }>][] = [
      ['GET status', apiB.get(path(id))],
      ['POST messages', apiB.post(path(id, '/messages'), { text: 'hi', sessionId: session.sessionId })],
      ['POST end', apiB.post(path(id, '/end'), { sessionId: session.sessionId })],
      ['GET active', apiB.get(`/handover/active?sessionId=${encodeURIComponent(session.sessionId)}`)],
    ];
    for (const [name, call] of cases) {
      const answer = await call;
      expect({ name, status: answer.status, body: answer.body }).toEqual({
        name,
        status: 404,
        body: { ok: false, error: { code: 'HANDOVER_NOT_FOUND', message: expect.any(String) } },
      });
    }
    // Still open and A's: B's end did nothing.
    expect((await api.get(path(id))).body).toMatchObject({ handover: { status: 'queue' } });
    expect(chat.conversation(id).userRemoved).toBeFalsy();

    // The same Cognigy session id under key B is B's own session: a new chat, not A's.
    const sameSessionB = await start(apiB, session);
    expect(sameSessionB.status).toBe(201);
    expect(sameSessionB.body.conversationId).not.toBe(id);
  });

  test('messages and end need the sessionId that started the handover', async () => {
    const session = newSession('proof');
    const id = (await start(api, session)).body.conversationId;
    const wrong = await api.post(path(id, '/messages'), { text: 'hi', sessionId: 'someone-else' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ error: { code: 'HANDOVER_SESSION_MISMATCH' } });
    const missing = await api.post(path(id, '/end'), {});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'SESSION_ID_REQUIRED' } });
    const wrongEnd = await api.post(path(id, '/end'), { sessionId: 'someone-else' });
    expect(wrongEnd.status).toBe(403);
    expect((await api.get(path(id))).body).toMatchObject({ handover: { status: 'queue' } });
  });

  test("key B cannot read key A's SMS (404), and the same clientMessageId is a separate SMS per key", async () => {
    const body = {
      destination: '+6591234567',
      text: 'Your code is 123456',
      clientMessageId: `otp-${randomUUID()}`,
    };
    const a = await api.post<{ messageId: string }>('/sms', body);
    expect(a.status).toBe(202);
    const b = await apiB.post<{ messageId: string }>('/sms', body);
    expect(b.status).toBe(202);
    expect(b.body.messageId).not.toBe(a.body.messageId);

    const foreign = await apiB.get(`/sms/${a.body.messageId}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ ok: false, error: { code: 'MESSAGE_NOT_FOUND' } });
    expect((await api.get(`/sms/${a.body.messageId}`)).status).toBe(200);
    expect((await apiB.get(`/sms/${b.body.messageId}`)).status).toBe(200);
    // A repeat under A still gets A's first answer.
    expect((await api.post<{ messageId: string }>('/sms', body)).body.messageId).toBe(a.body.messageId);
  });

  test('the local gateway names each key by an id derived from it, never the key itself', () => {
    expect(stack.apiKeys).toEqual([stack.apiKey, TENANT_B_KEY]);
    expect(localApiKeyId(TENANT_B_KEY)).toMatch(/^local-[0-9a-f]{16}$/);
    expect(localApiKeyId(TENANT_B_KEY)).not.toContain(TENANT_B_KEY);
    expect(localApiKeyId(TENANT_B_KEY)).not.toBe(localApiKeyId(stack.apiKey));
  });
});
