/**
 * The handover-relay consumer core: verified 8x8 Chat Gateway events (InboundEnvelope on the handoverInbound FIFO
 * queue, one group per conversation) become Cognigy Endpoint calls — `notify` for agent text, `inject` for
 * events — with `data.handover` in Cognigy's own vocabulary:
 *
 *   `{status, conversationId, provider: "8x8", event, agentId?, queueId?, queueName?, reason?}`
 *
 * The rule table (relay-rules.ts, pure: event + record + rules → Cognigy call and record change) decides;
 * `relayEvent` runs it: skip events already relayed, push, then mark the event id on the record (conditional
 * write) so a redelivery is not pushed twice. Cognigy 429/5xx/timeouts are thrown (the consumer retries with
 * backoff); other 4xx are recorded on the conversation and acknowledged.
 */
import { UpstreamError } from '../shared/errors';
import { chatBridgeEventId, type CognigyPush } from '../shared/cognigy-client';
import type { Clock, Telemetry } from '../shared/runtime';
import { InboundEnvelopeSchema, type InboundEnvelope } from './events';
import { recordedError } from './outbound';
import type { CognigyPort, ConversationRecord, ConversationStore, RecordedError } from './ports';
import { appendBounded, mutateRecord } from './record';
import {
  checkAgainstConversation,
  decideRelay,
  eventTime,
  type RelayDecision,
  type RelayPush,
  type RelayRefusal,
} from './relay-rules';
import type { HandoverRules } from './rules';

export {
  agentText,
  checkAgainstConversation,
  decideRelay,
  eventTime,
  type HandoverData,
  type RelayDecision,
  type RelayEventName,
  type RelayPush,
  type RelayRefusal,
} from './relay-rules';

export interface RelayDeps {
  store: ConversationStore;
  cognigy: CognigyPort;
  clock: Clock;
  rules: HandoverRules;
  telemetry: Telemetry;
}

export type RelayOutcome =
  | 'relayed'
  | 'recorded'
  | 'skipped'
  | 'duplicate'
  | 'unknownConversation'
  | 'invalid'
  | 'rejected'
  | 'refused';

/** The conversation is not recorded yet (8x8 can be faster than POST /handover); thrown so the event is retried. */
export class ConversationNotYetKnownError extends Error {
  constructor(conversationId: string) {
    super(`Conversation ${conversationId} is not recorded yet`);
    this.name = 'ConversationNotYetKnownError';
  }
}

type LogFields = { conversationId: string; eventType: string; eventId: string };

interface PushAttempt {
  now: Date;
  eventId: string;
  /** A redelivery: the earlier try may have arrived (PushOptions.retry). */
  retry: boolean;
  /** Data marking the order: `gap` (an earlier event is in the DLQ), `redriven` + `eventTime` (this is that event). */
  order: Record<string, unknown>;
}

/**
 * Order marks for the flow (issue: order after a poisoned event). While an earlier event of the conversation is in
 * the DLQ, pushes carry `gap: true`; the redriven event itself carries `redriven: true` and 8x8's `eventTime`, so the
 * flow can put it in its place.
 */
export function orderMarks(record: ConversationRecord, envelope: InboundEnvelope): Record<string, unknown> {
  const gaps = record.gapEventIds ?? [];
  if (gaps.includes(envelope.eventId)) {
    const others = gaps.filter((id) => id !== envelope.eventId);
    return {
      redriven: true,
      // ISO 8601 UTC with milliseconds, as every timestamp the bridge hands out.
      eventTime: new Date(eventTime(envelope)).toISOString(),
      ...(others.length ? { gap: true } : {}),
    };
  }
  return gaps.length ? { gap: true } : {};
}

function parseEnvelope(body: unknown, telemetry: Telemetry): InboundEnvelope | undefined {
  const parsed = InboundEnvelopeSchema.safeParse(body);
  if (parsed.success) return parsed.data as InboundEnvelope;
  telemetry.count('HandoverRelayInvalid');
  telemetry.log.error('Inbound handover event is not valid; dropped', {
    issues: parsed.error.issues.map((i) => i.path.join('.')),
  });
  return undefined;
}

