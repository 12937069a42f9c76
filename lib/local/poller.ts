/**
 * Queue pollers with the semantics of Lambda's SQS event source mapping (with ReportBatchItemFailures): a
 * receiver hands batches to concurrent invocations, builds the `SQSEvent` Lambda would, invokes the consumer, then deletes the
 * records the function did not report as failed. A thrown error, a timeout or an invalid batch response fails
 * the whole batch: nothing is deleted and the messages come back after their visibility timeout. Retries,
 * backoff (the consumer's ChangeMessageVisibility) and the move to the DLQ after maxReceiveCount are SQS's own
 * behaviour, provided by the SQS stand-in through the queue's redrive policy.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { LOCAL_REGION } from './constants';
import { invokeWithTimeout, type LambdaHandler } from './lambda';

export interface PollerTarget {
  /** Label for error reports, e.g. the queue's logical name. */
  name: string;
  queueUrl: string;
  queueArn: string;
  /** The consumer function's name (goes into the Lambda context). */
  functionName: string;
  /** Resolves the consumer handler (lazily, once per batch; the loader caches). */
  handler: () => Promise<LambdaHandler>;
  /** Records per invocation (the event source mapping's BatchSize: 1–10 000, FIFO 1–10). */
  batchSize: number;
  /** Concurrent invocations, each running one batch at a time (Lambda's concurrency stand-in). */
  concurrency: number;
  /** The consumer's timeout; a longer invocation fails its batch. */
  timeoutMs: number;
  /** Seconds to keep receiving to fill a batch (MaximumBatchingWindowInSeconds); 0 = invoke with what came. */
  batchingWindowSeconds?: number;
  /** Long-poll seconds per ReceiveMessage; short so an idle poller notices stop() quickly (default 1). */
  waitTimeSeconds?: number;
  /** Test hook for chaos runs only (never set by the stack unless asked): consumers that crash mid-batch. */
  crash?: WorkerCrashHook;
}

/**
 * Simulates a consumer that dies part-way through a batch (a crash or a kill after some records were handled):
 * the invocation handles only its first `k` records, then fails as a whole, so nothing of the batch is deleted and
 * every record comes back after its visibility timeout — including the ones whose work was already done.
 */
export interface WorkerCrashHook {
  /** For this poller target's `invocation`-th batch (1-based) of `records` records: `k` to crash after k, else undefined. */
  afterRecords(invocation: number, records: number): number | undefined;
}

/** Reported through onError when the crash hook ends an invocation. */
export class WorkerCrashError extends Error {
  constructor(functionName: string, handled: number, records: number) {
    super(`${functionName} crashed (test hook) after ${handled} of ${records} records`);
    this.name = 'WorkerCrashError';
  }
}

export interface PollerOptions {
  sqs: SQSClient;
  region?: string;
  /** Report of failed invocations and SQS errors (the stack logs them unless quiet). */
  onError?: (message: string, error: unknown) => void;
}

export interface PollerStats {
  invocations: number;
  recordsReceived: number;
  recordsDeleted: number;
  /** Records left on the queue for a retry (reported failures plus whole failed batches). */
  recordsFailed: number;
  /** Invocations that failed as a whole (threw, timed out or answered an invalid batch response). */
  batchesFailed: number;
  /** Invocations ended by the crash test hook (also counted in batchesFailed). */
  crashes: number;
}

