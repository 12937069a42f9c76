/**
 * The Chat Gateway webhook verifier (functions/handover/signature.ts) accepts only what 8x8 signed. Deliveries are
 * signed here independently of the verifier (RS256 over `BASE64URL(header) + "." + payload`, the payload being the
 * compact JSON of the CRC32 of the body and the x-8x8-* headers, as validating-webhook-events.md describes); then
 * arbitrary changes to the body bytes or the headers must be refused.
 *
 * Two things are deliberately not "changes": header values that differ only in surrounding whitespace (HTTP strips
 * it) or numeric headers written differently for the same number ("07" for 7), since both denote the value that was
 * signed. And a body change that keeps the CRC32 is left out: 8x8 signs a CRC32, not a hash, so such a body would
 * verify — a limit of 8x8's scheme that the bridge's event-id deduplication, not the signature, has to cover.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { BridgeError } from '../../functions/shared/errors';
import { UnknownKeyError, verifyWebhookSignature, WEBHOOK_HEADERS } from '../../functions/handover/signature';

const KID = 'property-key-1';
const NOW = 1_800_000_000_000;
const MAX_AGE_MS = 300_000;
let privateKey: KeyObject;
let publicKey: KeyObject;
let otherPrivateKey: KeyObject;

beforeAll(() => {
  ({ privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  ({ privateKey: otherPrivateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
});

interface Delivery {
  body: Buffer;
  headers: Record<string, string>;
}

function signDelivery(body: Buffer, fields: Record<string, string>, key = privateKey, kid = KID): string {
  const payload =
    `{"checksum":${crc32(body) >>> 0},"cid":${JSON.stringify(fields.cid)},"eid":${JSON.stringify(fields.eid)},` +
    `"retry":${Number(fields.retry)},"tid":${JSON.stringify(fields.tid)},"tt":${Number(fields.tt)}}`;
  const header = Buffer.from(JSON.stringify({ b64: false, crit: ['b64'], kid, alg: 'RS256' })).toString(
    'base64url',
  );
  return `${header}..${sign('sha256', Buffer.from(`${header}.${payload}`), key).toString('base64url')}`;
}

/** Header values 8x8 could send: printable, no surrounding whitespace. */
const headerText = fc
  .string({ minLength: 1, maxLength: 40, unit: fc.constantFrom(...'abcdefXYZ0123456789-_.:~ '.split('')) })
  .map((s) => s.trim())
  .filter((s) => s.length > 0);

const delivery: fc.Arbitrary<Delivery> = fc
  .record({
    body: fc.oneof(
      fc.json().map((j) => Buffer.from(j, 'utf8')),
      fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => Buffer.from(b)),
    ),
    tid: headerText,
    cid: headerText,
    eid: headerText,
    retry: fc.nat({ max: 20 }).map(String),
    tt: fc.integer({ min: NOW - MAX_AGE_MS + 1000, max: NOW + MAX_AGE_MS - 1000 }).map(String),
  })
  .map(({ body, ...fields }) => ({
    body,
    headers: {
      [WEBHOOK_HEADERS.tenantId]: fields.tid,
      [WEBHOOK_HEADERS.customerId]: fields.cid,
      [WEBHOOK_HEADERS.eventId]: fields.eid,
      [WEBHOOK_HEADERS.retry]: fields.retry,
      [WEBHOOK_HEADERS.transmissionTime]: fields.tt,
      [WEBHOOK_HEADERS.signature]: signDelivery(body, fields),
    },
  }));

/** The JWK lookup: 8x8 publishes one key, under KID. */
const getKey = async (kid: string) => {
  if (kid !== KID) throw new UnknownKeyError(kid);
  return publicKey;
};

const verify = (body: Buffer, headers: Record<string, string | undefined>) =>
  verifyWebhookSignature(body, headers, { getKey, maxAgeMs: MAX_AGE_MS, now: () => NOW });

async function refused(body: Buffer, headers: Record<string, string | undefined>): Promise<BridgeError> {
  try {
    await verify(body, headers);
  } catch (error) {
    // Every refusal is a named 4xx the webhook answers as such, never an unexpected error (→ 5xx).
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).statusCode).toBeGreaterThanOrEqual(400);
    expect((error as BridgeError).statusCode).toBeLessThan(500);
    return error as BridgeError;
  }
  throw new Error('The verifier accepted a delivery it should have refused');
}

test('a delivery signed as 8x8 signs it verifies (so the refusals below are about the changes)', async () => {
  await fc.assert(
    fc.asyncProperty(delivery, async ({ body, headers }) => {
      const verified = await verify(body, headers);
      expect(verified.eventId).toBe(headers[WEBHOOK_HEADERS.eventId]);
      expect(verified.kid).toBe(KID);
    }),
    { numRuns: 100 },
  );
});

type BodyChange =
  | { kind: 'flip'; at: number; bits: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; bytes: Uint8Array };

