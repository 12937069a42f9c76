/**
 * Two-way SMS (issue 14): the shapes and ports shared by the inbound webhook (inbound-webhook.ts), the inbound
 * consumer (inbound.ts), the SMS bot (sms-bot.ts), the opt-out routes (opt-outs.ts) and POST /sms's opt-out check
 * (accept.ts). Adapters: dynamo-opt-out-store.ts, dynamo-sms-session-store.ts, dynamo-message-store.ts (reply
 * window); cores import no AWS SDK.
 */

/**
 * What the inbound webhook queues (smsInbound FIFO, group = hash of `from`+`to`, deduplication id = umid): 8x8's
 * `inbound_message_received` payload, validated, with the numbers in E.164 (`+` added when 8x8 left it out).
 */
export interface QueuedInboundSms {
  /** 8x8's id of the inbound SMS: the same on every retry of the webhook, so the unit of once-only processing. */
  umid: string;
  /** The texting phone (8x8's `source`). */
  from: string;
  /** The 8x8 number (or short code) that was texted (8x8's `destination`): the sender of any answer. */
  to: string;
  /** The SMS body (8x8's `body`); may be empty. */
  text: string;
  /** When 8x8 received it (8x8's `timestamp`, as ISO 8601 UTC with ms), else when the webhook got it. */
  receivedAt: string;
  subAccountId?: string;
  encoding?: string;
  smsCount?: number;
}

/** What 8x8's inbound SMS reaches a session with: `input.data.sms.inbound` (README "Replies to a flow"). */
export interface InboundSmsData {
  from: string;
  to: string;
  text: string;
  receivedAt: string;
  umid: string;
  /** The flow's SMS this answers (reply window), absent for the SMS bot. */
  inReplyTo?: { messageId: string; clientMessageId?: string };
}

/** One 8x8 sender a number opted out of (`sender` is the 8x8 number it texted STOP to). */
export interface OptOutEntry {
  sender: string;
  optedOutAt: string;
  /** The keyword as normalised (e.g. `STOP`), or `api` for an opt-out recorded another way. */
  keyword: string;
  /** 8x8's umid of the STOP SMS. */
  umid?: string;
}

export interface OptOutRecord {
  number: string;
  /** Senders it opted out of; empty when every opt-out was lifted (the item stays, with its history). */
  senders: OptOutEntry[];
  /** Every opt-out and lift, oldest first (at most the last 50), for support staff and audits. */
  history: { action: 'optOut' | 'optIn'; sender: string; at: string; via: string; umid?: string }[];
}

/** The optOuts table's reads, all that POST /sms and POST /sms/batch need. Numbers are E.164 with `+`. */
export interface OptOutReader {
  get(number: string): Promise<OptOutRecord | undefined>;
  /** Many at once (POST /sms/batch): the numbers that have any opt-out, with their records. */
  getMany(numbers: readonly string[]): Promise<Map<string, OptOutRecord>>;
}

/** The optOuts table (no TTL). Numbers are E.164 with `+`. */
export interface OptOutStore extends OptOutReader {
  /** Records an opt-out from `sender` (idempotent per umid). */
  optOut(number: string, entry: OptOutEntry): Promise<void>;
  /**
   * Lifts the opt-out from `sender` (undefined: from every sender). `via`: `START` (the keyword) or `api:<apiKeyId>`.
   * Returns the senders lifted (empty: there was none).
   */
  optIn(
    number: string,
    sender: string | undefined,
    at: string,
    via: string,
    umid?: string,
  ): Promise<string[]>;
}

/** SETTINGS.smsOptOutScope. */
export type OptOutScope = 'sender' | 'account';

/**
 * Whether an SMS to `number` from `source` is refused. `sender` scope: an opt-out from that sender, or (no source:
 * 8x8 picks the sender) from any; `account` scope: any opt-out of the number.
 */
