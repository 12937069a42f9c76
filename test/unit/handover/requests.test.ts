import '../../helpers/env';
import { createHash } from 'node:crypto';
import { BridgeError } from '../../../functions/shared/errors';
import { logger } from '../../../functions/shared/powertools';
import { endHandover, relayUserMessage, type RequestDeps } from '../../../functions/handover/message';
import { apiRequest, conversationRecord, FakeClock, MemoryQueue, MemoryStore, sequentialIds } from './fakes';

beforeAll(() => logger.setLogLevel('SILENT'));

function setup(records = [conversationRecord()]) {
  const store = new MemoryStore();
  for (const r of records) store.records.set(r.conversationId, r);
  const queue = new MemoryQueue();
  const deps: RequestDeps = { store, queue, clock: new FakeClock(), ids: sequentialIds() };
  return { store, queue, deps };
}

async function codeOf(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BridgeError) return { status: error.statusCode, code: error.code };
    throw error;
  }
  throw new Error('expected an error');
}

/** The session proof is required; tests send conversationRecord's session unless they give their own. */
const SESSION_OF: Record<string, string> = { 'conv-2': 's2' };
const withSession = (conversationId: string, body: unknown) =>
  body !== null && typeof body === 'object' && !Array.isArray(body)
    ? { sessionId: SESSION_OF[conversationId] ?? 'session-1', ...body }
    : body;

const message = (conversationId: string, body: unknown) =>
  apiRequest({ pathParameters: { conversationId }, body: withSession(conversationId, body) });