/** A change of the body bytes: flip, insert, delete or replace a range. */
const bodyChange: fc.Arbitrary<BodyChange> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('replace' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

function applyBodyChange(body: Buffer, change: BodyChange): Buffer {
  switch (change.kind) {
    case 'flip': {
      if (body.length === 0) return Buffer.from([change.bits]);
      const copy = Buffer.from(body);
      const i = change.at % copy.length;
      copy[i] = copy[i]! ^ change.bits;
      return copy;
    }
    case 'insert': {
      const i = change.at % (body.length + 1);
      return Buffer.concat([body.subarray(0, i), Buffer.from(change.bytes), body.subarray(i)]);
    }
    case 'delete': {
      if (body.length === 0) return Buffer.from('x');
      const i = change.at % body.length;
      return Buffer.concat([body.subarray(0, i), body.subarray(i + change.length)]);
    }
    case 'replace':
      return Buffer.from(change.bytes);
  }
}

test('any change of the body bytes is refused', async () => {
  await fc.assert(
    fc.asyncProperty(delivery, bodyChange, async ({ body, headers }, change) => {
      const changed = applyBodyChange(body, change);
      fc.pre(!changed.equals(body));
      // Equal CRC32s are the scheme's own blind spot (see the file comment); random changes practically never hit one.
      fc.pre(crc32(changed) >>> 0 !== crc32(body) >>> 0);
      const error = await refused(changed, headers);
      expect(error.code).toBe('SIGNATURE_INVALID');
    }),
    { numRuns: 300 },
  );
});

const NUMERIC = new Set<string>([WEBHOOK_HEADERS.retry, WEBHOOK_HEADERS.transmissionTime]);
const SIGNED_FIELDS = [
  WEBHOOK_HEADERS.tenantId,
  WEBHOOK_HEADERS.customerId,
  WEBHOOK_HEADERS.eventId,
  WEBHOOK_HEADERS.retry,
  WEBHOOK_HEADERS.transmissionTime,
] as const;

/** Whether a header value denotes something else than the signed one (see the file comment). */
function differs(name: string, signed: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  const a = signed.trim();
  const b = value.trim();
  if (NUMERIC.has(name) && /^\d{1,16}$/.test(b)) return Number(a) !== Number(b);
  return a !== b;
}

test('any change of a signed header is refused', async () => {
  const newValue = fc.oneof(
    headerText,
    fc.string({ maxLength: 30 }),
    fc.nat().map(String),
    fc.integer({ min: NOW - 1000, max: NOW + 1000 }).map(String),
    fc.constant(undefined),
  );
  await fc.assert(
    fc.asyncProperty(
      delivery,
      fc.constantFrom(...SIGNED_FIELDS),
      newValue,
      async ({ body, headers }, name, value) => {
        fc.pre(differs(name, headers[name]!, value));
        await refused(body, { ...headers, [name]: value });
      },
    ),
    { numRuns: 300 },
  );
});

test('a signature that is not 8x8’s for this delivery is refused', async () => {
  const forged = fc.oneof(
    fc.string({ maxLength: 200 }),
    // Well-formed JWS shapes: another key, another kid, another algorithm, an attached payload, no signature.
    fc.constant('other-key'),
    fc.constant('other-kid'),
    fc.constant('alg-none'),
    fc.constant('hs256'),
    fc.constant('attached'),
    fc.constant('truncated'),
  );
  await fc.assert(
    fc.asyncProperty(delivery, forged, async ({ body, headers }, kind) => {
      const fields = {
        tid: headers[WEBHOOK_HEADERS.tenantId]!,
        cid: headers[WEBHOOK_HEADERS.customerId]!,
        eid: headers[WEBHOOK_HEADERS.eventId]!,
        retry: headers[WEBHOOK_HEADERS.retry]!,
        tt: headers[WEBHOOK_HEADERS.transmissionTime]!,
      };
      const genuine = headers[WEBHOOK_HEADERS.signature]!;
      const [protectedHeader, , signature] = genuine.split('.') as [string, string, string];
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      // A Map, not an object literal: fast-check generates "__proto__", "constructor", ... as `kind`.
      const signatureValue = new Map<string, () => string>([
        ['other-key', () => signDelivery(body, fields, otherPrivateKey)],
        ['other-kid', () => signDelivery(body, fields, privateKey, 'another-kid')],
        ['alg-none', () => `${b64({ b64: false, crit: ['b64'], kid: KID, alg: 'none' })}..`],
        ['hs256', () => `${b64({ b64: false, crit: ['b64'], kid: KID, alg: 'HS256' })}..${signature}`],
        ['attached', () => `${protectedHeader}.${Buffer.from(body).toString('base64url')}.${signature}`],
        ['truncated', () => `${protectedHeader}..${signature.slice(0, -4)}`],
      ]);
      const value = signatureValue.get(kind)?.() ?? kind;
      fc.pre(value.trim() !== genuine);
      await refused(body, { ...headers, [WEBHOOK_HEADERS.signature]: value });
    }),
    { numRuns: 200 },
  );
});
