/**
 * The SMS bot: an inbound SMS with no open reply window goes to the Cognigy REST Endpoint (issue 14 item 3).
 * (Being built: see functions/sms/inbound-ports.ts SmsBot.)
 */
import type { OutboundSms, SmsBot } from './inbound-ports';

export function smsBotFromEnvironment(_outbound: OutboundSms): SmsBot {
  return { answer: async () => 'noBot' };
}
