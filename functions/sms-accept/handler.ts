/** POST /sms → acceptSms (functions/sms/accept.ts). */
import { apiHandler } from '../shared/http';
import { acceptSms } from '../sms/accept';
import { acceptDeps } from '../sms/wiring';

export const handler = apiHandler('sms-accept', (request) => acceptSms(request.body, acceptDeps())).use({
  // Powertools idempotency ties an in-progress key to the invocation's remaining time (Lambda timeouts).
  before: (request) => acceptDeps().idempotency.registerLambdaContext(request.context),
});
