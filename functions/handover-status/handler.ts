import { apiHandler } from '../shared/http';
import { statusDeps } from '../handover/wiring';
import { getHandoverStatus } from '../handover/status';

/** GET /handover/{conversationId} (and /handover/active?sessionId=). */
export const handler = apiHandler('handover-status', (request) =>
  getHandoverStatus(request, statusDeps()),
);
