/**
 * Verification of the `x-8x8-signature` on 8x8 Chat Gateway webhook events
 * (shared/specs/8x8/validating-webhook-events.md).
 *
 * The signature is a JWS (RFC 7515) with a detached, unencoded payload (RFC 7797): `BASE64URL(header)..BASE64URL(sig)`
 * with the protected header `{"b64":false,"crit":["b64"],"kid":…,"alg":"RS256"}`. The signed payload is not the body
 * but a compact JSON built from the delivery headers and the CRC32 of the raw body bytes, keys in this exact order:
 * `{"checksum":…,"cid":…,"eid":…,"retry":…,"tid":…,"tt":…}`. Re-serialising parsed JSON would change the checksum,
 * so the raw body is checked before anything parses it.
 */
import { crc32 } from 'node:zlib';
import { flattenedVerify, type CryptoKey, type KeyObject } from 'jose';
import { BridgeError } from '../shared/errors';

/** The delivery headers 8x8 sends with every webhook event (names in lower case, as the HTTP chain gives them). */
export const WEBHOOK_HEADERS = {
  tenantId: 'x-8x8-tenant-id',
  customerId: 'x-8x8-customer-id',
  eventId: 'x-8x8-event-id',
  transmissionTime: 'x-8x8-transmission-time',
  retry: 'x-8x8-retry',
  signature: 'x-8x8-signature',
} as const;

/** The only algorithm 8x8 documents; anything else (none, HS256 with the public key as secret, …) is refused. */
export const SIGNATURE_ALGORITHM = 'RS256';

/**
 * What a `kid` may look like before it goes into the JWK URL: base64url characters only (8x8's kids are 22 such
 * characters, e.g. `EXaiWfZe20eSjklZ70074w`), so no `/`, `.`, `..`, `%` or `?` can change the path; at most 128.
 */
export const KID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidKid(kid: unknown): kid is string {
  return typeof kid === 'string' && KID_PATTERN.test(kid);
}

const HEADER_VALUE_MAX = 256;

export class SignatureMissingError extends BridgeError {
  constructor() {
    super('SIGNATURE_MISSING', 'The x-8x8-signature header is missing', 401);
  }
}

export class SignatureInvalidError extends BridgeError {
  constructor(message = 'The x-8x8-signature does not match this request', options?: { cause?: unknown }) {
    super('SIGNATURE_INVALID', message, 401, undefined, options);
  }
}

export class StaleEventError extends BridgeError {
  constructor(maxAgeMs: number) {
    super(
      'EVENT_STALE',
      `x-8x8-transmission-time is more than ${maxAgeMs} ms away from the current time`,
      401,
    );
  }
}

export class UnknownKeyError extends BridgeError {
  constructor(readonly kid: string) {
    super('UNKNOWN_SIGNING_KEY', 'The signing key named by the signature is not known to 8x8', 401);
  }
}

/** The JWK endpoint could not be asked (network, 5xx, rate limit): answered 503 so 8x8 delivers the event again. */
export class SigningKeyUnavailableError extends BridgeError {
  constructor(options?: { cause?: unknown }) {
    super(
      'SIGNING_KEY_UNAVAILABLE',
      'The 8x8 signing key could not be fetched; retry later',
      503,
      undefined,
      options,
    );
  }
}

/**
 * The unknown-kid lookup budget is spent (jwk-cache.ts): answered 503 like any unavailable key, so 8x8 redelivers,
 * but expected under a flood of forged kids, so logged as a warning without a stack trace.
 */
export class SigningKeyLookupDeferredError extends SigningKeyUnavailableError {
  constructor() {
    super({ cause: new Error('Too many lookups of unknown signing keys') });
  }
}

export class WebhookHeadersError extends BridgeError {
  constructor(message: string) {
    super('INVALID_WEBHOOK_HEADERS', message, 400);
  }
}

/** The x-8x8-* delivery headers, checked and typed. */
export interface DeliveryHeaders {
  tenantId: string;
  customerId: string;
  eventId: string;
  /** Epoch ms; new on every retry. */
  transmissionTime: number;
  /** 0 on the first delivery, +1 per retry. */
  retry: number;
  signature: string;
}

/** Resolves a `kid` to a verification key; throws UnknownKeyError or SigningKeyUnavailableError. */
export type SigningKeyLookup = (kid: string) => Promise<CryptoKey | KeyObject>;

export interface VerifyOptions {
  getKey: SigningKeyLookup;
  /** Largest allowed distance between x-8x8-transmission-time and now, in either direction (clock skew). */
  maxAgeMs: number;
  now?: () => number;
}

