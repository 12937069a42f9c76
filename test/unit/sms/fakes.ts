/**
 * In-memory implementations of the SMS ports for core-level tests. The store applies the same conditions as
 * DynamoMessageStore's condition expressions (rank only rises, attempts as optimistic lock), so tests of the cores
 * exercise the real state rules; the DynamoDB expressions themselves are tested in sms-adapters.test.ts.
 */
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../../functions/sms/error-codes';
import type { PushOptions } from '../../../functions/shared/cognigy-client';
import type { InjectResult, ReceiptInjector, SmsStatusEvent } from '../../../functions/sms/cognigy-inject';
import type {
  EightByEightBatchRequest,
  EightByEightBatchResponse,
  EightByEightSms,
  EightByEightSmsRequest,
  EightByEightSmsResponse,
  SmsCredentials,
} from '../../../functions/sms/eight-by-eight-sms-client';
import {
  ERASED,
  REDRIVEN_DESCRIPTION,
  MessageAlreadyStoredError,
  STATUS_RANK,
  type ErasureTombstone,
  type AttemptRelease,
  type AttemptStart,
  type IdempotencyGuard,
  type MessageRecord,
  type MessageStore,
  type SmsQueue,
  type SmsStatus,
  type StatusChange,
} from '../../../functions/sms/records';
import type { Clock, Ids, Telemetry } from '../../../functions/shared/runtime';
import { mathRandom, powertoolsTelemetry, systemClock } from '../../../functions/shared/runtime';
import type { QueueMessage, QueueSender } from '../../../functions/shared/sqs';
import type { ClaimResult, WebhookClaims } from '../../../functions/shared/webhook-claims';
import type { DeliverDeps, DeliverSettings } from '../../../functions/sms/ports';
import { RateLimitGate } from '../../../functions/sms/rate-limit';

const clone = <T>(value: T): T => structuredClone(value);

export class InMemoryMessageStore implements MessageStore {
  readonly records = new Map<string, MessageRecord>();
  /** Makes the next create() fail like a DynamoDB outage. */
  failCreate = false;

  async create(record: MessageRecord): Promise<void> {
    if (this.failCreate) throw new Error('DynamoDB is unavailable');
    if (this.records.has(record.messageId)) throw new MessageAlreadyStoredError(record.messageId);
    this.records.set(record.messageId, clone(record));
  }

  async get(messageId: string): Promise<MessageRecord | undefined> {
    const record = this.records.get(messageId);
    return record && clone(record);
  }

  async getMany(messageIds: string[]): Promise<MessageRecord[]> {
    return [...new Set(messageIds)].flatMap((id) =>
      this.records.has(id) ? [clone(this.records.get(id) as MessageRecord)] : [],
    );
  }

  async findByUmid(umid: string): Promise<MessageRecord | undefined> {
    return this.newest([...this.records.values()].filter((r) => r.umid === umid))[0];
  }

  async findByClientMessageId(clientMessageId: string): Promise<MessageRecord[]> {
    return this.newest([...this.records.values()].filter((r) => r.clientMessageId === clientMessageId));
  }

  async startAttempt(messageId: string, start: AttemptStart): Promise<boolean> {
    const r = this.records.get(messageId);
    if (!r || r.attempts !== start.seenAttempts || r.statusRank > STATUS_RANK.sending || r.umid) return false;
    Object.assign(r, {
      status: 'sending',
      statusRank: STATUS_RANK.sending,
      attempts: start.seenAttempts + 1,
      attemptLeaseUntil: start.leaseUntil,
      updatedAt: start.now,
      ambiguousAttempts: (r.ambiguousAttempts ?? 0) + (start.previousAmbiguous ? 1 : 0),
    });
    return true;
  }

  async releaseAttempt(messageId: string, release: AttemptRelease): Promise<boolean> {
    const r = this.records.get(messageId);
    if (!r || r.status !== 'sending' || r.attempts !== release.attempt) return false;
    Object.assign(r, {
      status: 'queued',
      statusRank: STATUS_RANK.queued,
      ambiguousAttempts: (r.ambiguousAttempts ?? 0) + (release.ambiguous ? 1 : 0),
      lastError: release.lastError,
      updatedAt: release.now,
    });
    delete r.attemptLeaseUntil;
    return true;
  }

