/**
 * 8x8 Contact Center Chat Gateway v1.0 webhook events (shared/specs/8x8/webhooks-events-reference.md) and the
 * envelope the webhook puts on the `handoverInbound` FIFO queue for the relay consumer.
 *
 * Objects are loose (unknown keys are kept, never rejected) because 8x8 adds fields over time; the fields the
 * bridge relies on (eventType, conversationId, MESSAGE sender/isEcho, MEMBERS_CHANGED memberType/change, the
 * CONVERSATION_UPDATE state) are checked strictly.
 */
import { createHash } from 'node:crypto';
import * as z from '../shared/zod';
import { conversationIdSchema } from './conversation-id';

/** The version string 8x8 puts in WEB_HOOK_VERIFY and expects when a webhook is registered. */
export const CHAT_GATEWAY_NOTIFICATION_VERSION = 'Chat Gateway v1.0';

const nonEmpty = z.string().check(z.minLength(1));

/** Common fields of every conversation event. `timestamp` is epoch ms; 8x8's examples sometimes send 0. */
const envelope = {
  conversationId: conversationIdSchema,
  timestamp: z.number().check(z.nonnegative()),
};

export const ConversationStateSchema = z.enum(['created', 'active', 'idle']);
export type ConversationState = z.infer<typeof ConversationStateSchema>;

export const AssignmentSchema = z.looseObject({
  type: z.enum(['agent', 'queue', 'script']),
  id: z.string(),
  resourceId: z.optional(z.string()),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

export const ConversationUserSchema = z.looseObject({
  name: z.optional(z.string()),
  userId: z.optional(z.string()),
  email: z.optional(z.string()),
  phone: z.optional(z.string()),
  company: z.optional(z.string()),
  caseId: z.optional(z.string()),
  language: z.optional(z.string()),
  additionalProperties: z.optional(
    z.array(z.looseObject({ key: z.string(), value: z.string(), id: z.optional(z.string()) })),
  ),
});
export type ConversationUser = z.infer<typeof ConversationUserSchema>;

export const ConversationUpdateEventSchema = z.looseObject({
  eventType: z.literal('CONVERSATION_UPDATE'),
  ...envelope,
  data: z.looseObject({
    state: ConversationStateSchema,
    assignment: z.optional(AssignmentSchema),
    user: z.optional(ConversationUserSchema),
    msisdn: z.optional(z.string()),
    channel: z.optional(z.string()),
  }),
});
export type ConversationUpdateEvent = z.infer<typeof ConversationUpdateEventSchema>;

export const QueuedEventSchema = z.looseObject({
  eventType: z.literal('QUEUED'),
  ...envelope,
  data: z.looseObject({ queueId: z.string(), queueName: z.optional(z.string()) }),
});
export type QueuedEvent = z.infer<typeof QueuedEventSchema>;

export const MembersChangedEventSchema = z.looseObject({
  eventType: z.literal('MEMBERS_CHANGED'),
  ...envelope,
  data: z.looseObject({
    memberType: z.enum(['user', 'agent']),
    change: z.enum(['joined', 'left']),
    id: z.string(),
  }),
});
export type MembersChangedEvent = z.infer<typeof MembersChangedEventSchema>;

/** Queue transfer: the `agent left` that follows is not the end of the chat. The reference says it has no data. */
export const TransferEventSchema = z.looseObject({
  eventType: z.literal('TRANSFER'),
  ...envelope,
  data: z.optional(z.looseObject({})),
});
export type TransferEvent = z.infer<typeof TransferEventSchema>;

export const AttachmentSchema = z.looseObject({
  id: z.string(),
  type: z.optional(z.string()),
  preSignedUrl: z.optional(z.string()),
  fileName: z.optional(z.string()),
});
export type Attachment = z.infer<typeof AttachmentSchema>;

export const CardSchema = z.looseObject({
  contentType: z.string(),
  content: z.optional(z.unknown()),
});
export type Card = z.infer<typeof CardSchema>;

export const MessageEventSchema = z.looseObject({
  eventType: z.literal('MESSAGE'),
  ...envelope,
  data: z.looseObject({
    /** true when the message is the bridge's own post (user/bot) echoed back; absent is treated as false. */
    isEcho: z._default(z.boolean(), false),
    sender: z.looseObject({ id: z.string(), type: nonEmpty }),
    /** A message may carry only attachments or cards, so text defaults to empty. */
    text: z._default(z.string(), ''),
    attachments: z._default(z.array(AttachmentSchema), []),
    cards: z._default(z.array(CardSchema), []),
  }),
});
export type MessageEvent = z.infer<typeof MessageEventSchema>;

/** `typing`: `value.users` lists who is typing; an empty list means typing stopped. */
export const TypingValueSchema = z.looseObject({
  users: z.array(z.looseObject({ id: z.string(), type: z.string() })),
});
export type TypingValue = z.infer<typeof TypingValueSchema>;

/**
 * Non-message actions told apart by `data.name` (`typing`, `adaptiveCard/action`, `quickReply/action`,
 * `read-receipts`, channel-specific CPaaS names). `value` is kept as sent; see `typingUsers()`.
 */
export const ActivityEventSchema = z.looseObject({
  eventType: z.literal('ACTIVITY'),
  ...envelope,
  data: z.looseObject({ name: nonEmpty, value: z.optional(z.unknown()) }),
});
export type ActivityEvent = z.infer<typeof ActivityEventSchema>;

/** Connectivity check ("Test Connection"); it has no conversationId and no timestamp and must be answered 2xx. */
export const WebhookVerifyEventSchema = z.looseObject({
  eventType: z.literal('WEB_HOOK_VERIFY'),
  notificationVersion: z.optional(z.string()),
});
export type WebhookVerifyEvent = z.infer<typeof WebhookVerifyEventSchema>;

/** The answer to an 8x8 delivery (documentation for the OpenAPI document; webhook.ts builds it). */
export const webhookAnswerSchema = z.object({
  ok: z.literal(true),
  duplicate: z
    .optional(z.literal(true))
    .check(z.describe('This event id was already received (8x8 retried it)')),
  ignored: z
    .optional(z.literal(true))
    .check(z.describe('An eventType this version does not know; acknowledged')),
});

/** Every conversation event the bridge relays (everything except WEB_HOOK_VERIFY). */
export const ChatGatewayEventSchema = z.discriminatedUnion('eventType', [
  ConversationUpdateEventSchema,
  QueuedEventSchema,
  MembersChangedEventSchema,
  TransferEventSchema,
  MessageEventSchema,
  ActivityEventSchema,
]);
export type ChatGatewayEvent = z.infer<typeof ChatGatewayEventSchema>;
export type ChatGatewayEventType = ChatGatewayEvent['eventType'];

export const CHAT_GATEWAY_EVENT_TYPES: readonly ChatGatewayEventType[] = [
  'CONVERSATION_UPDATE',
  'QUEUED',
  'MEMBERS_CHANGED',
  'TRANSFER',
  'MESSAGE',
  'ACTIVITY',
];

/** What a webhook body turned out to be. */
export type ParsedWebhookBody =
  | { kind: 'verify'; event: WebhookVerifyEvent }
  | { kind: 'event'; event: ChatGatewayEvent }
  /** An eventType this version does not know (8x8 may add some); acknowledged so 8x8 does not retry it forever. */
  | { kind: 'unsupported'; eventType: string; conversationId?: string }
  | { kind: 'invalid'; issues: { path: string; code: 'INVALID_EVENT'; message: string }[] };

/** Classifies an already JSON-parsed webhook body. Never throws. */
export function parseWebhookBody(body: unknown): ParsedWebhookBody {
  const head = z.looseObject({ eventType: nonEmpty, conversationId: z.optional(z.string()) }).safeParse(body);
  if (!head.success) return { kind: 'invalid', issues: issuesOf(head.error) };
  const { eventType, conversationId } = head.data;
  if (eventType === 'WEB_HOOK_VERIFY') {
    const verify = WebhookVerifyEventSchema.safeParse(body);
    return verify.success
      ? { kind: 'verify', event: verify.data }
      : { kind: 'invalid', issues: issuesOf(verify.error) };
  }
  if (!(CHAT_GATEWAY_EVENT_TYPES as readonly string[]).includes(eventType)) {
    return { kind: 'unsupported', eventType, ...(conversationId ? { conversationId } : {}) };
  }
  const event = ChatGatewayEventSchema.safeParse(body);
  return event.success
    ? { kind: 'event', event: event.data }
    : { kind: 'invalid', issues: issuesOf(event.error) };
}

function issuesOf(error: z.core.$ZodError): { path: string; code: 'INVALID_EVENT'; message: string }[] {
  // Every answered issue has a code, as on the other routes; 8x8 does not read them, people do.
  return error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    code: 'INVALID_EVENT',
    message: i.message,
  }));
}

