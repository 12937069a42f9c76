/**
 * The handover-relay consumer core: verified 8x8 Chat Gateway events (InboundEnvelope on the handoverInbound FIFO
 * queue, one group per conversation) become Cognigy Endpoint calls — `notify` for agent text, `inject` for
 * events — with `data.handover` in Cognigy's own vocabulary:
 *
 *   `{status, conversationId, provider: "8x8", event, agentId?, queueId?, queueName?, reason?}`
 *
 * `decideRelay` is the pure rule table (event + record + rules → Cognigy call and record change); `relayEvent`
 * runs it: skip events already relayed, push, then mark the event id on the record (conditional write) so a
 * redelivery is not pushed twice. Cognigy 429/5xx/timeouts are thrown (the consumer retries with backoff);
 * other 4xx are recorded on the conversation and acknowledged.
 */
import { UpstreamError } from '../shared/errors';
import type { CognigyPush } from '../shared/cognigy-client';
import { logger, metrics } from '../shared/powertools';
import { InboundEnvelopeSchema, typingUsers, type InboundEnvelope } from './events';
import { recordedError } from './outbound';
import type { Clock } from '../shared/runtime';
import {
  isClosed,
  type CognigyPort,
  type ConversationRecord,
  type ConversationStore,
  type EndReason,
  type HandoverStatus,
  type RecordedError,
} from './ports';
import { appendBounded, mutateRecord, type RecordChange } from './record';
import type { HandoverRules } from './rules';

/** Names of `data.handover.event`. */
export type RelayEventName =
  'queued' | 'agentJoined' | 'message' | 'transfer' | 'agentLeft' | 'idle' | 'userLeft' | 'typing';

export interface HandoverData {
  status: HandoverStatus;
  conversationId: string;
  provider: '8x8';
  event: RelayEventName;
  agentId?: string;
  queueId?: string;
  queueName?: string;
  reason?: EndReason;
  typing?: boolean;
}

export interface RelayPush {
  mode: 'inject' | 'notify';
  text: string;
  data: Record<string, unknown> & { handover: HandoverData };
  source?: 'agent';
}

export interface RelayDecision {
  push?: RelayPush;
  change?: RecordChange;
  /** Why nothing is pushed, for logs and tests. */
  skip?: string;
}

/** When an event happened: 8x8's timestamp, or when the webhook received it if 8x8 sent 0. */
export function eventTime(envelope: InboundEnvelope): number {
  return envelope.event.timestamp > 0 ? envelope.event.timestamp : envelope.receivedAt;
}

function handoverData(
  record: ConversationRecord,
  status: HandoverStatus,
  event: RelayEventName,
  extra: Partial<HandoverData> = {},
): HandoverData {
  const data: HandoverData = { status, conversationId: record.conversationId, provider: '8x8', event };
  for (const [key, value] of Object.entries(extra))
    if (value !== undefined) (data as unknown as Record<string, unknown>)[key] = value;
  return data;
}

const inject = (handover: HandoverData, extra: Record<string, unknown> = {}): RelayPush => ({
  mode: 'inject',
  text: '',
  data: { handover, ...extra },
});

function end(
  record: ConversationRecord,
  envelope: InboundEnvelope,
  now: Date,
  status: 'completed' | 'cancelled',
  reason: EndReason,
  event: RelayEventName,
): RelayDecision {
  return {
    push: inject(handoverData(record, status, event, { agentId: record.agentId, reason })),
    change: {
      set: { status, endedAt: now.toISOString(), endReason: reason, lastStatusEventTs: eventTime(envelope) },
      remove: ['transferPendingSince'],
    },
  };
}

/** Agent text with attachments as links ("fileName: preSignedUrl" lines), as the user's channel can show text only. */
export function agentText(
  text: string,
  attachments: readonly { fileName?: string; preSignedUrl?: string; id: string }[],
): string {
  const lines = attachments
    .filter((a) => a.preSignedUrl)
    .map((a) => `${a.fileName ?? a.id}: ${a.preSignedUrl}`);
  return [text, ...lines].filter((l) => l !== '').join('\n');
}