  async changeStatus(messageId: string, change: StatusChange, belowRank?: number): Promise<boolean> {
    const r = this.records.get(messageId);
    const rank = change.rank ?? STATUS_RANK[change.status];
    if (!r || !(r.statusRank < (belowRank ?? rank))) return false;
    r.status = change.status;
    r.statusRank = rank;
    r.updatedAt = change.now;
    r.history = [
      ...(r.history ?? []),
      {
        status: change.status,
        at: change.at,
        ...(change.detail !== undefined && { detail: change.detail }),
        ...(change.umid !== undefined && { umid: change.umid }),
        ...(change.errorCode !== undefined && { errorCode: change.errorCode }),
        ...(change.reason !== undefined && { reason: change.reason }),
      },
    ];
    delete r.attemptLeaseUntil;
    if (change.description !== undefined) r.statusDescription = change.description;
    else delete r.statusDescription;
    if (change.injectPending) r.injectPending = change.status;
    else delete r.injectPending;
    if (change.umid !== undefined && r.umid === undefined) r.umid = change.umid;
    if (change.errorCode !== undefined) r.errorCode = change.errorCode;
    if (change.reason !== undefined) r.reason = change.reason;
    if (change.redrivable) r.redrivable = true;
    return true;
  }

  /** Makes clearOutbox fail like a DynamoDB outage. */
  failClearOutbox = false;

  async clearOutbox(messageIds: string[], now: string): Promise<void> {
    if (this.failClearOutbox) throw new Error('DynamoDB is unavailable');
    for (const id of messageIds) {
      const r = this.records.get(id);
      if (r?.outbox !== undefined) {
        delete r.outbox;
        r.updatedAt = now;
      }
    }
  }

  async findOutbox(createdBefore: string, limit: number): Promise<MessageRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.outbox === 'pending' && r.createdAt < createdBefore)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .slice(0, limit)
      .map(clone);
  }

  async reopenForRedrive(messageId: string, now: string): Promise<boolean> {
    const r = this.records.get(messageId);
    if (!r || r.status !== 'failed' || r.redrivable !== true || r.umid !== undefined) return false;
    Object.assign(r, {
      status: 'queued',
      statusRank: STATUS_RANK.queued,
      statusDescription: REDRIVEN_DESCRIPTION,
      updatedAt: now,
      history: [...(r.history ?? []), { status: 'queued', at: now, detail: 'redriven from the DLQ' }],
    });
    for (const key of ['redrivable', 'errorCode', 'reason', 'attemptLeaseUntil', 'injectPending'] as const)
      delete r[key];
    return true;
  }

  async cancelQueued(messageId: string, now: string, by?: string): Promise<boolean> {
    const r = this.records.get(messageId);
    if (!r || r.status !== 'queued' || r.umid !== undefined) return false;
    const detail = by ? `cancelled by ${by} before it reached 8x8` : 'cancelled before it reached 8x8';
    Object.assign(r, {
      status: 'cancelled',
      statusRank: STATUS_RANK.cancelled,
      updatedAt: now,
      history: [...(r.history ?? []), { status: 'cancelled', at: now, detail }],
    });
    for (const key of ['statusDescription', 'outbox', 'attemptLeaseUntil', 'redrivable'] as const)
      delete r[key];
    return true;
  }

  async erase(messageId: string, tombstone: ErasureTombstone): Promise<void> {
    const r = this.records.get(messageId);
    if (!r) throw Object.assign(new Error('missing'), { name: 'ConditionalCheckFailedException' });
    r.destination = ERASED;
    r.request = { ...r.request, destination: ERASED, text: ERASED };
    delete r.request.clientIp;
    delete r.replyKey;
    r.erased = clone(tombstone);
    r.updatedAt = tombstone.at;
  }

  async setUmidIfMissing(messageId: string, umid: string, now: string): Promise<void> {
    const r = this.records.get(messageId);
    if (r && r.umid === undefined) Object.assign(r, { umid, updatedAt: now });
  }

  async clearInjectPending(messageId: string, status: SmsStatus, now: string): Promise<void> {
    const r = this.records.get(messageId);
    if (r && r.injectPending === status) {
      delete r.injectPending;
      r.updatedAt = now;
    }
  }

  private newest(records: MessageRecord[]): MessageRecord[] {
    return records.map(clone).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}

