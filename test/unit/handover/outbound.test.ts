import '../../helpers/env';
import { UpstreamError } from '../../../functions/shared/errors';
import { logger } from '../../../functions/shared/powertools';
import { ChatGatewayError } from '../../../functions/handover/chat-gateway-client';
import {
  deliverOutboundItem,
  recordOutboundExhausted,
  type OutboundDeps,
} from '../../../functions/handover/outbound';
import type { ConversationRecord, OutboundItem } from '../../../functions/handover/ports';
import { conversationRecord, FakeChatGateway, FakeClock, MemoryStore } from './fakes';

beforeAll(() => logger.setLogLevel('SILENT'));

const messageItem = (itemId = 'item-1', text = 'Hello agent'): OutboundItem => ({
  kind: 'message',
  itemId,
  conversationId: 'conv-1',
  text,
  requestedAt: '2026-03-01T11:59:59.000Z',
});
const endItem: OutboundItem = {
  kind: 'end',
  itemId: 'end-1',
  conversationId: 'conv-1',
  requestedAt: '2026-03-01T11:59:59.000Z',
};

function setup(record: Partial<ConversationRecord> = {}) {
  const store = new MemoryStore();
  store.records.set('conv-1', conversationRecord({ status: 'active', agentId: 'agent-1', ...record }));
  const chatGateway = new FakeChatGateway();
  const deps: OutboundDeps = { store, chatGateway, clock: new FakeClock(), upstreamTimeoutMs: 4000 };
  return { store, chatGateway, deps };
}

