/**
 * Simulator of the 8x8 SMS API (8x8 Connect) and its delivery-receipt webhook, per the official OAS
 * (lib/simulators/contract/8x8/sms_api.json) and delivery-receipts-for-outbound-sms.md.
 *
 * - `POST /api/v1/subaccounts/{subAccountId}/messages` and `.../messages/batch` with 8x8's auth, validation, error
 *   bodies `{code,message,errorId,timestamp}` and answers (SmsResponse / BatchSmsResponse).
 * - Delivery receipts (`outbound_message_status_changed`) to the account webhook (with the configured
 *   `Authorization` value) or to a message's `dlrCallbackUrl`, retried at 8x8's 1, 10, 30, 90 s (scalable).
 * - Handsets: a phone number "texts" an 8x8 number (`textFromHandset`, `POST /__control/handsets/{number}/messages`) and
 *   the simulator POSTs 8x8's inbound event (`inbound_message_received`) to the inbound webhook with the receipts'
 *   `Authorization` and the same 1, 10, 30, 90 s retries; a handset's view lists, in order, the SMS it received and
 *   the SMS it sent.
 * - Fault injection for the bridge's retry paths: latency, rate limit (429 + Retry-After), scripted next answers
 *   (status, timeout = accepted but never answered, reset, accept-then-reset), and a seeded failure profile.
 * - Everything is recorded for assertions, in-process and over HTTP under `/__control/...`.
 *
 * Where 8x8's public material is silent the behaviour is an option (see SmsSimulatorOptions).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Simulator } from '../local/types';
import { validateSmsBatchRequest } from './contract/sms-schema';
import {
  BodyTooLargeError,
  NOT_JSON,
  Router,
  SimHttpServer,
  Waiters,
  dispatch,
  handleControl,
  parseJson,
  plainHeaders,
  readBody,
  resetSocket,
  seededRandom,
  sendJson,
  sleep,
  type Response,
  type RouteContext,
} from './http';
import {
  SMS_ERRORS,
  checkMessage,
  countParts,
  detectEncoding,
  dropNulls,
  eightByEightTimestamp,
  errorForStatus,
  isPlainObject,
  mergeTemplate,
  type AcceptedMessage,
  type EightByEightError,
  type SmsEncoding,
} from './sms-rules';

export { SMS_ERRORS } from './sms-rules';

/** 8x8 retries a receipt the webhook did not acknowledge with 2xx after 1, 10, 30 and 90 seconds. */
export const SMS_RECEIPT_RETRY_DELAYS_MS: readonly number[] = [1_000, 10_000, 30_000, 90_000];

const QUEUED = { code: 'QUEUED', description: 'SMS is accepted and queued for processing' } as const;

// ---------------------------------------------------------------------------------------------------------------
// Options, fault and outcome shapes (zod, so the HTTP controls validate what the in-process methods type)

const count = z.number().int().positive().optional();

export const scriptedAnswerSchema = z.union([
  z
    .object({
      /** Answer with this HTTP status and 8x8's error body for it (codes from 8x8-apis.md §1.4 unless given). */
      status: z.number().int().min(400).max(599),
      count,
      /** Seconds for `Retry-After` (429 only; default 1). */
      retryAfter: z.number().int().min(0).optional(),
      code: z.number().int().optional(),
      message: z.string().optional(),
    })
    .strict(),
  z
    .object({
      /**
       * `timeout`: process (and, if valid, accept) the message but never answer; the socket is held until the client
       * gives up. `reset`: drop the socket before processing (nothing accepted). `acceptThenReset`: accept, then drop.
       */
      kind: z.enum(['timeout', 'reset', 'acceptThenReset']),
      count,
    })
    .strict(),
]);
export type ScriptedAnswer = z.infer<typeof scriptedAnswerSchema>;

const probability = z.number().min(0).max(1).optional();
export const failureProfileSchema = z
  .object({
    p429: probability,
    p5xx: probability,
    pTimeout: probability,
    pReset: probability,
    /** Independent of the others: this share of requests is slowed by `slowMs` (default 1000). */
    pSlow: probability,
    slowMs: z.number().min(0).optional(),
    /** PRNG seed, so a chaos run can be replayed. Default 1. */
    seed: z.number().int().optional(),
  })
  .strict()
  .refine((p) => (p.p429 ?? 0) + (p.p5xx ?? 0) + (p.pTimeout ?? 0) + (p.pReset ?? 0) <= 1, {
    message: 'p429 + p5xx + pTimeout + pReset must not exceed 1',
  });
export type FailureProfile = z.infer<typeof failureProfileSchema>;

const latencySchema = z.union([
  z.number().min(0),
  z
    .object({ min: z.number().min(0), max: z.number().min(0) })
    .strict()
    .refine((l) => l.min <= l.max, { message: 'min must not exceed max' }),
]);

export const smsFaultsSchema = z
  .object({
    /** Clear every fault before applying the rest of this object. */
    clear: z.boolean().optional(),
    /** Added before every send answer: fixed ms or a uniform range. `null` removes it. */
    latencyMs: latencySchema.nullable().optional(),
    /** Requests per second per simulator (8x8: per sub-account); above it 429 with `Retry-After`. `null` removes it. */
    rateLimit: z.object({ perSecond: z.number().positive() }).strict().nullable().optional(),
    profile: failureProfileSchema.nullable().optional(),
    /** Appended to the scripted queue; each entry answers `count` (default 1) send requests, in order. */
    next: z.array(scriptedAnswerSchema).optional(),
  })
  .strict();
export type SmsFaults = z.infer<typeof smsFaultsSchema>;

export const smsOutcomeSpecSchema = z
  .object({
    /** `sent`: stays at sent (no final receipt). `none`: no receipts at all. */
    state: z.enum(['delivered', 'undelivered', 'rejected', 'sent', 'none']),
    detail: z.string().optional(),
    errorCode: z.number().int().optional(),
    errorMessage: z.string().optional(),
  })
  .strict();
export type SmsOutcomeSpec = z.infer<typeof smsOutcomeSpecSchema>;
export type SmsOutcome = SmsOutcomeSpec['state'] | SmsOutcomeSpec;

const outcomeControlSchema = z
  .object({
    destination: z.string().min(1),
    outcome: z.union([smsOutcomeSpecSchema.shape.state, smsOutcomeSpecSchema]).nullable(),
  })
  .strict();

export const receiptBehaviourSchema = z
  .object({
    /** Send a message's receipts in reverse order (e.g. `delivered` before `sent`). */
    outOfOrder: z.boolean().optional(),
    /** Send every receipt twice, concurrently (each copy retried on its own). */
    duplicate: z.boolean().optional(),
    /** Delay before the first receipt and between a message's receipts. */
    delayMs: z.number().min(0).optional(),
    /** Factor on 8x8's retry intervals (1, 10, 30, 90 s); 0.001 turns them into milliseconds. */
    retryScale: z.number().min(0).optional(),
  })
  .strict();
export type ReceiptBehaviour = Required<z.infer<typeof receiptBehaviourSchema>>;

const webhookControlSchema = z
  .object({ url: z.string().url().nullable(), authorization: z.string().nullable().optional() })
  .strict();

