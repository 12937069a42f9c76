import { queueConsumer } from '../shared/queue-consumer';
import { outboundDeps } from '../handover/wiring';
import { deliverOutboundItem, recordOutboundExhausted } from '../handover/outbound';

/** handoverOutbound FIFO consumer: the user's messages and end requests → 8x8 Chat Gateway, in order. */
export const handler = queueConsumer({
  queue: 'handoverOutbound',
  handleRecord: async (body) => {
    await deliverOutboundItem(body, outboundDeps());
  },
  onExhausted: (body, error) => recordOutboundExhausted(body, error, outboundDeps()),
});