export class FakeQueue implements SmsQueue {
  readonly enqueued: string[] = [];
  /** Ids SQS will refuse. */
  readonly refuse = new Set<string>();
  refuseAll = false;

  async enqueue(messageIds: string[]): Promise<string[]> {
    const failed = messageIds.filter((id) => this.refuseAll || this.refuse.has(id));
    this.enqueued.push(...messageIds.filter((id) => !failed.includes(id)));
    return failed;
  }
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** Same contract as PowertoolsIdempotency: replay on equal fingerprint, conflict otherwise, released on failure. */
export class MapIdempotency implements IdempotencyGuard {
  readonly entries = new Map<string, { fingerprint: string; result?: Record<string, unknown> }>();
  runs = 0;

  async run<T extends Record<string, unknown>>(
    key: string,
    fingerprint: unknown,
    work: () => Promise<T>,
  ): Promise<T> {
    const existing = this.entries.get(key);
    if (existing) {
      if (existing.fingerprint !== canonical(fingerprint)) throw new IdempotencyConflictError();
      if (!existing.result) throw new IdempotencyInProgressError();
      return clone(existing.result) as T;
    }
    this.entries.set(key, { fingerprint: canonical(fingerprint) });
    this.runs++;
    try {
      const result = await work();
      this.entries.set(key, { fingerprint: canonical(fingerprint), result: clone(result) });
      return result;
    } catch (error) {
      this.entries.delete(key);
      throw error;
    }
  }

