import { queueConsumer } from '../shared/queue-consumer';
import { powertoolsTelemetry } from '../shared/runtime';
import { acceptDeps } from '../sms/accept-wiring';
import { handleInboundSms, inboundExhausted } from '../sms/inbound';
import { inboundDeps } from '../sms/inbound-wiring';

/**
 * smsInbound FIFO consumer (one group per texting number and 8x8 number, so one person's SMS are handled in the
 * order sent): opt-out keywords, else the reply window's flow session, else the SMS bot (functions/sms/inbound.ts).
 */
export const handler = queueConsumer({
  queue: 'smsInbound',
  handleRecord: async (body, ctx) => {
    await handleInboundSms(body, inboundDeps(), { receiveCount: ctx.receiveCount });
  },
  // Needs no wiring: an invalid setting must not hide why the message reached the DLQ.
  onExhausted: async (body, error) => inboundExhausted(body, error, { telemetry: powertoolsTelemetry }),
}).use({
  // The bridge's own SMS go through Powertools idempotency (outbound-sms.ts): an in-progress key then expires with
  // the invocation, so a timed-out invocation does not block its redelivery's answers.
  before: (request) => {
    try {
      acceptDeps().idempotency.registerLambdaContext(request.context);
    } catch {
      // An invalid setting: the consumer refuses the batch and names the setting (queue-consumer.ts).
    }
  },
});
