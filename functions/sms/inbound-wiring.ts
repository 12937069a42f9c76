/**
 * Production wiring of the sms-inbound consumer (functions/sms/inbound.ts): the opt-out list (optOuts table), the
 * reply window (messages table, byReplyKey), the one Cognigy Endpoint client, the bridge's own SMS through POST
 * /sms/batch's core (accept-base-wiring.ts: the same store, queue and opt-out list; messageIds derived from their
 * clientMessageIds instead of Powertools idempotency) and the SMS bot (sms-bot.ts).
 */
import { loadSmsSettings, tableName } from '../shared/config';
import { cognigyEndpoint } from '../shared/cognigy-client';
import { powertoolsTelemetry, systemClock } from '../shared/runtime';
import { loadSecret } from '../shared/secrets';
import { acceptBaseDeps } from './accept-base-wiring';
import { documentClient, memo } from './base-wiring';
import { dynamoReplyLookup } from './dynamo-message-store';
import type { InboundDeps } from './inbound';
import type { OutboundSms } from './inbound-ports';
import { optOutStore } from './opt-out-wiring';
import { acceptOutboundSms, ownSmsMessageId } from './outbound-sms';
import { smsBotFromEnvironment } from './sms-bot';

/** The bridge's own SMS (keyword answers, the bot's answers) on the normal queued path. */
export const outboundSms = /* @__PURE__ */ memo((): OutboundSms =>
  acceptOutboundSms({ ...acceptBaseDeps(), derivedMessageId: ownSmsMessageId }, powertoolsTelemetry),
);

export const inboundDeps = /* @__PURE__ */ memo((): InboundDeps => {
  const settings = loadSmsSettings();
  const outbound = outboundSms();
  return {
    // The same optOuts adapter as the bot's answers are checked against (accept-wiring.ts).
    optOuts: optOutStore(),
    replies: dynamoReplyLookup(documentClient(), tableName('messages')),
    // sms-inbound has a minute per batch: a retry (the push may have arrived) waits the longer retry timeout.
    cognigy: cognigyEndpoint({
      defaultEndpointBaseUrl: async () => (await loadSecret('cognigy')).endpointBaseUrl,
      timeoutMs: settings.upstreamTimeoutMs,
      retryTimeoutMs: settings.cognigyRetryTimeoutMs,
    }),
    outbound,
    bot: smsBotFromEnvironment(outbound),
    clock: systemClock,
    telemetry: powertoolsTelemetry,
    settings: {
      optOutKeywords: settings.smsOptOutKeywords,
      optInKeywords: settings.smsOptInKeywords,
      helpKeywords: settings.smsHelpKeywords,
      helpText: settings.smsHelpText,
      ...(settings.smsOptOutConfirmationText && {
        optOutConfirmationText: settings.smsOptOutConfirmationText,
      }),
      ...(settings.smsOptInConfirmationText && { optInConfirmationText: settings.smsOptInConfirmationText }),
      replyWindowHours: settings.smsReplyWindowHours,
      optOutScope: settings.smsOptOutScope,
    },
  };
});
