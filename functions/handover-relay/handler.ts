import { queueConsumer } from '../shared/queue-consumer';
import { relayDeps } from '../handover/wiring';
import { recordRelayExhausted, relayEvent } from '../handover/relay';

/** handoverInbound FIFO consumer: 8x8 Chat Gateway events → Cognigy inject / notify, in order per conversation. */
export const handler = queueConsumer({
  queue: 'handoverInbound',
  handleRecord: async (body, ctx) => {
    await relayEvent(body, relayDeps(), {
      lastAttempt: ctx.lastAttempt,
      receiveCount: ctx.receiveCount,
    });
  },
  onExhausted: (body, error) => recordRelayExhausted(body, error, relayDeps()),
});
