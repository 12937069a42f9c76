/**
 * The relay's rule table: for each 8x8 Chat Gateway event type (and, for MEMBERS_CHANGED, each member change), what
 * to push to Cognigy and how the conversation record changes. Pure: a rule sees the record, the event, the
 * configured HandoverRules and the time, and nothing else. relay.ts runs the decision (push, then record).
 */
import type { ChatGatewayEvent, ChatGatewayEventType, InboundEnvelope, MembersChangedEvent } from './events';
import { typingUsers } from './events';
import { isClosed, type ConversationRecord, type EndReason, type HandoverStatus } from './ports';
import type { RecordChange } from './record';
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

/** What a rule sees. `stale`: the event is older than the record's last status change. */
export interface RuleInput<E extends ChatGatewayEvent = ChatGatewayEvent> {
  record: ConversationRecord;
  envelope: InboundEnvelope;
  event: E;
  rules: HandoverRules;
  now: Date;
  stale: boolean;
}

type EventOf<T extends ChatGatewayEventType> = Extract<ChatGatewayEvent, { eventType: T }>;
type RelayRule<E extends ChatGatewayEvent> = (input: RuleInput<E>) => RelayDecision;

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

/** The conversation ends: `completed` or `cancelled`, told to the flow as `event`. */
function end(
  { record, envelope, now }: RuleInput,
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

/** A queue event (QUEUED, TRANSFER) is pushed only when the rules ask for queue events. */
function queueEvent(change: RecordChange, push: RelayPush, rules: HandoverRules): RelayDecision {
  if (!rules.injectQueueEvents) return { change, skip: 'queue events are not injected' };
  return { change, push };
}

const conversationUpdate: RelayRule<EventOf<'CONVERSATION_UPDATE'>> = (input) => {
  if (input.event.data.state !== 'idle') return { skip: `state ${input.event.data.state}` };
  if (!input.rules.endOn.includes('idle')) return { skip: 'idle is not an end signal' };
  if (input.stale) return { skip: 'stale' };
  return end(input, 'completed', 'idle', 'idle');
};

const queued: RelayRule<EventOf<'QUEUED'>> = ({ record, event, rules, now }) => {
  const ts = event.timestamp;
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
  return queueEvent(change, inject(handoverData(record, 'queue', 'queued', queue)), rules);
};

const agentJoined: RelayRule<MembersChangedEvent> = ({ record, envelope, event, rules, now, stale }) => {
  const id = event.data.id;
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
};

const agentLeft: RelayRule<MembersChangedEvent> = (input) => {
  const { record, envelope, event, rules } = input;
  if (record.agentId !== undefined && record.agentId !== event.data.id) return { skip: 'another agent left' };
  if (input.stale) return { skip: 'stale' };
  const transferAt = record.transferPendingSince;
  const inTransfer =
    transferAt !== undefined &&
    (rules.transferGraceMs === 0 || eventTime(envelope) - transferAt <= rules.transferGraceMs);
  if (inTransfer)
    return { change: { set: { status: 'queue' }, remove: ['agentId'] }, skip: 'agent left for a transfer' };
  if (!rules.endOn.includes('agentLeft'))
    return { change: { set: {}, remove: ['agentId'] }, skip: 'agentLeft is not an end signal' };
  return end(input, 'completed', 'agentLeft', 'agentLeft');
};

const userLeft: RelayRule<MembersChangedEvent> = (input) => {
  if (!input.rules.endOn.includes('userLeft')) return { skip: 'userLeft is not an end signal' };
  if (input.stale) return { skip: 'stale' };
  return end(input, 'cancelled', 'userLeft', 'userLeft');
};

/** MEMBERS_CHANGED by `memberType:change`; a user joining changes nothing. */
const MEMBER_RULES = new Map<string, RelayRule<MembersChangedEvent>>([
  ['agent:joined', agentJoined],
  ['agent:left', agentLeft],
  ['user:left', userLeft],
]);

const membersChanged: RelayRule<MembersChangedEvent> = (input) => {
  const rule = MEMBER_RULES.get(`${input.event.data.memberType}:${input.event.data.change}`);
  return rule ? rule(input) : { skip: 'user joined' };
};

const transfer: RelayRule<EventOf<'TRANSFER'>> = ({ record, envelope, rules, stale }) => {
  if (stale) return { skip: 'stale' };
  const change: RecordChange = {
    set: {
      status: 'queue',
      transferPendingSince: eventTime(envelope),
      lastStatusEventTs: eventTime(envelope),
    },
  };
  return queueEvent(
    change,
    inject(handoverData(record, 'queue', 'transfer', { agentId: record.agentId })),
    rules,
  );
};

/**
 * An agent writing is an agent in the chat, even if its join event is late or was lost; but the agent who is
 * transferring the chat away may still write before leaving, and that does not undo the transfer.
 */
function messageChange(record: ConversationRecord, senderId: string, now: Date): RecordChange | undefined {
  const transferringAgent = record.transferPendingSince !== undefined && record.agentId === senderId;
  if (transferringAgent || (record.status === 'active' && record.agentId === senderId)) return undefined;
  return {
    set: { status: 'active', agentId: senderId, ...(record.activeAt ? {} : { activeAt: now.toISOString() }) },
    remove: ['transferPendingSince'],
  };
}

const message: RelayRule<EventOf<'MESSAGE'>> = ({ record, event, rules, now }) => {
  const { sender, isEcho, text, attachments, cards } = event.data;
  if (sender.type !== 'agent') return { skip: `message from ${sender.type}` };
  if (isEcho && !rules.forwardEchoes) return { skip: 'echo' };
  const body = agentText(text, attachments);
  if (body === '' && cards.length === 0) return { skip: 'empty message' };
  const change = messageChange(record, sender.id, now);
  const transferringAgent = record.transferPendingSince !== undefined && record.agentId === sender.id;
  const handover = handoverData(record, transferringAgent ? record.status : 'active', 'message', {
    agentId: sender.id,
  });
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
};

const activity: RelayRule<EventOf<'ACTIVITY'>> = ({ record, event, rules }) => {
  const users = typingUsers(event);
  if (users === undefined) return { skip: `activity ${event.data.name}` };
  if (rules.typing !== 'inject') return { skip: 'typing is ignored' };
  const agents = users.filter((u) => u.type === 'agent');
  if (users.length > 0 && agents.length === 0) return { skip: 'user typing' };
  const typing = agents.length > 0;
  const agentId = agents[0]?.id ?? record.agentId;
  return { push: inject(handoverData(record, record.status, 'typing', { agentId, typing })) };
};

/** One rule per event type. */
export const RELAY_RULES: { readonly [T in ChatGatewayEventType]: RelayRule<EventOf<T>> } = {
  CONVERSATION_UPDATE: conversationUpdate,
  QUEUED: queued,
  MEMBERS_CHANGED: membersChanged,
  TRANSFER: transfer,
  MESSAGE: message,
  ACTIVITY: activity,
};

/** Why a verified event is refused before anything reaches Cognigy (a security event), see checkAgainstConversation. */
export type RelayRefusal = 'noCognigySession' | 'implausibleSender' | 'implausibleTypingUser';

/** Sender types 8x8 documents for MESSAGE (`agent`, `user`) plus the bridge's own `bot` posts. */
const ECHO_SENDER_TYPES: ReadonlySet<string> = new Set(['user', 'bot']);
const TYPING_USER_TYPES: ReadonlySet<string> = new Set(['agent', 'user']);

/**
 * The relayed event checked against the stored conversation before anything reaches Cognigy: the conversation has
 * a Cognigy session to push to, and the sender is plausible for the event. The user and the bot speak through the
 * bridge, so a MESSAGE from them is only ever the echo of our own post; an unknown sender type is not 8x8's.
 * (The conversation existing, and the event's 8x8 tenant, are checked before: the record lookup, the webhook.)
 */
export function checkAgainstConversation(
  record: ConversationRecord,
  event: ChatGatewayEvent,
): RelayRefusal | undefined {
  if (!record.sessionId || !record.userId || !record.urlToken) return 'noCognigySession';
  if (event.eventType === 'MESSAGE') {
    const { sender, isEcho } = event.data;
    if (sender.type !== 'agent' && !(isEcho && ECHO_SENDER_TYPES.has(sender.type)))
      return 'implausibleSender';
  }
  const users = typingUsers(event);
  if (users?.some((u) => !TYPING_USER_TYPES.has(u.type))) return 'implausibleTypingUser';
  return undefined;
}

/**
 * Given the current record and one event, what to push to Cognigy and how the record changes. Events for closed
 * conversations, echoes, and events older than the last status change do nothing.
 */
export function decideRelay(
  record: ConversationRecord,
  envelope: InboundEnvelope,
  rules: HandoverRules,
  now: Date,
): RelayDecision {
  if (isClosed(record.status)) return { skip: 'closed' };
  const event = envelope.event;
  const ts = event.timestamp;
  const stale = ts > 0 && record.lastStatusEventTs !== undefined && ts < record.lastStatusEventTs;
  const rule = RELAY_RULES[event.eventType] as RelayRule<ChatGatewayEvent>;
  return rule({ record, envelope, event, rules, now, stale });
}
