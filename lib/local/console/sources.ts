/**
 * What the local console shows, read only over HTTP: the bridge's own API (GET /sms/{id}, GET /handover/{id}, with
 * the local API key) and the simulators' `/__control` surfaces (SMS outbox and receipts, Chat Gateway conversations
 * and webhook deliveries, Cognigy Endpoint calls). Nothing here touches a simulator or the stack in-process, so
 * the console shows exactly what a person with curl could see.
 *
 * Bridge records are re-read only while they can still change (an SMS not yet final, a handover not yet ended) or
 * when the simulators show something new about them, so an idle console costs a handful of local GETs per tick.
 */

// The simulators' control surfaces answer these shapes as JSON: the types only, nothing of the simulators runs here.
import type { SimDelivery } from '../../simulators/chat-gateway';
import type { HandsetMessage, InboundDelivery, ReceiptDelivery } from '../../simulators/sms';
import { LOCAL_HANDSET_NUMBER } from '../constants';

/** Where the console reads and acts; a simulator URL is absent when the real service is configured instead. */
export interface ConsoleTargets {
  gateway: string;
  apiKey: string;
  sms?: string;
  chatGateway?: string;
  cognigy?: string;
}

/** At most this many of each are shown (newest first); older ones stay in the simulators' own logs. */
export const CONSOLE_LIMITS = { sms: 30, conversations: 10, webhooks: 60, lines: 200, handsets: 50 } as const;

const FETCH_TIMEOUT_MS = 5_000;

export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** One HTTP call with a JSON body (or none) and a timeout; the body parsed when it is JSON. */
export async function callHttp(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body };
}

// ---- Shapes as the HTTP surfaces answer them (only the fields the console reads) --------------------------------

interface SimSms {
  umid: string;
  clientMessageId: string | null;
  destination: string;
  request: { text?: unknown };
  receivedAt: string;
}

/** One receipt the 8x8 SMS simulator sent, as `/__control/receipts` lists it. */
type SimReceipt = ReceiptDelivery;

interface SimConversationSummary {
  id: string;
  state: string;
  agentId?: string;
  createdAt: string;
}

interface SimConversationDetail extends SimConversationSummary {
  channelId: string;
  user: Record<string, unknown>;
  transcript: { at: number; from: string; text: string }[];
  events: { eventId: string; eventType: string; body: Record<string, unknown>; acknowledged: boolean }[];
}

interface CognigyCall {
  seq: number;
  mode: 'inject' | 'notify';
  receivedAt: string;
  body: { sessionId: string; userId: string; text?: unknown; source?: unknown; data?: unknown };
}

interface SmsStatusAnswer {
  messageId: string;
  destination: string;
  status: { code: string; description: string };
  history: { status: string; at: string; detail?: string; reason?: string; errorCode?: number }[];
}

interface HandoverStatusAnswer {
  conversationId: string;
  handover: { status: string };
  agent?: { id: string };
  endReason?: string;
  lastError?: { code?: string; message?: string };
}

// ---- What the console renders ------------------------------------------------------------------------------------

export interface SmsView {
  /** The bridge's messageId when known, else 8x8's umid. */
  key: string;
  messageId?: string;
  /** Sent by the bridge itself in answer to an inbound SMS: `bot` (the SMS bot) or `keyword` (STOP/START/HELP). */
  answerTo?: 'bot' | 'keyword';
  umid?: string;
  destination: string;
  text: string;
  /** When the bridge accepted it (console sends) or 8x8 received it. */
  at: string;
  /** The bridge's status (lower case, for matching) and its description; absent when the bridge has no record. */
  status?: string;
  statusDescription?: string;
  history: { status: string; at: string; detail?: string }[];
  receipts: { state: string; at: string; attempt: number; duplicate: boolean; answer: string; ok: boolean }[];
  /** How the bridge answered the console's POST /sms when it refused it. */
  refused?: string;
}

export interface PaneLine {
  at: number;
  kind: 'user' | 'agent' | 'bot' | 'system' | 'history';
  text: string;
  /** A short note: the HTTP answer, the delivery result, the handover event. */
  note?: string;
  failed?: boolean;
}

