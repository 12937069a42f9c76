/** (Being built in issue 14; answers 503 NOT_CONFIGURED until then.) */
import { apiHandler } from '../shared/http';
import { BridgeError } from '../shared/errors';

export const handler = apiHandler('sms-opt-out-delete', async () => {
  throw new BridgeError('NOT_CONFIGURED', 'Not built yet', 503);
});
