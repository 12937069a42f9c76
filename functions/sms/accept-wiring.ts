/**
 * Production wiring of POST /sms and POST /sms/batch (functions/sms/accept.ts): the shared clients (base-wiring.ts)
 * plus Powertools idempotency and the opt-out list (one consistent GetItem per SMS, one BatchGetItem per 100 batch
 * items). Only these two functions (and sms-erase) bundle and load Powertools idempotency and the JMESPath engine
 * under it (about 37 KB), and they load no secrets, 8x8 or Cognigy client (issue 13, cold starts). The sms-inbound
 * consumer sends its own SMS through the same core with the same records but a smaller guard
 * (inbound-wiring.ts, own-sms-idempotency.ts); what both share is accept-deps.ts.
 */
import { loadSmsSettings, tableName } from '../shared/config';
import { acceptDepsWith } from './accept-deps';
import { PowertoolsIdempotency } from './powertools-idempotency';
import { dynamoClient, memo } from './base-wiring';

export const acceptDeps = /* @__PURE__ */ memo(() =>
  acceptDepsWith(
    new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: loadSmsSettings().idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
  ),
);
