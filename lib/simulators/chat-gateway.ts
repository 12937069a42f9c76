/**
 * A local stand-in for the 8x8 Contact Center Chat Gateway v1.0 (lib/simulators/contract/8x8/contact-center-chat-gateway-v1.oas.yml)
 * and its webhook (webhooks-events-reference.md, validating-webhook-events.md).
 *
 * - API: create conversation, send message, user leaves, typing/thinking/read-receipt, get conversation, the webhook
 *   verify call and the public JWK, with 8x8's auth (x-api-key → 401) and tenant (X-8x8-Tenant → 403) checks and
 *   request bodies validated against the OAS (test/contract/chat-gateway-schema.ts).
 * - Webhook: every event is signed like 8x8 signs it (RS256 JWS, detached unencoded payload) with a key generated at
 *   start, and delivered with the x-8x8-* headers. A delivery that is not answered 2xx in time is retried with the
 *   same event id and retry+1 (8x8 documents retries but not their schedule, so the delays are configurable).
 * - A scriptable agent (auto-join, echo or scripted replies) or a hand-driven one (in-process methods or
 *   `/__control/...` over HTTP), and fault controls: failing API calls, delayed, duplicated and reordered deliveries,
 *   a skewed sender clock.
 *
 * The signing code here is deliberately written apart from functions/handover/signature.ts, so a test that verifies
 * the simulator's events with the bridge's verifier is a real cross-check of both.
 */
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { validateChatGatewayRequest, type ChatGatewayOperation } from './contract/chat-gateway-schema';
import type { Simulator } from '../local/types';

export type ConversationState = 'created' | 'active' | 'idle';
export type ApiFault = 429 | 500 | 502 | 503 | 'timeout';

export interface AgentScript {
  /** Join this many ms after the conversation becomes active (false/undefined: wait for agentJoin). */
  autoJoinMs?: number | false;
  /** Id the agent joins with. Default `agent-1`. */
  agentId?: string;
  /** Reply to each user message: `echo` → "Echo: <text>", a list (used in order, then silence), or a function. */
  replies?: 'echo' | string[] | ((text: string, conversation: SimConversation) => string | undefined);
  /** Delay before each reply. Default 0. */
  replyDelayMs?: number;
}

export interface ChatGatewaySimulatorOptions {
  /** Where events are POSTed (the bridge's /handover/eightByEight); can be changed later with setWebhookUrl. */
  webhookUrl?: string;
  /** The only x-api-key accepted. */
  apiKey: string;
  /** The customer's tenant: X-8x8-Tenant must match when sent; also x-8x8-tenant-id on events. */
  tenant: string;
  /** x-8x8-customer-id on events. Default `sim-customer`. */
  customerId?: string;
  /** kid of the signing key. Default a random 22-character id like 8x8's. */
  kid?: string;
  /** Waits before retry 1, 2, …; the number of entries is the number of retries. Default [200, 1000, 5000]. */
  retryDelaysMs?: number[];
  /** A delivery not answered within this time counts as failed. Default 5000. */
  deliveryTimeoutMs?: number;
  /** Send MESSAGE{isEcho:true} back for messages the integration posts (user or bot). Default true. */
  echoIntegrationMessages?: boolean;
  /** Pause between the events that follow a create (created → queued → active). Default 10. */
  lifecycleStepMs?: number;
  /** queueId/queueName sent in QUEUED when the create names no queue. */
  defaultQueue?: { id: string; name: string };
  agent?: AgentScript;
  /** How long a `timeout` fault holds the API request before dropping it. Default 30000. */
  timeoutFaultHoldMs?: number;
  /** Receives one line per API request and webhook delivery (for `npm start`); silent by default. */
  log?: (line: string) => void;
}

export interface SimMessage {
  at: number;
  authorType: string;
  text: string;
  attachments?: unknown[];
  cards?: unknown[];
}

export interface SimConversation {
  id: string;
  channelId: string;
  assignment?: { type?: string; id?: string };
  user: Record<string, unknown>;
  /** user.additionalProperties as a key → value map. */
  properties: Record<string, string>;
  history: SimMessage[];
  state: ConversationState;
  createdAt: string;
  agentId?: string;
  userRemoved: boolean;
  /** Messages the integration posted with authorType `user`, in order of arrival. */
  userMessages: SimMessage[];
  /** Messages the integration posted with authorType `bot`. */
  botMessages: SimMessage[];
  /** Everything said in the conversation, in order (history, integration posts, agent messages). */
  transcript: { at: number; from: string; text: string }[];
  typingIndicators: number;
  /** Next index into a scripted reply list. */
  replyIndex: number;
}

export interface SimRequest {
  at: number;
  method: string;
  path: string;
  operation?: string;
  conversationId?: string;
  tenantHeader?: string;
  status: number;
  body?: unknown;
}

export interface SimEvent {
  eventId: string;
  eventType: string;
  conversationId?: string;
  /** The exact JSON sent (the same bytes on every retry). */
  body: string;
  signed: boolean;
  acknowledged: boolean;
  attempts: number;
}

export interface SimDelivery {
  at: number;
  eventId: string;
  eventType: string;
  conversationId?: string;
  retry: number;
  /** HTTP status, or `error`/`timeout` when no answer came. */
  status: number | 'error' | 'timeout';
  /** Milliseconds from sending the request to the end of the answer (or to the failure). */
  durationMs?: number;
  /** Response body (truncated), for debugging rejected deliveries. */
  response?: string;
}

