/** POST /sms → acceptSms (functions/sms/accept.ts). */
import { apiHandler } from '../shared/http';
import { acceptSms } from '../sms/accept';
import { acceptDeps } from '../sms/accept-wiring';
import { loadSettings } from '../shared/config';
import { tenancyOf } from '../shared/tenancy';

export const handler = apiHandler('sms-accept', (request, context) =>
  acceptSms(request.body, {
    ...acceptDeps(),
    tenancy: tenancyOf(request, loadSettings()),
    // waitForUmidMs never outlasts the invocation.
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  }),
).use({
  // Powertools idempotency ties an in-progress key to the invocation's remaining time (Lambda timeouts).
  before: (request) => acceptDeps().idempotency.registerLambdaContext(request.context),
});