/** Who is typing, when the event is a `typing` ACTIVITY with a well-formed value; otherwise undefined. */
export function typingUsers(event: ChatGatewayEvent): TypingValue['users'] | undefined {
  if (event.eventType !== 'ACTIVITY' || event.data.name !== 'typing') return undefined;
  const value = TypingValueSchema.safeParse(event.data.value);
  return value.success ? value.data.users : undefined;
}

/**
 * Body of a `handoverInbound` queue message. Sent with MessageGroupId = event.conversationId (8x8 events of
 * one conversation are relayed in order) and MessageDeduplicationId = eventId (x-8x8-event-id).
 */
export interface InboundEnvelope {
  /** x-8x8-event-id: unique per event, the same on every 8x8 retry. */
  eventId: string;
  /** x-8x8-retry of the delivery that was accepted (0 = first attempt). */
  retry: number;
  /** Epoch ms at which the webhook accepted the event. */
  receivedAt: number;
  event: ChatGatewayEvent;
}

export const InboundEnvelopeSchema = z.object({
  eventId: nonEmpty,
  retry: z.number().check(z.int(), z.nonnegative()),
  receivedAt: z.number().check(z.int(), z.nonnegative()),
  event: ChatGatewayEventSchema,
});

/** Parses a queue message body back into an InboundEnvelope (the relay consumer's entry point). Throws zod's $ZodError. */
export function parseInboundEnvelope(body: string): InboundEnvelope {
  return InboundEnvelopeSchema.parse(JSON.parse(body));
}

/** SQS FIFO send parameters for an envelope. SQS allows 128 chars of [A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]. */
export function inboundQueueIds(envelope: InboundEnvelope): {
  MessageGroupId: string;
  MessageDeduplicationId: string;
} {
  return {
    MessageGroupId: sqsFifoId(envelope.event.conversationId),
    MessageDeduplicationId: sqsFifoId(envelope.eventId),
  };
}

/**
 * Keeps SQS FIFO ids valid for any 8x8 id. A valid id (printable ASCII, at most 128) is kept as it is, so logs and
 * queues show 8x8's own; any other becomes a digest of it, never a lossy cut: two event ids that merely share
 * their first 128 characters must not be deduplicated into one.
 */
export function sqsFifoId(id: string): string {
  if (/^[\x21-\x7e]{1,128}$/.test(id)) return id;
  return `sha256-${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}
