/**
 * What every accepting path shares (accept.ts): the message store, the SMS queue, the opt-out list, the clock and
 * the settings. POST /sms and /sms/batch add Powertools idempotency (accept-wiring.ts); the bridge's own SMS in
 * sms-inbound add derived messageIds instead (inbound-wiring.ts), so that function neither bundles nor loads
 * Powertools idempotency and its JMESPath engine (issue 13, cold starts).
 */
import { loadSmsSettings } from '../shared/config';
import { systemClock, uuidIds } from '../shared/runtime';
import type { AcceptDeps } from './accept';
import { memo, messageStore, smsQueueSender } from './base-wiring';
import { optOutStore } from './opt-out-wiring';

type AcceptBaseDeps = Omit<AcceptDeps, 'idempotency' | 'derivedMessageId'>;

export const acceptBaseDeps = /* @__PURE__ */ memo((): AcceptBaseDeps => {
  const settings = loadSmsSettings();
  return {
    store: messageStore(),
    queue: smsQueueSender(),
    clock: systemClock,
    ids: uuidIds,
    settings: { recordTtlDays: settings.recordTtlDays, allowLoopbackUrls: settings.allowLoopbackUrls },
    optOuts: { store: optOutStore(), scope: settings.smsOptOutScope },
  };
});