export interface SmsSimulatorOptions {
  /** The API key accepted as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** The only sub-account this key may use; others get 400 code 1001. */
  subAccountId: string;
  /** Account webhook for delivery receipts; without it (and without a dlrCallbackUrl) no receipts are sent. */
  webhookUrl?: string;
  /** Sent verbatim as the `Authorization` header of account-webhook receipts (8x8's `httpAuthorization`). */
  webhookAuthorization?: string;
  /**
   * Where inbound SMS (`inbound_message_received`) go, with `webhookAuthorization`. Default: `webhookUrl`, since one
   * 8x8 account webhook carries every event type; a separate URL is 8x8's per-number inbound callback.
   */
  inboundWebhookUrl?: string;
  /** Price in inbound events (8x8 charges inbound SMS per part); `null` leaves it out. Default 0.0025 USD per SMS. */
  inboundPrice?: { perSms: number; currency: string } | null;
  /** Delay before the first receipt and between a message's receipts. Default 100 ms. */
  receiptDelayMs?: number;
  /**
   * Up to this much more, at random (seeded), before each receipt (default 0: receipts in step). Carriers answer
   * each handset in its own time, so real receipts of one batch call arrive spread over seconds, not all at once.
   */
  receiptSpreadMs?: number;
  /** Factor on the 1, 10, 30, 90 s receipt retry intervals. Default 1 (8x8's real schedule). */
  receiptRetryScale?: number;
  /** How long a receipt POST may take before it counts as failed (8x8 does not publish its value). Default 10 s. */
  receiptTimeoutMs?: number;
  /**
   * Whether receipts to a message's own `dlrCallbackUrl` also carry `webhookAuthorization`. 8x8 documents the
   * header as part of the account webhook configuration only, so the default is false.
   */
  authorizeCallbackUrl?: boolean;
  /**
   * Invalid single sends: `http400` answers 400 with 8x8's error body (default); `rejected200` answers 200 with
   * `status.code: REJECTED` and the reason, which the OAS also allows (8x8-apis.md §5 question 8).
   */
  singleSendRejection?: 'http400' | 'rejected200';
  /** 8x8's examples echo `destination` without `+`; set true to keep it. Default false. */
  echoDestinationWithPlus?: boolean;
  /** Sender used in receipts when the request has no `source`. Default `8x8` (the docs' sample). */
  defaultSource?: string;
  /** Price in receipts of charged states (`sent`, `delivered`); `null` leaves it out. Default 0.0125 USD per SMS. */
  price?: { perSms: number; currency: string } | null;
  /** The clock for timestamps and the schedule/expiry rules. Timers still run on real time. */
  now?: () => Date;
}

// ---------------------------------------------------------------------------------------------------------------
// Records

export type AnswerKind = 'answered' | 'unanswered' | 'reset';

/** One HTTP call to a send endpoint, whatever came of it. */
export interface SmsApiCall {
  seq: number;
  endpoint: 'single' | 'batch';
  receivedAt: string;
  /** Request headers; the Authorization value is redacted. */
  headers: Record<string, string>;
  /** Parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  answer: { kind: 'answered'; status: number; body: unknown } | { kind: 'unanswered' } | { kind: 'reset' };
  /** The injected fault that shaped the answer, if any (e.g. `scripted:429`, `profile:timeout`, `rateLimit`). */
  fault?: string;
  /** umids of the messages this call got accepted (also when the answer never reached the client). */
  umids: string[];
  /**
   * With a rate limit set: the window (epoch second) that counted this call. The limit is checked after the
   * simulated latency, so it can be the second after `receivedAt`'s.
   */
  rateLimitWindow?: number;
}

/** One message 8x8 accepted (status QUEUED), single or from a batch. */
export interface ReceivedSms {
  umid: string;
  callSeq: number;
  endpoint: 'single' | 'batch';
  batchId?: string;
  clientBatchId?: string;
  clientMessageId: string | null;
  /** International number with `+`. */
  destination: string;
  /** The effective SmsRequest (template merged, nulls dropped). */
  request: Record<string, unknown>;
  encoding: SmsEncoding;
  smsCount: number;
  truncated: boolean;
  headers: Record<string, string>;
  receivedAt: string;
  /** 1 for the first accepted message with this clientMessageId, 2 for the second, ... (0 when it has none). */
  attempt: number;
  /** Whether the client got the answer: `unanswered`/`reset` are accepted-but-unanswered sends. */
  answer: AnswerKind;
  outcome: SmsOutcomeSpec;
  /** `scheduled` of the request: 8x8 holds the message (and its receipts) until then, and it may be cancelled. */
  scheduledAt?: string;
  /** When DELETE .../messages/{umid} cancelled it (a scheduled message not sent yet): no receipts follow. */
  cancelledAt?: string;
  /** When DELETE .../messages/{umid}/pii asked to remove its PII (202). */
  piiRemovalRequestedAt?: string;
}

export interface SmsReceiptStatus {
  state: string;
  detail?: string;
  timestamp: string;
  errorCode?: number;
  errorMessage?: string;
}

/** Body of a delivery receipt, exactly as delivery-receipts-for-outbound-sms.md describes it. */
export interface SmsDeliveryReceipt {
  namespace: 'SMS';
  eventType: 'outbound_message_status_changed';
  description: string;
  payload: {
    umid: string;
    batchId?: string;
    clientMessageId?: string;
    clientBatchId?: string;
    subAccountId: string;
    source: string;
    destination: string;
    status: SmsReceiptStatus;
    price?: { total: number; perSms: number; currency: string };
    smsCount: number;
  };
}

/** One POST of a receipt to a webhook. */
export interface ReceiptDelivery extends WebhookAttempt {
  umid: string;
  clientMessageId: string | null;
  state: string;
  /** The second copy of a receipt sent twice on purpose. */
  duplicate: boolean;
  body: SmsDeliveryReceipt;
}

/** Body of an inbound SMS event, as 8x8's inbound-sms reference describes it (same envelope as receipts). */
export interface SmsInboundEvent {
  namespace: 'SMS';
  eventType: 'inbound_message_received';
  description: string;
  payload: {
    umid: string;
    subAccountId: string;
    /** When 8x8 received the SMS (ISO 8601 UTC, 8x8's two fractional digits). */
    timestamp: string;
    /** The texting phone, E.164 with `+`. */
    source: string;
    /** The 8x8 number (or short code) it texted. */
    destination: string;
    body: string;
    encoding: SmsEncoding;
    smsCount: number;
    price?: { total: number; perSms: number; currency: string };
  };
}

/**
 * 8x8's inbound SMS event for a text from `from` to the 8x8 number `to`, received `at`: both numbers E.164 with `+`,
 * the encoding and part count as 8x8 counts them, the price per part (null: none in the event).
 */
export function inboundSmsEvent(input: {
  umid: string;
  subAccountId: string;
  from: string;
  to: string;
  text: string;
  at: Date;
  price: { perSms: number; currency: string } | null;
}): SmsInboundEvent {
  const encoding = detectEncoding(input.text);
  const smsCount = countParts(input.text, encoding);
  const { price } = input;
  return {
    namespace: 'SMS',
    eventType: 'inbound_message_received',
    description: 'SMS inbound message',
    payload: {
      umid: input.umid,
      subAccountId: input.subAccountId,
      timestamp: eightByEightTimestamp(input.at),
      source: plus(input.from),
      destination: plus(input.to),
      body: input.text,
      encoding,
      smsCount,
      ...(price
        ? { price: { total: round(price.perSms * smsCount), perSms: price.perSms, currency: price.currency } }
        : {}),
    },
  };
}

/** One POST of an inbound SMS event to the inbound webhook. */
export interface InboundDelivery extends WebhookAttempt {
  umid: string;
  from: string;
  to: string;
  /** The event sent again on purpose (redeliverInbound: 8x8 repeating an event it already delivered). */
  redelivery: boolean;
  body: SmsInboundEvent;
}

/** One SMS in a handset's view: one it received through 8x8 (`received`) or one it texted (`sent`). */
export interface HandsetMessage {
  direction: 'received' | 'sent';
  umid: string;
  /** The handset's own number (E.164 with `+`). */
  number: string;
  /** For `received`: the sender (the request's `source`, or the default sender); for `sent`: the handset. */
  source: string;
  /** For `received`: the handset; for `sent`: the 8x8 number it texted. */
  destination: string;
  text: string;
  /** When it reached the handset (received: accepted, or its schedule) or was texted (sent). */
  at: string;
  /** `received` only: the clientMessageId of the send (the bridge's messageId or its own id). */
  clientMessageId?: string | null;
}

