/**
 * Wiring of GET/DELETE /sms/opt-outs/{number} (functions/sms/opt-outs.ts) and of the opt-out check of POST /sms
 * (accept-wiring.ts): the optOuts table through the shared document client. No secrets, no 8x8 or Cognigy client.
 */
import { tableName } from '../shared/config';
import { powertoolsTelemetry, systemClock } from '../shared/runtime';
import { documentClient, memo } from './base-wiring';
import { dynamoOptOutReader, dynamoOptOutStore } from './dynamo-opt-out-store';
import type { OptOutRouteDeps } from './opt-outs';

export const optOutStore = /* @__PURE__ */ memo(() =>
  dynamoOptOutStore(documentClient(), tableName('optOuts')),
);

/** The reads alone (POST /sms, POST /sms/batch), which do not bundle the writes. */
export const optOutReader = /* @__PURE__ */ memo(() =>
  dynamoOptOutReader(documentClient(), tableName('optOuts')),
);

export const optOutRouteDeps = /* @__PURE__ */ memo((): OptOutRouteDeps => ({
  store: optOutStore(),
  clock: systemClock,
  telemetry: powertoolsTelemetry,
}));
