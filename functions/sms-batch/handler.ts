/** POST /sms/batch → acceptSmsBatch (functions/sms/accept.ts). */
import { apiHandler } from '../shared/http';
import { acceptSmsBatch } from '../sms/accept';
import { acceptDeps } from '../sms/accept-wiring';
import { loadSettings } from '../shared/config';
import { tenancyOf } from '../shared/tenancy';

export const handler = apiHandler('sms-batch', (request) =>
  acceptSmsBatch(request.body, { ...acceptDeps(), tenancy: tenancyOf(request, loadSettings()) }),
).use({
  // Powertools idempotency ties an in-progress key to the invocation's remaining time (Lambda timeouts).
  before: (request) => acceptDeps().idempotency.registerLambdaContext(request.context),
});