describe('handover-outbound: queued user items → 8x8 Chat Gateway', () => {
  it('sends a message as the user and remembers the item', async () => {
    const { store, chatGateway, deps } = setup();
    expect(await deliverOutboundItem(messageItem(), deps)).toBe('delivered');
    expect(chatGateway.calls).toEqual([
      { op: 'sendUserMessage', conversationId: 'conv-1', text: 'Hello agent', options: { timeoutMs: 4000 } },
    ]);
    expect((await store.get('conv-1'))?.deliveredItemIds).toEqual(['item-1']);
  });

  it('does not send a redelivered item twice', async () => {
    const { chatGateway, deps } = setup();
    await deliverOutboundItem(messageItem(), deps);
    expect(await deliverOutboundItem(messageItem(), deps)).toBe('duplicate');
    expect(chatGateway.calls).toHaveLength(1);
  });

  it('ends the conversation as the user (PATCH participants/user) and records it', async () => {
    const { store, chatGateway, deps } = setup({ status: 'cancelled', endReason: 'userEnded' });
    expect(await deliverOutboundItem(endItem, deps)).toBe('delivered');
    expect(chatGateway.calls).toEqual([
      { op: 'endConversationAsUser', conversationId: 'conv-1', options: { timeoutMs: 4000 } },
    ]);
    expect((await store.get('conv-1'))?.userRemovedAt).toBe('2026-03-01T12:00:00.000Z');
    expect(await deliverOutboundItem({ ...endItem, itemId: 'end-2' }, deps)).toBe('duplicate');
    expect(chatGateway.calls).toHaveLength(1);
  });

  it('still sends messages accepted before the end, and none after the end reached 8x8', async () => {
    const { chatGateway, deps } = setup({ status: 'cancelled' });
    expect(await deliverOutboundItem(messageItem('m-1'), deps)).toBe('delivered');
    await deliverOutboundItem(endItem, deps);
    expect(await deliverOutboundItem(messageItem('m-2'), deps)).toBe('skippedAfterEnd');
    expect(chatGateway.calls.map((c) => c.op)).toEqual(['sendUserMessage', 'endConversationAsUser']);
  });

  it('does not send a message into a conversation the agent has completed', async () => {
    const { chatGateway, deps } = setup({ status: 'completed' });
    expect(await deliverOutboundItem(messageItem(), deps)).toBe('skippedClosed');
    expect(chatGateway.calls).toHaveLength(0);
  });

  it.each([
    ['500', new UpstreamError('8x8-chat-gateway', 'transient', 'answered 500', 500)],
    ['429', new UpstreamError('8x8-chat-gateway', 'rateLimited', 'answered 429', 429, undefined, 2000)],
    ['timeout', new UpstreamError('8x8-chat-gateway', 'transient', 'timeout', undefined, 'TIMEOUT')],
  ])('8x8 %s → thrown so the queue retries it later; nothing recorded', async (_name, failure) => {
    const { store, chatGateway, deps } = setup();
    chatGateway.failures.push(failure);
    await expect(deliverOutboundItem(messageItem(), deps)).rejects.toBe(failure);
    const record = await store.get('conv-1');
    expect(record?.deliveredItemIds).toEqual([]);
    expect(record?.lastError).toBeUndefined();
  });

  it('8x8 404 on a message → recorded, acknowledged, and the handover closed as error', async () => {
    const { store, chatGateway, deps } = setup();
    chatGateway.failures.push(
      new ChatGatewayError(
        'permanent',
        '8x8 answered 404',
        'Resource not found — Entity of type Conversation with id conv-1 was not found.',
        404,
        'resource_not_found',
      ),
    );
    expect(await deliverOutboundItem(messageItem(), deps)).toBe('conversationGone');
    expect(await store.get('conv-1')).toMatchObject({
      status: 'error',
      endReason: 'conversationGone',
      endedAt: '2026-03-01T12:00:00.000Z',
      deliveredItemIds: ['item-1'],
      lastError: {
        at: '2026-03-01T12:00:00.000Z',
        source: '8x8',
        operation: 'sendUserMessage',
        httpStatus: 404,
        code: 'resource_not_found',
        message: 'Resource not found — Entity of type Conversation with id conv-1 was not found.',
      },
    });
  });

  it('8x8 400 on a message → recorded and acknowledged; the handover stays open', async () => {
    const { store, chatGateway, deps } = setup();
    chatGateway.failures.push(
      new ChatGatewayError('permanent', '8x8 answered 400', 'Invalid authorType', 400, 'invalid_json_object'),
    );
    expect(await deliverOutboundItem(messageItem(), deps)).toBe('rejected');
    expect(await store.get('conv-1')).toMatchObject({
      status: 'active',
      lastError: { httpStatus: 400, code: 'invalid_json_object' },
    });
  });

  it('8x8 404 on the end → the conversation is gone already, so the end is done', async () => {
    const { store, chatGateway, deps } = setup({ status: 'cancelled' });
    chatGateway.failures.push(
      new ChatGatewayError('permanent', '8x8 answered 404', 'Resource not found', 404),
    );
    expect(await deliverOutboundItem(endItem, deps)).toBe('delivered');
    const record = await store.get('conv-1');
    expect(record?.userRemovedAt).toBe('2026-03-01T12:00:00.000Z');
    expect(record?.lastError).toBeUndefined();
  });

  it('8x8 403 on the end → recorded', async () => {
    const { store, chatGateway, deps } = setup({ status: 'cancelled' });
    chatGateway.failures.push(
      new ChatGatewayError('permanent', '8x8 answered 403', 'The tenant does not belong to customer.', 403),
    );
    expect(await deliverOutboundItem(endItem, deps)).toBe('rejected');
    expect(await store.get('conv-1')).toMatchObject({
      status: 'cancelled',
      lastError: {
        operation: 'endConversationAsUser',
        httpStatus: 403,
        message: 'The tenant does not belong to customer.',
      },
    });
  });

  it('acknowledges items for unknown conversations and malformed items', async () => {
    const { chatGateway, deps } = setup();
    expect(await deliverOutboundItem({ ...messageItem(), conversationId: 'other' }, deps)).toBe(
      'unknownConversation',
    );
    expect(await deliverOutboundItem({ kind: 'message', text: 1 }, deps)).toBe('invalid');
    expect(chatGateway.calls).toHaveLength(0);
  });

  it('records an exhausted item on the conversation (it then moves to the DLQ)', async () => {
    const { store, deps } = setup();
    await recordOutboundExhausted(
      messageItem(),
      new UpstreamError('8x8-chat-gateway', 'transient', 'answered 503', 503),
      deps,
    );
    expect((await store.get('conv-1'))?.lastError).toMatchObject({
      source: '8x8',
      operation: 'sendUserMessage',
      code: 'EXHAUSTED',
      httpStatus: 503,
    });
  });
});