export interface WebhookFaults {
  /** Extra wait before every delivery attempt. */
  delayMs?: number;
  /** Deliver every event a second time (same event id and retry) after it was acknowledged. */
  duplicate?: boolean;
  /** Hold each event back and send it after the next event of the same conversation (pairs swapped). */
  reorder?: boolean;
  /**
   * The sender's clock is off by this many ms: x-8x8-transmission-time is shifted (and signed as sent), so a
   * negative value makes correctly signed deliveries look stale or replayed.
   */
  clockSkewMs?: number;
}

const API = '/chat-gateway/v1';
const HAL = 'application/hal+json';
const PROBLEM = 'application/problem+json';
const MAX_BODY_BYTES = 1_048_576;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

const problems = {
  unauthorized: () =>
    new HttpProblem(401, {
      message: 'Access Denied',
      errors: [{ message: 'Access Denied', code: 'access_denied' }],
      referenceId: randomBytes(8).toString('hex').slice(0, 15),
    }),
  forbidden: (customerId: string) =>
    new HttpProblem(403, {
      message: 'The tenant does not belong to customer.',
      errors: [`Header X-8x8-Tenant doesn't match tenant information for customerId=${customerId}`],
    }),
  notFound: (what: string, id: string) =>
    new HttpProblem(404, {
      message: 'Resource not found',
      errors: [
        { code: 'resource_not_found', message: `Entity of type ${what} with id ${id} was not found.` },
      ],
    }),
  invalidJson: (detail: string) =>
    new HttpProblem(400, { message: detail, errors: [{ code: 'invalid_json_object', message: detail }] }),
  invalid: (messages: string[]) =>
    new HttpProblem(400, {
      message: messages[0] ?? 'Invalid request',
      errors: messages.map((message) => ({ code: 'invalid_parameter', message })),
    }),
  conflict: (message: string) => new HttpProblem(409, { message, errors: [{ code: 'conflict', message }] }),
};

/** RS256 signing key with its public JWK, as 8x8's JWK endpoint serves it. */
interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

function newSigningKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, publicJwk: { kty: 'RSA', e: jwk.e, kid, n: jwk.n } };
}

export class ChatGatewaySimulator implements Simulator {
  readonly conversations = new Map<string, SimConversation>();
  readonly requests: SimRequest[] = [];
  /** Every GET of the JWK endpoint (kept apart from `requests`: floods of forged kids land here). */
  readonly jwkLookups: { at: number; kid: string; found: boolean }[] = [];
  readonly events: SimEvent[] = [];
  readonly deliveries: SimDelivery[] = [];
  agent: AgentScript;
  webhookFaults: WebhookFaults = {};

  private readonly options: Required<Omit<ChatGatewaySimulatorOptions, 'webhookUrl' | 'agent' | 'log'>> & {
    log?: (line: string) => void;
  };
  private webhookUrl: string | undefined;
  private readonly initialAgent: AgentScript;
  private server: Server | undefined;
  private baseUrl = '';
  private signing: SigningKey;
  /** Retired keys stay published so events signed before a rotation still verify. */
  private readonly retiredKeys = new Map<string, SigningKey>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Per conversation: resolved once the create lifecycle (CREATED → QUEUED → ACTIVE) has been emitted. */
  private readonly routing = new Map<string, { done: Promise<void>; resolve: () => void }>();
  private readonly held = new Map<string, { event: SimEvent; release: () => void }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly holdTimers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  private apiFaults: {
    fault: ApiFault;
    remaining: number;
    operation?: string;
    retryAfterSeconds?: number;
  }[] = [];
  private stopping = new AbortController();
  private sequence = 0;
  /** Ids the next created conversations get, in order (8x8's ids are opaque: tests try any it could issue). */
  readonly nextConversationIds: string[] = [];
  /** Milliseconds the next create-conversation answers are held back (a slow 8x8), one entry per call. */
  readonly createDelaysMs: number[] = [];

  constructor(options: ChatGatewaySimulatorOptions) {
    this.options = {
      customerId: 'sim-customer',
      kid: randomBytes(16).toString('base64url'),
      retryDelaysMs: [200, 1000, 5000],
      deliveryTimeoutMs: 5000,
      echoIntegrationMessages: true,
      lifecycleStepMs: 10,
      defaultQueue: { id: 'queue-1', name: 'Support' },
      timeoutFaultHoldMs: 30_000,
      ...options,
    };
    this.webhookUrl = options.webhookUrl;
    this.initialAgent = options.agent ?? {};
    this.agent = this.initialAgent;
    this.signing = newSigningKey(this.options.kid);
  }

  get url(): string {
    return this.baseUrl;
  }

  /** The current signing key id. */
  get kid(): string {
    return this.signing.kid;
  }

  /** JWK URL template for the bridge's chatGatewayCredentials secret (`jwkUrl`). */
  get jwkUrlTemplate(): string {
    return `${this.baseUrl}${API}/jwk/{kid}/public`;
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = url;
  }