export function isOptedOut(
  record: OptOutRecord | undefined,
  source: string | undefined,
  scope: OptOutScope,
): boolean {
  if (!record || record.senders.length === 0) return false;
  if (scope === 'account' || source === undefined) return true;
  const wanted = comparableSender(source);
  return record.senders.some((entry) => comparableSender(entry.sender) === wanted);
}

/** Senders compare without `+` and case (8x8 sends numeric senders without `+`; alphanumeric ones keep case). */
export function comparableSender(sender: string): string {
  return sender.replace(/^\+/, '').toUpperCase();
}

/** The flow SMS an inbound SMS answers: the most recent one to `from` from `to` within the reply window. */
export interface ReplyTarget {
  messageId: string;
  clientMessageId?: string;
  createdAt: string;
  cognigy: { userId: string; sessionId: string; URLToken: string; endpointBaseUrl?: string };
}

/** Reply-window lookup over the messages table's byReplyKey index. */
export interface ReplyLookup {
  latestSessionSms(from: string, to: string, since: string): Promise<ReplyTarget | undefined>;
}

/** The messages table's `replyKey` of an SMS: who it went to and from which sender (absent: 8x8's default). */
export function replyKey(destination: string, source: string | undefined): string {
  return `${destination.replace(/^\+/, '')}|${source === undefined ? '' : comparableSender(source)}`;
}

/** The SMS bot's Cognigy REST Endpoint conversation with one number through one 8x8 number. */
export interface SmsBotSession {
  /** `<from>#<to>` */
  id: string;
  userId: string;
  sessionId: string;
  startedAt: string;
  lastActivityAt: string;
}

export interface SmsSessionStore {
  /** The session stored for `from`→`to` as it is now (a strongly consistent read), idle or not. */
  currentSession(from: string, to: string): Promise<SmsBotSession | undefined>;
  /**
   * The session for `from`→`to`, renewed (new sessionId) when idle longer than `idleMs`; touches lastActivityAt.
   * `read`: a currentSession read already under way, which the first attempt uses instead of reading again.
   */
  sessionFor(
    from: string,
    to: string,
    now: Date,
    idleMs: number,
    newSessionId: () => string,
    read?: Promise<SmsBotSession | undefined>,
  ): Promise<SmsBotSession>;
  /** The bot's answer to one inbound umid, once the REST Endpoint answered (so a redelivery does not ask twice). */
  savedAnswer(umid: string): Promise<string[] | undefined>;
  saveAnswer(umid: string, texts: string[], now: Date): Promise<void>;
}

/** One SMS the bridge itself sends (bot answers, HELP and opt-out confirmations), through acceptSms and the queue. */
export interface OutboundSmsItem {
  destination: string;
  text: string;
  /** The 8x8 number the person texted. */
  source?: string;
  /** Deterministic (e.g. `bot:<umid>:<n>`), so a redelivered inbound SMS sends nothing twice. */
  clientMessageId: string;
}

/** The normal queued path (acceptSms + the SMS queue) for the bridge's own SMS, in order. */
export interface OutboundSms {
  /**
   * Accepts the items as one batch (one SQS batch, in order). `bypassOptOut`: HELP and opt-out confirmations, which
   * carriers allow to an opted-out number; bot answers never bypass it. Returns how many were accepted and refused.
   */
  send(
    items: OutboundSmsItem[],
    options?: { bypassOptOut?: boolean },
  ): Promise<{ accepted: number; refused: { code: string; clientMessageId: string }[] }>;
}

/** The SMS bot (sms-bot.ts): an inbound SMS with no open reply window, answered by the Cognigy REST Endpoint. */
export interface SmsBot {
  /**
   * Starts reading what `answer` needs first (the REST Endpoint URL from the `cognigy` secret, cached per instance)
   * without waiting for it; a failure is left for `answer` to report.
   */
  prepare(): void;
  /** `noBot`: no REST Endpoint configured (the SMS is only logged and counted). Throws to be retried. */
  answer(inbound: QueuedInboundSms): Promise<'answered' | 'noBot'>;
}
