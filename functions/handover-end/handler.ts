import { apiHandler } from '../shared/http';
import { requestDeps } from '../handover/wiring';
import { endHandover } from '../handover/message';

/** POST /handover/{conversationId}/end: end the agent chat from the user's side. */
export const handler = apiHandler('handover-end', (request) => endHandover(request, requestDeps()));