export interface SmsSimulatorStats {
  calls: number;
  /** Messages accepted (QUEUED), including those whose answer was withheld or reset. */
  accepted: number;
  /** Messages answered REJECTED inside a 200 (batch, or singleSendRejection=rejected200). */
  rejectedMessages: number;
  answersByStatus: Record<string, number>;
  unanswered: number;
  resets: number;
  rateLimited: number;
  /** Accepted messages whose answer never reached the client (timeout or acceptThenReset). */
  acceptedUnanswered: number;
  /** Accepted messages beyond the first per clientMessageId: SMS a user would receive twice. */
  duplicateSends: number;
  receipts: {
    attempts: number;
    acknowledged: number;
    failedAttempts: number;
    abandoned: number;
    pending: number;
  };
  inbound: { texted: number; attempts: number; acknowledged: number; abandoned: number };
}

interface Target {
  url: string;
  authorization?: string;
}

/** One POST to a webhook (a receipt or an inbound SMS event) and how it ended. */
export interface WebhookAttempt {
  url: string;
  /** 0 for the first try, 1..4 for 8x8's retries. */
  attempt: number;
  at: string;
  ok: boolean;
  /** The webhook's HTTP status, when it answered. */
  status?: number;
  /** The webhook's answer body (first 500 characters), e.g. the bridge's error code when it refused the receipt. */
  response?: string;
  /** Connection error or timeout, when it did not. */
  error?: string;
  /** No further attempt follows (acknowledged, or retries exhausted). */
  final: boolean;
}

/** What a handset did or got, in the order it happened (the view filters and sorts it). */
type HandsetEntry =
  { kind: 'received'; sms: ReceivedSms } | { kind: 'sent'; event: SmsInboundEvent; at: string };

/** What a handset may text: a phone number in E.164 (`+` optional) to an 8x8 number or short code. */
export const handsetTextSchema = z
  .object({
    from: z.string().regex(/^\+?\d{6,15}$/, 'from must be a phone number in E.164 (6 to 15 digits)'),
    to: z.string().regex(/^\+?\d{3,15}$/, 'to must be an 8x8 number or short code (3 to 15 digits)'),
    text: z.string().min(1).max(1_600),
    /** Reuse an umid (as 8x8 would on a repeated event); default a new one. */
    umid: z.string().min(1).max(64).optional(),
  })
  .strict();
export type HandsetText = z.infer<typeof handsetTextSchema>;

const handsetControlSchema = handsetTextSchema.omit({ from: true });
const inboundWebhookControlSchema = z.object({ url: z.string().url().nullable() }).strict();

type Fault =
  | { type: 'status'; status: number; retryAfter?: number; code?: number; message?: string }
  | { type: 'timeout' | 'reset' | 'acceptThenReset' };

interface Processed {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  accepted: ReceivedSms[];
  rejectedMessages: number;
}

// ---------------------------------------------------------------------------------------------------------------

export class SmsSimulator implements Simulator {
  readonly received: ReceivedSms[] = [];
  readonly requests: SmsApiCall[] = [];
  readonly receiptsSent: ReceiptDelivery[] = [];
  /** Every POST of an inbound SMS event (first tries and retries), in order. */
  readonly inboundSent: InboundDelivery[] = [];

  private readonly server: SimHttpServer;
  private readonly router = new Router();
  private readonly now: () => Date;
  private readonly apiKey: string;
  private readonly subAccountId: string;
  private webhook: Target | undefined;
  private inboundUrl: string | undefined;
  private readonly receiptTimeoutMs: number;
  private receipts: ReceiptBehaviour;

  private latency: SmsFaults['latencyMs'] = null;
  private rateLimit: { perSecond: number } | null = null;
  private profile: FailureProfile | null = null;
  private scripted: { answer: ScriptedAnswer; remaining: number }[] = [];
  private random: () => number = seededRandom(1);
  /** Receipt spread only (receiptSpreadMs): kept apart so fault profiles replay the same with or without it. */
  private receiptRandom: () => number = seededRandom(1);
  private window = { second: -1, count: 0 };

  private readonly outcomes = new Map<string, SmsOutcomeSpec>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private lifecycle = new AbortController();
  private inflightReceipts = 0;
  private counters = { rejectedMessages: 0, unanswered: 0, resets: 0, rateLimited: 0 };
  private readonly receivedWaiters = new Waiters<ReceivedSms>();
  private readonly receiptWaiters = new Waiters<ReceiptDelivery>();
  private readonly inboundWaiters = new Waiters<InboundDelivery>();
  /** Published with a handset's digits whenever its view may have changed. */
  private readonly handsetWaiters = new Waiters<string>();
  private readonly handsetLog: HandsetEntry[] = [];
  private readonly texted = new Map<string, SmsInboundEvent>();

  constructor(private readonly options: SmsSimulatorOptions) {
    this.apiKey = options.apiKey;
    this.subAccountId = options.subAccountId;
    this.now = options.now ?? (() => new Date());
    this.receiptTimeoutMs = options.receiptTimeoutMs ?? 10_000;
    this.setWebhook(options.webhookUrl, options.webhookAuthorization);
    this.inboundUrl = options.inboundWebhookUrl;
    this.receipts = {
      outOfOrder: false,
      duplicate: false,
      delayMs: options.receiptDelayMs ?? 100,
      retryScale: options.receiptRetryScale ?? 1,
    };
    this.server = new SimHttpServer('SmsSimulator', (req, res) =>
      dispatch(this.router, req, res, (r, status) =>
        this.sendError(r, status === 404 ? SMS_ERRORS.notFound : SMS_ERRORS.methodNotAllowed),
      ),
    );
    this.routes();
  }

  // --- Simulator -------------------------------------------------------------------------------------------------

  start(port = 0): Promise<string> {
    this.lifecycle = new AbortController();
    return this.server.start(port);
  }

  async stop(): Promise<void> {
    this.cancelPending();
    this.receivedWaiters.cancelAll('SmsSimulator stopped');
    this.receiptWaiters.cancelAll('SmsSimulator stopped');
    this.inboundWaiters.cancelAll('SmsSimulator stopped');
    this.handsetWaiters.cancelAll('SmsSimulator stopped');
    await this.server.stop();
  }

  get url(): string {
    return this.server.url;
  }

  // --- In-process controls ---------------------------------------------------------------------------------------

  /** Where account-webhook receipts go (the local stack learns its gateway URL after the simulators start). */
  setWebhook(url: string | undefined, authorization?: string): void {
    this.webhook = url ? { url, ...(authorization !== undefined ? { authorization } : {}) } : undefined;
  }

  /** Where inbound SMS events go (undefined: the receipt webhook's URL). Authorization is the receipts'. */
  setInboundWebhook(url: string | undefined): void {
    this.inboundUrl = url;
  }

  /**
   * A handset texts an 8x8 number: 8x8 receives the SMS and POSTs `inbound_message_received` to the inbound webhook
   * (retried at 1, 10, 30, 90 s, scaled like receipts, until a 2xx). Returns the umid at once; the delivery runs on
   * (waitForInbound). Throws a ZodError for a number or text a phone could not send.
   */
  textFromHandset(from: string, to: string, text: string, options: { umid?: string } = {}): string {
    const input = handsetTextSchema.parse({ from, to, text, ...options });
    const event = inboundSmsEvent({
      umid: input.umid ?? randomUUID(),
      subAccountId: this.subAccountId,
      from: input.from,
      to: input.to,
      text: input.text,
      at: this.now(),
      price:
        this.options.inboundPrice === undefined
          ? { perSms: 0.0025, currency: 'USD' }
          : this.options.inboundPrice,
    });
    this.texted.set(event.payload.umid, event);
    // `at` keeps milliseconds (8x8's timestamp has two fractional digits) so the handset's order is exact.
    this.handsetLog.push({ kind: 'sent', event, at: this.now().toISOString() });
    this.handsetWaiters.publish(digits(input.from));
    this.deliverInbound(event, false);
    return event.payload.umid;
  }

  /** Sends an inbound event again, unchanged, with its own retries: 8x8 repeating an event (the umid is the same). */
  redeliverInbound(umid: string): void {
    const event = this.texted.get(umid);
    if (!event) throw new UnknownInboundSmsError(umid);
    this.deliverInbound(event, true);
  }

