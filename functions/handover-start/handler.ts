import { apiHandler } from '../shared/http';
import { startDeps } from '../handover/wiring';
import { startHandoverApi } from '../handover/start';

/** POST /handover: create the 8x8 Chat Gateway conversation for a Cognigy session. */
export const handler = apiHandler(
  'handover-start',
  (request) => startHandoverApi(request, startDeps()),
  // Failures before the core (malformed JSON, body too large) carry it too: flows branch on handover.status.
  { errorBodyExtra: { handover: { status: 'error' } } },
);
