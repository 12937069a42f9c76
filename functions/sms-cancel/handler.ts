/** DELETE /sms/{messageId} → cancelSms (functions/sms/manage.ts). */
import { apiHandler } from '../shared/http';
import { cancelDeps } from '../sms/manage-wiring';
import { cancelSms } from '../sms/manage';
import { loadSettings } from '../shared/config';
import { tenancyOf } from '../shared/tenancy';

export const handler = apiHandler('sms-cancel', (request) =>
  cancelSms(request.pathParameters.messageId, cancelDeps(), tenancyOf(request, loadSettings())),
);