  /** Each given key replaces that fault (`null` removes it); `next` is appended to the scripted queue. */
  setFaults(faults: SmsFaults): void {
    const parsed = smsFaultsSchema.parse(faults);
    if (parsed.clear) this.clearFaults();
    if (parsed.latencyMs !== undefined) this.latency = parsed.latencyMs;
    if (parsed.rateLimit !== undefined) this.rateLimit = parsed.rateLimit;
    if (parsed.profile !== undefined) {
      this.profile = parsed.profile;
      this.random = seededRandom(parsed.profile?.seed ?? 1);
    }
    if (parsed.next) this.failNext(parsed.next);
  }

  /** Scripts the answers to the next send requests, in order (after anything already scripted). */
  failNext(answers: ScriptedAnswer[]): void {
    for (const answer of z.array(scriptedAnswerSchema).parse(answers)) {
      this.scripted.push({ answer, remaining: answer.count ?? 1 });
    }
  }

  clearFaults(): void {
    this.latency = null;
    this.rateLimit = null;
    this.profile = null;
    this.scripted = [];
    this.random = seededRandom(1);
    this.receiptRandom = seededRandom(1);
  }

  get faults(): SmsFaults & { scripted: { answer: ScriptedAnswer; remaining: number }[] } {
    return {
      latencyMs: this.latency,
      rateLimit: this.rateLimit,
      profile: this.profile,
      scripted: this.scripted.map((s) => ({ ...s })),
    };
  }

  /**
   * The receipts a destination gets: `delivered` (default: sent → delivered), `undelivered`, `rejected`, `sent`
   * (no final state), `none`, or a full spec with detail/errorCode/errorMessage. `null` restores the default.
   * Without a setting, destinations ending in 0000 are undelivered (errorCode 15 "Invalid destination").
   */
  setOutcome(destination: string, outcome: SmsOutcome | null): void {
    const key = digits(destination);
    if (outcome === null) {
      this.outcomes.delete(key);
      return;
    }
    this.outcomes.set(
      key,
      smsOutcomeSpecSchema.parse(typeof outcome === 'string' ? { state: outcome } : outcome),
    );
  }

  setReceiptBehaviour(behaviour: Partial<ReceiptBehaviour>): void {
    this.receipts = { ...this.receipts, ...receiptBehaviourSchema.parse(behaviour) };
  }

  get receiptBehaviour(): ReceiptBehaviour {
    return { ...this.receipts };
  }

  /** Clears records, pending receipts, faults, outcomes and receipt behaviour; keeps the webhook and the server. */
  reset(): void {
    this.cancelPending();
    this.lifecycle = new AbortController();
    this.received.length = 0;
    this.requests.length = 0;
    this.receiptsSent.length = 0;
    this.inboundSent.length = 0;
    this.handsetLog.length = 0;
    this.texted.clear();
    this.attempts.clear();
    this.outcomes.clear();
    this.clearFaults();
    this.window = { second: -1, count: 0 };
    this.counters = { rejectedMessages: 0, unanswered: 0, resets: 0, rateLimited: 0 };
    this.receipts = {
      outOfOrder: false,
      duplicate: false,
      delayMs: this.options.receiptDelayMs ?? 100,
      retryScale: this.options.receiptRetryScale ?? 1,
    };
  }

  // --- Queries ---------------------------------------------------------------------------------------------------

  /** HTTP calls to the send endpoints. */
  get callCount(): number {
    return this.requests.length;
  }

  /** Accepted messages by clientMessageId, umid or destination (with or without `+`). */
  receivedFor(key: string): ReceivedSms[] {
    const keyDigits = digits(key);
    return this.received.filter(
      (m) =>
        m.clientMessageId === key ||
        m.umid === key ||
        (keyDigits.length > 0 && digits(m.destination) === keyDigits && /^\+?\d+$/.test(key)),
    );
  }

  /** How many times 8x8 accepted a message with this clientMessageId/umid/destination ("sent once" is 1). */
  sendCount(key: string): number {
    return this.receivedFor(key).length;
  }

  /** Resolves with the first accepted message matching `predicate` (already received, or arriving within timeoutMs). */
  waitForReceived(predicate: (m: ReceivedSms) => boolean, timeoutMs = 5_000): Promise<ReceivedSms> {
    return this.receivedWaiters.wait(predicate, timeoutMs, this.received, 'an accepted SMS');
  }

  /** Resolves with the first receipt POST matching `predicate` (already made, or made within timeoutMs). */
  waitForReceipt(predicate: (r: ReceiptDelivery) => boolean, timeoutMs = 5_000): Promise<ReceiptDelivery> {
    return this.receiptWaiters.wait(predicate, timeoutMs, this.receiptsSent, 'a delivery receipt');
  }

  /** Resolves with the first inbound event POST matching `predicate` (already made, or made within timeoutMs). */
  waitForInbound(predicate: (d: InboundDelivery) => boolean, timeoutMs = 5_000): Promise<InboundDelivery> {
    return this.inboundWaiters.wait(predicate, timeoutMs, this.inboundSent, 'an inbound SMS delivery');
  }

  /**
   * What a phone number's handset shows, oldest first: the SMS 8x8 handed to it (accepted for it, not cancelled, due,
   * and not undelivered/rejected by its outcome) and the SMS it texted (textFromHandset).
   */
  handset(number: string): HandsetMessage[] {
    const key = digits(number);
    const now = this.now().getTime();
    const own = plus(key);
    const messages: HandsetMessage[] = [];
    for (const entry of this.handsetLog) {
      if (entry.kind === 'sent') {
        const { payload } = entry.event;
        if (digits(payload.source) !== key) continue;
        messages.push({
          direction: 'sent',
          umid: payload.umid,
          number: own,
          source: payload.source,
          destination: payload.destination,
          text: payload.body,
          at: entry.at,
        });
        continue;
      }
      const { sms } = entry;
      if (digits(sms.destination) !== key || !reachesHandset(sms, now)) continue;
      messages.push({
        direction: 'received',
        umid: sms.umid,
        number: own,
        source: this.sourceOf(sms),
        destination: sms.destination,
        text: typeof sms.request.text === 'string' ? sms.request.text : '',
        at: sms.scheduledAt ?? sms.receivedAt,
        clientMessageId: sms.clientMessageId,
      });
    }
    // Stable: equal times keep the order things happened in.
    return messages
      .map((message, i) => ({ message, i }))
      .sort((a, b) => Date.parse(a.message.at) - Date.parse(b.message.at) || a.i - b.i)
      .map(({ message }) => message);
  }

  /** Numbers with a handset view (they texted, or 8x8 accepted an SMS for them), with how many SMS each shows. */
  handsets(): { number: string; messages: number }[] {
    const now = this.now().getTime();
    const counts = new Map<string, number>();
    for (const entry of this.handsetLog) {
      const key = digits(entry.kind === 'sent' ? entry.event.payload.source : entry.sms.destination);
      const shown = entry.kind === 'sent' || reachesHandset(entry.sms, now);
      counts.set(key, (counts.get(key) ?? 0) + (shown ? 1 : 0));
    }
    return [...counts].map(([key, messages]) => ({ number: plus(key), messages }));
  }

  /**
   * Resolves with a handset's view once `predicate` holds for it (now, or within timeoutMs), e.g. "three answers
   * arrived": `waitForHandset(phone, (m) => m.filter((x) => x.direction === 'received').length >= 3)`.
   */
  async waitForHandset(
    number: string,
    predicate: (messages: HandsetMessage[]) => boolean,
    timeoutMs = 5_000,
  ): Promise<HandsetMessage[]> {
    const key = digits(number);
    if (predicate(this.handset(key))) return this.handset(key);
    await this.handsetWaiters.wait(
      (changed) => changed === key && predicate(this.handset(key)),
      timeoutMs,
      [],
      `the handset ${plus(key)} to show what was expected`,
    );
    return this.handset(key);
  }

