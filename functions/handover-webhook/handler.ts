import { apiHandler } from '../shared/http';
import { WEBHOOK_HEADERS } from '../handover/signature';
import { handleChatGatewayWebhook } from '../handover/webhook';
import { webhookDeps } from '../handover/wiring';

/** `POST /handover/eightByEight`: 8x8 Chat Gateway v1.0 webhook events (logic in functions/handover/webhook.ts). */
export const handler = apiHandler(
  'handover-webhook',
  async (request) =>
    handleChatGatewayWebhook(request, await webhookDeps(Boolean(request.headers[WEBHOOK_HEADERS.signature]))),
  { parseJson: false },
);
