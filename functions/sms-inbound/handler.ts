import { queueConsumer } from '../shared/queue-consumer';
import { powertoolsTelemetry } from '../shared/runtime';
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
});
