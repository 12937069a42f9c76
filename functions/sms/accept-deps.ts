/**
 * What POST /sms, POST /sms/batch (accept-wiring.ts: Powertools idempotency) and the sms-inbound consumer's own SMS
 * (inbound-wiring.ts: own-sms-idempotency.ts) share of acceptSms/acceptSmsBatch's deps. Apart from accept-wiring.ts
 * so that importing it does not bundle Powertools idempotency and its JMESPath engine (issue 13, bundle sizes).
 */
import { loadSmsSettings, queueUrl } from '../shared/config';
import { logger } from '../shared/powertools';
import { systemClock, uuidIds } from '../shared/runtime';
import { sqsSender } from '../shared/sqs';
import type { AcceptDeps } from './accept';
import { messageStore, smsQueue, sqsClient } from './base-wiring';
import { optOutReader } from './opt-out-wiring';
import type { IdempotencyGuard } from './records';

/** AcceptDeps around `idempotency`: the message store, the SMS queue, the opt-out list and the settings. */
export function acceptDepsWith<G extends IdempotencyGuard>(idempotency: G): AcceptDeps & { idempotency: G } {
  const settings = loadSmsSettings();
  const smsQueueUrl = queueUrl('sms');
  return {
    store: messageStore(),
    queue: smsQueue(sqsSender(sqsClient(), () => smsQueueUrl, { log: logger })),
    idempotency,
    clock: systemClock,
    ids: uuidIds,
    settings: {
      recordTtlDays: settings.recordTtlDays,
      allowLoopbackUrls: settings.allowLoopbackUrls,
      idempotencyTtlSeconds: settings.idempotencyTtlSeconds,
      idempotencyWaitMs: settings.idempotencyWaitMs,
    },
    optOuts: { store: optOutReader(), scope: settings.smsOptOutScope },
  };
}
