/**
 * Conversation ids and one chat per Cognigy session, on the real local stack over HTTP (issue 9 items 4 and 5,
 * the POST /handover part of item 2; tenancy is in test/security/tenancy.test.ts):
 * - every id 8x8 can issue (base64url, `-`/`_` first included) works on every `{conversationId}` route;
 * - a second POST /handover for a session with an open chat answers that chat; `replace: true` ends it first;
 * - a repeat arriving while the first start is in flight waits for it, and past HANDOVER_START_WAIT_MS gets a 409
 *   with Retry-After.
 */
import fc from 'fast-check';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import { CONVERSATION_ID_PATTERN } from '../../functions/handover/schema';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';
import { newSession, type Session } from '../helpers/cognigy-session';

/** Short enough that the 409 case is quick, long enough for a start held back 300 ms. */
const START_WAIT_MS = 1500;

let stack: LocalStack;
let api: ApiClient;
let chat: ChatGatewaySimulator;

beforeAll(async () => {
  stack = await startTestStack({
    settings: { HANDOVER_START_WAIT_MS: String(START_WAIT_MS), SECRETS_MAX_AGE_SECONDS: '0' },
  });
  api = apiClient(stack);
  chat = stack.chatGateway as ChatGatewaySimulator;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

type StartAnswer = {
  ok: boolean;
  conversationId: string;
  handover: { status: string };
  existing?: boolean;
  replaced?: string;
  error?: { code: string };
};

const start = (client: ApiClient, session: Session, extra: Record<string, unknown> = {}) =>
  client.post<StartAnswer>('/handover', { cognigy: session, channelId: 'chat-api-channel', ...extra });

const creates = () => chat.requests.filter((r) => r.operation === 'createConversation').length;
const path = (id: string, suffix = '') => `/handover/${encodeURIComponent(id)}${suffix}`;

describe('conversation ids (9.5)', () => {
  /** The base64url alphabet plus the other characters 8x8's opaque ids may hold (catalogue PATH_PARAMETERS). */
  const ID_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', ...'.:=~'];
  const idArbitrary = fc
    .tuple(
      fc.constantFrom('-', '_', 'A', '9', ''),
      fc.array(fc.constantFrom(...ID_CHARS), { minLength: 0, maxLength: 255 }),
    )
    .map(([first, rest]) => (first + rest.join('')).slice(0, 256))
    // "." and ".." cannot travel as a path segment; "active" is GET /handover/active's lookup word.
    .filter((id) => id.length > 0 && !/^\.{1,2}$/.test(id) && id !== 'active');

  /** Ids already issued by the simulator in this run: 8x8 never issues an id twice. */
  const issued = new Set<string>();

  test('ids that begin with - or _ (valid base64url) are not refused as malformed', async () => {
    for (const id of ['-vXg39aMTRlq4xCBFaUCTlA', '_EXaiWfZe20eSjklZ70074w', '-', '_']) {
      const session = newSession('dash');
      issued.add(id);
      chat.nextConversationIds.push(id);
      expect((await start(api, session)).body.conversationId).toBe(id);
      const answer = await api.get(path(id));
      expect({ id, status: answer.status }).toEqual({ id, status: 200 });
    }
    expect((await api.get('/handover/..%2F')).status).toBe(400);
  });

  test('every id 8x8 can issue is accepted by the status, messages and end routes', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`conversation id property: fast-check seed ${seed} (FC_SEED=${seed} repeats it)`);
    await fc.assert(
      fc.asyncProperty(idArbitrary, async (id) => {
        fc.pre(!issued.has(id));
        issued.add(id);
        expect(id).toMatch(CONVERSATION_ID_PATTERN);
        const session = newSession('id');
        chat.nextConversationIds.push(id);
        const started = await start(api, session);
        expect(started.status).toBe(201);
        expect(started.body.conversationId).toBe(id);

        const status = await api.get(path(id));
        expect(status.status).toBe(200);
        expect(status.body).toMatchObject({ conversationId: id, handover: { status: 'queue' } });
        const sent = await api.post(path(id, '/messages'), { text: 'hi', sessionId: session.sessionId });
        expect(sent.status).toBe(202);
        const ended = await api.post(path(id, '/end'), { sessionId: session.sessionId });
        expect(ended.status).toBe(200);
        expect(ended.body).toMatchObject({ conversationId: id, handover: { status: 'cancelled' } });
      }),
      { seed, numRuns: 20 },
    );
  }, 120_000);
});

describe('one chat per session (9.4)', () => {
  test('a second start for a session with an open chat answers that chat; replace: true ends it first', async () => {
    const session = newSession('one-chat');
    const first = await start(api, session);
    expect(first.status).toBe(201);
    const id = first.body.conversationId;
    await chat.agentJoin(id, 'agent-one');
    await waitFor('the agent recorded on the handover', async () => {
      const status = await api.get<{ handover: { status: string } }>(path(id));
      return status.body.handover.status === 'active';
    });

    const before = creates();
    const again = await start(api, session);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      ok: true,
      conversationId: id,
      handover: { status: 'active' },
      existing: true,
    });
    expect(creates()).toBe(before);

    const replaced = await start(api, session, { replace: true });
    expect(replaced.status).toBe(201);
    expect(replaced.body.conversationId).not.toBe(id);
    expect(replaced.body.replaced).toBe(id);
    // The old chat was ended at 8x8 with the user-side end call of POST …/end, and is recorded as cancelled.
    expect(chat.conversation(id).userRemoved).toBeTruthy();
    expect((await api.get(path(id))).body).toMatchObject({
      handover: { status: 'cancelled' },
      endReason: 'userEnded',
    });
    const active = await api.get<{ conversationId: string }>(
      `/handover/active?sessionId=${encodeURIComponent(session.sessionId)}`,
    );
    expect(active.body.conversationId).toBe(replaced.body.conversationId);
  });

  test('after the chat ended, a start creates a new one', async () => {
    const session = newSession('after-end');
    const first = await start(api, session);
    await api.post(path(first.body.conversationId, '/end'), { sessionId: session.sessionId });
    const next = await start(api, session);
    expect(next.status).toBe(201);
    expect(next.body.conversationId).not.toBe(first.body.conversationId);
  });
});

describe('a repeated start while the first is in flight (9.2)', () => {
  test('waits for the first and gets the same conversation; 8x8 is asked once', async () => {
    const session = newSession('in-flight');
    const before = creates();
    chat.createDelaysMs.push(300);
    const first = start(api, session);
    await waitFor('the first start at 8x8', () => creates() > before);
    const repeat = await start(api, session);
    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({
      ok: true,
      conversationId: firstAnswer.body.conversationId,
      handover: { status: 'queue' },
      existing: true,
    });
    expect(creates()).toBe(before + 1);
  });

  test('past HANDOVER_START_WAIT_MS the repeat gets 409 HANDOVER_START_IN_PROGRESS with Retry-After', async () => {
    const session = newSession('too-slow');
    const before = creates();
    chat.createDelaysMs.push(START_WAIT_MS + 1500);
    const first = start(api, session);
    await waitFor('the first start at 8x8', () => creates() > before);
    const repeat = await start(api, session);
    expect(repeat.status).toBe(409);
    expect(repeat.body).toMatchObject({ ok: false, error: { code: 'HANDOVER_START_IN_PROGRESS' } });
    expect(Number(repeat.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(201);
    // Retried after the first finished, the repeat gets its chat.
    const retried = await start(api, session);
    expect(retried.body).toMatchObject({ conversationId: firstAnswer.body.conversationId, existing: true });
    expect(creates()).toBe(before + 1);
  }, 20_000);
});
