/**
 * POST /handover/{conversationId}/messages and POST /handover/{conversationId}/end: both put an item on the
 * handoverOutbound FIFO queue with MessageGroupId = conversation, so the user's messages reach the agent in the
 * order they were accepted and an end request follows every message accepted before it.
 */
import { createHash } from 'node:crypto';
import type { ApiRequest, ApiResponse } from '../shared/http';
import { logger, metrics } from '../shared/powertools';
import { tenancyOf, visibleTo, type Tenancy } from '../shared/tenancy';
import { sqsFifoId } from './events';
import {
  HandoverClosedError,
  HandoverNotFoundError,
  HandoverSessionMismatchError,
  QueueUnavailableError,
} from './error-codes';
import type { Clock, Ids } from '../shared/runtime';
import {
  isClosed,
  type ConversationRecord,
  type ConversationStore,
  type OutboundItem,
  type OutboundQueue,
} from './ports';
import { mutateRecord } from './record';
import { conversationIdFrom, normaliseEndRequest, normaliseMessageRequest } from './schema';

export interface RequestDeps {
  store: ConversationStore;
  queue: OutboundQueue;
  clock: Clock;
  ids: Ids;
  /** UNOWNED_RECORDS_OWNER (functions/shared/tenancy.ts). */
  unownedRecordsOwner?: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * FIFO deduplication ids are scoped to the whole queue, so a caller's clientMessageId is combined with the
 * conversation (two conversations may both use "1"); without one every request is a new message.
 */
export function messageDeduplicationId(
  conversationId: string,
  clientMessageId: string | undefined,
  itemId: string,
): string {
  return clientMessageId === undefined ? itemId : sha256(`message\n${conversationId}\n${clientMessageId}`);
}

/** One end per conversation: a repeated end request within SQS's 5-minute window is dropped by the queue. */
export function endDeduplicationId(conversationId: string): string {
  return sha256(`end\n${conversationId}`);
}

/** The record, if the caller's key owns it; another key's handover is answered like an unknown one. */
async function loadRecord(
  store: ConversationStore,
  conversationId: string,
  tenancy: Tenancy,
): Promise<ConversationRecord> {
  const record = await store.get(conversationId);
  if (!record || !visibleTo(record.owner, tenancy))
    throw new HandoverNotFoundError(`No handover with conversation id ${conversationId}`);
  return record;
}

/** The sessionId (required) and, when sent, the userId must be the ones that started the handover. */
function checkSession(record: ConversationRecord, claimed: { userId?: string; sessionId: string }): void {
  if (claimed.sessionId !== record.sessionId || (claimed.userId && claimed.userId !== record.userId)) {
    throw new HandoverSessionMismatchError(record.conversationId);
  }
}

async function enqueue(deps: RequestDeps, item: OutboundItem, deduplicationId: string): Promise<void> {
  try {
    await deps.queue.send(item, { groupId: sqsFifoId(item.conversationId), deduplicationId });
  } catch (error) {
    logger.error('Could not queue the handover item', {
      conversationId: item.conversationId,
      kind: item.kind,
      error: error as Error,
    });
    throw new QueueUnavailableError({ cause: error });
  }
}

export async function relayUserMessage(request: ApiRequest, deps: RequestDeps): Promise<ApiResponse> {
  const conversationId = conversationIdFrom(request.pathParameters);
  const input = normaliseMessageRequest(request.body);
  if ('bridgeEventId' in input) {
    // The flow's relay step ran for one of the bridge's own pushes: nothing for the agent, and no reason to fail.
    metrics.addMetric('HandoverMessageBridgeEventIgnored', 'Count', 1);
    logger.debug('Bridge push not relayed to the agent', {
      conversationId,
      bridgeEventId: input.bridgeEventId,
    });
    return { statusCode: 200, body: { ok: true, queued: false, conversationId, ignored: 'bridgeEvent' } };
  }
  const record = await loadRecord(deps.store, conversationId, tenancyOf(request, deps));
  checkSession(record, input);
  if (isClosed(record.status)) throw new HandoverClosedError(conversationId, record.status);

  const itemId = deps.ids.uuid();
  const item: OutboundItem = {
    kind: 'message',
    itemId,
    conversationId,
    text: input.text,
    ...(input.clientMessageId !== undefined ? { clientMessageId: input.clientMessageId } : {}),
    requestedAt: deps.clock.now().toISOString(),
  };
  await enqueue(deps, item, messageDeduplicationId(conversationId, input.clientMessageId, itemId));
  metrics.addMetric('HandoverMessageQueued', 'Count', 1);
  logger.info('User message queued for the agent', { conversationId, status: record.status, itemId });
  return {
    statusCode: 202,
    body: {
      ok: true,
      queued: true,
      conversationId,
      ...(input.clientMessageId !== undefined ? { clientMessageId: input.clientMessageId } : {}),
    },
  };
}

/**
 * Ends the chat from the user's side. The end item is queued first and the record marked `cancelled` after, so
 * a failure in between loses nothing: a retried request queues again (deduplicated) and marks the record.
 * Ending an ended handover answers 200 with its status (idempotent).
 */
export async function endHandover(request: ApiRequest, deps: RequestDeps): Promise<ApiResponse> {
  const conversationId = conversationIdFrom(request.pathParameters);
  const input = normaliseEndRequest(request.body);
  const record = await loadRecord(deps.store, conversationId, tenancyOf(request, deps));
  checkSession(record, input);
  if (isClosed(record.status)) return ended(conversationId, record.status, true);

  await enqueue(
    deps,
    { kind: 'end', itemId: deps.ids.uuid(), conversationId, requestedAt: deps.clock.now().toISOString() },
    endDeduplicationId(conversationId),
  );
  const now = deps.clock.now().toISOString();
  const result = await mutateRecord(
    deps.store,
    conversationId,
    (current) =>
      isClosed(current.status)
        ? null
        : {
            set: { status: 'cancelled', endedAt: now, endReason: 'userEnded' },
            remove: ['transferPendingSince'],
          },
    { initial: record },
  );
  if (result.outcome === 'missing')
    throw new HandoverNotFoundError(`No handover with conversation id ${conversationId}`);
  if (result.outcome === 'unchanged') {
    // The agent or 8x8 ended it while we were queueing; the end item still reaches 8x8 and is harmless there.
    return ended(conversationId, result.record.status, true);
  }
  metrics.addMetric('HandoverEndedByUser', 'Count', 1);
  logger.info('Handover ended by the user', { conversationId, status: 'cancelled' });
  return ended(conversationId, 'cancelled', false);
}

function ended(conversationId: string, status: string, alreadyEnded: boolean): ApiResponse {
  return {
    statusCode: 200,
    body: { ok: true, conversationId, handover: { status }, ...(alreadyEnded ? { alreadyEnded: true } : {}) },
  };
}