export interface ConversationView {
  id: string;
  sessionId?: string;
  createdAt: string;
  /** The Chat Gateway simulator's state (created/active/idle) and agent. */
  simState?: string;
  agentId?: string;
  /** The bridge's handover status (queue/active/completed/cancelled/error), from GET /handover/{id}. */
  bridgeStatus?: string;
  bridgeDetail?: string;
  userPane: PaneLine[];
  agentPane: PaneLine[];
}

/** One SMS on the console's handset: one 8x8 handed to it, or one it texted to the bridge. */
export interface HandsetLine {
  direction: 'received' | 'sent';
  /** The other side: the sender of a received SMS, the 8x8 number a sent one went to. */
  peer: string;
  text: string;
  at: string;
  umid: string;
  /** Sent ones: how the bridge's inbound webhook answered 8x8 (e.g. `200`, `retry 1 → 503`), or `pending`. */
  note?: string;
  failed?: boolean;
}

export interface HandsetView {
  /** The phone number shown (the last one texted from, or opened). */
  number: string;
  lines: HandsetLine[];
  /** Numbers the SMS simulator has a handset for (to pick from). */
  known: string[];
}

export interface WebhookView {
  at: number;
  /** `8x8 SMS receipt`, `8x8 inbound SMS` or `8x8 Chat Gateway event`. */
  source: 'sms' | 'inbound' | 'chat';
  what: string;
  /** delivered (2xx), refused (4xx with the bridge's code), failed (5xx, timeout, connection error). */
  result: 'verified' | 'refused' | 'failed' | 'pending';
  answer: string;
  attempt: number;
}

export interface ConsoleSnapshot {
  services: { sms: boolean; chatGateway: boolean; cognigy: boolean };
  outbox: SmsView[];
  /** The handset texting the bridge (empty lines when the real 8x8 is configured). */
  handset: HandsetView;
  conversations: ConversationView[];
  webhooks: WebhookView[];
  /** Sources that could not be read this time (shown as a warning line). */
  problems: string[];
}

/** An SMS the console itself asked the bridge to send. */
export interface ConsoleSms {
  messageId?: string;
  destination: string;
  text: string;
  at: string;
  refused?: string;
}

/** A user message the console posted for a conversation, with the bridge's answer. */
export interface ConsoleUserLine {
  at: number;
  text: string;
  answer: string;
  ok: boolean;
}

const FINAL_SMS = new Set(['delivered', 'undelivered', 'rejected', 'failed']);
const FINAL_HANDOVER = new Set(['completed', 'cancelled']);
/** How long an open handover's bridge record is re-read after its conversation last moved. */
const HANDOVER_SETTLE_MS = 5_000;
/** The console's own SMS list keeps this many (the page shows CONSOLE_LIMITS.sms). */
const MAX_SENT_SMS = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `401 SIGNATURE_INVALID` from a status and an answer body `{error:{code}}` (the bridge's error shape). */
export function describeAnswer(status: number | string, body: unknown): string {
  let code: string | undefined;
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      parsed = undefined;
    }
  }
  if (parsed && typeof parsed === 'object') {
    const error = (parsed as { error?: unknown }).error;
    if (error && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'string')
      code = (error as { code: string }).code;
    else if (typeof error === 'string') code = error;
  }
  return code ? `${status} ${code}` : String(status);
}

function webhookResult(status: number | string): WebhookView['result'] {
  if (typeof status === 'number' && status >= 200 && status < 300) return 'verified';
  if (typeof status === 'number' && status >= 400 && status < 500) return 'refused';
  return 'failed';
}

function time(iso: string | undefined): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : 0;
}

const asText = (value: unknown): string => (typeof value === 'string' ? value : '');

interface HandoverData {
  status?: string;
  event?: string;
  conversationId?: string;
  agentId?: string;
  queueName?: string;
  reason?: string;
}

function handoverDataOf(call: CognigyCall): HandoverData | undefined {
  const data = call.body.data;
  if (!data || typeof data !== 'object') return undefined;
  const handover = (data as { handover?: unknown }).handover;
  return handover && typeof handover === 'object' ? (handover as HandoverData) : undefined;
}

/**
 * Reads every source once per `read()` and keeps what it may reuse: bridge records that are final, conversation
 * details whose simulator log did not move.
 */
