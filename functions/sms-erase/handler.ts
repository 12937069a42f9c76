/** DELETE /sms/{messageId}/pii → eraseSmsPii (functions/sms/manage.ts). */
import { apiHandler } from '../shared/http';
import { eraseDeps } from '../sms/manage-wiring';
import { eraseSmsPii } from '../sms/manage';
import { loadSettings } from '../shared/config';
import { tenancyOf } from '../shared/tenancy';

export const handler = apiHandler('sms-erase', (request) =>
  eraseSmsPii(request.pathParameters.messageId, eraseDeps(), tenancyOf(request, loadSettings())),
);
