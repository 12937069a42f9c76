/**
 * The chaos run's accept killer: in a share of POST /sms invocations, sms-accept dies between its record write and
 * its enqueue — the window the transactional outbox closes (functions/sms/sweeper.ts). The function runs in its own
 * sandbox (a worker thread), so the kill is made where its calls leave it: the SQS access front holds the doomed
 * SendMessageBatch unanswered and unforwarded, as if the sandbox died with the call on the wire. The invocation then
 * ends at its timeout, the caller gets API Gateway's 5xx, and the SMS is not in the queue. The record and the
 * idempotency answer are committed by then (the idempotency guard completes before the enqueue), exactly what a
 * real kill leaves behind.
 */
import type { HoldHook } from '../local/access-front';
import { functionAccessKeyId } from '../local/grants';

export class AcceptKiller {
  /** sms-accept enqueues that were held (each one a killed invocation). */
  kills = 0;
  /** messageIds whose accept was killed at least once. */
  readonly killedMessageIds = new Set<string>();
  private smsQueueUrl: string | undefined;

  constructor(
    private readonly share: number,
    private readonly random: () => number,
  ) {}

  /** The queue whose sends from sms-accept may be killed (known once the stack has created it). */
  arm(smsQueueUrl: string): void {
    this.smsQueueUrl = smsQueueUrl;
  }

  /** For StartLocalStackOptions.holdSqsCalls. */
  readonly hold: HoldHook = ({ accessKeyId, accesses, body }) => {
    if (!this.smsQueueUrl || this.share <= 0) return false;
    if (accessKeyId !== functionAccessKeyId('sms-accept')) return false;
    const enqueue = accesses.some((a) => a.action === 'SendMessageBatch' && a.resource === this.smsQueueUrl);
    if (!enqueue || this.random() >= this.share) return false;
    this.kills++;
    for (const id of messageIdsOf(body)) this.killedMessageIds.add(id);
    return true;
  };
}

/** The `{messageId}` bodies of a SendMessageBatch (JSON protocol). */
function messageIdsOf(body: string): string[] {
  try {
    const entries = (JSON.parse(body) as { Entries?: { MessageBody?: string }[] }).Entries ?? [];
    return entries.flatMap((entry) => {
      const id = (JSON.parse(entry.MessageBody ?? '{}') as { messageId?: unknown }).messageId;
      return typeof id === 'string' ? [id] : [];
    });
  } catch {
    return [];
  }
}
