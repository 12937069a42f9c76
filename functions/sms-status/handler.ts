/** GET /sms/{messageId} → getSmsStatus (functions/sms/status.ts). */
import { apiHandler } from '../shared/http';
import { statusDeps } from '../sms/base-wiring';
import { getSmsStatus } from '../sms/status';
import { loadSettings } from '../shared/config';
import { tenancyOf } from '../shared/tenancy';

export const handler = apiHandler('sms-status', (request) =>
  getSmsStatus(request.pathParameters.messageId, statusDeps(), tenancyOf(request, loadSettings())),
);