  stats(): SmsSimulatorStats {
    const answersByStatus: Record<string, number> = {};
    for (const call of this.requests) {
      if (call.answer.kind !== 'answered') continue;
      const key = String(call.answer.status);
      answersByStatus[key] = (answersByStatus[key] ?? 0) + 1;
    }
    let duplicateSends = 0;
    const seen = new Set<string>();
    for (const m of this.received) {
      if (m.clientMessageId === null) continue;
      if (seen.has(m.clientMessageId)) duplicateSends += 1;
      else seen.add(m.clientMessageId);
    }
    const acknowledged = this.receiptsSent.filter((r) => r.ok).length;
    return {
      calls: this.requests.length,
      accepted: this.received.length,
      rejectedMessages: this.counters.rejectedMessages,
      answersByStatus,
      unanswered: this.counters.unanswered,
      resets: this.counters.resets,
      rateLimited: this.counters.rateLimited,
      acceptedUnanswered: this.received.filter((m) => m.answer !== 'answered').length,
      duplicateSends,
      receipts: {
        attempts: this.receiptsSent.length,
        acknowledged,
        failedAttempts: this.receiptsSent.length - acknowledged,
        abandoned: this.receiptsSent.filter((r) => r.final && !r.ok).length,
        pending: this.timers.size + this.inflightReceipts,
      },
      inbound: {
        texted: this.texted.size,
        attempts: this.inboundSent.length,
        acknowledged: this.inboundSent.filter((d) => d.ok).length,
        abandoned: this.inboundSent.filter((d) => d.final && !d.ok).length,
      },
    };
  }

  // --- HTTP ------------------------------------------------------------------------------------------------------

  private routes(): void {
    const base = '/api/v1/subaccounts/{subAccountId}/messages';
    this.router
      .add('POST', base, (ctx) => this.handleSend(ctx, 'single'))
      .add('POST', `${base}/batch`, (ctx) => this.handleSend(ctx, 'batch'))
      .add('DELETE', `${base}/{umid}`, (ctx) => this.handleManage(ctx, 'cancel'))
      .add('DELETE', `${base}/{umid}/pii`, (ctx) => this.handleManage(ctx, 'pii'))
      .add('GET', '/__control', ({ res }) => sendJson(res, 200, { controls: SMS_CONTROLS }))
      .add('GET', '/__control/received', ({ res, url }) => {
        const key =
          url.searchParams.get('clientMessageId') ??
          url.searchParams.get('umid') ??
          url.searchParams.get('destination');
        const received = key ? this.receivedFor(key) : this.received;
        sendJson(res, 200, { count: received.length, received });
      })
      .add('GET', '/__control/requests', ({ res }) =>
        sendJson(res, 200, { count: this.requests.length, requests: this.requests }),
      )
      .add('GET', '/__control/receipts', ({ res }) =>
        sendJson(res, 200, {
          count: this.receiptsSent.length,
          behaviour: this.receipts,
          receipts: this.receiptsSent,
        }),
      )
      .add('GET', '/__control/stats', ({ res }) => sendJson(res, 200, this.stats()))
      .add('GET', '/__control/faults', ({ res }) => sendJson(res, 200, this.faults))
      .add('POST', '/__control/faults', (ctx) =>
        handleControl(ctx, smsFaultsSchema, (faults) => {
          this.setFaults(faults);
          return this.faults;
        }),
      )
      .add('POST', '/__control/fail-next', (ctx) =>
        handleControl(
          ctx,
          z.union([
            z.array(scriptedAnswerSchema),
            z.object({ answers: z.array(scriptedAnswerSchema) }).strict(),
          ]),
          (body) => {
            this.failNext(Array.isArray(body) ? body : body.answers);
            return this.faults;
          },
        ),
      )
      .add('POST', '/__control/reset', (ctx) =>
        handleControl(ctx, z.object({}).strict(), () => {
          this.reset();
          return { ok: true };
        }),
      )
      .add('POST', '/__control/outcome', (ctx) =>
        handleControl(ctx, outcomeControlSchema, ({ destination, outcome }) => {
          this.setOutcome(destination, outcome);
          return { ok: true, destination, outcome: this.outcomes.get(digits(destination)) ?? null };
        }),
      )
      .add('POST', '/__control/receipt-behaviour', (ctx) =>
        handleControl(ctx, receiptBehaviourSchema, (behaviour) => {
          this.setReceiptBehaviour(behaviour);
          return this.receipts;
        }),
      )
      .add('GET', '/__control/handsets', ({ res }) => sendJson(res, 200, { handsets: this.handsets() }))
      .add('GET', '/__control/handsets/{number}', ({ res, params }) => {
        const number = params.number ?? '';
        if (!/^\+?\d{3,15}$/.test(number))
          return sendJson(res, 400, { ok: false, error: 'number must be a phone number (3 to 15 digits)' });
        sendJson(res, 200, { number: plus(digits(number)), messages: this.handset(number) });
      })
      .add('POST', '/__control/handsets/{number}/messages', (ctx) => {
        const from = ctx.params.number ?? '';
        const number = handsetTextSchema.shape.from.safeParse(from);
        if (!number.success) {
          ctx.req.resume();
          return sendJson(ctx.res, 400, { ok: false, error: z.prettifyError(number.error) });
        }
        return handleControl(ctx, handsetControlSchema, ({ to, text, umid }) => ({
          ok: true,
          umid: this.textFromHandset(from, to, text, umid ? { umid } : {}),
        }));
      })
      .add('GET', '/__control/inbound', ({ res }) =>
        sendJson(res, 200, {
          count: this.inboundSent.length,
          url: this.inboundTarget()?.url ?? null,
          inbound: this.inboundSent,
        }),
      )
      .add('POST', '/__control/inbound/{umid}/redeliver', ({ req, res, params }) => {
        req.resume();
        if (!this.texted.has(params.umid ?? ''))
          return sendJson(res, 404, { ok: false, error: `No inbound SMS ${params.umid ?? ''}` });
        this.redeliverInbound(params.umid ?? '');
        sendJson(res, 200, { ok: true });
      })
      .add('POST', '/__control/inbound-webhook', (ctx) =>
        handleControl(ctx, inboundWebhookControlSchema, ({ url }) => {
          this.setInboundWebhook(url ?? undefined);
          return { ok: true, url: this.inboundTarget()?.url ?? null };
        }),
      )
      .add('POST', '/__control/webhook', (ctx) =>
        handleControl(ctx, webhookControlSchema, ({ url, authorization }) => {
          this.setWebhook(url ?? undefined, authorization ?? undefined);
          return {
            ok: true,
            url: this.webhook?.url ?? null,
            authorization: this.webhook?.authorization ? '[set]' : null,
          };
        }),
      );
  }

  /**
   * 8x8's cancel-scheduled-message (200 `{cancelledCount}`) and delete-pii (202, no body), as sms_api.json defines
   * them. The spec is silent on cancelling a message that is no longer scheduled: the simulator answers
   * `{cancelledCount: 0}` then (the bridge treats 0 as "already sent").
   */
  private handleManage({ req, res, params }: RouteContext, kind: 'cancel' | 'pii'): void {
    if (!this.authorised(req.headers.authorization)) {
      this.sendError(res, SMS_ERRORS.unauthorized);
      return;
    }
    if ((params.subAccountId ?? '') !== this.subAccountId) {
      this.sendError(res, SMS_ERRORS.subAccount);
      return;
    }
    const sms = this.received.find((m) => m.umid === params.umid);
    if (!sms) {
      this.sendError(res, { ...SMS_ERRORS.notFound, message: 'Message not found.' });
      return;
    }
    const now = this.now();
    if (kind === 'pii') {
      sms.piiRemovalRequestedAt ??= now.toISOString();
      res.writeHead(202).end();
      return;
    }
    const pending =
      sms.cancelledAt === undefined &&
      sms.scheduledAt !== undefined &&
      Date.parse(sms.scheduledAt) > now.getTime();
    if (pending) sms.cancelledAt = now.toISOString();
    sendJson(res, 200, { cancelledCount: pending ? 1 : 0 });
  }

  private async handleSend({ req, res, params }: RouteContext, endpoint: 'single' | 'batch'): Promise<void> {
    const receivedAt = this.now().toISOString();
    const headers = plainHeaders(req, ['authorization']);
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      this.sendError(res, SMS_ERRORS.payloadTooLarge);
      return;
    }
    const parsed = parseJson(raw);
    const call: SmsApiCall = {
      seq: this.requests.length + 1,
      endpoint,
      receivedAt,
      headers,
      body: parsed === NOT_JSON ? raw.toString('utf8') : parsed,
      answer: { kind: 'unanswered' },
      umids: [],
    };
    this.requests.push(call);

