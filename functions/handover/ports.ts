/**
 * The handover cores' view of the world: the conversation record and the ports (store, queue, 8x8 Chat
 * Gateway, Cognigy, clock, ids) they receive as arguments. Adapters live in store.ts and
 * chat-gateway-client.ts, wired in wiring.ts; tests pass in-memory fakes.
 */
import type { CognigyEndpoint } from '../shared/cognigy-client';

/**
 * Handover state in Cognigy's own vocabulary (`input.handover.status` of the built-in Handover node), so a flow
 * branches on it the same way. `error` is ours for a conversation 8x8 no longer knows (404 on a relay call).
 */
export type HandoverStatus = 'queue' | 'active' | 'completed' | 'cancelled' | 'error';

/** Statuses after which nothing more is relayed in either direction. */
export const CLOSED_STATUSES: readonly HandoverStatus[] = ['completed', 'cancelled', 'error'];

export function isClosed(status: HandoverStatus): boolean {
  return CLOSED_STATUSES.includes(status);
}

/** Why a handover ended; `userEnded` = POST /handover/{id}/end, `userLeft` = 8x8 reported the user leaving. */
export type EndReason = 'agentLeft' | 'idle' | 'userEnded' | 'userLeft' | 'conversationGone';

/** A failure worth showing on GET /handover/{id}; never carries message text or credentials. */
export interface RecordedError {
  at: string;
  source: '8x8' | 'cognigy';
  /** What was being done, e.g. `sendUserMessage`, `endConversationAsUser`, `notify`, `inject`. */
  operation: string;
  httpStatus?: number;
  code?: string;
  message: string;
}

/** One row of the conversations table (pk conversationId, GSI bySessionId, TTL expiresAt). */
export interface ConversationRecord {
  /** 8x8 Chat Gateway conversation id. */
  conversationId: string;
  /** Cognigy session the handover belongs to. */
  sessionId: string;
  /** apiKeyId of the key that started it (functions/shared/tenancy.ts); absent on records from before tenancy. */
  owner?: string;
  userId: string;
  /** Cognigy Endpoint URL token: the credential of the inject/notify routes. Never logged or returned. */
  urlToken: string;
  /** Endpoint base URL given at start; when absent the `cognigy` secret's endpointBaseUrl is used. */
  endpointBaseUrl?: string;
  channelId: string;
  queueId?: string;
  scriptId?: string;
  queueName?: string;
  status: HandoverStatus;
  /** The agent currently handling the chat (8x8 agent id). */
  agentId?: string;
  /** Epoch ms of the last TRANSFER not yet followed by a new agent joining. */
  transferPendingSince?: number;
  createdAt: string;
  queuedAt?: string;
  activeAt?: string;
  endedAt?: string;
  endReason?: EndReason;
  /** 8x8 timestamp (epoch ms) of the event behind the last status change; older events cannot undo it. */
  lastStatusEventTs?: number;
  /** Most recent x-8x8-event-ids already relayed to Cognigy (bounded), so redeliveries are skipped. */
  relayedEventIds: string[];
  /** Most recent outbound queue item ids already delivered to 8x8 (bounded), so redeliveries are skipped. */
  deliveredItemIds: string[];
  /** Set once the user's end (PATCH participants/user) reached 8x8; later user messages are not sent. */
  userRemovedAt?: string;
  lastError?: RecordedError;
  /**
   * x-8x8-event-ids of this conversation's events that exhausted their retries and went to the DLQ (bounded). While
   * any is listed, later pushes carry `data.gap: true`; a redriven event is relayed and leaves the list.
   */
  gapEventIds?: string[];
  /** Optimistic-concurrency counter; every write increments it. */
  version: number;
  /** DynamoDB TTL, epoch seconds; moved forward on every write. */
  expiresAt: number;
}

/** Fields a write may set; `undefined` values are ignored (use `remove` to delete an attribute). */
export type RecordChanges = Partial<Omit<ConversationRecord, 'conversationId' | 'version' | 'expiresAt'>>;

export type RemovableField = 'agentId' | 'transferPendingSince' | 'lastError' | 'gapEventIds';