export class ConsoleSources {
  /** SMS the console sent, newest last. */
  readonly sentSms: ConsoleSms[] = [];
  /** Cognigy sessions of the handovers the console started (conversationId → sessionId). */
  readonly sessions = new Map<string, string>();
  /** What the console posted as the user, per conversation. */
  readonly userLines = new Map<string, ConsoleUserLine[]>();
  /** The handset the page shows (E.164 with `+`). */
  handsetNumber: string = LOCAL_HANDSET_NUMBER;

  private readonly smsStatus = new Map<
    string,
    { answer?: SmsStatusAnswer; receipts: number; notFound?: boolean }
  >();
  private readonly handoverStatus = new Map<
    string,
    { answer?: HandoverStatusAnswer; signature: string; changedAt: number }
  >();
  private readonly details = new Map<string, { detail: SimConversationDetail; signature: string }>();

  constructor(readonly targets: ConsoleTargets) {}

  rememberSms(sms: ConsoleSms): void {
    this.sentSms.push(sms);
    if (this.sentSms.length > MAX_SENT_SMS) this.sentSms.shift();
  }

  /** The Cognigy session of a conversation: one the console started, or one the Cognigy simulator heard of. */
  sessionOf(conversationId: string): string | undefined {
    return this.sessions.get(conversationId);
  }