  async start(port = 0): Promise<string> {
    if (this.server) return this.baseUrl;
    this.stopping = new AbortController();
    const server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    for (const timer of [...this.timers, ...this.holdTimers]) clearTimeout(timer);
    this.timers.clear();
    this.holdTimers.clear();
    for (const { release } of this.held.values()) release();
    this.held.clear();
    for (const { resolve } of this.routing.values()) resolve();
    this.routing.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await Promise.allSettled([...this.pending]);
  }

  /** Forgets all conversations, logs, faults and the agent script changes (the signing key stays). */
  reset(): void {
    this.agent = this.initialAgent;
    this.conversations.clear();
    this.requests.length = 0;
    this.jwkLookups.length = 0;
    this.events.length = 0;
    this.deliveries.length = 0;
    this.apiFaults = [];
    this.webhookFaults = {};
    this.nextConversationIds.length = 0;
    this.createDelaysMs.length = 0;
  }

  /** Starts signing with a new key; the old one stays published. Returns the new kid. */
  rotateKey(kid: string = randomBytes(16).toString('base64url')): string {
    this.retiredKeys.set(this.signing.kid, this.signing);
    this.signing = newSigningKey(kid);
    return kid;
  }

  /** Makes the next `count` API calls (optionally only of one operation) fail with the given status or a timeout. */
  failApiCalls(
    fault: ApiFault,
    count = 1,
    options: { operation?: ChatGatewayOperation | 'getConversation'; retryAfterSeconds?: number } = {},
  ): void {
    this.apiFaults.push({ fault, remaining: count, ...options });
  }

  /** Resolves when every delivery started so far (including retries) has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0 || this.timers.size > 0) {
      await Promise.allSettled([...this.pending]);
      if (this.timers.size > 0 && this.pending.size === 0)
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  conversation(id: string): SimConversation {
    const conversation = this.conversations.get(id);
    if (!conversation) throw problems.notFound('Conversation', id);
    return conversation;
  }

  // ---- agent side (in-process) ------------------------------------------------------------------------------

  /** The agent accepts the chat: MEMBERS_CHANGED{agent,joined} then CONVERSATION_UPDATE(active, assignment agent). */
  agentJoin(conversationId: string, agentId = this.agent.agentId ?? 'agent-1'): Promise<void> {
    const c = this.conversation(conversationId);
    // 8x8 offers a chat to agents only once it is queued, so a join asked for earlier waits for the create
    // lifecycle: its QUEUED must never come after (and look newer than) the agent joining.
    const routing = this.routing.get(c.id)?.done;
    const routed = routing ?? Promise.resolve();
    return routed.then(() => {
      // A chat the user abandoned while it was being routed is never offered to an agent.
      if (routing && c.userRemoved) return;
      c.agentId = agentId;
      c.state = 'active';
      c.assignment = { type: 'agent', id: agentId };
      return Promise.all([
        this.emit(c.id, 'MEMBERS_CHANGED', { memberType: 'agent', change: 'joined', id: agentId }),
        this.emit(c.id, 'CONVERSATION_UPDATE', this.updateData(c)),
      ]).then(() => undefined);
    });
  }

  /** The agent writes: MESSAGE{isEcho:false, sender{type:'agent'}}. */
  agentSay(conversationId: string, text: string): Promise<void> {
    const c = this.conversation(conversationId);
    const agentId = this.requireAgent(c);
    c.transcript.push({ at: Date.now(), from: 'agent', text });
    return this.emit(c.id, 'MESSAGE', {
      isEcho: false,
      sender: { id: agentId, type: 'agent' },
      text,
      attachments: [],
      cards: [],
    });
  }

  /** ACTIVITY typing with the agent in `users` (or an empty list when `typing` is false). */
  agentTyping(conversationId: string, typing = true): Promise<void> {
    const c = this.conversation(conversationId);
    const agentId = this.requireAgent(c);
    return this.emit(c.id, 'ACTIVITY', {
      name: 'typing',
      value: { users: typing ? [{ type: 'agent', id: agentId }] : [] },
    });
  }

  /** The agent ends the chat: MEMBERS_CHANGED{agent,left} then CONVERSATION_UPDATE(idle). */
  agentLeave(conversationId: string): Promise<void> {
    const c = this.conversation(conversationId);
    const agentId = this.requireAgent(c);
    c.agentId = undefined;
    c.state = 'idle';
    return Promise.all([
      this.emit(c.id, 'MEMBERS_CHANGED', { memberType: 'agent', change: 'left', id: agentId }),
      this.emit(c.id, 'CONVERSATION_UPDATE', this.updateData(c)),
    ]).then(() => undefined);
  }

  /**
   * The agent transfers to another queue: TRANSFER, MEMBERS_CHANGED{agent,left}, QUEUED, and after `rejoinMs` a new
   * agent joins (unless rejoinMs is false).
   */
  agentTransfer(
    conversationId: string,
    options: { queueId?: string; queueName?: string; newAgentId?: string; rejoinMs?: number | false } = {},
  ): Promise<void> {
    const c = this.conversation(conversationId);
    const agentId = this.requireAgent(c);
    const queue = { id: options.queueId ?? 'queue-2', name: options.queueName ?? 'Escalations' };
    c.agentId = undefined;
    c.assignment = { type: 'queue', id: queue.id };
    const sent = Promise.all([
      this.emit(c.id, 'TRANSFER', undefined),
      this.emit(c.id, 'MEMBERS_CHANGED', { memberType: 'agent', change: 'left', id: agentId }),
      this.emit(c.id, 'QUEUED', { queueId: queue.id, queueName: queue.name }),
    ]).then(() => undefined);
    const rejoinMs = options.rejoinMs ?? 50;
    if (rejoinMs !== false) {
      this.later(rejoinMs, () => {
        if (this.conversations.get(c.id)?.state !== 'idle')
          void this.agentJoin(c.id, options.newAgentId ?? `${agentId}-2`);
      });
    }
    return sent;
  }