    const { delayMs, fault, source } = this.decideFault();
    if (delayMs > 0) await sleep(delayMs);
    if (fault) call.fault = `${source}:${fault.type === 'status' ? fault.status : fault.type}`;

    if (fault?.type === 'status') {
      const error = { ...errorForStatus(fault.status), status: fault.status };
      if (fault.code !== undefined) error.code = fault.code;
      const retryAfter = fault.status === 429 ? (fault.retryAfter ?? 1) : undefined;
      if (fault.message !== undefined) error.message = fault.message;
      else if (retryAfter !== undefined) error.message = quotaMessage(retryAfter);
      call.answer = { kind: 'answered', status: error.status, body: this.sendError(res, error, retryAfter) };
      return;
    }
    if (fault?.type === 'reset') {
      call.answer = { kind: 'reset' };
      this.counters.resets += 1;
      resetSocket(res);
      return;
    }

    const outcome = this.process(
      endpoint,
      req.headers.authorization,
      params.subAccountId ?? '',
      parsed,
      call,
    );
    if (!call.fault && outcome.status === 429) call.fault = 'rateLimit';
    this.counters.rejectedMessages += outcome.rejectedMessages;
    call.umids = outcome.accepted.map((m) => m.umid);

    if (fault?.type === 'timeout' || fault?.type === 'acceptThenReset') {
      const kind: AnswerKind = fault.type === 'timeout' ? 'unanswered' : 'reset';
      for (const m of outcome.accepted) m.answer = kind;
      this.publishAccepted(outcome.accepted);
      if (kind === 'unanswered') {
        // Hold the socket: the client's own timeout (or stop()) ends it.
        this.counters.unanswered += 1;
        call.answer = { kind: 'unanswered' };
      } else {
        this.counters.resets += 1;
        call.answer = { kind: 'reset' };
        resetSocket(res);
      }
      return;
    }

