import '../../helpers/env';
import { BridgeError } from '../../../functions/shared/errors';
import { getHandoverStatus } from '../../../functions/handover/status';
import { apiRequest, conversationRecord, MemoryStore } from './fakes';

function storeWith(...records: ReturnType<typeof conversationRecord>[]) {
  const store = new MemoryStore();
  for (const r of records) store.records.set(r.conversationId, r);
  return store;
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BridgeError) return { status: error.statusCode, code: error.code };
    throw error;
  }
  throw new Error('expected an error');
}

describe('GET /handover/{conversationId}', () => {
  it('shows status, agent, routing and timestamps but never the URL token', async () => {
    const store = storeWith(
      conversationRecord({
        status: 'active',
        agentId: 'agent-7',
        queueName: 'Support',
        queuedAt: '2026-03-01T11:59:10.000Z',
        activeAt: '2026-03-01T11:59:40.000Z',
        relayedEventIds: ['e1'],
        version: 4,
      }),
    );
    const response = await getHandoverStatus(apiRequest({ pathParameters: { conversationId: 'conv-1' } }), {
      store,
    });
    expect(response).toEqual({
      statusCode: 200,
      body: {
        ok: true,
        conversationId: 'conv-1',
        handover: { status: 'active' },
        agent: { id: 'agent-7' },
        channelId: 'channel-1',
        queueId: '101',
        queueName: 'Support',
        createdAt: '2026-03-01T11:59:00.000Z',
        queuedAt: '2026-03-01T11:59:10.000Z',
        activeAt: '2026-03-01T11:59:40.000Z',
      },
    });
    expect(JSON.stringify(response.body)).not.toContain('url-token-secret-123');
  });

  it('shows how a handover ended and the last error', async () => {
    const lastError = {
      at: '2026-03-01T12:01:00.000Z',
      source: 'cognigy' as const,
      operation: 'inject',
      httpStatus: 400,
      message: 'bad',
    };
    const store = storeWith(
      conversationRecord({
        status: 'completed',
        endedAt: '2026-03-01T12:02:00.000Z',
        endReason: 'agentLeft',
        lastError,
      }),
    );
    const response = await getHandoverStatus(apiRequest({ pathParameters: { conversationId: 'conv-1' } }), {
      store,
    });
    expect(response.body).toMatchObject({
      handover: { status: 'completed' },
      endedAt: '2026-03-01T12:02:00.000Z',
      endReason: 'agentLeft',
      lastError,
    });
  });

  it('answers 404 HANDOVER_NOT_FOUND for an unknown id and 400 for a malformed one', async () => {
    const store = storeWith();
    expect(
      await failure(getHandoverStatus(apiRequest({ pathParameters: { conversationId: 'nope' } }), { store })),
    ).toEqual({
      status: 404,
      code: 'HANDOVER_NOT_FOUND',
    });
    expect(
      await failure(getHandoverStatus(apiRequest({ pathParameters: { conversationId: 'a/b' } }), { store })),
    ).toEqual({
      status: 400,
      code: 'INVALID_CONVERSATION_ID',
    });
  });
});

describe('GET /handover/active?sessionId=', () => {
  const active = (sessionId?: string) =>
    apiRequest({
      pathParameters: { conversationId: 'active' },
      query: sessionId === undefined ? {} : { sessionId },
    });

  it("finds the session's newest open handover", async () => {
    const store = storeWith(
      conversationRecord({
        conversationId: 'old-open',
        createdAt: '2026-03-01T10:00:00.000Z',
        status: 'active',
      }),
      conversationRecord({
        conversationId: 'new-open',
        createdAt: '2026-03-01T11:00:00.000Z',
        status: 'queue',
      }),
      conversationRecord({
        conversationId: 'newest-closed',
        createdAt: '2026-03-01T11:30:00.000Z',
        status: 'completed',
      }),
      conversationRecord({
        conversationId: 'other-session',
        sessionId: 'session-2',
        createdAt: '2026-03-01T11:45:00.000Z',
      }),
    );
    const response = await getHandoverStatus(active('session-1'), { store });
    expect(response.body).toMatchObject({ conversationId: 'new-open', handover: { status: 'queue' } });
  });

  it('answers 404 when the session has only ended handovers or none', async () => {
    const store = storeWith(conversationRecord({ status: 'cancelled' }));
    expect(await failure(getHandoverStatus(active('session-1'), { store }))).toEqual({
      status: 404,
      code: 'HANDOVER_NOT_FOUND',
    });
    expect(await failure(getHandoverStatus(active('session-9'), { store }))).toEqual({
      status: 404,
      code: 'HANDOVER_NOT_FOUND',
    });
  });

  it('needs a sessionId', async () => {
    const store = storeWith(conversationRecord());
    expect(await failure(getHandoverStatus(active(), { store }))).toEqual({
      status: 400,
      code: 'SESSION_ID_REQUIRED',
    });
    expect(await failure(getHandoverStatus(active('  '), { store }))).toEqual({
      status: 400,
      code: 'SESSION_ID_REQUIRED',
    });
  });
});
