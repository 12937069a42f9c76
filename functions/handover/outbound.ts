/**
 * The handover-outbound consumer core: items from the handoverOutbound FIFO queue (one group per conversation)
 * become Chat Gateway calls, in order.
 * - `message` → POST .../conversations/{id}/messages {authorType: user, text}
 * - `end`     → PATCH .../conversations/{id}/participants/user {removed: true}
 * 429, 5xx and timeouts are thrown, so the queue consumer retries them with backoff (FIFO keeps later items of
 * the conversation waiting). Other 4xx are recorded on the conversation (`lastError`) and acknowledged: 404 means
 * 8x8 no longer knows the conversation, so a message closes the record with status `error`, and an end is simply
 * done. An item already delivered (redelivery after a crash) is skipped.
 */
import { UpstreamError } from '../shared/errors';
import { logger, metrics } from '../shared/powertools';
import * as z from '../shared/zod';
import { ChatGatewayError } from './chat-gateway-client';
import type { Clock } from '../shared/runtime';
import {
  isClosed,
  type ChatGateway,
  type ConversationStore,
  type OutboundItem,
  type RecordedError,
} from './ports';
import { appendBounded, mutateRecord } from './record';

export const outboundItemSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('message'),
    itemId: z.string().check(z.minLength(1)),
    conversationId: z.string().check(z.minLength(1)),
    text: z.string(),
    clientMessageId: z.optional(z.string()),
    requestedAt: z.string(),
  }),
  z.object({
    kind: z.literal('end'),
    itemId: z.string().check(z.minLength(1)),
    conversationId: z.string().check(z.minLength(1)),
    requestedAt: z.string(),
  }),
]);

export interface OutboundDeps {
  store: ConversationStore;
  chatGateway: ChatGateway;
  clock: Clock;
  upstreamTimeoutMs: number;
}

export type OutboundOutcome =
  | 'delivered'
  | 'invalid'
  | 'unknownConversation'
  | 'duplicate'
  | 'skippedAfterEnd'
  | 'skippedClosed'
  | 'rejected'
  | 'conversationGone';

const operationOf = (item: OutboundItem) =>
  item.kind === 'message' ? 'sendUserMessage' : 'endConversationAsUser';

export function recordedError(
  error: UpstreamError,
  operation: string,
  at: string,
  source: RecordedError['source'],
): RecordedError {
  const reason = error instanceof ChatGatewayError ? error.reason : undefined;
  return {
    at,
    source,
    operation,
    ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
    ...(error.upstreamCode !== undefined ? { code: String(error.upstreamCode) } : {}),
    message: (reason ?? error.message).slice(0, 300),
  };
}

export async function deliverOutboundItem(body: unknown, deps: OutboundDeps): Promise<OutboundOutcome> {
  const parsed = outboundItemSchema.safeParse(body);
  if (!parsed.success) {
    // Only this bridge writes the queue, so a bad item is a defect: keep the conversation's group moving, say so loudly.
    metrics.addMetric('HandoverOutboundInvalid', 'Count', 1);
    logger.error('Handover outbound item is not valid; dropped', {
      issues: parsed.error.issues.map((i) => i.path.join('.')),
    });
    return 'invalid';
  }
  const item = parsed.data as OutboundItem;
  const { conversationId } = item;
  const log = { conversationId, kind: item.kind, itemId: item.itemId };

  const record = await deps.store.get(conversationId);
  if (!record) {
    logger.warn('Outbound item for an unknown conversation; dropped', log);
    return 'unknownConversation';
  }
  if (record.deliveredItemIds.includes(item.itemId)) return 'duplicate';
  if (item.kind === 'end' && record.userRemovedAt) return 'duplicate';
  if (item.kind === 'message') {
    // Messages accepted before an end are still sent (they precede it in the group); none after the end reached 8x8.
    if (record.userRemovedAt) {
      logger.warn('User message after the end; not sent', { ...log, status: record.status });
      return 'skippedAfterEnd';
    }
    if (isClosed(record.status) && record.status !== 'cancelled') {
      logger.warn('User message for an ended conversation; not sent', { ...log, status: record.status });
      return 'skippedClosed';
    }
  }

  const timeoutMs = deps.upstreamTimeoutMs;
  let failure: UpstreamError | undefined;
  try {
    if (item.kind === 'message')
      await deps.chatGateway.sendUserMessage(conversationId, item.text, { timeoutMs });
    else await deps.chatGateway.endConversationAsUser(conversationId, { timeoutMs });
  } catch (error) {
    if (!(error instanceof UpstreamError) || error.retryable) throw error;
    failure = error;
  }

  const now = deps.clock.now().toISOString();
  if (!failure || (item.kind === 'end' && failure.httpStatus === 404)) {
    // A 404 on the end means 8x8 has already closed the conversation: the user's end is done either way.
    await mutateRecord(deps.store, conversationId, (current) => ({
      set: {
        deliveredItemIds: appendBounded(current.deliveredItemIds, item.itemId),
        ...(item.kind === 'end' ? { userRemovedAt: now } : {}),
      },
    }));
    metrics.addMetric('HandoverOutboundDelivered', 'Count', 1);
    logger.info(item.kind === 'message' ? 'User message sent to 8x8' : 'User end sent to 8x8', {
      ...log,
      status: record.status,
    });
    return 'delivered';
  }

  const lastError = recordedError(failure, operationOf(item), now, '8x8');
  const gone = failure.httpStatus === 404;
  await mutateRecord(deps.store, conversationId, (current) => ({
    set: {
      lastError,
      deliveredItemIds: appendBounded(current.deliveredItemIds, item.itemId),
      ...(gone && !isClosed(current.status)
        ? { status: 'error' as const, endedAt: now, endReason: 'conversationGone' as const }
        : {}),
    },
  }));
  metrics.addMetric('HandoverOutboundRejected', 'Count', 1);
  logger.warn('8x8 refused the outbound item; recorded', {
    ...log,
    httpStatus: failure.httpStatus,
    code: failure.upstreamCode,
  });
  return gone ? 'conversationGone' : 'rejected';
}

/** The last delivery failed too: the item goes to the DLQ, and the conversation shows why. */
export async function recordOutboundExhausted(
  body: unknown,
  error: unknown,
  deps: Pick<OutboundDeps, 'store' | 'clock'>,
): Promise<void> {
  const parsed = outboundItemSchema.safeParse(body);
  if (!parsed.success) return;
  const item = parsed.data as OutboundItem;
  const at = deps.clock.now().toISOString();
  const lastError: RecordedError =
    error instanceof UpstreamError
      ? { ...recordedError(error, operationOf(item), at, '8x8'), code: 'EXHAUSTED' }
      : {
          at,
          source: '8x8',
          operation: operationOf(item),
          code: 'EXHAUSTED',
          message: 'Delivery failed on every attempt',
        };
  if (error instanceof UpstreamError && error.httpStatus !== undefined)
    lastError.httpStatus = error.httpStatus;
  await mutateRecord(deps.store, item.conversationId, () => ({ set: { lastError } }));
  logger.error('Outbound item exhausted its retries; moved to the DLQ', {
    conversationId: item.conversationId,
    kind: item.kind,
    itemId: item.itemId,
  });
}