/** The event's conversation; thrown while it may still be recorded (8x8 can be faster than POST /handover). */
async function conversationOf(
  envelope: InboundEnvelope,
  deps: RelayDeps,
  now: Date,
  lastAttempt: boolean,
): Promise<ConversationRecord | undefined> {
  const conversationId = envelope.event.conversationId;
  const record = await deps.store.get(conversationId);
  if (record) return record;
  const young = now.getTime() - envelope.receivedAt < deps.rules.unknownConversationRetryMs;
  if (young && !lastAttempt) throw new ConversationNotYetKnownError(conversationId);
  return undefined;
}

/**
 * Pushes the decision to the conversation's Cognigy session. A failure Cognigy will keep refusing (a 4xx other
 * than 429, or no Endpoint base URL) is returned to be recorded; anything worth retrying is thrown.
 */
async function push(
  record: ConversationRecord,
  relay: RelayPush,
  deps: RelayDeps,
  attempt: PushAttempt,
  log: LogFields,
): Promise<RecordedError | undefined> {
  const { now } = attempt;
  const endpointBaseUrl = record.endpointBaseUrl ?? (await deps.cognigy.defaultEndpointBaseUrl());
  if (!endpointBaseUrl) {
    return {
      at: now.toISOString(),
      source: 'cognigy',
      operation: relay.mode,
      code: 'NO_ENDPOINT_BASE_URL',
      message: 'No Cognigy Endpoint base URL is configured',
    };
  }
  const body: CognigyPush = {
    userId: record.userId,
    sessionId: record.sessionId,
    text: relay.text,
    data: { ...relay.data, ...attempt.order, bridgeEventId: chatBridgeEventId(attempt.eventId) },
    ...(relay.source ? { source: relay.source } : {}),
  };
  try {
    const target = { endpointBaseUrl, urlToken: record.urlToken };
    await deps.cognigy.push(relay.mode, target, body, { retry: attempt.retry });
    return undefined;
  } catch (error) {
    // Every failed push, whether Cognigy refused it for good (recorded) or it is retried.
    deps.telemetry.count('HandoverRelayPushFailed');
    if (error instanceof UpstreamError && !error.retryable)
      return recordedError(error, relay.mode, now.toISOString(), 'cognigy');
    deps.telemetry.log.warn('Cognigy push failed; will retry', {
      ...log,
      status: record.status,
      ...(error instanceof UpstreamError ? { httpStatus: error.httpStatus, code: error.upstreamCode } : {}),
    });
    throw error;
  }
}

/**
 * Marks the event in the same conditional write as its state change. If the record moved on since it was read,
 * the change is decided again on the current record; the push is not repeated.
 */
async function record(
  read: ConversationRecord,
  envelope: InboundEnvelope,
  decision: RelayDecision,
  pushFailure: RecordedError | undefined,
  deps: RelayDeps,
  now: Date,
): Promise<void> {
  const { eventId } = envelope;
  await mutateRecord(
    deps.store,
    read.conversationId,
    (current) => {
      if (current.relayedEventIds.includes(eventId)) return null;
      const change =
        current.version === read.version
          ? decision.change
          : decideRelay(current, envelope, deps.rules, now).change;
      const gaps = current.gapEventIds ?? [];
      const closesGap = gaps.includes(eventId);
      if (!decision.push && !change && !closesGap) return null;
      const remainingGaps = gaps.filter((id) => id !== eventId);
      const remove = [
        ...(change?.remove ?? []),
        ...(closesGap && !remainingGaps.length ? ['gapEventIds' as const] : []),
      ];
      return {
        set: {
          ...(change?.set ?? {}),
          ...(decision.push ? { relayedEventIds: appendBounded(current.relayedEventIds, eventId) } : {}),
          ...(pushFailure ? { lastError: pushFailure } : {}),
          ...(closesGap && remainingGaps.length ? { gapEventIds: remainingGaps } : {}),
        },
        ...(remove.length ? { remove } : {}),
      };
    },
    { initial: read },
  );
}