  async forget(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

export class FakeClock implements Clock {
  constructor(public current = new Date('2026-03-02T10:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export class SequenceIds implements Ids {
  private n = 0;
  uuid(): string {
    this.n++;
    return `00000000-0000-4000-8000-${String(this.n).padStart(12, '0')}`;
  }
}

type Scripted<T> = T | Error | ((request: never) => T | Error);

/**
 * 8x8 stand-in for worker tests: answers from a script (a value, an error to throw, or a function of the request),
 * QUEUED with a fresh umid when the script is empty. Records every call.
 */
export class FakeEightByEight implements EightByEightSms {
  readonly singleCalls: EightByEightSmsRequest[] = [];
  readonly batchCalls: EightByEightBatchRequest[] = [];
  readonly singleScript: Scripted<EightByEightSmsResponse>[] = [];
  readonly batchScript: Scripted<EightByEightBatchResponse>[] = [];
  private umids = 0;

  nextUmid(): string {
    this.umids++;
    return `umid-${this.umids}`;
  }

  queued(request: Pick<EightByEightSmsRequest, 'clientMessageId' | 'destination'>): EightByEightSmsResponse {
    return {
      umid: this.nextUmid(),
      clientMessageId: request.clientMessageId ?? null,
      destination: request.destination,
      encoding: 'GSM7',
      status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
    };
  }

  async sendSms(_creds: SmsCredentials, request: EightByEightSmsRequest): Promise<EightByEightSmsResponse> {
    this.singleCalls.push(clone(request));
    const next = this.singleScript.shift();
    const value =
      typeof next === 'function'
        ? (next as (r: EightByEightSmsRequest) => EightByEightSmsResponse | Error)(request)
        : next;
    if (value instanceof Error) throw value;
    return value ?? this.queued(request);
  }

  async sendSmsBatch(
    _creds: SmsCredentials,
    batch: EightByEightBatchRequest,
  ): Promise<EightByEightBatchResponse> {
    this.batchCalls.push(clone(batch));
    const next = this.batchScript.shift();
    const value =
      typeof next === 'function'
        ? (next as (b: EightByEightBatchRequest) => EightByEightBatchResponse | Error)(batch)
        : next;
    if (value instanceof Error) throw value;
    return (
      value ?? {
        batchId: 'batch-1',
        acceptedCount: batch.messages.length,
        rejectedCount: 0,
        messages: batch.messages.map((m) => this.queued(m)),
      }
    );
  }
}

export class RecordingInjector implements ReceiptInjector {
  readonly calls: { messageId: string; event: SmsStatusEvent }[] = [];
  /** The options of each call, in the order of `calls`. */
  readonly options: PushOptions[] = [];
  readonly script: InjectResult[] = [];

  async inject(
    record: MessageRecord,
    event: SmsStatusEvent,
    options: PushOptions = {},
  ): Promise<InjectResult> {
    if (!record.cognigy?.receiptEvents.includes(event.status as never)) return 'skipped';
    this.calls.push({ messageId: record.messageId, event });
    this.options.push(options);
    return this.script.shift() ?? 'ok';
  }
}

/** The 8x8 SMS credentials every core test uses. */
export const FAKE_SMS_CREDENTIALS: SmsCredentials = {
  apiKey: 'key',
  subAccountId: 'SubAccount-1',
  baseUrl: 'https://sms.8x8.com',
};

/**
 * The sms-deliver worker's deps around a test's store, 8x8 fake and clock. Defaults: a recording injector, the fake
 * credentials, no callback-token key, a real rate-limit gate (its waits are real setTimeout pauses, whatever the
 * clock), Powertools telemetry, no pacer, and settings { upstreamTimeoutMs: 5000, receiptMode: 'account' } with
 * `settings` laid over them; any other field can be replaced.
 */
export function fakeDeliverDeps(
  parts: Pick<DeliverDeps, 'store' | 'sms' | 'clock'> &
    Partial<Omit<DeliverDeps, 'store' | 'sms' | 'clock' | 'settings'>> & {
      settings?: Partial<DeliverSettings>;
    },
): DeliverDeps {
  const { settings, ...rest } = parts;
  return {
    injector: new RecordingInjector(),
    credentials: async () => FAKE_SMS_CREDENTIALS,
    callbackTokenKey: async () => undefined,
    rateLimit: new RateLimitGate(systemClock, mathRandom),
    telemetry: powertoolsTelemetry,
    ...rest,
    settings: { upstreamTimeoutMs: 5000, receiptMode: 'account', ...settings },
  };
}

/**
 * In memory, the WebhookClaims contract of functions/shared/webhook-claims.ts (the DynamoDB conditions themselves
 * run against dynalite in inbound-webhook.test.ts and event-dedupe.test.ts): same body takes over a released claim,
 * another body is a mismatch, a queued id is a duplicate.
 */
export class MapWebhookClaims implements WebhookClaims {
  readonly items = new Map<string, { status: 'PENDING' | 'QUEUED' | 'RELEASED'; bodySha256: string }>();

  async claim(id: string, info: { bodySha256: string }): Promise<ClaimResult> {
    const item = this.items.get(id);
    if (!item || (item.status === 'RELEASED' && item.bodySha256 === info.bodySha256)) {
      this.items.set(id, { status: 'PENDING', bodySha256: info.bodySha256 });
      return 'claimed';
    }
    if (item.bodySha256 !== info.bodySha256) return 'bodyMismatch';
    return item.status === 'QUEUED' ? 'duplicate' : 'inProgress';
  }
  async markQueued(id: string): Promise<void> {
    const item = this.items.get(id);
    if (item) item.status = 'QUEUED';
  }
  async release(id: string): Promise<void> {
    const item = this.items.get(id);
    if (item?.status === 'PENDING') item.status = 'RELEASED';
  }
}

/** A QueueSender that keeps what it was given; `refuseAll` makes every message fail to queue. */
export class RecordingSender implements QueueSender {
  readonly sent: QueueMessage[] = [];
  refuseAll = false;
  async send(messages: QueueMessage[]): Promise<string[]> {
    if (this.refuseAll) return messages.map((message) => message.key);
    this.sent.push(...messages.map(clone));
    return [];
  }
}

/** Telemetry that counts metrics and keeps warnings and errors. */
export function recordingTelemetry() {
  const counts = new Map<string, number>();
  const warnings: string[] = [];
  const telemetry: Telemetry = {
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => void warnings.push(message),
      error: (message: string) => void warnings.push(message),
    } as unknown as Telemetry['log'],
    count: (metric, value = 1) => void counts.set(metric, (counts.get(metric) ?? 0) + value),
    milliseconds: () => undefined,
  };
  return { telemetry, counts, warnings };
}
