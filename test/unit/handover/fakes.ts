/**
 * In-memory implementations of the handover ports for core tests (the cores take their ports as arguments;
 * AWS adapters are tested separately with aws-sdk-client-mock).
 */
import type { ApiRequest } from '../../../functions/shared/http';
import type { Clock } from '../../../functions/shared/runtime';
import type {
  CallOptions,
  ChatGateway,
  CognigyPort,
  ConversationRecord,
  ConversationStore,
  CreateConversationRequest,
  CreatedConversation,
  OutboundItem,
  OutboundQueue,
  RecordUpdate,
  SessionClaim,
  SessionClaims,
  UpdateResult,
} from '../../../functions/handover/ports';
import type { CognigyPush, CognigyTarget, PushOptions } from '../../../functions/shared/cognigy-client';

/** A store with the same versioning semantics as DynamoConversationStore. */
export class MemoryStore implements ConversationStore {
  readonly records = new Map<string, ConversationRecord>();
  updates = 0;
  /** Called before each update is applied; lets a test change the record "concurrently". */
  beforeUpdate?: (conversationId: string) => void;

  async create(record: ConversationRecord): Promise<void> {
    if (this.records.has(record.conversationId)) throw new Error('exists');
    this.records.set(record.conversationId, structuredClone(record));
  }

  async get(conversationId: string): Promise<ConversationRecord | undefined> {
    const r = this.records.get(conversationId);
    return r ? structuredClone(r) : undefined;
  }

  async findBySession(sessionId: string): Promise<ConversationRecord[]> {
    return [...this.records.values()].filter((r) => r.sessionId === sessionId).map((r) => structuredClone(r));
  }

  async update(conversationId: string, update: RecordUpdate): Promise<UpdateResult> {
    this.beforeUpdate?.(conversationId);
    const current = this.records.get(conversationId);
    if (!current) return 'missing';
    if (current.version !== update.ifVersion) return 'conflict';
    this.updates++;
    const next = { ...current, version: current.version + 1 } as Record<string, unknown>;
    for (const [k, v] of Object.entries(update.set)) if (v !== undefined) next[k] = structuredClone(v);
    for (const k of update.remove ?? [])
      if ((update.set as Record<string, unknown>)[k] === undefined) delete next[k];
    this.records.set(conversationId, next as unknown as ConversationRecord);
    return 'updated';
  }

  /** Test helper: change a stored record directly, bumping its version as a real write would. */
  touch(conversationId: string, changes: Partial<ConversationRecord>): void {
    const current = this.records.get(conversationId);
    if (!current) throw new Error('no record');
    this.records.set(conversationId, { ...current, ...changes, version: current.version + 1 });
  }
}

/** Session claims with DynamoSessionClaims' conditional semantics. */
export class MemorySessionClaims implements SessionClaims {
  readonly claims = new Map<string, SessionClaim>();

  async get(key: string): Promise<SessionClaim | undefined> {
    const claim = this.claims.get(key);
    return claim ? { ...claim } : undefined;
  }

  async claim(
    claim: Omit<SessionClaim, 'version' | 'state' | 'conversationId'>,
    ifVersion: number | undefined,
  ): Promise<boolean> {
    const current = this.claims.get(claim.key);
    if (ifVersion === undefined ? current !== undefined : current?.version !== ifVersion) return false;
    this.claims.set(claim.key, { ...claim, state: 'starting', version: (ifVersion ?? -1) + 1 });
    return true;
  }

  async open(key: string, claimId: string, conversationId: string): Promise<boolean> {
    const current = this.claims.get(key);
    if (current?.claimId !== claimId) return false;
    this.claims.set(key, { ...current, state: 'open', conversationId, version: current.version + 1 });
    return true;
  }

  async release(key: string, claimId: string): Promise<void> {
    const current = this.claims.get(key);
    if (current?.claimId === claimId && current.state === 'starting') this.claims.delete(key);
  }
}