describe('POST /handover/{conversationId}/messages', () => {
  it('queues the text on the FIFO group of the conversation and answers 202 queued', async () => {
    const { queue, deps } = setup();
    const response = await relayUserMessage(message('conv-1', { text: 'Hello agent' }), deps);
    expect(response).toEqual({ statusCode: 202, body: { ok: true, queued: true, conversationId: 'conv-1' } });
    expect(queue.sent).toEqual([
      {
        item: {
          kind: 'message',
          itemId: 'item-1',
          conversationId: 'conv-1',
          text: 'Hello agent',
          requestedAt: '2026-03-01T12:00:00.000Z',
        },
        groupId: 'conv-1',
        deduplicationId: 'item-1',
      },
    ]);
  });

  it('keeps the order of consecutive messages within the conversation group', async () => {
    const { queue, deps } = setup([
      conversationRecord(),
      conversationRecord({ conversationId: 'conv-2', sessionId: 's2' }),
    ]);
    for (const [id, text] of [
      ['conv-1', 'one'],
      ['conv-2', 'other'],
      ['conv-1', 'two'],
      ['conv-1', 'three'],
    ] as const) {
      await relayUserMessage(message(id, { text }), deps);
    }
    const group1 = queue.sent
      .filter((s) => s.groupId === 'conv-1')
      .map((s) => (s.item.kind === 'message' ? s.item.text : ''));
    expect(group1).toEqual(['one', 'two', 'three']);
    const group2 = queue.sent
      .filter((s) => s.groupId === 'conv-2')
      .map((s) => (s.item.kind === 'message' ? s.item.text : ''));
    expect(group2).toEqual(['other']);
  });

  it('derives the deduplication id from conversation and clientMessageId, so a repeat is dropped but other conversations are not', async () => {
    const { queue, deps } = setup([
      conversationRecord(),
      conversationRecord({ conversationId: 'conv-2', sessionId: 's2' }),
    ]);
    const first = await relayUserMessage(message('conv-1', { text: 'hi', clientMessageId: 'm-1' }), deps);
    await relayUserMessage(message('conv-1', { text: 'hi', clientMessageId: 'm-1' }), deps);
    await relayUserMessage(message('conv-2', { text: 'hi', clientMessageId: 'm-1' }), deps);
    expect(first.body).toEqual({ ok: true, queued: true, conversationId: 'conv-1', clientMessageId: 'm-1' });
    const [a, b, c] = queue.sent.map((s) => s.deduplicationId);
    expect(a).toBe(createHash('sha256').update('message\nconv-1\nm-1').digest('hex'));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(a).toHaveLength(64);
  });

  it.each([
    ['unknown conversation', 'conv-9', { text: 'hi' }, 404, 'HANDOVER_NOT_FOUND'],
    ['malformed id', 'bad id!', { text: 'hi' }, 400, 'INVALID_CONVERSATION_ID'],
    ['blank text', 'conv-1', { text: '   ' }, 400, 'TEXT_MISSING'],
    ['missing text', 'conv-1', {}, 400, 'MISSING_FIELD'],
    ['text too long', 'conv-1', { text: 'x'.repeat(8001) }, 400, 'TEXT_TOO_LONG'],
    ['unknown field', 'conv-1', { text: 'hi', attachments: [] }, 400, 'UNKNOWN_FIELD'],
    ['another session', 'conv-1', { text: 'hi', sessionId: 'session-X' }, 403, 'HANDOVER_SESSION_MISMATCH'],
    ['another user', 'conv-1', { text: 'hi', userId: 'user-X' }, 403, 'HANDOVER_SESSION_MISMATCH'],
    ['no session proof', 'conv-1', { text: 'hi', sessionId: '' }, 400, 'SESSION_ID_REQUIRED'],
  ])('%s → %s %s', async (_name, id, body, status, code) => {
    const { queue, deps } = setup();
    expect(await codeOf(relayUserMessage(message(id, body), deps))).toEqual({ status, code });
    expect(queue.sent).toHaveLength(0);
  });

  it.each([
    ['an injected agent event (empty text)', 'conv-1', { text: '', bridgeEventId: '8x8-chat:ev-1' }],
    ['an injected SMS status, text left out', 'conv-1', { bridgeEventId: 'sms:m-1:undelivered' }],
    [
      'an agent text injected in inject mode',
      'conv-1',
      { text: 'Hi, Anna here', bridgeEventId: '8x8-chat:e' },
    ],
    ['the completed event of a closed chat', 'conv-3', { text: '', bridgeEventId: '8x8-chat:ev-9' }],
  ])('answers %s with a 200 no-op and relays nothing', async (_name, id, body) => {
    const { queue, deps } = setup([
      conversationRecord(),
      conversationRecord({ conversationId: 'conv-3', status: 'completed' }),
    ]);
    const response = await relayUserMessage(message(id, body), deps);
    expect(response).toEqual({
      statusCode: 200,
      body: { ok: true, queued: false, conversationId: id, ignored: 'bridgeEvent' },
    });
    expect(queue.sent).toHaveLength(0);
  });

  it('relays what the user typed when bridgeEventId is empty (an unset Cognigy token)', async () => {
    const { queue, deps } = setup();
    const response = await relayUserMessage(message('conv-1', { text: 'hi', bridgeEventId: '' }), deps);
    expect(response.statusCode).toBe(202);
    expect(queue.sent).toHaveLength(1);
  });

  it.each([
    ['a bridgeEventId the bridge never pushes', { text: '', bridgeEventId: 'hello' }, 'INVALID_TYPE'],
    ['no text and no bridgeEventId', { bridgeEventId: null }, 'MISSING_FIELD'],
    ['empty text without bridgeEventId', { text: '' }, 'TEXT_MISSING'],
  ])('refuses %s with 400 %s', async (_name, body, code) => {
    const { queue, deps } = setup();
    expect(await codeOf(relayUserMessage(message('conv-1', body), deps))).toEqual({ status: 400, code });
    expect(queue.sent).toHaveLength(0);
  });

  it.each(['completed', 'cancelled', 'error'] as const)(
    'refuses a message for a %s handover with 409 HANDOVER_CLOSED',
    async (status) => {
      const { queue, deps } = setup([conversationRecord({ status })]);
      expect(await codeOf(relayUserMessage(message('conv-1', { text: 'hi' }), deps))).toEqual({
        status: 409,
        code: 'HANDOVER_CLOSED',
      });
      expect(queue.sent).toHaveLength(0);
    },
  );

  it('accepts matching session ids and messages while the agent is active', async () => {
    const { queue, deps } = setup([conversationRecord({ status: 'active', agentId: 'a-1' })]);
    const response = await relayUserMessage(
      message('conv-1', { text: 'hi', userId: 'user-1', sessionId: 'session-1' }),
      deps,
    );
    expect(response.statusCode).toBe(202);
    expect(queue.sent).toHaveLength(1);
  });

  it('answers 503 QUEUE_UNAVAILABLE when the queue refuses, so the flow knows the message was not accepted', async () => {
    const { queue, deps } = setup();
    queue.failWith = new Error('SQS down');
    expect(await codeOf(relayUserMessage(message('conv-1', { text: 'hi' }), deps))).toEqual({
      status: 503,
      code: 'QUEUE_UNAVAILABLE',
    });
  });
});

