/** SMS queue consumer → functions/sms/deliver.ts (batched hand-over to 8x8, retries, exhaustion). */
import { queueConsumer } from '../shared/queue-consumer';
import { deliverDeps } from '../sms/wiring';
import {
  deliverSms,
  markDeliveryExhausted,
  prepareDeliveries,
  type PreparedDeliveries,
} from '../sms/deliver';

export const handler = queueConsumer<PreparedDeliveries>({
  queue: 'sms',
  prepareBatch: (items) => prepareDeliveries(items, deliverDeps()),
  handleRecord: (body, ctx) => deliverSms(body, ctx, deliverDeps()),
  onExhausted: (body, error) => markDeliveryExhausted(body, error, deliverDeps()),
});