export class MemoryQueue implements OutboundQueue {
  readonly sent: { item: OutboundItem; groupId: string; deduplicationId: string }[] = [];
  failWith?: Error;

  async send(item: OutboundItem, ids: { groupId: string; deduplicationId: string }): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.sent.push({ item: structuredClone(item), ...ids });
  }
}

type GatewayCall =
  | { op: 'createConversation'; request: CreateConversationRequest; options: CallOptions }
  | { op: 'sendUserMessage'; conversationId: string; text: string; options: CallOptions }
  | { op: 'endConversationAsUser'; conversationId: string; options: CallOptions }
  | { op: 'sendTyping'; conversationId: string; authorType: string; options: CallOptions };

/** A scripted Chat Gateway: each call takes the next scripted outcome (an error to throw), else succeeds. */
export class FakeChatGateway implements ChatGateway {
  readonly calls: GatewayCall[] = [];
  readonly failures: Error[] = [];
  nextId = 'conv-1';
  /** Advances the fake clock per call, to test the time budget. */
  onCall?: (call: GatewayCall) => void;

  private step(call: GatewayCall): void {
    this.calls.push(call);
    this.onCall?.(call);
    const failure = this.failures.shift();
    if (failure) throw failure;
  }

  async createConversation(
    request: CreateConversationRequest,
    options: CallOptions,
  ): Promise<CreatedConversation> {
    this.step({ op: 'createConversation', request: structuredClone(request), options });
    return { conversationId: this.nextId, createdAt: '2026-01-01T00:00:00Z' };
  }

  async sendUserMessage(conversationId: string, text: string, options: CallOptions): Promise<void> {
    this.step({ op: 'sendUserMessage', conversationId, text, options });
  }

  async endConversationAsUser(conversationId: string, options: CallOptions): Promise<void> {
    this.step({ op: 'endConversationAsUser', conversationId, options });
  }

  async sendTyping(conversationId: string, authorType: 'user' | 'bot', options: CallOptions): Promise<void> {
    this.step({ op: 'sendTyping', conversationId, authorType, options });
  }
}

export class FakeCognigy implements CognigyPort {
  readonly pushes: { mode: 'inject' | 'notify'; target: CognigyTarget; push: CognigyPush }[] = [];
  readonly failures: Error[] = [];
  defaultBase: string | undefined = 'https://endpoint-default.example';

  /** The options of each push tried, failed ones included. */
  readonly options: PushOptions[] = [];

  async push(
    mode: 'inject' | 'notify',
    target: CognigyTarget,
    push: CognigyPush,
    options: PushOptions = {},
  ): Promise<void> {
    this.options.push(options);
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.pushes.push({ mode, target, push: structuredClone(push) });
  }

  async defaultEndpointBaseUrl(): Promise<string | undefined> {
    return this.defaultBase;
  }
}

export class FakeClock implements Clock {
  constructor(public ms = Date.parse('2026-03-01T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function sequentialIds(prefix = 'item') {
  let n = 0;
  return { uuid: () => `${prefix}-${++n}` };
}

export function apiRequest(parts: Partial<ApiRequest> = {}): ApiRequest {
  return {
    body: undefined,
    rawBody: '',
    headers: {},
    pathParameters: {},
    query: {},
    requestId: 'test',
    ...parts,
  };
}

export function conversationRecord(overrides: Partial<ConversationRecord> = {}): ConversationRecord {
  return {
    conversationId: 'conv-1',
    sessionId: 'session-1',
    userId: 'user-1',
    urlToken: 'url-token-secret-123',
    channelId: 'channel-1',
    queueId: '101',
    status: 'queue',
    createdAt: '2026-03-01T11:59:00.000Z',
    relayedEventIds: [],
    deliveredItemIds: [],
    version: 0,
    expiresAt: 0,
    ...overrides,
  };
}
