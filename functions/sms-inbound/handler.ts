/** (Being built in issue 14.) */
import { queueConsumer } from '../shared/queue-consumer';

export const handler = queueConsumer({
  queue: 'smsInbound',
  handleRecord: async () => undefined,
});