  /** The interaction goes idle (e.g. wrap-up timeout): CONVERSATION_UPDATE(idle). */
  idle(conversationId: string): Promise<void> {
    const c = this.conversation(conversationId);
    c.state = 'idle';
    c.agentId = undefined;
    return this.emit(c.id, 'CONVERSATION_UPDATE', this.updateData(c));
  }

  /** n agent messages `<prefix> 1..n`, emitted back to back in order. */
  burst(conversationId: string, n: number, prefix = 'Burst'): Promise<void> {
    const sends: Promise<void>[] = [];
    for (let i = 1; i <= n; i++) sends.push(this.agentSay(conversationId, `${prefix} ${i}`));
    return Promise.all(sends).then(() => undefined);
  }

  /** Sends WEB_HOOK_VERIFY (Test Connection) once, without retries. Resolves with the HTTP status (or error). */
  async sendVerify(options: { signed?: boolean; url?: string } = {}): Promise<number | 'error' | 'timeout'> {
    const event = this.newEvent('WEB_HOOK_VERIFY', undefined, undefined, options.signed ?? true);
    return this.attempt(event, 0, options.url);
  }

  // ---- webhook delivery -------------------------------------------------------------------------------------

  private requireAgent(c: SimConversation): string {
    if (!c.agentId) throw problems.conflict(`No agent has joined conversation ${c.id}`);
    return c.agentId;
  }

  private updateData(c: SimConversation): Record<string, unknown> {
    return {
      state: c.state,
      ...(c.assignment ? { assignment: c.assignment } : {}),
      user: c.user,
      channel: 'ChatAPI',
    };
  }

  private newEvent(
    eventType: string,
    conversationId: string | undefined,
    data: unknown,
    signed = true,
  ): SimEvent {
    const body =
      eventType === 'WEB_HOOK_VERIFY'
        ? { notificationVersion: 'Chat Gateway v1.0', eventType }
        : { eventType, conversationId, timestamp: Date.now(), ...(data === undefined ? {} : { data }) };
    const event: SimEvent = {
      eventId: randomUUID(),
      eventType,
      conversationId,
      body: JSON.stringify(body),
      signed,
      acknowledged: false,
      attempts: 0,
    };
    this.events.push(event);
    return event;
  }

  /**
   * Queues an event for delivery. First attempts of one conversation go out one after another in emit order;
   * retries run on their own timers, as a real sender's would. Resolves after the first attempt.
   */
  private emit(conversationId: string, eventType: string, data: unknown): Promise<void> {
    const event = this.newEvent(eventType, conversationId, data);
    if (this.webhookFaults.reorder) {
      const held = this.held.get(conversationId);
      if (!held) {
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        this.held.set(conversationId, { event, release });
        // Never hold an event for ever: send it alone if nothing follows soon.
        this.later(500, () => {
          if (this.held.get(conversationId)?.event === event) {
            this.held.delete(conversationId);
            release();
          }
        });
        return this.chain(conversationId, async () => {
          await released;
          await this.deliver(event);
        });
      }
      // The later event goes first; the held one follows once this one's first attempt is over.
      this.held.delete(conversationId);
      const sent = this.track(this.deliver(event));
      void sent.finally(() => held.release());
      return sent;
    }
    return this.chain(conversationId, () => this.deliver(event));
  }

