/**
 * POST /webhooks/8x8/sms/inbound → handleInboundWebhook (functions/sms/inbound-webhook.ts). The body is parsed only
 * after the Authorization check, so an unauthenticated caller learns nothing about what we accept.
 */
import { apiHandler } from '../shared/http';
import { inboundWebhookDeps } from '../sms/inbound-webhook-wiring';
import { handleInboundWebhook } from '../sms/inbound-webhook';

export const handler = apiHandler(
  'sms-inbound-webhook',
  (request) => handleInboundWebhook(request, inboundWebhookDeps()),
  { parseJson: false },
);
