/**
 * The outbox sweeper (function sms-sweeper, every minute): POST /sms commits an SMS by writing its record with
 * `outbox: pending`, then sends `{messageId}` to the SMS queue and clears the marker. A function that dies between
 * the two (timeout, kill, SQS refusing after retries) leaves a record nothing would send; the sweeper finds such
 * records on the sparse byOutbox index once they are SMS_SWEEP_AGE_SECONDS old and queues them.
 *
 * Queueing an SMS twice (the accept was only slow, or its marker could not be cleared) is harmless: the worker
 * reads the record, starts an attempt only from `queued` under an optimistic lock, and never sends a record that
 * has an umid or a status from `sent` on (functions/sms/deliver.ts).
 */
import type { Clock, Telemetry } from '../shared/runtime';
import type { MessageStore, SmsQueue } from './records';

export interface SweepDeps {
  store: MessageStore;
  queue: SmsQueue;
  clock: Clock;
  telemetry: Telemetry;
  settings: {
    /** SMS_SWEEP_AGE_SECONDS: younger records may still be enqueued by the request that stored them. */
    sweepAgeSeconds: number;
    /** SMS_SWEEP_BATCH_SIZE: records read per page. */
    sweepBatchSize: number;
  };
}

export interface SweepResult {
  /** Records found still marked, older than the age. */
  found: number;
  /** SMS the sweeper queued (each one a crash or a refused enqueue: the alarm counts these). */
  swept: number;
  /** Marked records that no longer needed queueing (already moved on); only their marker was cleared. */
  cleared: number;
  /** SMS SQS did not take this time; they stay marked for the next run. */
  failed: number;
}

/** Pages per run: at the default 100 a run queues up to 1,000 SMS; more wait for the next minute. */
export const SWEEP_MAX_PAGES = 10;

export async function sweepOutbox(deps: SweepDeps): Promise<SweepResult> {
  const result: SweepResult = { found: 0, swept: 0, cleared: 0, failed: 0 };
  const { sweepAgeSeconds, sweepBatchSize } = deps.settings;
  const cutoff = new Date(deps.clock.now().getTime() - sweepAgeSeconds * 1000).toISOString();
  const failedIds = new Set<string>();
  for (let pages = 0; pages < SWEEP_MAX_PAGES; pages++) {
    // Records SQS refused stay marked and would come back first on the next page: skip past them.
    const limit = sweepBatchSize + failedIds.size;
    const page = await deps.store.findOutbox(cutoff, limit);
    const records = page.filter((r) => !failedIds.has(r.messageId));
    if (records.length === 0) break;
    result.found += records.length;
    // Only a record still waiting for its first attempt needs the queue; any other has been queued already.
    const unsent = records.filter((r) => r.status === 'queued' && !r.umid).map((r) => r.messageId);
    const moved = records.filter((r) => !(r.status === 'queued' && !r.umid)).map((r) => r.messageId);
    const refused = new Set(unsent.length > 0 ? await deps.queue.enqueue(unsent) : []);
    for (const id of refused) failedIds.add(id);
    const queued = unsent.filter((id) => !refused.has(id));
    await deps.store.clearOutbox([...queued, ...moved], deps.clock.now().toISOString());
    result.swept += queued.length;
    result.cleared += moved.length;
    result.failed += refused.size;
    if (queued.length > 0) {
      deps.telemetry.log.warn('Queued accepted SMS that never reached the SMS queue', { messageIds: queued });
    }
    if (page.length < limit) break;
  }
  if (result.swept > 0) deps.telemetry.count('SmsOutboxSwept', result.swept);
  if (result.failed > 0) {
    deps.telemetry.count('SmsOutboxSweepFailed', result.failed);
    deps.telemetry.log.error('SQS did not take swept SMS; the next run tries again', {
      messageIds: [...failedIds],
    });
  }
  deps.telemetry.log.info('Outbox swept', { ...result });
  return result;
}
