/**
 * POST /webhooks/8x8/sms → handleReceipt (functions/sms/receipt.ts). The body is parsed only after the
 * Authorization check, so an unauthenticated caller learns nothing about what we accept.
 */
import { apiHandler } from '../shared/http';
import { receiptDeps } from '../sms/wiring';
import { handleReceipt } from '../sms/receipt';

export const handler = apiHandler('sms-receipt', (request) => handleReceipt(request, receiptDeps()), {
  parseJson: false,
});