    call.answer = { kind: 'answered', status: outcome.status, body: outcome.body };
    sendJson(res, outcome.status, outcome.body, outcome.headers);
    this.publishAccepted(outcome.accepted);
  }

  /** Auth, sub-account, rate limit and validation, in 8x8's order; accepted messages are recorded here. */
  private process(
    endpoint: 'single' | 'batch',
    authorization: string | undefined,
    subAccountId: string,
    parsed: unknown,
    call: SmsApiCall,
  ): Processed {
    const fail = (error: EightByEightError, headers?: Record<string, string>): Processed => ({
      status: error.status,
      body: this.errorBody(error),
      accepted: [],
      rejectedMessages: 0,
      ...(headers ? { headers } : {}),
    });
    if (!this.authorised(authorization)) return fail(SMS_ERRORS.unauthorized);
    if (subAccountId !== this.subAccountId) return fail(SMS_ERRORS.subAccount);
    const retryAfter = this.overRateLimit(call);
    if (retryAfter !== undefined) {
      this.counters.rateLimited += 1;
      return fail(
        { ...SMS_ERRORS.rateLimited, message: quotaMessage(retryAfter) },
        { 'retry-after': String(retryAfter) },
      );
    }
    if (!isPlainObject(parsed)) return fail(SMS_ERRORS.invalidBody);
    return endpoint === 'single' ? this.processSingle(parsed, call) : this.processBatch(parsed, call);
  }

  private processSingle(body: Record<string, unknown>, call: SmsApiCall): Processed {
    const check = checkMessage(body, this.now());
    if (!check.ok) {
      const rejectable = check.error.status === 400 && this.options.singleSendRejection === 'rejected200';
      if (!rejectable)
        return {
          status: check.error.status,
          body: this.errorBody(check.error),
          accepted: [],
          rejectedMessages: 0,
        };
      return {
        status: 200,
        body: this.rejectedResponse(body, check.error),
        accepted: [],
        rejectedMessages: 1,
      };
    }
    const sms = this.accept(check.message, call, {});
    return { status: 200, body: this.smsResponse(sms), accepted: [sms], rejectedMessages: 0 };
  }

  private processBatch(input: Record<string, unknown>, call: SmsApiCall): Processed {
    const body = dropNulls(input);
    // "If both properties are provided, the messages property takes precedence, and destinations is discarded."
    if (Array.isArray(body.messages)) delete body.destinations;
    const batchError = this.batchError(body);
    if (batchError)
      return {
        status: batchError.status,
        body: this.errorBody(batchError),
        accepted: [],
        rejectedMessages: 0,
      };

    const template = isPlainObject(body.template) ? body.template : undefined;
    const items: unknown[] = Array.isArray(body.messages)
      ? body.messages
      : (body.destinations as unknown[]).map((destination) => ({ destination }));
    const batchId = randomUUID();
    const clientBatchId = typeof body.clientBatchId === 'string' ? body.clientBatchId : undefined;
    const now = this.now();
    const accepted: ReceivedSms[] = [];
    const responses: unknown[] = [];
    let rejected = 0;
    for (const item of items) {
      const merged = isPlainObject(item) ? mergeTemplate(template, item) : undefined;
      const check = merged
        ? checkMessage(merged, now)
        : { ok: false as const, error: SMS_ERRORS.invalidParameter };
      if (!check.ok) {
        rejected += 1;
        responses.push(this.rejectedResponse(merged ?? {}, check.error));
        continue;
      }
      const sms = this.accept(check.message, call, { batchId, ...(clientBatchId ? { clientBatchId } : {}) });
      accepted.push(sms);
      responses.push(this.smsResponse(sms));
    }
    return {
      status: 200,
      body: {
        batchId,
        // Left out when not given (the OAS types it as a string; 8x8 documents no null for it).
        ...(clientBatchId !== undefined ? { clientBatchId } : {}),
        acceptedCount: accepted.length,
        rejectedCount: rejected,
        ...(body.includeMessagesInResponse === true ? { messages: responses } : {}),
      },
      accepted,
      rejectedMessages: rejected,
    };
  }

  /** Whole-batch errors (the per-message ones become REJECTED entries instead). */
  private batchError(body: Record<string, unknown>): EightByEightError | undefined {
    const issues = validateSmsBatchRequest(body).errors.filter((i) => !/^\/messages\/\d+\//.test(i.path));
    for (const issue of issues) {
      const [, field = ''] = issue.path.split('/');
      if (
        issue.keyword === 'anyOf' ||
        ((field === 'messages' || field === 'destinations') && issue.keyword === 'minItems')
      ) {
        return SMS_ERRORS.missedMessages;
      }
      if ((field === 'messages' || field === 'destinations') && issue.keyword === 'maxItems')
        return SMS_ERRORS.tooManyMessages;
    }
    const first = issues.find((i) => i.keyword !== 'required');
    if (!first) return undefined;
    const [, field = ''] = first.path.split('/');
    if (field === 'clientBatchId')
      return first.keyword === 'maxLength' ? SMS_ERRORS.clientBatchIdTooLong : parameter(field);
    if (field === 'template') return SMS_ERRORS.template;
    return parameter(field || 'body');
  }

  private accept(
    message: AcceptedMessage,
    call: SmsApiCall,
    batch: { batchId?: string; clientBatchId?: string },
  ): ReceivedSms {
    let attempt = 0;
    if (message.clientMessageId !== null) {
      attempt = (this.attempts.get(message.clientMessageId) ?? 0) + 1;
      this.attempts.set(message.clientMessageId, attempt);
    }
    const sms: ReceivedSms = {
      umid: randomUUID(),
      callSeq: call.seq,
      endpoint: call.endpoint,
      ...batch,
      clientMessageId: message.clientMessageId,
      destination: message.destination,
      request: message.request,
      encoding: message.encoding,
      smsCount: message.smsCount,
      truncated: message.truncated,
      headers: call.headers,
      receivedAt: call.receivedAt,
      attempt,
      answer: 'answered',
      outcome: this.outcomeFor(message.destination),
      ...(message.scheduledAt && { scheduledAt: message.scheduledAt.toISOString() }),
    };
    this.received.push(sms);
    this.handsetLog.push({ kind: 'received', sms });
    this.scheduleReceipts(sms, message.scheduledAt);
    return sms;
  }

  private publishAccepted(accepted: ReceivedSms[]): void {
    for (const sms of accepted) {
      this.receivedWaiters.publish(sms);
      const handset = digits(sms.destination);
      if (sms.scheduledAt === undefined) this.handsetWaiters.publish(handset);
      // A scheduled SMS reaches the handset when it is due.
      else
        this.later(Math.max(0, Date.parse(sms.scheduledAt) - this.now().getTime()), () =>
          this.handsetWaiters.publish(handset),
        );
    }
  }

  private smsResponse(sms: ReceivedSms): Record<string, unknown> {
    return {
      umid: sms.umid,
      clientMessageId: sms.clientMessageId,
      destination: this.echo(sms.destination),
      encoding: sms.encoding,
      status: { ...QUEUED },
    };
  }

  private rejectedResponse(
    request: Record<string, unknown>,
    error: EightByEightError,
  ): Record<string, unknown> {
    const text = typeof request.text === 'string' ? request.text : '';
    return {
      umid: randomUUID(),
      clientMessageId: typeof request.clientMessageId === 'string' ? request.clientMessageId : null,
      destination: typeof request.destination === 'string' ? request.destination : '',
      encoding:
        request.encoding === 'UCS2' || request.encoding === 'GSM7' ? request.encoding : detectEncoding(text),
      status: { code: 'REJECTED', description: error.message },
    };
  }

  private echo(destination: string): string {
    return this.options.echoDestinationWithPlus ? destination : destination.replace(/^\+/, '');
  }

  private authorised(header: string | undefined): boolean {
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    return match?.[1]?.trim() === this.apiKey;
  }

  private overRateLimit(call: SmsApiCall): number | undefined {
    if (!this.rateLimit) return undefined;
    const nowMs = Date.now();
    const second = Math.floor(nowMs / 1000);
    call.rateLimitWindow = second;
    if (second !== this.window.second) this.window = { second, count: 0 };
    this.window.count += 1;
    if (this.window.count <= this.rateLimit.perSecond) return undefined;
    return Math.max(1, Math.ceil(((second + 1) * 1000 - nowMs) / 1000));
  }

  private decideFault(): { delayMs: number; fault?: Fault; source?: 'scripted' | 'profile' } {
    let delayMs = this.latencyMs();
    const head = this.scripted[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.scripted.shift();
      const a = head.answer;
      const fault: Fault =
        'kind' in a
          ? { type: a.kind }
          : {
              type: 'status',
              status: a.status,
              ...(a.retryAfter !== undefined ? { retryAfter: a.retryAfter } : {}),
              ...(a.code !== undefined ? { code: a.code } : {}),
              ...(a.message !== undefined ? { message: a.message } : {}),
            };
      return { delayMs, fault, source: 'scripted' };
    }
    const p = this.profile;
    if (!p) return { delayMs };
    if (p.pSlow && this.random() < p.pSlow) delayMs += p.slowMs ?? 1000;
    const r = this.random();
    let edge = p.p429 ?? 0;
    if (r < edge)
      return { delayMs, fault: { type: 'status', status: 429, retryAfter: 1 }, source: 'profile' };
    edge += p.p5xx ?? 0;
    if (r < edge)
      return {
        delayMs,
        fault: { type: 'status', status: this.random() < 0.5 ? 500 : 503 },
        source: 'profile',
      };
    edge += p.pTimeout ?? 0;
    if (r < edge) return { delayMs, fault: { type: 'timeout' }, source: 'profile' };
    edge += p.pReset ?? 0;
    if (r < edge) return { delayMs, fault: { type: 'reset' }, source: 'profile' };
    return { delayMs };
  }

  private latencyMs(): number {
    const latency = this.latency;
    if (latency === null || latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency.min + Math.round(this.random() * (latency.max - latency.min));
  }

  private errorBody(error: EightByEightError): Record<string, unknown> {
    return {
      code: error.code,
      message: error.message,
      errorId: randomUUID(),
      timestamp: eightByEightTimestamp(this.now()),
    };
  }

  /** Sends an 8x8 error body; returns it for the call log. */
  private sendError(res: Response, error: EightByEightError, retryAfter?: number): Record<string, unknown> {
    const body = this.errorBody(error);
    const headers: Record<string, string> = {};
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    if (error.status === 426) headers.upgrade = 'TLS/1.3';
    sendJson(res, error.status, body, headers);
    return body;
  }

  // --- Receipts --------------------------------------------------------------------------------------------------

  private outcomeFor(destination: string): SmsOutcomeSpec {
    const key = digits(destination);
    const explicit = this.outcomes.get(key);
    if (explicit) return explicit;
    if (key.endsWith('0000')) {
      return {
        state: 'undelivered',
        detail: 'rejected_by_operator',
        errorCode: 15,
        errorMessage: 'Invalid destination',
      };
    }
    return { state: 'delivered' };
  }

  private receiptStatuses(outcome: SmsOutcomeSpec): Omit<SmsReceiptStatus, 'timestamp'>[] {
    const error = (code: number, message: string) => ({
      errorCode: outcome.errorCode ?? code,
      errorMessage: outcome.errorMessage ?? message,
    });
    switch (outcome.state) {
      case 'delivered':
        return [
          { state: 'sent' },
          { state: 'delivered', detail: outcome.detail ?? 'delivered_to_recipient' },
        ];
      case 'undelivered':
        return [
          { state: 'sent' },
          {
            state: 'undelivered',
            detail: outcome.detail ?? 'undelivered_to_recipient',
            ...error(28, 'Permanent phone error'),
          },
        ];
      case 'rejected':
        return [
          {
            state: 'rejected',
            ...(outcome.detail ? { detail: outcome.detail } : {}),
            ...error(60, 'Content filtered'),
          },
        ];
      case 'sent':
        return [{ state: 'sent' }];
      case 'none':
        return [];
    }
  }

  private receiptTarget(sms: ReceivedSms): Target | undefined {
    const callback = sms.request.dlrCallbackUrl;
    if (typeof callback === 'string') {
      const authorization = this.options.authorizeCallbackUrl ? this.webhook?.authorization : undefined;
      return { url: callback, ...(authorization !== undefined ? { authorization } : {}) };
    }
    return this.webhook;
  }

  private scheduleReceipts(sms: ReceivedSms, scheduledAt: Date | undefined): void {
    const statuses = this.receiptStatuses(sms.outcome);
    if (statuses.length === 0) return;
    const ordered = this.receipts.outOfOrder ? [...statuses].reverse() : statuses;
    const start = scheduledAt ? Math.max(0, scheduledAt.getTime() - this.now().getTime()) : 0;
    const spreadMs = this.options.receiptSpreadMs ?? 0;
    let dueMs = start;
    ordered.forEach((status) => {
      // Each receipt after the one before (never overtaking it), spread when asked.
      dueMs += this.receipts.delayMs + (spreadMs > 0 ? Math.round(this.receiptRandom() * spreadMs) : 0);
      this.later(dueMs, () => {
        if (sms.cancelledAt !== undefined) return; // cancelled while scheduled: never sent
        // Resolved when due, so a webhook set after the send (local stack start-up) is still used.
        const target = this.receiptTarget(sms);
        if (!target) return;
        const receipt = this.receiptBody(sms, {
          // Key order as in 8x8's documentation.
          state: status.state,
          ...(status.detail !== undefined ? { detail: status.detail } : {}),
          timestamp: eightByEightTimestamp(this.now()),
          ...(status.errorCode !== undefined
            ? { errorCode: status.errorCode, errorMessage: status.errorMessage }
            : {}),
        });
        this.deliverReceipt(target, receipt, sms, false);
        if (this.receipts.duplicate) this.deliverReceipt(target, receipt, sms, true);
      });
    });
  }

  private receiptBody(sms: ReceivedSms, status: SmsReceiptStatus): SmsDeliveryReceipt {
    const price = this.options.price === undefined ? { perSms: 0.0125, currency: 'USD' } : this.options.price;
    const charged = price && (status.state === 'sent' || status.state === 'delivered');
    return {
      namespace: 'SMS',
      eventType: 'outbound_message_status_changed',
      description: 'SMS outbound message delivery receipt',
      payload: {
        umid: sms.umid,
        ...(sms.batchId ? { batchId: sms.batchId } : {}),
        ...(sms.clientMessageId !== null ? { clientMessageId: sms.clientMessageId } : {}),
        ...(sms.clientBatchId ? { clientBatchId: sms.clientBatchId } : {}),
        subAccountId: this.subAccountId,
        source: this.sourceOf(sms),
        destination: sms.destination,
        status,
        ...(charged
          ? {
              price: {
                total: round(price.perSms * sms.smsCount),
                perSms: price.perSms,
                currency: price.currency,
              },
            }
          : {}),
        smsCount: sms.smsCount,
      },
    };
  }

  private sourceOf(sms: ReceivedSms): string {
    return typeof sms.request.source === 'string'
      ? sms.request.source
      : (this.options.defaultSource ?? '8x8');
  }

  private deliverReceipt(
    target: Target,
    receipt: SmsDeliveryReceipt,
    sms: ReceivedSms,
    duplicate: boolean,
  ): void {
    void this.postWebhook(target, receipt, 0, (attempt) => {
      const { url, ...rest } = attempt;
      const delivery: ReceiptDelivery = {
        umid: sms.umid,
        clientMessageId: sms.clientMessageId,
        state: receipt.payload.status.state,
        url,
        duplicate,
        ...rest,
        body: receipt,
      };
      this.receiptsSent.push(delivery);
      this.receiptWaiters.publish(delivery);
    });
  }

  /** The inbound webhook: its own URL if set, else the receipt webhook's; always the receipts' Authorization. */
  private inboundTarget(): Target | undefined {
    const url = this.inboundUrl ?? this.webhook?.url;
    if (!url) return undefined;
    const authorization = this.webhook?.authorization ?? this.options.webhookAuthorization;
    return { url, ...(authorization !== undefined ? { authorization } : {}) };
  }

  private deliverInbound(event: SmsInboundEvent, redelivery: boolean): void {
    // Resolved now, so a webhook changed later (a test's receiver) does not redirect retries already planned.
    const target = this.inboundTarget();
    if (!target) return; // no inbound webhook configured: 8x8 keeps the SMS to itself
    void this.postWebhook(target, event, 0, (attempt) => {
      const delivery: InboundDelivery = {
        umid: event.payload.umid,
        from: event.payload.source,
        to: event.payload.destination,
        redelivery,
        ...attempt,
        body: event,
      };
      this.inboundSent.push(delivery);
      this.inboundWaiters.publish(delivery);
    });
  }

  /**
   * POSTs an 8x8 webhook body with the target's Authorization and records each attempt; anything but a 2xx (or no
   * answer within receiptTimeoutMs) is retried at 8x8's 1, 10, 30 and 90 s, times the receipt retry scale.
   */
  private async postWebhook(
    target: Target,
    body: SmsDeliveryReceipt | SmsInboundEvent,
    attempt: number,
    record: (attempt: WebhookAttempt) => void,
  ): Promise<void> {
    const signal = AbortSignal.any([this.lifecycle.signal, AbortSignal.timeout(this.receiptTimeoutMs)]);
    const stopping = this.lifecycle.signal;
    let status: number | undefined;
    let answer: string | undefined;
    let error: string | undefined;
    this.inflightReceipts += 1;
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(target.authorization !== undefined ? { authorization: target.authorization } : {}),
        },
        body: JSON.stringify(body),
        signal,
      });
      status = response.status;
      answer = await response.text().then(
        (text) => text.slice(0, 500),
        () => undefined,
      );
    } catch (e) {
      error = describeFetchError(e);
    } finally {
      this.inflightReceipts -= 1;
    }
    if (stopping.aborted) return; // stopped or reset: the record was cleared on purpose
    const ok = status !== undefined && status >= 200 && status < 300;
    const retryDelay = ok ? undefined : SMS_RECEIPT_RETRY_DELAYS_MS[attempt];
    record({
      url: target.url,
      attempt,
      at: this.now().toISOString(),
      ok,
      ...(status !== undefined ? { status } : {}),
      ...(answer ? { response: answer } : {}),
      ...(error !== undefined ? { error } : {}),
      final: ok || retryDelay === undefined,
    });
    if (retryDelay !== undefined) {
      this.later(
        retryDelay * this.receipts.retryScale,
        () => void this.postWebhook(target, body, attempt + 1, record),
      );
    }
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private cancelPending(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.lifecycle.abort();
  }
}

