/**
 * The chaos run's worker killer: in a share of SMS, the sms-deliver worker dies between 8x8's answer (QUEUED, with
 * a umid) and the record update that stores it — the window where the bridge alone knows 8x8 has the SMS. As for
 * the accept killer (accept-kill.ts), the kill is made where the sandbox's calls leave it: the DynamoDB access
 * front holds the worker's `sent` UpdateItem unanswered and unforwarded, so the invocation ends at its timeout,
 * the record stays `sending` with its lease, and SQS redelivers the message after its visibility timeout. Each SMS
 * is killed at most once (its redelivery passes), so the run shows what the redelivery does with the lease.
 */
import type { HoldHook } from '../local/access-front';
import { functionAccessKeyId } from '../local/grants';

export class WorkerKiller {
  /** sms-deliver record updates that were held (each one a killed invocation). */
  kills = 0;
  /** messageIds whose `sent` update was killed. */
  readonly killedMessageIds = new Set<string>();
  /** messageIds already decided (killed or spared), so a redelivery is never killed again. */
  private readonly decided = new Set<string>();

  constructor(
    private readonly share: number,
    private readonly random: () => number,
  ) {}

  /** For StartLocalStackOptions.holdDynamoDbCalls. */
  readonly hold: HoldHook = ({ accessKeyId, accesses, body }) => {
    if (this.share <= 0 || accessKeyId !== functionAccessKeyId('sms-deliver')) return false;
    if (!accesses.some((a) => a.action === 'UpdateItem')) return false;
    const messageId = sentUpdateOf(body);
    if (!messageId || this.decided.has(messageId)) return false;
    this.decided.add(messageId);
    if (this.random() >= this.share) return false;
    this.kills++;
    this.killedMessageIds.add(messageId);
    return true;
  };
}

/** The messageId of an UpdateItem that records status `sent` (8x8's QUEUED answer), else undefined. */
function sentUpdateOf(body: string): string | undefined {
  try {
    const request = JSON.parse(body) as {
      Key?: { messageId?: { S?: string } };
      ExpressionAttributeValues?: Record<string, { S?: string }>;
    };
    if (request.ExpressionAttributeValues?.[':status']?.S !== 'sent') return undefined;
    return request.Key?.messageId?.S;
  } catch {
    return undefined;
  }
}
