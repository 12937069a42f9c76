/**
 * Production wiring of POST /sms and POST /sms/batch (functions/sms/accept.ts): the shared clients (base-wiring.ts)
 * plus Powertools idempotency and the opt-out list (one consistent GetItem per SMS, one BatchGetItem per 100 batch
 * items). Only these two functions bundle and load Powertools idempotency and the JMESPath engine under it (about
 * 37 KB), and they load no secrets, 8x8 or Cognigy client (issue 13, cold starts).
 */
import { loadSmsSettings, queueUrl, tableName } from '../shared/config';
import { logger } from '../shared/powertools';
import { systemClock, uuidIds } from '../shared/runtime';
import { sqsSender } from '../shared/sqs';
import type { AcceptDeps } from './accept';
import { PowertoolsIdempotency } from './powertools-idempotency';
import { dynamoClient, memo, messageStore, smsQueue, sqsClient } from './base-wiring';
import { optOutStore } from './opt-out-wiring';

export const acceptDeps = /* @__PURE__ */ memo((): AcceptDeps & { idempotency: PowertoolsIdempotency } => {
  const settings = loadSmsSettings();
  const smsQueueUrl = queueUrl('sms');
  return {
    store: messageStore(),
    queue: smsQueue(sqsSender(sqsClient(), () => smsQueueUrl, { log: logger })),
    idempotency: new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: settings.idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
    clock: systemClock,
    ids: uuidIds,
    settings: {
      recordTtlDays: settings.recordTtlDays,
      allowLoopbackUrls: settings.allowLoopbackUrls,
      idempotencyTtlSeconds: settings.idempotencyTtlSeconds,
      idempotencyWaitMs: settings.idempotencyWaitMs,
    },
    optOuts: { store: optOutStore(), scope: settings.smsOptOutScope },
  };
});