/** The HTTP controls, listed at GET /__control for people driving the simulator with curl. */
export const SMS_CONTROLS = {
  'GET /__control/received[?clientMessageId=|umid=|destination=]': 'accepted messages',
  'GET /__control/requests': 'every call to the send endpoints and its answer',
  'GET /__control/receipts': 'every receipt POST and the webhook answer',
  'GET /__control/stats': 'counters',
  'GET /__control/faults': 'current faults',
  'DELETE /api/v1/subaccounts/{subAccountId}/messages/{umid}[/pii]':
    "8x8's cancel of a scheduled message / PII removal (seen as cancelledAt / piiRemovalRequestedAt in received)",
  'POST /__control/faults':
    '{clear?, latencyMs?, rateLimit?:{perSecond}, profile?:{p429,p5xx,pTimeout,pReset,pSlow,slowMs,seed}, next?:[...]}',
  'POST /__control/fail-next':
    '[{status, count?, retryAfter?} | {kind: timeout|reset|acceptThenReset, count?}]',
  'POST /__control/outcome':
    '{destination, outcome: delivered|undelivered|rejected|sent|none|{state,detail,errorCode,errorMessage}|null}',
  'POST /__control/receipt-behaviour': '{outOfOrder?, duplicate?, delayMs?, retryScale?}',
  'POST /__control/webhook': '{url, authorization?}',
  'GET /__control/handsets': 'numbers with a handset view',
  'GET /__control/handsets/{number}':
    "a handset's SMS in order: received (8x8 handed it over) and sent (it texted the bridge)",
  'POST /__control/handsets/{number}/messages':
    '{to, text, umid?}: the handset texts an 8x8 number; 8x8 POSTs inbound_message_received to the inbound webhook',
  'GET /__control/inbound': 'every inbound event POST and the webhook answer',
  'POST /__control/inbound/{umid}/redeliver': 'send an inbound event again, unchanged (same umid)',
  'POST /__control/inbound-webhook': '{url | null}: where inbound events go (null: the receipt webhook URL)',
  'POST /__control/reset':
    'clear records, handsets, faults, outcomes and pending receipts and inbound events',
} as const;

/** redeliverInbound of an umid no handset texted. */
export class UnknownInboundSmsError extends Error {
  constructor(readonly umid: string) {
    super(`No inbound SMS with umid ${umid}`);
    this.name = 'UnknownInboundSmsError';
  }
}

/** Whether 8x8 handed the SMS to the phone by `now`: not cancelled, due, and not undelivered or rejected. */
function reachesHandset(sms: ReceivedSms, now: number): boolean {
  if (sms.cancelledAt !== undefined) return false;
  if (sms.scheduledAt !== undefined && Date.parse(sms.scheduledAt) > now) return false;
  return sms.outcome.state !== 'undelivered' && sms.outcome.state !== 'rejected';
}

function plus(number: string): string {
  return `+${digits(number)}`;
}

function parameter(field: string): EightByEightError {
  return { ...SMS_ERRORS.invalidParameter, message: `Invalid parameter: ${field}` };
}

function quotaMessage(seconds: number): string {
  return `Quota exceeded. Please try again in ${seconds} second(s).`;
}

function digits(value: string): string {
  return value.replace(/\D/g, '');
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