  async read(): Promise<ConsoleSnapshot> {
    const problems: string[] = [];
    const get = async <T>(what: string, url: string | undefined): Promise<T | undefined> => {
      if (!url) return undefined;
      try {
        const answer = await callHttp(url);
        if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
        return answer.body as T;
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`);
        return undefined;
      }
    };
    const { sms, chatGateway, cognigy } = this.targets;
    const handsetNumber = this.handsetNumber;
    const [received, receipts, handset, handsets, inbound, conversations, deliveries, calls] = await Promise.all([
      get<{ received: SimSms[] }>('SMS simulator', sms && `${sms}/__control/received`),
      get<{ receipts: SimReceipt[] }>('SMS simulator receipts', sms && `${sms}/__control/receipts`),
      get<{ messages: HandsetMessage[] }>(
        'SMS simulator handset',
        sms && `${sms}/__control/handsets/${encodeURIComponent(handsetNumber)}`,
      ),
      get<{ handsets: { number: string }[] }>('SMS simulator handsets', sms && `${sms}/__control/handsets`),
      get<{ inbound: InboundDelivery[] }>('SMS simulator inbound', sms && `${sms}/__control/inbound`),
      get<SimConversationSummary[]>(
        'Chat Gateway simulator',
        chatGateway && `${chatGateway}/__control/conversations`,
      ),
      get<SimDelivery[]>('Chat Gateway deliveries', chatGateway && `${chatGateway}/__control/deliveries`),
      get<{ calls: CognigyCall[] }>('Cognigy simulator', cognigy && `${cognigy}/__control/calls`),
    ]);
    const cognigyCalls = calls?.calls ?? [];
    for (const call of cognigyCalls) {
      const conversationId = handoverDataOf(call)?.conversationId;
      if (conversationId && !this.sessions.has(conversationId))
        this.sessions.set(conversationId, call.body.sessionId);
    }
    const [outbox, views] = await Promise.all([
      this.outbox(received?.received ?? [], receipts?.receipts ?? [], problems),
      this.conversations(conversations ?? [], deliveries ?? [], cognigyCalls, problems),
    ]);
    return {
      services: { sms: !!sms, chatGateway: !!chatGateway, cognigy: !!cognigy },
      outbox,
      handset: {
        number: handsetNumber,
        lines: handsetLines(handset?.messages ?? [], inbound?.inbound ?? []),
        // The most recent ones: a bench run may have texted thousands of numbers.
        known: (handsets?.handsets ?? []).slice(-CONSOLE_LIMITS.handsets).map((h) => h.number),
      },
      conversations: views,
      webhooks: webhookLog(receipts?.receipts ?? [], deliveries ?? [], inbound?.inbound ?? []),
      problems,
    };
  }

  private async outbox(received: SimSms[], receipts: SimReceipt[], problems: string[]): Promise<SmsView[]> {
    const byKey = new Map<string, SmsView>();
    for (const sent of this.sentSms) {
      const key = sent.messageId ?? `refused-${sent.at}`;
      byKey.set(key, {
        key,
        ...(sent.messageId ? { messageId: sent.messageId } : {}),
        destination: sent.destination,
        text: sent.text,
        at: sent.at,
        history: [],
        receipts: [],
        ...(sent.refused ? { refused: sent.refused } : {}),
      });
    }
    for (const sms of received) {
      // The bridge sends its messageId as 8x8's clientMessageId (unless the caller gave its own).
      const messageId =
        sms.clientMessageId && UUID.test(sms.clientMessageId) ? sms.clientMessageId.toLowerCase() : undefined;
      const key = messageId ?? sms.umid;
      const view = byKey.get(key) ?? {
        key,
        ...(messageId ? { messageId } : {}),
        destination: sms.destination,
        text: asText(sms.request.text),
        at: sms.receivedAt,
        history: [],
        receipts: [],
      };
      view.umid = sms.umid;
      // The bridge's own answers to inbound SMS carry clientMessageIds `bot:<umid>:<n>` and `kw:<umid>`.
      if (sms.clientMessageId?.startsWith('bot:')) view.answerTo = 'bot';
      else if (sms.clientMessageId?.startsWith('kw:')) view.answerTo = 'keyword';
      for (const r of receipts.filter((r) => r.umid === sms.umid)) {
        view.receipts.push({
          state: r.state,
          at: r.at,
          attempt: r.attempt,
          duplicate: r.duplicate,
          answer: r.status !== undefined ? describeAnswer(r.status, r.response) : (r.error ?? 'no answer'),
          ok: r.ok,
        });
      }
      byKey.set(key, view);
    }
    const newest = [...byKey.values()].sort((a, b) => time(b.at) - time(a.at)).slice(0, CONSOLE_LIMITS.sms);
    await Promise.all(newest.map((view) => this.withBridgeStatus(view, problems)));
    return newest;
  }

  private async withBridgeStatus(view: SmsView, problems: string[]): Promise<void> {
    if (!view.messageId) return;
    const cached = this.smsStatus.get(view.messageId);
    const final = cached?.answer && FINAL_SMS.has(cached.answer.status.code.toLowerCase());
    let answer = cached?.answer;
    const unchanged = cached?.receipts === view.receipts.length;
    // Another API key's SMS (404) is asked again only when 8x8 reports something new about it.
    if (!(unchanged && (final || cached.notFound))) {
      let notFound = false;
      try {
        const got = await callHttp(`${this.targets.gateway}/sms/${encodeURIComponent(view.messageId)}`, {
          headers: { 'x-api-key': this.targets.apiKey },
        });
        if (got.status === 200) answer = got.body as SmsStatusAnswer;
        notFound = got.status === 404;
      } catch (error) {
        problems.push(`GET /sms/${view.messageId}: ${(error as Error).message}`);
      }
      this.smsStatus.set(view.messageId, {
        ...(answer ? { answer } : {}),
        receipts: view.receipts.length,
        ...(notFound ? { notFound } : {}),
      });
    }
    if (!answer) return;
    view.status = answer.status.code.toLowerCase();
    view.statusDescription = answer.status.description;
    view.history = answer.history.map((h) => ({
      status: h.status.toLowerCase(),
      at: h.at,
      ...(h.detail || h.reason ? { detail: h.detail ?? h.reason } : {}),
    }));
  }

  private async conversations(
    summaries: SimConversationSummary[],
    deliveries: SimDelivery[],
    calls: CognigyCall[],
    problems: string[],
  ): Promise<ConversationView[]> {
    const newest = [...summaries]
      .sort((a, b) => time(b.createdAt) - time(a.createdAt) || b.id.localeCompare(a.id))
      .slice(0, CONSOLE_LIMITS.conversations);
    return Promise.all(
      newest.map(async (summary) => {
        const own = deliveries.filter((d) => d.conversationId === summary.id);
        const signature = JSON.stringify([summary, own.map((d) => [d.status, d.durationMs !== undefined])]);
        const detail = await this.detail(summary.id, signature, problems);
        const sessionId = this.sessionOf(summary.id);
        const sessionCalls = sessionId ? calls.filter((c) => c.body.sessionId === sessionId) : [];
        const bridge = await this.bridgeHandover(summary.id, `${signature}|${sessionCalls.length}`, problems);
        return {
          id: summary.id,
          ...(sessionId ? { sessionId } : {}),
          createdAt: summary.createdAt,
          simState: summary.state,
          ...(summary.agentId ? { agentId: summary.agentId } : {}),
          ...(bridge
            ? {
                bridgeStatus: bridge.handover.status,
                ...(bridge.endReason || bridge.lastError?.code
                  ? { bridgeDetail: bridge.endReason ?? bridge.lastError?.code }
                  : {}),
              }
            : {}),
          userPane: userPane(sessionCalls, this.userLines.get(summary.id) ?? []),
          agentPane: detail ? agentPane(detail, own) : [],
        };
      }),
    );
  }

  private async detail(
    id: string,
    signature: string,
    problems: string[],
  ): Promise<SimConversationDetail | undefined> {
    const cached = this.details.get(id);
    if (cached && cached.signature === signature) return cached.detail;
    try {
      const got = await callHttp(
        `${this.targets.chatGateway}/__control/conversations/${encodeURIComponent(id)}`,
      );
      if (got.status !== 200) throw new Error(`HTTP ${got.status}`);
      const detail = got.body as SimConversationDetail;
      this.details.set(id, { detail, signature });
      return detail;
    } catch (error) {
      problems.push(`Chat Gateway conversation ${id}: ${(error as Error).message}`);
      return cached?.detail;
    }
  }

  private async bridgeHandover(
    id: string,
    signature: string,
    problems: string[],
  ): Promise<HandoverStatusAnswer | undefined> {
    const cached = this.handoverStatus.get(id);
    const final = cached?.answer && FINAL_HANDOVER.has(cached.answer.handover.status);
    const now = Date.now();
    const changedAt = cached?.signature === signature ? cached.changedAt : now;
    // The bridge updates its record a little after 8x8's webhook is answered or Cognigy is pushed, so an open
    // handover is read again for a while after the simulators last showed something new about it.
    if (cached && (final || now - changedAt > HANDOVER_SETTLE_MS)) return cached.answer;
    let answer = cached?.answer;
    try {
      const got = await callHttp(`${this.targets.gateway}/handover/${encodeURIComponent(id)}`, {
        headers: { 'x-api-key': this.targets.apiKey },
      });
      if (got.status === 200) answer = got.body as HandoverStatusAnswer;
    } catch (error) {
      problems.push(`GET /handover/${id}: ${(error as Error).message}`);
    }
    this.handoverStatus.set(id, { ...(answer ? { answer } : {}), signature, changedAt });
    return answer;
  }
}

/** The user's side: what the console posted as the user, and what the Cognigy Endpoint received for the session. */
function userPane(calls: CognigyCall[], posted: ConsoleUserLine[]): PaneLine[] {
  const lines: PaneLine[] = posted.map((p) => ({
    at: p.at,
    kind: 'user',
    text: p.text,
    note: p.answer,
    ...(p.ok ? {} : { failed: true }),
  }));
  for (const call of calls) {
    const handover = handoverDataOf(call);
    const text = asText(call.body.text);
    const at = time(call.receivedAt);
    if (call.mode === 'notify' || text !== '') {
      const source = asText(call.body.source);
      lines.push({
        at,
        kind: source === 'bot' ? 'bot' : 'agent',
        text,
        note: `${call.mode}${source ? ` · ${source}` : ''}`,
      });
    } else if (handover) {
      const extra = [handover.agentId, handover.queueName, handover.reason].filter(Boolean).join(' · ');
      lines.push({
        at,
        kind: 'system',
        text: `handover ${handover.status ?? '?'}${extra ? ` (${extra})` : ''}`,
        note: `inject · ${handover.event ?? ''}`,
      });
    } else {
      lines.push({ at, kind: 'system', text: `${call.mode} without text`, note: call.mode });
    }
  }
  return stable(lines);
}

/** The agent's side: the conversation as 8x8 holds it (history, user text, agent text) and the events it sent. */
function agentPane(detail: SimConversationDetail, deliveries: SimDelivery[]): PaneLine[] {
  const lines: PaneLine[] = detail.transcript.map((t) => ({
    at: t.at,
    kind: t.from === 'user' || t.from === 'agent' || t.from === 'bot' ? t.from : 'history',
    text: t.text,
  }));
  for (const event of detail.events) {
    if (event.eventType === 'MESSAGE') continue; // the transcript has the text; echoes repeat the user's
    const at = typeof event.body.timestamp === 'number' ? event.body.timestamp : 0;
    const data = (event.body.data ?? {}) as Record<string, unknown>;
    const text =
      event.eventType === 'MEMBERS_CHANGED'
        ? `${asText(data.memberType)} ${asText(data.id)} ${asText(data.change)}`
        : event.eventType === 'QUEUED'
          ? `queued in ${asText(data.queueName) || asText(data.queueId)}`
          : event.eventType === 'CONVERSATION_UPDATE'
            ? `conversation ${asText(data.state)}`
            : event.eventType === 'ACTIVITY'
              ? 'agent typing'
              : event.eventType.toLowerCase();
    const tries = deliveries.filter((d) => d.eventId === event.eventId);
    const last = tries[tries.length - 1];
    lines.push({
      at,
      kind: 'system',
      text,
      note: `webhook ${last ? chatAnswer(last) : 'pending'}`,
      ...(event.acknowledged || !last || last.durationMs === undefined ? {} : { failed: true }),
    });
  }
  return stable(lines);
}

/** Sorted by time, keeping arrival order for equal times; the newest CONSOLE_LIMITS.lines. */
function stable(lines: PaneLine[]): PaneLine[] {
  return lines
    .map((line, i) => ({ line, i }))
    .sort((a, b) => a.line.at - b.line.at || a.i - b.i)
    .map(({ line }) => line)
    .slice(-CONSOLE_LIMITS.lines);
}

/** A Chat Gateway delivery's answer; `pending` while the attempt is under way. */
function chatAnswer(d: SimDelivery): string {
  return d.durationMs === undefined ? 'pending' : describeAnswer(d.status, d.response);
}

/** The handset's SMS in order; a sent one notes how the bridge's inbound webhook answered 8x8's last try. */
function handsetLines(messages: HandsetMessage[], inbound: InboundDelivery[]): HandsetLine[] {
  return messages.slice(-CONSOLE_LIMITS.lines).map((m) => {
    const line: HandsetLine = {
      direction: m.direction,
      peer: m.direction === 'received' ? m.source : m.destination,
      text: m.text,
      at: m.at,
      umid: m.umid,
    };
    if (m.direction === 'sent') {
      const tries = inbound.filter((d) => d.umid === m.umid);
      const last = tries[tries.length - 1];
      const answer = last
        ? last.status !== undefined
          ? describeAnswer(last.status, last.response)
          : (last.error ?? 'no answer')
        : 'pending';
      line.note = `to the bridge → ${last && last.attempt > 0 ? `retry ${last.attempt} → ` : ''}${answer}`;
      if (last && !last.ok) line.failed = true;
    }
    return line;
  });
}

function webhookLog(
  receipts: SimReceipt[],
  deliveries: SimDelivery[],
  inbound: InboundDelivery[] = [],
): WebhookView[] {
  const log: WebhookView[] = [
    ...inbound.map((d) => {
      const status = d.status ?? d.error ?? 'no answer';
      return {
        at: time(d.at),
        source: 'inbound' as const,
        what: `inbound SMS from ${d.from} to ${d.to}${d.redelivery ? ' (repeated)' : ''}`,
        result: webhookResult(status),
        answer: d.status !== undefined ? describeAnswer(d.status, d.response) : String(status),
        attempt: d.attempt,
      };
    }),
    ...receipts.map((r) => {
      const status = r.status ?? r.error ?? 'no answer';
      return {
        at: time(r.at),
        source: 'sms' as const,
        what: `receipt ${r.state}${r.duplicate ? ' (duplicate)' : ''}`,
        result: webhookResult(status),
        answer: r.status !== undefined ? describeAnswer(r.status, r.response) : String(status),
        attempt: r.attempt,
      };
    }),
    ...deliveries.map((d) => ({
      at: d.at,
      source: 'chat' as const,
      what: `${d.eventType}${d.conversationId ? ` · ${d.conversationId}` : ''}`,
      result: d.durationMs === undefined ? ('pending' as const) : webhookResult(d.status),
      answer: chatAnswer(d),
      attempt: d.retry,
    })),
  ];
  return log.sort((a, b) => b.at - a.at).slice(0, CONSOLE_LIMITS.webhooks);
}