describe('POST /handover/{conversationId}/end', () => {
  const end = (conversationId: string, body: unknown = {}) =>
    apiRequest({ pathParameters: { conversationId }, body: withSession(conversationId, body) });

  it('queues an end item on the conversation group and marks the record cancelled', async () => {
    const { store, queue, deps } = setup();
    const response = await endHandover(end('conv-1'), deps);
    expect(response).toEqual({
      statusCode: 200,
      body: { ok: true, conversationId: 'conv-1', handover: { status: 'cancelled' } },
    });
    expect(queue.sent).toEqual([
      {
        item: {
          kind: 'end',
          itemId: 'item-1',
          conversationId: 'conv-1',
          requestedAt: '2026-03-01T12:00:00.000Z',
        },
        groupId: 'conv-1',
        deduplicationId: createHash('sha256').update('end\nconv-1').digest('hex'),
      },
    ]);
    expect(await store.get('conv-1')).toMatchObject({
      status: 'cancelled',
      endReason: 'userEnded',
      endedAt: '2026-03-01T12:00:00.000Z',
    });
  });

  it('follows messages queued before it in the same FIFO group', async () => {
    const { queue, deps } = setup();
    await relayUserMessage(message('conv-1', { text: 'last words' }), deps);
    await endHandover(end('conv-1'), deps);
    expect(queue.sent.map((s) => [s.groupId, s.item.kind])).toEqual([
      ['conv-1', 'message'],
      ['conv-1', 'end'],
    ]);
  });

  it('is idempotent: ending an ended handover answers 200 with its status and queues nothing', async () => {
    const { queue, deps } = setup([conversationRecord({ status: 'completed', endReason: 'agentLeft' })]);
    const response = await endHandover(end('conv-1', {}), deps);
    expect(response).toEqual({
      statusCode: 200,
      body: { ok: true, conversationId: 'conv-1', handover: { status: 'completed' }, alreadyEnded: true },
    });
    expect(queue.sent).toHaveLength(0);

    const again = setup();
    await endHandover(end('conv-1'), again.deps);
    const second = await endHandover(end('conv-1'), again.deps);
    expect(second.body).toMatchObject({ handover: { status: 'cancelled' }, alreadyEnded: true });
    expect(again.queue.sent).toHaveLength(1);
  });

  it('reports the status the agent set when the agent ended the chat at the same moment', async () => {
    const { store, deps } = setup();
    store.beforeUpdate = () => {
      store.beforeUpdate = undefined;
      store.touch('conv-1', { status: 'completed', endReason: 'agentLeft' });
    };
    const response = await endHandover(end('conv-1'), deps);
    expect(response.body).toMatchObject({ handover: { status: 'completed' }, alreadyEnded: true });
    expect((await store.get('conv-1'))?.endReason).toBe('agentLeft');
  });

  it('leaves the record open when the end cannot be queued, so a retry can end it', async () => {
    const { store, queue, deps } = setup();
    queue.failWith = new Error('SQS down');
    expect(await codeOf(endHandover(end('conv-1'), deps))).toEqual({
      status: 503,
      code: 'QUEUE_UNAVAILABLE',
    });
    expect((await store.get('conv-1'))?.status).toBe('queue');
  });

  it.each([
    ['unknown conversation', 'conv-9', undefined, 404, 'HANDOVER_NOT_FOUND'],
    ['another session', 'conv-1', { sessionId: 'other' }, 403, 'HANDOVER_SESSION_MISMATCH'],
    ['no session proof', 'conv-1', null, 400, 'SESSION_ID_REQUIRED'],
    ['unknown field', 'conv-1', { reason: 'bye' }, 400, 'UNKNOWN_FIELD'],
  ])('%s → %s %s', async (_name, id, body, status, code) => {
    const { queue, deps } = setup();
    expect(await codeOf(endHandover(end(id, body), deps))).toEqual({ status, code });
    expect(queue.sent).toHaveLength(0);
  });
});