  private chain(conversationId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(conversationId) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.chains.set(conversationId, next);
    return this.track(next);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopping.signal.aborted) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping.signal.aborted) fn();
    }, ms);
    this.timers.add(timer);
  }

  private async deliver(event: SimEvent): Promise<void> {
    const status = await this.attempt(event, 0);
    this.afterAttempt(event, 0, status);
  }

  private afterAttempt(event: SimEvent, retry: number, status: number | 'error' | 'timeout'): void {
    if (typeof status === 'number' && status >= 200 && status < 300) {
      event.acknowledged = true;
      if (this.webhookFaults.duplicate && retry === 0) void this.track(this.attempt(event, retry));
      return;
    }
    const delay = this.options.retryDelaysMs[retry];
    if (delay === undefined) return; // retries exhausted; the event stays unacknowledged in the log
    this.later(delay, () => {
      void this.track(
        this.attempt(event, retry + 1).then((next) => this.afterAttempt(event, retry + 1, next)),
      );
    });
  }

  /** One POST of the event. Each attempt has its own transmission time and signature. */
  private async attempt(
    event: SimEvent,
    retry: number,
    url = this.webhookUrl,
  ): Promise<number | 'error' | 'timeout'> {
    if (this.webhookFaults.delayMs)
      await new Promise((resolve) => setTimeout(resolve, this.webhookFaults.delayMs));
    event.attempts++;
    const record: SimDelivery = {
      at: Date.now(),
      eventId: event.eventId,
      eventType: event.eventType,
      conversationId: event.conversationId,
      retry,
      status: 'error',
    };
    this.deliveries.push(record);
    if (!url || this.stopping.signal.aborted) return 'error';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-8x8-tenant-id': this.options.tenant,
      'x-8x8-customer-id': this.options.customerId,
      'x-8x8-event-id': event.eventId,
      'x-8x8-transmission-time': String(Date.now() + (this.webhookFaults.clockSkewMs ?? 0)),
      'x-8x8-retry': String(retry),
    };
    if (event.signed) headers['x-8x8-signature'] = this.signDelivery(event.body, headers);
    const sentAt = performance.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: event.body,
        signal: AbortSignal.any([AbortSignal.timeout(this.options.deliveryTimeoutMs), this.stopping.signal]),
      });
      record.status = response.status;
      record.response = (await response.text()).slice(0, 500);
    } catch (error) {
      record.status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'error';
    }
    record.durationMs = Math.round((performance.now() - sentAt) * 10) / 10;
    this.options.log?.(
      `chat-gateway-sim → webhook ${event.eventType} ${event.eventId} retry=${retry} → ${record.status}`,
    );
    return record.status;
  }

  /**
   * The headers 8x8 would send with `body`, signed with the current key: for tests and fuzzing that need a
   * correctly signed delivery of a body no scripted event produces.
   */
  signedHeaders(body: string, eventId: string = randomUUID()): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-8x8-tenant-id': this.options.tenant,
      'x-8x8-customer-id': this.options.customerId,
      'x-8x8-event-id': eventId,
      'x-8x8-transmission-time': String(Date.now()),
      'x-8x8-retry': '0',
    };
    headers['x-8x8-signature'] = this.signDelivery(body, headers);
    return headers;
  }

  /**
   * `BASE64URL(header)..BASE64URL(RS256(BASE64URL(header) + "." + payload))` where payload is the compact JSON of
   * checksum (CRC32 of the body bytes), cid, eid, retry, tid, tt in that order (RFC 7797 unencoded, detached).
   */
  private signDelivery(body: string, headers: Record<string, string>): string {
    const payload = JSON.stringify({
      checksum: crc32(Buffer.from(body, 'utf8')),
      cid: headers['x-8x8-customer-id'],
      eid: headers['x-8x8-event-id'],
      retry: Number(headers['x-8x8-retry']),
      tid: headers['x-8x8-tenant-id'],
      tt: Number(headers['x-8x8-transmission-time']),
    });
    const protectedHeader = Buffer.from(
      JSON.stringify({ b64: false, crit: ['b64'], kid: this.signing.kid, alg: 'RS256' }),
    ).toString('base64url');
    const signature = sign(
      'sha256',
      Buffer.from(`${protectedHeader}.${payload}`, 'utf8'),
      this.signing.privateKey,
    );
    return `${protectedHeader}..${signature.toString('base64url')}`;
  }

  // ---- HTTP -------------------------------------------------------------------------------------------------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    const entry: SimRequest = { at: Date.now(), method, path: url.pathname, status: 0 };
    try {
      const raw = await readBody(req);
      if (url.pathname.startsWith('/__control/')) {
        const result = await this.control(method, url.pathname, parseControlBody(raw));
        return send(res, result.status, 'application/json', result.body);
      }
      const jwk = url.pathname.match(/^\/chat-gateway\/v1\/jwk\/([^/]+)\/public$/);
      if (method === 'GET' && jwk) {
        const key = this.publicJwk(decodeURIComponent(jwk[1] as string));
        this.jwkLookups.push({ at: Date.now(), kid: decodeURIComponent(jwk[1] as string), found: !!key });
        if (!key) throw problems.notFound('JwkKey', decodeURIComponent(jwk[1] as string));
        return send(res, 200, 'application/json', key);
      }
      this.requests.push(entry);
      entry.tenantHeader = header(req, 'x-8x8-tenant');
      const result = await this.api(method, url.pathname, raw, req, entry);
      entry.status = result.status;
      return send(res, result.status, HAL, result.body);
    } catch (error) {
      if (error === HOLD) {
        // A `timeout` fault: nothing is answered; the socket is dropped after the hold time (or at stop()).
        const timer = setTimeout(() => {
          this.holdTimers.delete(timer);
          res.destroy();
        }, this.options.timeoutFaultHoldMs);
        this.holdTimers.add(timer);
        return;
      }
      const problem =
        error instanceof HttpProblem
          ? error
          : new HttpProblem(500, {
              message: 'Internal error.',
              errors: [{ code: 'internal_error', message: String(error) }],
            });
      entry.status = problem.status;
      send(res, problem.status, PROBLEM, problem.body, problem.headers);
    } finally {
      this.options.log?.(`chat-gateway-sim ${method} ${url.pathname} → ${entry.status || res.statusCode}`);
    }
  }

  private publicJwk(kid: string): Record<string, unknown> | undefined {
    if (kid === this.signing.kid) return this.signing.publicJwk;
    return this.retiredKeys.get(kid)?.publicJwk;
  }

  private async api(
    method: string,
    path: string,
    raw: string,
    req: IncomingMessage,
    entry: SimRequest,
  ): Promise<{ status: number; body?: unknown }> {
    const route = matchApiRoute(method, path);
    if (!route) throw problems.notFound('Resource', `${method} ${path}`);
    const { operation, conversationId } = route;
    entry.operation = operation;
    entry.conversationId = conversationId;

    // The body is logged before anything can refuse the request, so the log shows what every attempt carried.
    let body: unknown;
    let notJson = false;
    if (operation !== 'getConversation' && raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        notJson = true;
      }
      entry.body = notJson ? raw : body;
    }
    if (header(req, 'x-api-key') !== this.options.apiKey) throw problems.unauthorized();
    const tenant = header(req, 'x-8x8-tenant');
    if (tenant !== undefined && tenant !== this.options.tenant)
      throw problems.forbidden(this.options.customerId);
    this.injectFault(operation);
    if (operation === 'createConversation') {
      const delayMs = this.createDelaysMs.shift();
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }

    if (operation !== 'getConversation') {
      if (notJson) throw problems.invalidJson('The request body is not valid JSON.');
      const optionalBody = operation === 'thinking' && body === undefined;
      if (!optionalBody) {
        const result = validateChatGatewayRequest(operation, body ?? null);
        if (!result.valid) throw problems.invalid(result.issues.map((i) => `${i.path}: ${i.message}`));
      }
    }

    switch (operation) {
      case 'createConversation':
        return { status: 202, body: this.createConversation(body as Record<string, unknown>) };
      case 'verifyWebhook': {
        const uri = (body as { uri?: string }).uri;
        const status = await this.sendVerify({ signed: true, ...(uri ? { url: uri } : {}) });
        if (typeof status === 'number' && status >= 200 && status < 300) return { status: 204 };
        throw problems.invalid([`Webhook ${uri ?? this.webhookUrl} answered ${status}`]);
      }
      case 'getConversation': {
        const c = this.conversation(conversationId as string);
        return {
          status: 200,
          body: {
            id: c.id,
            channelId: c.channelId,
            state: c.state,
            ...(c.assignment ? { assignment: c.assignment } : {}),
            user: c.user,
            _links: { self: { href: `${this.baseUrl}${API}/conversations/${encodeURIComponent(c.id)}` } },
          },
        };
      }
      case 'sendMessage':
        this.receiveMessage(this.conversation(conversationId as string), body as Record<string, unknown>);
        return { status: 202 };
      case 'removeUser':
        this.removeUser(this.conversation(conversationId as string), body as { removed?: boolean });
        return { status: 204 };
      case 'typing':
        this.conversation(conversationId as string).typingIndicators++;
        return { status: 204 };
      case 'thinking':
      case 'readReceipt':
        this.conversation(conversationId as string);
        return { status: 204 };
      default:
        throw problems.notFound('Resource', `${method} ${path}`);
    }
  }

  private injectFault(operation: string): void {
    const index = this.apiFaults.findIndex(
      (f) => f.remaining > 0 && (!f.operation || f.operation === operation),
    );
    if (index < 0) return;
    const fault = this.apiFaults[index]!;
    fault.remaining--;
    if (fault.remaining === 0) this.apiFaults.splice(index, 1);
    if (fault.fault === 'timeout') throw HOLD;
    const body =
      fault.fault === 429
        ? {
            message: 'Too Many Requests',
            errors: [{ code: 'too_many_requests', message: 'Rate limit exceeded' }],
          }
        : { message: 'Internal error.', errors: [{ code: 'internal_error', message: 'Simulated failure' }] };
    throw new HttpProblem(
      fault.fault,
      body,
      fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
    );
  }

  private createConversation(body: Record<string, unknown>): { conversationId: string; createdAt: string } {
    const id =
      this.nextConversationIds.shift() ??
      `sim-${Date.now().toString(36)}-${(++this.sequence).toString(36)}-${randomBytes(4).toString('hex')}`;
    const user = (body.user ?? {}) as Record<string, unknown>;
    const properties: Record<string, string> = {};
    for (const p of (user.additionalProperties ?? []) as { key?: string; value?: string }[]) {
      if (p.key !== undefined) properties[p.key] = String(p.value ?? '');
    }
    const history = (
      ((body.history as { messages?: unknown[] } | undefined)?.messages ?? []) as Record<string, unknown>[]
    ).map((m) => toSimMessage(m));
    const assignment = body.assignment as { type?: string; id?: string } | undefined;
    const c: SimConversation = {
      id,
      channelId: String(body.channelId),
      assignment: assignment ?? { type: 'queue', id: this.options.defaultQueue.id },
      user,
      properties,
      history,
      state: 'created',
      createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      userRemoved: false,
      userMessages: [],
      botMessages: [],
      transcript: history.map((m) => ({ at: m.at, from: m.authorType, text: m.text })),
      typingIndicators: 0,
      replyIndex: 0,
    };
    this.conversations.set(id, c);
    let routed!: () => void;
    const done = new Promise<void>((resolve) => (routed = resolve));
    this.routing.set(id, {
      done,
      resolve: () => {
        this.routing.delete(id);
        routed();
      },
    });
    // Lifecycle after the 202, as 8x8 describes it: CREATED first, ACTIVE once the interaction exists.
    const step = this.options.lifecycleStepMs;
    this.later(step, () => {
      void this.emit(id, 'CONVERSATION_UPDATE', this.updateData(c));
      this.later(step, () => {
        const queueId =
          c.assignment?.type === 'queue' && c.assignment.id ? c.assignment.id : this.options.defaultQueue.id;
        const queueName =
          queueId === this.options.defaultQueue.id ? this.options.defaultQueue.name : `Queue ${queueId}`;
        void this.emit(id, 'QUEUED', { queueId, queueName });
        this.later(step, () => {
          if (c.state !== 'created') return this.routing.get(id)?.resolve();
          c.state = 'active';
          void this.emit(id, 'CONVERSATION_UPDATE', this.updateData(c));
          this.routing.get(id)?.resolve();
          const autoJoin = this.agent.autoJoinMs;
          if (typeof autoJoin === 'number') {
            this.later(autoJoin, () => {
              if (c.state === 'active' && !c.agentId && !c.userRemoved) void this.agentJoin(id);
            });
          }
        });
      });
    });
    return { conversationId: id, createdAt: c.createdAt };
  }

  private receiveMessage(c: SimConversation, body: Record<string, unknown>): void {
    const message = toSimMessage(body);
    (message.authorType === 'bot' ? c.botMessages : c.userMessages).push(message);
    c.transcript.push({ at: message.at, from: message.authorType, text: message.text });
    if (this.options.echoIntegrationMessages) {
      void this.emit(c.id, 'MESSAGE', {
        isEcho: true,
        sender: {
          id: message.authorType === 'bot' ? 'bot' : String(c.user.userId ?? `user-${c.id}`),
          type: message.authorType,
        },
        text: message.text,
        attachments: message.attachments ?? [],
        cards: message.cards ?? [],
      });
    }
    if (message.authorType !== 'user' || !c.agentId) return;
    const reply = this.nextReply(c, message.text);
    if (reply === undefined) return;
    this.later(this.agent.replyDelayMs ?? 0, () => {
      if (c.agentId) void this.agentSay(c.id, reply);
    });
  }

  private nextReply(c: SimConversation, text: string): string | undefined {
    const replies = this.agent.replies;
    if (!replies) return undefined;
    if (replies === 'echo') return `Echo: ${text}`;
    if (Array.isArray(replies)) return replies[c.replyIndex++];
    return replies(text, c);
  }

  private removeUser(c: SimConversation, body: { removed?: boolean }): void {
    if (body.removed !== true || c.userRemoved) return;
    c.userRemoved = true;
    c.state = 'idle';
    c.agentId = undefined;
    void this.emit(c.id, 'MEMBERS_CHANGED', {
      memberType: 'user',
      change: 'left',
      id: String(c.user.userId ?? `user-${c.id}`),
    });
    void this.emit(c.id, 'CONVERSATION_UPDATE', this.updateData(c));
  }

  // ---- /__control -------------------------------------------------------------------------------------------

  private async control(
    method: string,
    path: string,
    body: Record<string, unknown>,
  ): Promise<{ status: number; body: unknown }> {
    const accepted = { status: 202, body: { ok: true } };
    if (method === 'GET' && path === '/__control/conversations') {
      return { status: 200, body: [...this.conversations.values()].map(summary) };
    }
    if (method === 'GET' && path === '/__control/deliveries') return { status: 200, body: this.deliveries };
    if (method === 'GET' && path === '/__control/requests') return { status: 200, body: this.requests };
    if (method === 'GET' && path === '/__control/events') return { status: 200, body: this.events };
    if (method === 'POST' && path === '/__control/reset') {
      this.reset();
      return { status: 200, body: { ok: true } };
    }
    if (method === 'POST' && path === '/__control/verify') {
      return {
        status: 200,
        body: { ok: true, status: await this.sendVerify({ signed: body.signed !== false }) },
      };
    }
    if (method === 'POST' && path === '/__control/faults/api') {
      const fault = body.fault as ApiFault;
      if (![429, 500, 502, 503, 'timeout'].includes(fault))
        throw problems.invalid(['fault must be 429, 500, 502, 503 or "timeout"']);
      this.failApiCalls(fault, Number(body.count ?? 1), {
        ...(typeof body.operation === 'string' ? { operation: body.operation as ChatGatewayOperation } : {}),
        ...(body.retryAfterSeconds !== undefined
          ? { retryAfterSeconds: Number(body.retryAfterSeconds) }
          : {}),
      });
      return accepted;
    }
    if (method === 'POST' && path === '/__control/faults/webhook') {
      if (body.clockSkewMs !== undefined && !Number.isFinite(Number(body.clockSkewMs)))
        throw problems.invalid(['clockSkewMs must be a number of milliseconds']);
      this.webhookFaults = {
        ...(body.delayMs !== undefined ? { delayMs: Number(body.delayMs) } : {}),
        ...(body.duplicate !== undefined ? { duplicate: body.duplicate === true } : {}),
        ...(body.reorder !== undefined ? { reorder: body.reorder === true } : {}),
        ...(body.clockSkewMs !== undefined ? { clockSkewMs: Number(body.clockSkewMs) } : {}),
      };
      return accepted;
    }
    if (method === 'POST' && path === '/__control/agent') {
      this.agent = body as AgentScript;
      return accepted;
    }
    const m = path.match(/^\/__control\/conversations\/([^/]+)(\/.*)?$/);
    if (!m) throw problems.notFound('Control', path);
    const id = decodeURIComponent(m[1] as string);
    const action = m[2] ?? '';
    const c = this.conversation(id);
    if (method === 'GET' && action === '') {
      return {
        status: 200,
        body: {
          ...c,
          events: this.events
            .filter((e) => e.conversationId === id)
            .map((e) => ({ ...e, body: JSON.parse(e.body) as unknown })),
          deliveries: this.deliveries.filter((d) => d.conversationId === id),
        },
      };
    }
    if (method !== 'POST') throw problems.notFound('Control', path);
    // Actions answer at once; deliveries continue in the background (the webhook may be slow or failing).
    switch (action) {
      case '/agent/join':
        void this.agentJoin(c.id, typeof body.agentId === 'string' ? body.agentId : undefined).catch(
          () => undefined,
        );
        return accepted;
      case '/agent/message':
        if (typeof body.text !== 'string' || body.text === '') throw problems.invalid(['text is required']);
        void this.agentSay(c.id, body.text).catch(() => undefined);
        return accepted;
      case '/agent/typing':
        void this.agentTyping(c.id, body.typing !== false).catch(() => undefined);
        return accepted;
      case '/agent/leave':
        void this.agentLeave(c.id).catch(() => undefined);
        return accepted;
      case '/agent/transfer':
        void this.agentTransfer(c.id, {
          ...(typeof body.queueId === 'string' ? { queueId: body.queueId } : {}),
          ...(typeof body.queueName === 'string' ? { queueName: body.queueName } : {}),
          ...(typeof body.newAgentId === 'string' ? { newAgentId: body.newAgentId } : {}),
          ...(body.rejoinMs !== undefined
            ? { rejoinMs: body.rejoinMs === false ? false : Number(body.rejoinMs) }
            : {}),
        }).catch(() => undefined);
        return accepted;
      case '/agent/burst':
        void this.burst(
          c.id,
          Math.min(1000, Math.max(1, Number(body.n ?? 10))),
          typeof body.prefix === 'string' ? body.prefix : undefined,
        ).catch(() => undefined);
        return accepted;
      case '/idle':
        void this.idle(c.id).catch(() => undefined);
        return accepted;
      default:
        throw problems.notFound('Control', path);
    }
  }
}

