/**
 * The sms-deliver worker's I/O towards 8x8: starting an attempt (the conditional `sending` write and its lease),
 * building 8x8's request, one single send and one batch call, each waiting out 8x8's 429 within the setting
 * rateLimitWaitMs as a new attempt. What the answers mean is decided in outcome.ts and applied in deliver.ts.
 */
import { UpstreamError } from '../shared/errors';
import { callbackUrl } from './callback-token';
import {
  UnreadableAnswerError,
  type EightByEightBatchResponse,
  type EightByEightSmsRequest,
} from './eight-by-eight-sms-client';
import {
  batchOutcomes,
  batchRequest,
  isSettled,
  lastErrorOf,
  leaseMs,
  sentClientMessageId,
} from './outcome';
import {
  AttemptInProgressError,
  PacerBusyError,
  type Attempt,
  type DeliverDeps,
  type PreparedDeliveries,
  type SendOutcome,
} from './ports';
import type { MessageRecord } from './records';

type GateDeps = Pick<DeliverDeps, 'settings' | 'rateLimit' | 'pacer' | 'telemetry'>;

/** Starts an attempt (status `sending`, attempts+1, a lease); undefined when another worker got there first. */
export async function begin(record: MessageRecord, deps: DeliverDeps): Promise<Attempt | undefined> {
  const now = deps.clock.now();
  const seen = record.attempts ?? 0;
  const previousAmbiguous = record.status === 'sending';
  const started = await deps.store.startAttempt(record.messageId, {
    seenAttempts: seen,
    previousAmbiguous,
    leaseUntil: now.getTime() + leaseMs(deps.settings),
    now: now.toISOString(),
  });
  if (!started) return undefined;
  if (previousAmbiguous) {
    deps.telemetry.count('SmsAmbiguousAttempt');
    deps.telemetry.log.warn('A previous attempt ended without a verdict from 8x8; sending again', {
      messageId: record.messageId,
      attempt: seen,
    });
  }
  return { record, number: seen + 1 };
}

/** The attempt after one ended by endRateLimitedAttempt (the record is back in `queued` with `attempts` = its number). */
function restart(attempt: Attempt, deps: DeliverDeps): Promise<Attempt | undefined> {
  return begin({ ...attempt.record, attempts: attempt.number, status: 'queued' }, deps);
}

/**
 * Ends an attempt 8x8 refused with 429 (recorded, not ambiguous) so the next call is a new attempt; false when the
 * record moved on meanwhile (a receipt, another worker).
 */
function endRateLimitedAttempt(attempt: Attempt, error: unknown, deps: DeliverDeps): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  return deps.store.releaseAttempt(attempt.record.messageId, {
    attempt: attempt.number,
    ambiguous: false,
    lastError: lastErrorOf(error, now),
    now,
  });
}

/** No new attempt could start: done if the SMS moved on, else another worker's attempt is under way (retry later). */
export async function settleWithoutAttempt(messageId: string, deps: DeliverDeps): Promise<void> {
  const latest = await deps.store.get(messageId);
  if (!latest || isSettled(latest)) return;
  throw new AttemptInProgressError(messageId);
}

/** The receipt URL 8x8 gets: the caller's, or in perMessage mode the bridge's with a token (when configured). */
async function receiptCallback(record: MessageRecord, deps: DeliverDeps): Promise<string | undefined> {
  if (record.request.dlrCallbackUrl) return record.request.dlrCallbackUrl; // the caller's own URL, unchanged
  if (deps.settings.receiptMode !== 'perMessage') return undefined;
  const key = await deps.callbackTokenKey();
  // Without a public base URL or key the account webhook is used; the wiring reports the misconfiguration once.
  if (!deps.settings.publicBaseUrl || !key) return undefined;
  return callbackUrl(deps.settings.publicBaseUrl, record.messageId, key);
}