/** A verified event that does not fit its conversation: nothing reaches Cognigy; logged as a security event. */
function refuse(
  reason: RelayRefusal,
  read: ConversationRecord,
  log: LogFields,
  telemetry: Telemetry,
): RelayOutcome {
  telemetry.count('HandoverRelayRefused');
  telemetry.log.warn('Security event: relayed event refused, it does not fit the stored conversation', {
    ...log,
    securityEvent: 'HANDOVER_EVENT_REFUSED',
    reason,
    status: read.status,
  });
  return 'refused';
}

/** Logs and counts what became of the event. */
function report(
  decision: RelayDecision,
  pushFailure: RecordedError | undefined,
  status: string,
  log: LogFields,
  telemetry: Telemetry,
): RelayOutcome {
  if (pushFailure) {
    telemetry.count('HandoverRelayRejected');
    telemetry.log.warn('Cognigy refused the event; recorded', {
      ...log,
      status,
      httpStatus: pushFailure.httpStatus,
      code: pushFailure.code,
    });
    return 'rejected';
  }
  if (decision.push) {
    telemetry.count('HandoverRelayed');
    telemetry.log.info('Event relayed to Cognigy', {
      ...log,
      status,
      mode: decision.push.mode,
      handoverEvent: decision.push.data.handover.event,
    });
    return 'relayed';
  }
  telemetry.log.info('Event not relayed', { ...log, status, reason: decision.skip });
  return decision.change ? 'recorded' : 'skipped';
}

export async function relayEvent(
  body: unknown,
  deps: RelayDeps,
  ctx: { lastAttempt?: boolean; receiveCount?: number } = {},
): Promise<RelayOutcome> {
  const envelope = parseEnvelope(body, deps.telemetry);
  if (!envelope) return 'invalid';
  const { event, eventId } = envelope;
  const log = { conversationId: event.conversationId, eventType: event.eventType, eventId };
  const now = deps.clock.now();
  const read = await conversationOf(envelope, deps, now, ctx.lastAttempt ?? false);
  if (!read) {
    deps.telemetry.log.info('Event for a conversation this bridge does not know; acknowledged', log);
    return 'unknownConversation';
  }
  if (read.relayedEventIds.includes(eventId)) {
    deps.telemetry.log.info('Event already relayed; skipped', { ...log, status: read.status });
    return 'duplicate';
  }
  const refusal = checkAgainstConversation(read, event);
  if (refusal) return refuse(refusal, read, log, deps.telemetry);
  const decision = decideRelay(read, envelope, deps.rules, now);
  // A redelivery may follow a push that timed out but arrived: it waits longer for Cognigy (PushOptions.retry).
  const order = orderMarks(read, envelope);
  const attempt = { now, eventId, retry: (ctx.receiveCount ?? 1) > 1, order };
  const pushFailure = decision.push ? await push(read, decision.push, deps, attempt, log) : undefined;
  if (decision.push && !pushFailure) {
    // Webhook accepted it (receivedAt) → Cognigy answered the push: queueing, retries and Cognigy's answer.
    deps.telemetry.milliseconds('HandoverRelayLatency', deps.clock.now().getTime() - envelope.receivedAt);
  }
  await record(read, envelope, decision, pushFailure, deps, now);
  const status = decision.change?.set.status ?? read.status;
  return report(decision, pushFailure, status, log, deps.telemetry);
}

/** The last delivery failed too: the event goes to the DLQ (redrive re-sends it), and the conversation shows why. */
export async function recordRelayExhausted(
  body: unknown,
  error: unknown,
  deps: Pick<RelayDeps, 'store' | 'clock' | 'telemetry'>,
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
  // The event is not marked as relayed, so a DLQ redrive still relays it; until then the conversation has a gap,
  // and later events are pushed with data.gap: true.
  await mutateRecord(deps.store, event.conversationId, (current) => ({
    set: { lastError, gapEventIds: appendBounded(current.gapEventIds ?? [], eventId) },
  }));
  deps.telemetry.count('HandoverRelayGap');
  deps.telemetry.log.error('Event exhausted its retries; moved to the DLQ, the conversation has a gap', {
    conversationId: event.conversationId,
    eventType: event.eventType,
    eventId,
  });
}
