import { queueConsumer } from '../shared/queue-consumer';
import { handoverRuntime } from '../handover/wiring';
import { deliverOutboundItem, recordOutboundExhausted } from '../handover/outbound';

/** handoverOutbound FIFO consumer: the user's messages and end requests → 8x8 Chat Gateway, in order. */
export const handler = queueConsumer({
  queue: 'handoverOutbound',
  handleRecord: async (body) => {
    const rt = handoverRuntime();
    await deliverOutboundItem(body, {
      store: rt.store,
      chatGateway: rt.chatGateway,
      clock: rt.clock,
      upstreamTimeoutMs: rt.settings.upstreamTimeoutMs,
    });
  },
  onExhausted: (body, error) => recordOutboundExhausted(body, error, handoverRuntime()),
});