type ApiOperation = ChatGatewayOperation | 'getConversation';

const API_ROUTES: { method: string; pattern: RegExp; operation: ApiOperation }[] = [
  { method: 'POST', pattern: /^\/chat-gateway\/v1\/conversations$/, operation: 'createConversation' },
  { method: 'POST', pattern: /^\/chat-gateway\/v1\/webhooks\/verify$/, operation: 'verifyWebhook' },
  {
    method: 'POST',
    pattern: /^\/chat-gateway\/v1\/conversations\/([^/]+)\/messages$/,
    operation: 'sendMessage',
  },
  {
    method: 'PATCH',
    pattern: /^\/chat-gateway\/v1\/conversations\/([^/]+)\/participants\/user$/,
    operation: 'removeUser',
  },
  { method: 'POST', pattern: /^\/chat-gateway\/v1\/conversations\/([^/]+)\/typing$/, operation: 'typing' },
  {
    method: 'POST',
    pattern: /^\/chat-gateway\/v1\/conversations\/([^/]+)\/thinking$/,
    operation: 'thinking',
  },
  {
    method: 'POST',
    pattern: /^\/chat-gateway\/v1\/conversations\/([^/]+)\/read-receipt$/,
    operation: 'readReceipt',
  },
  { method: 'GET', pattern: /^\/chat-gateway\/v1\/conversations\/([^/]+)$/, operation: 'getConversation' },
];

