/** DELETE /sms/opt-outs/{number}[?sender=] → deleteOptOut (functions/sms/opt-outs.ts). */
import { apiHandler } from '../shared/http';
import { loadSettings } from '../shared/config';
import { tenancyOf } from '../shared/tenancy';
import { optOutRouteDeps } from '../sms/opt-out-wiring';
import { deleteOptOut } from '../sms/opt-outs';

export const handler = apiHandler('sms-opt-out-delete', (request) =>
  deleteOptOut(
    request.pathParameters.number,
    request.query,
    optOutRouteDeps(),
    tenancyOf(request, loadSettings()),
  ),
);