/**
 * The rule table. Given the current record and one event, what to push to Cognigy and how the record changes.
 * Events for closed conversations, echoes, and events older than the last status change do nothing.
 */
export function decideRelay(
  record: ConversationRecord,
  envelope: InboundEnvelope,
  rules: HandoverRules,
  now: Date,
): RelayDecision {
  const event = envelope.event;
  if (isClosed(record.status)) return { skip: 'closed' };
  const ts = event.timestamp;
  const stale = ts > 0 && record.lastStatusEventTs !== undefined && ts < record.lastStatusEventTs;

  switch (event.eventType) {
    case 'CONVERSATION_UPDATE': {
      if (event.data.state !== 'idle') return { skip: `state ${event.data.state}` };
      if (!rules.endOn.includes('idle')) return { skip: 'idle is not an end signal' };
      if (stale) return { skip: 'stale' };
      return end(record, envelope, now, 'completed', 'idle', 'idle');
    }

    case 'QUEUED': {
      const queue = { queueId: event.data.queueId, queueName: event.data.queueName };
      const queueFields = {
        queueId: queue.queueId,
        ...(queue.queueName ? { queueName: queue.queueName } : {}),
        queuedAt: now.toISOString(),
      };
      // Queued again while an agent has the chat: a re-queue if it is newer than the agent joining, else a late
      // (retried) delivery of the first QUEUED that must not undo the agent.
      const requeued =
        record.status === 'active' &&
        ts > 0 &&
        record.lastStatusEventTs !== undefined &&
        ts > record.lastStatusEventTs;
      if (record.status === 'active' && !requeued)
        return { change: { set: queueFields }, skip: 'queued while active' };
      const change: RecordChange = requeued
        ? { set: { ...queueFields, status: 'queue', lastStatusEventTs: ts }, remove: ['agentId'] }
        : { set: queueFields };
      if (!rules.injectQueueEvents) return { change, skip: 'queue events are not injected' };
      return { change, push: inject(handoverData(record, 'queue', 'queued', queue)) };
    }

    case 'MEMBERS_CHANGED': {
      const { memberType, change: what, id } = event.data;
      if (memberType === 'agent' && what === 'joined') {
        if (record.status === 'active' && record.agentId === id) return { skip: 'agent already active' };
        if (stale) return { skip: 'stale' };
        const change: RecordChange = {
          set: {
            status: 'active',
            agentId: id,
            activeAt: now.toISOString(),
            lastStatusEventTs: eventTime(envelope),
          },
          remove: ['transferPendingSince'],
        };
        if (!rules.injectActiveEvent) return { change, skip: 'active events are not injected' };
        return { change, push: inject(handoverData(record, 'active', 'agentJoined', { agentId: id })) };
      }
      if (memberType === 'agent' && what === 'left') {
        if (record.agentId !== undefined && record.agentId !== id) return { skip: 'another agent left' };
        if (stale) return { skip: 'stale' };
        const transferAt = record.transferPendingSince;
        const inTransfer =
          transferAt !== undefined &&
          (rules.transferGraceMs === 0 || eventTime(envelope) - transferAt <= rules.transferGraceMs);
        if (inTransfer)
          return {
            change: { set: { status: 'queue' }, remove: ['agentId'] },
            skip: 'agent left for a transfer',
          };
        if (!rules.endOn.includes('agentLeft'))
          return { change: { set: {}, remove: ['agentId'] }, skip: 'agentLeft is not an end signal' };
        return end(record, envelope, now, 'completed', 'agentLeft', 'agentLeft');
      }
      if (memberType === 'user' && what === 'left') {
        if (!rules.endOn.includes('userLeft')) return { skip: 'userLeft is not an end signal' };
        if (stale) return { skip: 'stale' };
        return end(record, envelope, now, 'cancelled', 'userLeft', 'userLeft');
      }
      return { skip: 'user joined' };
    }

    case 'TRANSFER': {
      if (stale) return { skip: 'stale' };
      const change: RecordChange = {
        set: {
          status: 'queue',
          transferPendingSince: eventTime(envelope),
          lastStatusEventTs: eventTime(envelope),
        },
      };
      if (!rules.injectQueueEvents) return { change, skip: 'queue events are not injected' };
      return { change, push: inject(handoverData(record, 'queue', 'transfer', { agentId: record.agentId })) };
    }

    case 'MESSAGE': {
      const { sender, isEcho, text, attachments, cards } = event.data;
      if (sender.type !== 'agent') return { skip: `message from ${sender.type}` };
      if (isEcho && !rules.forwardEchoes) return { skip: 'echo' };
      const body = agentText(text, attachments);
      if (body === '' && cards.length === 0) return { skip: 'empty message' };
      // An agent writing is an agent in the chat, even if its join event is late or was lost; but the agent who
      // is transferring the chat away may still write before leaving, and that does not undo the transfer.
      const transferringAgent = record.transferPendingSince !== undefined && record.agentId === sender.id;
      const change: RecordChange | undefined =
        transferringAgent || (record.status === 'active' && record.agentId === sender.id)
          ? undefined
          : {
              set: {
                status: 'active',
                agentId: sender.id,
                ...(record.activeAt ? {} : { activeAt: now.toISOString() }),
              },
              remove: ['transferPendingSince'],
            };
      const status = transferringAgent ? record.status : 'active';
      const handover = handoverData(record, status, 'message', { agentId: sender.id });
      const links = attachments
        .filter((a) => a.preSignedUrl)
        .map((a) => ({ id: a.id, type: a.type, fileName: a.fileName, url: a.preSignedUrl }));
      const data = {
        handover,
        ...(links.length ? { attachments: links } : {}),
        ...(cards.length ? { cards } : {}),
      };
      const push: RelayPush =
        rules.agentMessageMode === 'notify'
          ? { mode: 'notify', text: body, data, source: 'agent' }
          : { mode: 'inject', text: body, data };
      return { push, ...(change ? { change } : {}) };
    }

    case 'ACTIVITY': {
      const users = typingUsers(event);
      if (users === undefined) return { skip: `activity ${event.data.name}` };
      if (rules.typing !== 'inject') return { skip: 'typing is ignored' };
      const agents = users.filter((u) => u.type === 'agent');
      if (users.length > 0 && agents.length === 0) return { skip: 'user typing' };
      const typing = agents.length > 0;
      return {
        push: inject(
          handoverData(record, record.status, 'typing', { agentId: agents[0]?.id ?? record.agentId, typing }),
        ),
      };
    }
  }
}

