/** GET /sms/{messageId} → getSmsStatus (functions/sms/status.ts). */
import { apiHandler } from '../shared/http';
import { statusDeps } from '../sms/wiring';
import { getSmsStatus } from '../sms/status';

export const handler = apiHandler('sms-status', (request) =>
  getSmsStatus(request.pathParameters.messageId, statusDeps()),
);