export async function toEightByEightRequest(
  record: MessageRecord,
  deps: DeliverDeps,
): Promise<EightByEightSmsRequest> {
  const request = record.request;
  const nowMs = deps.clock.now().getTime();
  // A schedule that passed while the SMS waited for a retry means "send now"; 8x8 could refuse a past one.
  const scheduled =
    request.scheduled && Date.parse(request.scheduled) > nowMs ? request.scheduled : undefined;
  const dlrCallbackUrl = await receiptCallback(record, deps);
  return {
    destination: request.destination,
    text: request.text,
    encoding: request.encoding,
    ...(request.source && { source: request.source }),
    clientMessageId: sentClientMessageId(record),
    ...(scheduled && { scheduled }),
    ...(request.expiry && { expiry: request.expiry }),
    ...(request.track && { track: request.track }),
    ...(request.clientIp && { clientIp: request.clientIp }),
    ...(dlrCallbackUrl && { dlrCallbackUrl }),
  };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A place for one 8x8 call in the pacer's bucket, from `earliestMs` to `latestMs`: the epoch ms to call at, or
 * undefined when every place up to `latestMs` is taken. Without a pacer: `earliestMs`. A pacer that cannot reach its
 * table lets the call go (8x8's own 429 still protects the limit) rather than hold every SMS back.
 */
export async function reserveCall(
  deps: Pick<DeliverDeps, 'pacer' | 'telemetry'>,
  earliestMs: number,
  latestMs: number,
): Promise<number | undefined> {
  if (!deps.pacer) return earliestMs;
  try {
    return await deps.pacer.reserve(earliestMs, latestMs);
  } catch (error) {
    deps.telemetry.log.warn('The 8x8 call pacer failed; calling unpaced', { error: error as Error });
    return earliestMs;
  }
}

/** Waits until `atMs` (epoch ms); returns the time waited. */
export async function waitUntil(deps: Pick<DeliverDeps, 'clock'>, atMs: number): Promise<number> {
  const wait = atMs - deps.clock.now().getTime();
  if (wait <= 0) return 0;
  await pause(wait);
  return wait;
}

/** The first call of an attempt: its place in the pacer's bucket within paceWaitMs, or PacerBusyError (never rejects). */
export async function reserveFirstCall(deps: DeliverDeps): Promise<number | PacerBusyError> {
  const now = deps.clock.now().getTime();
  const budget = deps.settings.paceWaitMs ?? 0;
  const at = await reserveCall(deps, now, now + budget);
  if (at !== undefined) return at;
  deps.telemetry.count('Sms8x8PacerBusy');
  return new PacerBusyError(Math.max(budget, 1_000));
}

/**
 * Without a pacer: waits for the rate-limit gate (closed by the container's last 429) when that fits in what is left
 * of the wait budget; returns the time waited.
 */
async function awaitGate(deps: DeliverDeps, waited: number): Promise<number> {
  // With a pacer the other calls keep their places (spread over each second, at the rate the 429 just lowered):
  // held back by the gate they would leave its next window unused. Only the refused SMS waits out Retry-After.
  if (deps.pacer) return 0;
  const gate = deps.rateLimit.remaining();
  if (gate <= 0 || waited + gate > (deps.settings.rateLimitWaitMs ?? 0)) return 0;
  await pause(gate);
  return gate;
}

/**
 * After 8x8 answered 429: how long to wait before calling again within this invocation (Retry-After plus a little
 * jitter, so the callers waiting for the same window do not all hit its first millisecond), or undefined when
 * the wait does not fit in deps.settings.rateLimitWaitMs and the SMS should go back to the queue instead. Every
 * 429 also tells the pacer, which lowers the shared rate for a while.
 */
async function rateLimitWait(error: unknown, deps: GateDeps, waited: number): Promise<number | undefined> {
  if (!(error instanceof UpstreamError) || error.kind !== 'rateLimited') return undefined;
  if (error instanceof PacerBusyError) return undefined;
  deps.rateLimit.close(error.retryAfterMs);
  await deps.pacer?.rateLimited().catch((failure: unknown) => {
    deps.telemetry.log.warn('The 8x8 call pacer could not record a 429', { error: failure as Error });
  });
  const wait = deps.rateLimit.remainingWithJitter();
  return waited + wait <= (deps.settings.rateLimitWaitMs ?? 0) ? wait : undefined;
}

/**
 * The next call after a 429 waited out: a place in the pacer's bucket from the end of `wait` to the end of the wait
 * budget; the ms to pause from now, or undefined when none fits (the SMS goes back to the queue instead).
 */
async function nextCallAfter(wait: number, deps: DeliverDeps, waited: number): Promise<number | undefined> {
  const now = deps.clock.now().getTime();
  const budgetEnd = now + (deps.settings.rateLimitWaitMs ?? 0) - waited;
  const at = await reserveCall(deps, now + wait, budgetEnd);
  return at === undefined ? undefined : Math.max(wait, at - now);
}

async function sendSingle(attempt: Attempt, deps: DeliverDeps): Promise<SendOutcome> {
  try {
    const creds = await deps.credentials();
    const request = await toEightByEightRequest(attempt.record, deps);
    return {
      kind: 'answer',
      response: await deps.sms.sendSms(creds, request, deps.settings.upstreamTimeoutMs),
    };
  } catch (error) {
    if (error instanceof UnreadableAnswerError) return { kind: 'unreadable' };
    return { kind: 'error', error };
  }
}

/**
 * Sends one SMS until 8x8 gives a verdict other than a 429 that fits the wait budget. A 429 is waited out here as
 * a new attempt: every return to the queue counts towards maxReceiveCount, so under a sustained rate limit SMS
 * would otherwise exhaust their retries (and fail) merely by waiting. Undefined: the SMS moved on meanwhile.
 */
export async function sendWaitingOutRateLimits(
  first: Attempt,
  deps: DeliverDeps,
  reservedFirstCall?: Promise<number | PacerBusyError>,
): Promise<{ attempt: Attempt; outcome: SendOutcome } | undefined> {
  let attempt = first;
  const firstCall = await (reservedFirstCall ?? reserveFirstCall(deps));
  if (firstCall instanceof PacerBusyError) return { attempt, outcome: { kind: 'error', error: firstCall } };
  let waited = await waitUntil(deps, firstCall);
  for (;;) {
    waited += await awaitGate(deps, waited);
    const outcome = await sendSingle(attempt, deps);
    const retryAfter = outcome.kind === 'error' ? await rateLimitWait(outcome.error, deps, waited) : undefined;
    const wait = retryAfter === undefined ? undefined : await nextCallAfter(retryAfter, deps, waited);
    if (wait === undefined || outcome.kind !== 'error') return { attempt, outcome };
    deps.telemetry.count('Sms8x8RateLimitWait');
    if (!(await endRateLimitedAttempt(attempt, outcome.error, deps))) return undefined;
    await pause(wait);
    waited += wait;
    const next = await restart(attempt, deps);
    if (!next) {
      await settleWithoutAttempt(attempt.record.messageId, deps);
      return undefined;
    }
    attempt = next;
  }
}

/** A batch answer, or a failure of the whole call (UnreadableAnswerError: 8x8 answered 2xx unreadably). */
export type BatchCall =
  | { kind: 'answered'; attempts: Attempt[]; outcomes: SendOutcome[]; response: EightByEightBatchResponse }
  | { kind: 'failed'; attempts: Attempt[]; error: unknown }
  /** Fewer than two attempts are left after a rate-limit wait: each is sent singly by its record handler. */
  | { kind: 'tooFew' };

/**
 * Sends the attempts in one 8x8 batch call. A 429 is waited out here, each SMS starting a new attempt (see
 * sendWaitingOutRateLimits); `prepared` follows the attempts that are still this call's.
 */
export async function sendBatch(
  first: Attempt[],
  prepared: PreparedDeliveries,
  deps: DeliverDeps,
): Promise<BatchCall> {
  let attempts = first;
  let waited = 0;
  try {
    const creds = await deps.credentials();
    for (;;) {
      waited += await awaitGate(deps, waited);
      const messages = await Promise.all(attempts.map((a) => toEightByEightRequest(a.record, deps)));
      try {
        const response = await deps.sms.sendSmsBatch(
          creds,
          batchRequest(messages),
          deps.settings.upstreamTimeoutMs,
        );
        return { kind: 'answered', attempts, outcomes: batchOutcomes(attempts, response), response };
      } catch (error) {
        const retryAfter = await rateLimitWait(error, deps, waited);
        const wait = retryAfter === undefined ? undefined : await nextCallAfter(retryAfter, deps, waited);
        if (wait === undefined) throw error;
        deps.telemetry.count('Sms8x8RateLimitWait');
        attempts = await restartAll(attempts, error, wait, prepared, deps);
        waited += wait;
        if (attempts.length < 2) return { kind: 'tooFew' };
      }
    }
  } catch (error) {
    return { kind: 'failed', attempts, error };
  }
}

/** Ends every rate-limited attempt, waits, and starts the next ones; SMS that moved on leave `prepared`. */
async function restartAll(
  attempts: Attempt[],
  error: unknown,
  wait: number,
  prepared: PreparedDeliveries,
  deps: DeliverDeps,
): Promise<Attempt[]> {
  const ended = await Promise.all(attempts.map((a) => endRateLimitedAttempt(a, error, deps)));
  await pause(wait);
  const restarted = await Promise.all(attempts.map((a, i) => (ended[i] ? restart(a, deps) : undefined)));
  attempts.forEach((a) => prepared.delete(a.record.messageId));
  const next = restarted.filter((a): a is Attempt => !!a);
  // SMS that moved on or were taken by another worker are handled by their own record handler.
  for (const attempt of next) prepared.set(attempt.record.messageId, { attempt });
  return next;
}
