/**
 * Per-message receipt callbacks (SMS_RECEIPT_MODE=perMessage): the worker gives 8x8 a dlrCallbackUrl on our
 * receipt route carrying the messageId and an HMAC-SHA256 of it, so the receipt authenticates itself without the
 * account-level webhook Authorization value. 8x8 documents no signature for receipts, so the token is the proof.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const RECEIPT_PATH = '/webhooks/8x8/sms';

export function callbackToken(messageId: string, key: string): string {
  return createHmac('sha256', key).update(`sms-receipt:${messageId}`).digest('base64url');
}

export function callbackUrl(publicBaseUrl: string, messageId: string, key: string): string {
  const url = new URL(`${publicBaseUrl.replace(/\/+$/, '')}${RECEIPT_PATH}`);
  url.searchParams.set('messageId', messageId);
  url.searchParams.set('token', callbackToken(messageId, key));
  return url.toString();
}

/**
 * Constant-time equality of two secrets of any length: both sides are hashed first, so timingSafeEqual compares
 * equal-length buffers and the time taken reveals neither the length nor a common prefix.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export function isValidCallbackToken(messageId: string, token: string, key: string): boolean {
  return secretsEqual(token, callbackToken(messageId, key));
}