/** How Lambda reads a ReportBatchItemFailures answer: the failed message ids, or 'all' when it cannot use it. */
export function failedMessageIds(response: unknown, batch: readonly SQSRecord[]): Set<string> | 'all' {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object') return 'all';
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const ids = new Set(batch.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    // An empty, missing or unknown identifier makes Lambda treat the whole batch as failed.
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

function toLambdaAttribute(value: MessageAttributeValue): SQSMessageAttributes[string] {
  return {
    stringValue: value.StringValue,
    binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    dataType: (value.DataType ?? 'String') as SQSMessageAttributes[string]['dataType'],
  };
}

/** One SQS message as the record Lambda delivers to the function. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const now = String(Date.now());
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? now,
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? now,
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
      ...(attributes.AWSTraceHeader ? { AWSTraceHeader: attributes.AWSTraceHeader } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        toLambdaAttribute(value),
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/** ReceiveMessage returns at most 10 messages. */
const SQS_RECEIVE_MAX = 10;
/** While a batching window is open and the queue has nothing new: how often to look again. */
const GATHER_POLL_MS = 50;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    // The listener goes with the timer: the gathering loop sleeps often on one long-lived signal.
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export class QueuePoller {
  readonly stats: PollerStats = {
    invocations: 0,
    recordsReceived: 0,
    recordsDeleted: 0,
    recordsFailed: 0,
    batchesFailed: 0,
    crashes: 0,
  };
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  /** Invocations running now (at most target.concurrency). */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly region: string;
  /** Set while paused: the receiver waits for `resumed` before the next receive and calls `parked` on the way. */
  private paused?: {
    resumed: Promise<void>;
    resume: () => void;
    isParked: Promise<void>;
    parked: () => void;
  };

  constructor(
    readonly target: PollerTarget,
    private readonly options: PollerOptions,
  ) {
    if (target.batchSize < 1 || target.batchSize > 10_000)
      throw new RangeError('batchSize must be between 1 and 10000');
    this.region = options.region ?? LOCAL_REGION;
  }

  get running(): boolean {
    return this.loops.length > 0 && !this.abort.signal.aborted;
  }

  start(): this {
    if (this.loops.length > 0) return this;
    this.loops.push(this.loop());
    return this;
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  /**
   * Stops receiving until resume(), e.g. to let a backlog build up on the queue (the benchmark does). Resolves once
   * the poller is idle: the receive under way (a long poll, at most waitTimeSeconds) has ended and the batches it
   * or earlier receives got have finished. Nothing is dropped: what a receive returned is still processed.
   */
  async pause(): Promise<void> {
    if (!this.paused) {
      let resume!: () => void;
      let parked!: () => void;
      const resumed = new Promise<void>((resolve) => {
        resume = resolve;
      });
      const isParked = new Promise<void>((resolve) => {
        parked = resolve;
      });
      this.paused = { resumed, resume, isParked, parked };
    }
    // The receiver parks once its receive under way (if any) has handed its batch to an invocation.
    if (this.running) await this.paused.isParked;
    await Promise.all([...this.inFlight]);
  }

  /** Receives again after pause(); a no-op when not paused. */
  resume(): void {
    const paused = this.paused;
    this.paused = undefined;
    paused?.resume();
  }

  /** Stops receiving and waits for the batches in flight to finish (their deletes included). */
  async stop(): Promise<void> {
    this.abort.abort();
    this.paused?.parked(); // a pause() waiting for the receiver returns: it will not receive again
    this.resume();
    await Promise.all(this.loops);
    await Promise.all([...this.inFlight]);
  }

  /**
   * One receiver per queue hands each batch to one of up to `concurrency` concurrent invocations, as Lambda's event
   * source mapping separates its pollers from the function's concurrency. One long poll rather than one per slot:
   * the SQS stand-in wakes every waiting receiver for each new message, so N receivers would cost N receives (and
   * N signed SDK calls) per message. A batch is only received when a slot is free, so no message waits in flight.
   */
  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    const slots = Math.max(1, this.target.concurrency);
    let consecutiveErrors = 0;
    while (!signal.aborted) {
      if (this.paused) {
        this.paused.parked();
        await this.paused.resumed;
        continue;
      }
      if (this.inFlight.size >= slots) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: Message[];
      try {
        messages = await this.receiveBatch(signal);
        consecutiveErrors = 0;
      } catch (error) {
        if (signal.aborted) break;
        consecutiveErrors++;
        if (consecutiveErrors === 1)
          this.options.onError?.(`Receiving from ${this.target.name} failed`, error);
        await sleep(Math.min(2000, 100 * 2 ** consecutiveErrors), signal);
        continue;
      }
      // A batch received is always processed, even when stop() came meanwhile: its messages are in flight.
      if (messages.length > 0) {
        const invocation: Promise<void> = this.processBatch(messages)
          .catch((error: unknown) =>
            this.options.onError?.(`Processing a batch of ${this.target.name} failed`, error),
          )
          .finally(() => this.inFlight.delete(invocation));
        this.inFlight.add(invocation);
      }
    }
  }

  /**
   * One batch as Lambda's event source builds it: the first receive long-polls; once a message is in hand, more are
   * gathered (10 per ReceiveMessage, SQS's most) until the batch is full or the batching window, counted from that
   * first message, has passed. Within the window the receives do not long-poll (WaitTimeSeconds is whole seconds
   * and would overrun a window's end); they poll again every GATHER_POLL_MS while the queue has nothing new.
   */
  private async receiveBatch(signal: AbortSignal): Promise<Message[]> {
    const windowMs = (this.target.batchingWindowSeconds ?? 0) * 1000;
    const messages: Message[] = [];
    let deadline = Number.POSITIVE_INFINITY;
    do {
      const remaining = Math.min(SQS_RECEIVE_MAX, this.target.batchSize - messages.length);
      let received: Message[];
      try {
        const response = await this.options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.target.queueUrl,
            MaxNumberOfMessages: remaining,
            WaitTimeSeconds: messages.length === 0 ? (this.target.waitTimeSeconds ?? 1) : 0,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        received = response.Messages ?? [];
      } catch (error) {
        // Messages already received are in flight: hand them to the function rather than drop them.
        if (messages.length > 0) break;
        throw error;
      }
      if (messages.length === 0 && received.length > 0) deadline = Date.now() + windowMs;
      for (const message of received) {
        // A message whose visibility timeout ended while the batch was gathered comes back: one record per message,
        // with its newest receipt handle (the older one no longer deletes it).
        const earlier = messages.findIndex((m) => m.MessageId === message.MessageId);
        if (earlier >= 0) messages[earlier] = message;
        else messages.push(message);
      }
      if (messages.length === 0) return messages; // the long poll ended empty: the loop checks pause/stop first
      // Nothing new within the window: wait a little rather than spin on empty receives.
      if (received.length === 0 && Date.now() < deadline)
        await sleep(Math.min(GATHER_POLL_MS, deadline - Date.now()), signal);
    } while (messages.length < this.target.batchSize && Date.now() < deadline && !signal.aborted);
    return messages;
  }

  private async processBatch(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsRecord(m, this.target.queueArn, this.region));
    const event: SQSEvent = { Records: records };
    this.stats.invocations++;
    this.stats.recordsReceived += records.length;
    let failed: Set<string> | 'all';
    const crashAfter = this.target.crash?.afterRecords(this.stats.invocations, records.length);
    if (crashAfter !== undefined) {
      await this.crash(records, crashAfter);
      return;
    }
    try {
      const handler = await this.target.handler();
      const response = await invokeWithTimeout(
        this.target.functionName,
        handler,
        event,
        this.target.timeoutMs,
      );
      failed = failedMessageIds(response, records);
      if (failed === 'all') {
        this.options.onError?.(`${this.target.functionName} answered an invalid batch response`, response);
      }
    } catch (error) {
      this.options.onError?.(`${this.target.functionName} failed a batch from ${this.target.name}`, error);
      failed = 'all';
    }
    if (failed === 'all') {
      this.stats.batchesFailed++;
      this.stats.recordsFailed += records.length;
      return;
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    this.stats.recordsFailed += records.length - done.length;
    if (done.length > 0) await this.delete(done);
  }

  /** The crash test hook: the first `handled` records are processed for real, then the invocation dies. */
  private async crash(records: SQSRecord[], after: number): Promise<void> {
    const handled = records.slice(0, Math.max(0, Math.min(after, records.length)));
    if (handled.length > 0) {
      try {
        const handler = await this.target.handler();
        await invokeWithTimeout(
          this.target.functionName,
          handler,
          { Records: handled } satisfies SQSEvent,
          this.target.timeoutMs,
        );
      } catch {
        // The crash below is what this invocation reports.
      }
    }
    this.stats.crashes++;
    this.stats.batchesFailed++;
    this.stats.recordsFailed += records.length;
    this.options.onError?.(
      `${this.target.functionName} failed a batch from ${this.target.name}`,
      new WorkerCrashError(this.target.functionName, handled.length, records.length),
    );
  }

  /** Deletes the handled records, 10 per DeleteMessageBatch (SQS's most), as Lambda does after a batch. */
  private async delete(records: SQSRecord[]): Promise<void> {
    const chunks: SQSRecord[][] = [];
    for (let i = 0; i < records.length; i += SQS_RECEIVE_MAX)
      chunks.push(records.slice(i, i + SQS_RECEIVE_MAX));
    await Promise.all(chunks.map((chunk) => this.deleteChunk(chunk)));
  }

  private async deleteChunk(records: SQSRecord[]): Promise<void> {
    try {
      const response = await this.options.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.target.queueUrl,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      this.stats.recordsDeleted += response.Successful?.length ?? 0;
      if (response.Failed && response.Failed.length > 0) {
        // Like Lambda: an undeleted success is delivered again later; consumers are idempotent for this reason.
        this.options.onError?.(
          `Deleting ${response.Failed.length} processed message(s) from ${this.target.name} failed`,
          response.Failed,
        );
      }
    } catch (error) {
      this.options.onError?.(`Deleting processed messages from ${this.target.name} failed`, error);
    }
  }
}

/** Starts one poller per target; `stop()` stops them all and waits for in-flight batches. */
export function startPollers(targets: PollerTarget[], options: PollerOptions) {
  const pollers = targets.map((target) => new QueuePoller(target, options).start());
  return {
    pollers,
    stop: async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
}