export interface RecordUpdate {
  set: RecordChanges;
  remove?: RemovableField[];
  /** Apply only if the stored version still equals this (optimistic concurrency). */
  ifVersion: number;
}

export type UpdateResult = 'updated' | 'conflict' | 'missing';

export interface ConversationStore {
  /** Stores a new record; fails if the conversation id is already stored. */
  create(record: ConversationRecord): Promise<void>;
  /** Strongly consistent read. */
  get(conversationId: string): Promise<ConversationRecord | undefined>;
  /** Every record of a Cognigy session (GSI bySessionId), in no particular order. */
  findBySession(sessionId: string): Promise<ConversationRecord[]>;
  /** Conditional write: increments `version`, slides `expiresAt`; `conflict` when the version moved on. */
  update(conversationId: string, update: RecordUpdate): Promise<UpdateResult>;
}

/**
 * The start of the one chat of a Cognigy session (per owner): `starting` while a POST /handover creates it at 8x8
 * (until `claimedUntil`, after which a crashed start no longer blocks), then `open` with the conversation id.
 */
export interface SessionClaim {
  /** Opaque key of owner + sessionId (store.ts sessionClaimKey). */
  key: string;
  state: 'starting' | 'open';
  /** Id of the request holding the claim; only it may open or release it. */
  claimId: string;
  /** Epoch ms until which a `starting` claim holds. */
  claimedUntil: number;
  conversationId?: string;
  /** Optimistic-concurrency counter. */
  version: number;
}

export interface SessionClaims {
  get(key: string): Promise<SessionClaim | undefined>;
  /**
   * Writes a `starting` claim if the stored claim is still at `ifVersion` (undefined: none may be stored); false
   * when another request got there first. Conditional put: dynalite has no transactions.
   */
  claim(
    claim: Omit<SessionClaim, 'version' | 'state' | 'conversationId'>,
    ifVersion: number | undefined,
  ): Promise<boolean>;
  /** `starting` → `open` with the conversation, only while `claimId` still holds the claim. */
  open(key: string, claimId: string, conversationId: string): Promise<boolean>;
  /** Gives a failed start's claim up (only while `claimId` holds it), so the next request starts at once. */
  release(key: string, claimId: string): Promise<void>;
}

/** Items on the handoverOutbound FIFO queue (group = conversation), see outbound.ts. */
export type OutboundItem =
  | {
      kind: 'message';
      itemId: string;
      conversationId: string;
      text: string;
      clientMessageId?: string;
      requestedAt: string;
    }
  | { kind: 'end'; itemId: string; conversationId: string; requestedAt: string };

export interface OutboundQueue {
  /** FIFO send: `groupId` keeps a conversation's items in order, `deduplicationId` drops repeats for 5 minutes. */
  send(item: OutboundItem, ids: { groupId: string; deduplicationId: string }): Promise<void>;
}

/** One history entry of 8x8's create-conversation request. */
export interface HistoryMessage {
  authorType: 'user' | 'bot';
  text: string;
}

/** Body of `POST /chat-gateway/v1/conversations` (OAS CreateTransactionRequest). */
export interface CreateConversationRequest {
  channelId: string;
  assignment?: { type: 'queue' | 'script'; id: string };
  user: {
    name?: string;
    userId?: string;
    email?: string;
    phone?: string;
    company?: string;
    caseId?: string;
    language?: string;
    additionalProperties?: { key: string; value: string }[];
  };
  history?: { messages: HistoryMessage[] };
}

export interface CreatedConversation {
  conversationId: string;
  createdAt?: string;
}

export interface CallOptions {
  timeoutMs: number;
}

/** 8x8 Contact Center Chat Gateway v1.0. Failures are UpstreamErrors classified by HTTP status. */
export interface ChatGateway {
  createConversation(request: CreateConversationRequest, options: CallOptions): Promise<CreatedConversation>;
  sendUserMessage(conversationId: string, text: string, options: CallOptions): Promise<void>;
  endConversationAsUser(conversationId: string, options: CallOptions): Promise<void>;
  sendTyping(conversationId: string, authorType: 'user' | 'bot', options: CallOptions): Promise<void>;
}

/** Cognigy Endpoint service (inject / notify), the shared client. Failures are UpstreamErrors. */
export type CognigyPort = CognigyEndpoint;
