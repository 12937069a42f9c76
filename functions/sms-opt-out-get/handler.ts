/** GET /sms/opt-outs/{number} → getOptOut (functions/sms/opt-outs.ts). */
import { apiHandler } from '../shared/http';
import { optOutRouteDeps } from '../sms/opt-out-wiring';
import { getOptOut } from '../sms/opt-outs';

export const handler = apiHandler('sms-opt-out-get', (request) =>
  getOptOut(request.pathParameters.number, optOutRouteDeps()),
);
