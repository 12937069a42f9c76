/**
 * Wiring of DELETE /sms/{messageId} (sms-cancel) and DELETE /sms/{messageId}/pii (sms-erase): the message store,
 * 8x8's cancel and PII calls and, for erase only, the idempotency table. Apart from wiring.ts so the delivery worker
 * and the receipt webhook neither bundle nor load Powertools idempotency (cold starts, issue 13).
 */
import { loadSmsSettings, tableName } from '../shared/config';
import { powertoolsTelemetry, systemClock } from '../shared/runtime';
import { loadSecret } from '../shared/secrets';
import { dynamoClient, memo, messageStore } from './base-wiring';
import { eightByEightSmsManagement } from './eight-by-eight-sms-client';
import type { ManageDeps } from './manage';
import { PowertoolsIdempotency } from './powertools-idempotency';

/** DELETE /sms/{messageId}: no idempotency table (its grants have none). */
export const cancelDeps = /* @__PURE__ */ memo((): ManageDeps => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    eightByEight: eightByEightSmsManagement,
    credentials: () => loadSecret('smsCredentials'),
    clock: systemClock,
    telemetry: powertoolsTelemetry,
    settings: { upstreamTimeoutMs: settings.upstreamTimeoutMs },
  };
});

/** DELETE /sms/{messageId}/pii: also the idempotency table, whose stored answers hold the destination. */
export const eraseDeps = /* @__PURE__ */ memo((): ManageDeps => {
  const settings = loadSmsSettings();
  return {
    ...cancelDeps(),
    idempotency: new PowertoolsIdempotency({
      tableName: tableName('idempotency'),
      expiresAfterSeconds: settings.idempotencyTtlSeconds,
      client: dynamoClient(),
    }),
  };
});