function matchApiRoute(
  method: string,
  path: string,
): { operation: ApiOperation; conversationId?: string } | undefined {
  for (const route of API_ROUTES) {
    const m = route.method === method ? path.match(route.pattern) : null;
    if (m)
      return { operation: route.operation, ...(m[1] ? { conversationId: decodeURIComponent(m[1]) } : {}) };
  }
  return undefined;
}

/** Thrown to leave a request unanswered (the `timeout` API fault). */
const HOLD = Symbol('hold');

function summary(c: SimConversation) {
  return {
    id: c.id,
    channelId: c.channelId,
    state: c.state,
    agentId: c.agentId,
    userRemoved: c.userRemoved,
    userMessages: c.userMessages.length,
    createdAt: c.createdAt,
  };
}

function toSimMessage(m: Record<string, unknown>): SimMessage {
  return {
    at: Date.now(),
    authorType: String(m.authorType ?? 'user'),
    text: typeof m.text === 'string' ? m.text : '',
    ...(Array.isArray(m.attachments) ? { attachments: m.attachments } : {}),
    ...(Array.isArray(m.cards) ? { cards: m.cards } : {}),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw problems.invalid(['The request body is too large.']);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseControlBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    throw problems.invalidJson('The control request body is not valid JSON.');
  }
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...extraHeaders };
  if (body !== undefined && status !== 204) headers['content-type'] = contentType;
  res.writeHead(status, headers);
  res.end(body === undefined || status === 204 ? undefined : JSON.stringify(body));
}