/** Reads the x-8x8-* headers. A missing signature is 401; other missing or malformed headers are 400. */
export function readDeliveryHeaders(headers: Record<string, string | undefined>): DeliveryHeaders {
  const signature = headers[WEBHOOK_HEADERS.signature]?.trim();
  if (!signature) throw new SignatureMissingError();
  return {
    signature,
    tenantId: text(headers, WEBHOOK_HEADERS.tenantId),
    customerId: text(headers, WEBHOOK_HEADERS.customerId),
    eventId: text(headers, WEBHOOK_HEADERS.eventId),
    transmissionTime: integer(headers, WEBHOOK_HEADERS.transmissionTime),
    retry: integer(headers, WEBHOOK_HEADERS.retry),
  };
}

function text(headers: Record<string, string | undefined>, name: string): string {
  const value = headers[name]?.trim();
  if (!value) throw new WebhookHeadersError(`Header ${name} is missing`);
  if (value.length > HEADER_VALUE_MAX) throw new WebhookHeadersError(`Header ${name} is too long`);
  return value;
}

function integer(headers: Record<string, string | undefined>, name: string): number {
  const value = text(headers, name);
  if (!/^\d{1,16}$/.test(value))
    throw new WebhookHeadersError(`Header ${name} must be a non-negative integer`);
  return Number(value);
}

/** CRC32 of the raw body bytes as an unsigned decimal, as 8x8 computes the `checksum`. */
export function bodyChecksum(rawBody: string | Uint8Array): number {
  return crc32(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody) >>> 0;
}

/**
 * SHA-256 (hex) of the raw body bytes. The signature binds the body only through its CRC32, which anyone can
 * match with four chosen bytes; this strong hash is what ties an event id to the body first received with it.
 */
export { bodySha256 } from '../shared/webhook-claims';

/** The detached payload 8x8 signs: compact JSON, keys in exactly this order, numbers unquoted. */
export function signedPayload(rawBody: string | Uint8Array, h: Omit<DeliveryHeaders, 'signature'>): string {
  return (
    `{"checksum":${bodyChecksum(rawBody)},"cid":${JSON.stringify(h.customerId)},"eid":${JSON.stringify(h.eventId)},` +
    `"retry":${h.retry},"tid":${JSON.stringify(h.tenantId)},"tt":${h.transmissionTime}}`
  );
}

interface ProtectedHeader {
  alg: string;
  kid: string;
  b64: false;
  crit: string[];
}

/** Splits `header..signature` and checks the protected header before any key is looked up. */
export function parseDetachedSignature(signature: string): {
  protected: string;
  signature: string;
  header: ProtectedHeader;
} {
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2]) {
    throw new SignatureInvalidError(
      'x-8x8-signature is not a JWS with a detached payload (header..signature)',
    );
  }
  const [encodedHeader, , encodedSignature] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]+$/.test(encodedHeader) || !/^[A-Za-z0-9_-]+$/.test(encodedSignature)) {
    throw new SignatureInvalidError('x-8x8-signature is not base64url encoded');
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  } catch {
    throw new SignatureInvalidError('The x-8x8-signature protected header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SignatureInvalidError('The x-8x8-signature protected header is not a JSON object');
  }
  const h = header as Record<string, unknown>;
  if (h.alg !== SIGNATURE_ALGORITHM) {
    throw new SignatureInvalidError(`The x-8x8-signature algorithm must be ${SIGNATURE_ALGORITHM}`);
  }
  if (h.b64 !== false || !Array.isArray(h.crit) || !h.crit.includes('b64')) {
    throw new SignatureInvalidError(
      'The x-8x8-signature must use an unencoded payload (b64:false, crit:["b64"])',
    );
  }
  if (!isValidKid(h.kid)) {
    throw new SignatureInvalidError('The x-8x8-signature protected header has no usable kid');
  }
  return {
    protected: encodedHeader,
    signature: encodedSignature,
    header: { alg: h.alg, kid: h.kid, b64: false, crit: h.crit as string[] },
  };
}

/**
 * Verifies one delivery: signature shape and algorithm, transmission time window, then the RS256 signature over the
 * rebuilt payload with the key named by `kid`. Returns the checked headers; throws a named BridgeError otherwise.
 */
export async function verifyWebhookSignature(
  rawBody: string | Uint8Array,
  headers: Record<string, string | undefined>,
  options: VerifyOptions,
): Promise<DeliveryHeaders & { kid: string }> {
  const delivery = readDeliveryHeaders(headers);
  const jws = parseDetachedSignature(delivery.signature);
  const now = (options.now ?? Date.now)();
  // Checked before the key lookup so a replayed old delivery costs no JWK fetch.
  if (Math.abs(now - delivery.transmissionTime) > options.maxAgeMs)
    throw new StaleEventError(options.maxAgeMs);
  const key = await options.getKey(jws.header.kid);
  try {
    await flattenedVerify(
      { protected: jws.protected, payload: signedPayload(rawBody, delivery), signature: jws.signature },
      key,
      { algorithms: [SIGNATURE_ALGORITHM], crit: { b64: true } },
    );
  } catch (error) {
    throw new SignatureInvalidError(undefined, { cause: error });
  }
  return { ...delivery, kid: jws.header.kid };
}