export interface RelayDeps {
  store: ConversationStore;
  cognigy: CognigyPort;
  clock: Clock;
  rules: HandoverRules;
}

export type RelayOutcome =
  'relayed' | 'recorded' | 'skipped' | 'duplicate' | 'unknownConversation' | 'invalid' | 'rejected';

/** The conversation is not recorded yet (8x8 can be faster than POST /handover); thrown so the event is retried. */
export class ConversationNotYetKnownError extends Error {
  constructor(conversationId: string) {
    super(`Conversation ${conversationId} is not recorded yet`);
    this.name = 'ConversationNotYetKnownError';
  }
}

export async function relayEvent(
  body: unknown,
  deps: RelayDeps,
  ctx: { lastAttempt?: boolean } = {},
): Promise<RelayOutcome> {
  const parsed = InboundEnvelopeSchema.safeParse(body);
  if (!parsed.success) {
    metrics.addMetric('HandoverRelayInvalid', 'Count', 1);
    logger.error('Inbound handover event is not valid; dropped', {
      issues: parsed.error.issues.map((i) => i.path.join('.')),
    });
    return 'invalid';
  }
  const envelope = parsed.data as InboundEnvelope;
  const { event, eventId } = envelope;
  const conversationId = event.conversationId;
  const log = { conversationId, eventType: event.eventType, eventId };
  const now = deps.clock.now();

  const record = await deps.store.get(conversationId);
  if (!record) {
    const young = now.getTime() - envelope.receivedAt < deps.rules.unknownConversationRetryMs;
    if (young && !ctx.lastAttempt) throw new ConversationNotYetKnownError(conversationId);
    logger.info('Event for a conversation this bridge does not know; acknowledged', log);
    return 'unknownConversation';
  }
  if (record.relayedEventIds.includes(eventId)) {
    logger.info('Event already relayed; skipped', { ...log, status: record.status });
    return 'duplicate';
  }

  const decision = decideRelay(record, envelope, deps.rules, now);
  let pushFailure: RecordedError | undefined;
  if (decision.push) {
    const endpointBaseUrl = record.endpointBaseUrl ?? (await deps.cognigy.defaultEndpointBaseUrl());
    if (!endpointBaseUrl) {
      pushFailure = {
        at: now.toISOString(),
        source: 'cognigy',
        operation: decision.push.mode,
        code: 'NO_ENDPOINT_BASE_URL',
        message: 'No Cognigy Endpoint base URL is configured',
      };
    } else {
      const push: CognigyPush = {
        userId: record.userId,
        sessionId: record.sessionId,
        text: decision.push.text,
        data: decision.push.data,
        ...(decision.push.source ? { source: decision.push.source } : {}),
      };
      try {
        await deps.cognigy.push(decision.push.mode, { endpointBaseUrl, urlToken: record.urlToken }, push);
      } catch (error) {
        if (!(error instanceof UpstreamError) || error.retryable) {
          logger.warn('Cognigy push failed; will retry', {
            ...log,
            status: record.status,
            ...(error instanceof UpstreamError
              ? { httpStatus: error.httpStatus, code: error.upstreamCode }
              : {}),
          });
          throw error;
        }
        pushFailure = recordedError(error, decision.push.mode, now.toISOString(), 'cognigy');
      }
    }
  }

  if (decision.push || decision.change) {
    // The event is marked in the same conditional write as its state change. If the record moved on since it was
    // read, the change is decided again on the current record; the push is not repeated.
    await mutateRecord(
      deps.store,
      conversationId,
      (current) => {
        if (current.relayedEventIds.includes(eventId)) return null;
        const change =
          current.version === record.version
            ? decision.change
            : decideRelay(current, envelope, deps.rules, now).change;
        if (!decision.push && !change) return null;
        return {
          set: {
            ...(change?.set ?? {}),
            ...(decision.push ? { relayedEventIds: appendBounded(current.relayedEventIds, eventId) } : {}),
            ...(pushFailure ? { lastError: pushFailure } : {}),
          },
          ...(change?.remove ? { remove: change.remove } : {}),
        };
      },
      { initial: record },
    );
  }

  const status = decision.change?.set.status ?? record.status;
  if (pushFailure) {
    metrics.addMetric('HandoverRelayRejected', 'Count', 1);
    logger.warn('Cognigy refused the event; recorded', {
      ...log,
      status,
      httpStatus: pushFailure.httpStatus,
      code: pushFailure.code,
    });
    return 'rejected';
  }
  if (decision.push) {
    metrics.addMetric('HandoverRelayed', 'Count', 1);
    logger.info('Event relayed to Cognigy', {
      ...log,
      status,
      mode: decision.push.mode,
      handoverEvent: decision.push.data.handover.event,
    });
    return 'relayed';
  }
  logger.info('Event not relayed', { ...log, status, reason: decision.skip });
  return decision.change ? 'recorded' : 'skipped';
}

/** The last delivery failed too: the event goes to the DLQ (redrive re-sends it), and the conversation shows why. */
export async function recordRelayExhausted(
  body: unknown,
  error: unknown,
  deps: Pick<RelayDeps, 'store' | 'clock'>,
): Promise<void> {
  const parsed = InboundEnvelopeSchema.safeParse(body);
  if (!parsed.success) return;
  const { event, eventId } = parsed.data;
  const at = deps.clock.now().toISOString();
  const lastError: RecordedError =
    error instanceof UpstreamError
      ? { ...recordedError(error, 'push', at, 'cognigy'), code: 'EXHAUSTED' }
      : {
          at,
          source: 'cognigy',
          operation: 'push',
          code: 'EXHAUSTED',
          message: 'Relaying failed on every attempt',
        };
  // Only the error is recorded: the event is not marked, so a DLQ redrive still relays it.
  await mutateRecord(deps.store, event.conversationId, () => ({ set: { lastError } }));
  logger.error('Event exhausted its retries; moved to the DLQ', {
    conversationId: event.conversationId,
    eventType: event.eventType,
    eventId,
  });
}
