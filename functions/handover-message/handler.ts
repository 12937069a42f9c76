import { apiHandler } from '../shared/http';
import { requestDeps } from '../handover/wiring';
import { relayUserMessage } from '../handover/message';

/** POST /handover/{conversationId}/messages: queue the user's text for the agent. */
export const handler = apiHandler('handover-message', (request) =>
  relayUserMessage(request, requestDeps()),
);
