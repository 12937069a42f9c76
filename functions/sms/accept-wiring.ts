/**
 * Production wiring of POST /sms and POST /sms/batch (functions/sms/accept.ts): what every accepting path shares
 * (accept-base-wiring.ts: the store, queue and opt-out list, one consistent GetItem per SMS and one BatchGetItem per
 * 100 batch items) plus Powertools idempotency. Only these two functions bundle and load Powertools idempotency and
 * the JMESPath engine under it (about 37 KB), and they load no secrets, 8x8 or Cognigy client (issue 13, cold
 * starts).
 */
import { loadSmsSettings, tableName } from '../shared/config';
import type { AcceptDeps } from './accept';
import { acceptBaseDeps } from './accept-base-wiring';
import { dynamoClient, memo } from './base-wiring';
import { PowertoolsIdempotency } from './powertools-idempotency';

export const acceptDeps = /* @__PURE__ */ memo((): AcceptDeps & { idempotency: PowertoolsIdempotency } => {
  const settings = loadSmsSettings();
  const base = acceptBaseDeps();
  return {
    ...base,
    idempotency: new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: settings.idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
    settings: {
      ...base.settings,
      idempotencyTtlSeconds: settings.idempotencyTtlSeconds,
      idempotencyWaitMs: settings.idempotencyWaitMs,
    },
  };
});
