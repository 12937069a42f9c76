import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import {
  bodyChecksum,
  parseDetachedSignature,
  readDeliveryHeaders,
  signedPayload,
  verifyWebhookSignature,
  SignatureInvalidError,
  SignatureMissingError,
  SigningKeyUnavailableError,
  StaleEventError,
  UnknownKeyError,
  WebhookHeadersError,
} from '../../../functions/handover/signature';
import { JwkCache } from '../../../functions/handover/jwk-cache';

/*
 * Vectors are made here with node:crypto, independently of the verifier: the payload is written out by hand in
 * 8x8's documented key order and signed as `BASE64URL(header) + "." + payload` (RFC 7797, b64:false).
 */
const NOW = 1_760_000_000_000;
const MAX_AGE = 300_000;

function rsaKey(): { privateKey: KeyObject; jwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: publicKey.export({ format: 'jwk' }) as JWK };
}

const signer = rsaKey();
const other = rsaKey();

const BODY =
  '{"eventType":"MESSAGE","conversationId":"conv-1","timestamp":1760000000000,' +
  '"data":{"isEcho":false,"sender":{"id":"agent-7","type":"agent"},"text":"Grüße – 👋","attachments":[],"cards":[]}}';

interface Delivery {
  tenantId: string;
  customerId: string;
  eventId: string;
  retry: number;
  transmissionTime: number;
}

const base: Delivery = {
  tenantId: 'tenant01',
  customerId: 'cust-42',
  eventId: 'evt-abc',
  retry: 0,
  transmissionTime: NOW,
};

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

function signDelivery(
  body: string,
  d: Delivery,
  opts: { key?: KeyObject; kid?: string; header?: Record<string, unknown> } = {},
): string {
  const header = opts.header ?? { b64: false, crit: ['b64'], kid: opts.kid ?? 'key-1', alg: 'RS256' };
  const checksum = crc32(Buffer.from(body, 'utf8'));
  const payload = `{"checksum":${checksum},"cid":"${d.customerId}","eid":"${d.eventId}","retry":${d.retry},"tid":"${d.tenantId}","tt":${d.transmissionTime}}`;
  const protectedB64 = b64url(JSON.stringify(header));
  const signature = sign('sha256', Buffer.from(`${protectedB64}.${payload}`), opts.key ?? signer.privateKey);
  return `${protectedB64}..${b64url(signature)}`;
}

function headersOf(d: Delivery, signature: string): Record<string, string> {
  return {
    'x-8x8-tenant-id': d.tenantId,
    'x-8x8-customer-id': d.customerId,
    'x-8x8-event-id': d.eventId,
    'x-8x8-transmission-time': String(d.transmissionTime),
    'x-8x8-retry': String(d.retry),
    'x-8x8-signature': signature,
  };
}

const keys: Record<string, JWK> = { 'key-1': signer.jwk };
const getKey = async (kid: string) => {
  const jwk = keys[kid];
  if (!jwk) throw new UnknownKeyError(kid);
  return (await importJWK(jwk, 'RS256')) as CryptoKey;
};
const verify = (body: string, headers: Record<string, string>) =>
  verifyWebhookSignature(body, headers, { getKey, maxAgeMs: MAX_AGE, now: () => NOW });

describe('8x8 webhook signature payload', () => {
  it('builds the signed payload with the documented key order and unquoted numbers', () => {
    expect(signedPayload('{}', { ...base, retry: 3 })).toBe(
      `{"checksum":${crc32('{}')},"cid":"cust-42","eid":"evt-abc","retry":3,"tid":"tenant01","tt":${NOW}}`,
    );
  });

  it('checksums the UTF-8 bytes of the raw body as an unsigned number', () => {
    expect(bodyChecksum(BODY)).toBe(crc32(Buffer.from(BODY, 'utf8')));
    expect(bodyChecksum(new TextEncoder().encode(BODY))).toBe(bodyChecksum(BODY));
    // CRC32("a") = 0xE8B7BE43, which a signed 32-bit integer would show as negative.
    expect(bodyChecksum('a')).toBe(0xe8b7be43);
    expect(signedPayload('a', base)).toContain('"checksum":3904355907,');
  });
});

describe('verifyWebhookSignature', () => {
  it('accepts a valid signature and returns the delivery headers and kid', async () => {
    const result = await verify(BODY, headersOf(base, signDelivery(BODY, base)));
    expect(result).toMatchObject({ ...base, kid: 'key-1' });
  });

  it('accepts a retry that is signed for its own retry number and transmission time', async () => {
    const retry = { ...base, retry: 2, transmissionTime: NOW + 5_000 };
    await expect(verify(BODY, headersOf(retry, signDelivery(BODY, retry)))).resolves.toMatchObject({
      retry: 2,
    });
  });

  it('rejects a body changed by one byte', async () => {
    const signature = signDelivery(BODY, base);
    const changed = BODY.replace('agent-7', 'agent-8');
    expect(Buffer.byteLength(changed)).toBe(Buffer.byteLength(BODY));
    await expect(verify(changed, headersOf(base, signature))).rejects.toBeInstanceOf(SignatureInvalidError);
  });

  it('rejects a re-serialised body (the checksum is over the raw bytes)', async () => {
    const signature = signDelivery(BODY, base);
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 1);
    await expect(verify(reserialised, headersOf(base, signature))).rejects.toBeInstanceOf(
      SignatureInvalidError,
    );
  });

  it('rejects a signature made by another key under the same kid', async () => {
    const signature = signDelivery(BODY, base, { key: other.privateKey });
    await expect(verify(BODY, headersOf(base, signature))).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
      statusCode: 401,
    });
  });

  it.each([
    ['event id', { eventId: 'evt-other' }],
    ['retry', { retry: 1 }],
    ['tenant', { tenantId: 'tenant02' }],
    ['customer', { customerId: 'cust-43' }],
    ['transmission time', { transmissionTime: NOW + 1 }],
  ])('rejects a delivery whose %s header was changed after signing', async (_name, change) => {
    const signature = signDelivery(BODY, base);
    await expect(verify(BODY, headersOf({ ...base, ...change }, signature))).rejects.toBeInstanceOf(
      SignatureInvalidError,
    );
  });

  it('rejects an unknown kid with UNKNOWN_SIGNING_KEY', async () => {
    const signature = signDelivery(BODY, base, { kid: 'key-unknown' });
    await expect(verify(BODY, headersOf(base, signature))).rejects.toMatchObject({
      code: 'UNKNOWN_SIGNING_KEY',
      statusCode: 401,
    });
  });

  it.each([
    ['too old', NOW - MAX_AGE - 1],
    ['too far in the future', NOW + MAX_AGE + 1],
  ])('rejects a transmission time %s as EVENT_STALE, before any key lookup', async (_name, tt) => {
    const d = { ...base, transmissionTime: tt };
    const lookup = jest.fn(getKey);
    await expect(
      verifyWebhookSignature(BODY, headersOf(d, signDelivery(BODY, d)), {
        getKey: lookup,
        maxAgeMs: MAX_AGE,
        now: () => NOW,
      }),
    ).rejects.toBeInstanceOf(StaleEventError);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('accepts a transmission time exactly at the edge of the window', async () => {
    const d = { ...base, transmissionTime: NOW - MAX_AGE };
    await expect(verify(BODY, headersOf(d, signDelivery(BODY, d)))).resolves.toMatchObject({
      eventId: d.eventId,
    });
  });

  it('rejects alg none', async () => {
    const header = b64url(JSON.stringify({ b64: false, crit: ['b64'], kid: 'key-1', alg: 'none' }));
    await expect(verify(BODY, headersOf(base, `${header}..AAAA`))).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });

  it('rejects HS256 signed with the public key as HMAC secret (algorithm confusion)', async () => {
    const header = b64url(JSON.stringify({ b64: false, crit: ['b64'], kid: 'key-1', alg: 'HS256' }));
    const payload = signedPayload(BODY, base);
    const mac = createHmac('sha256', JSON.stringify(signer.jwk)).update(`${header}.${payload}`).digest();
    const lookup = jest.fn(getKey);
    await expect(
      verifyWebhookSignature(BODY, headersOf(base, `${header}..${b64url(mac)}`), {
        getKey: lookup,
        maxAgeMs: MAX_AGE,
        now: () => NOW,
      }),
    ).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('rejects a signature over a base64url-encoded payload (b64 not false)', async () => {
    const signature = signDelivery(BODY, base, { header: { kid: 'key-1', alg: 'RS256' } });
    await expect(verify(BODY, headersOf(base, signature))).rejects.toBeInstanceOf(SignatureInvalidError);
  });

  it.each([
    ['not a JWS', 'garbage'],
    ['an attached payload', 'eyJhbGciOiJSUzI1NiJ9.cGF5bG9hZA.c2ln'],
    ['a non-JSON header', `${b64url('not json')}..c2ln`],
    ['a JSON array header', `${b64url('[1]')}..c2ln`],
    ['characters outside base64url', 'ab+c..de/f'],
    ['an empty signature part', `${b64url('{"alg":"RS256"}')}..`],
    [
      'a kid that is not URL-safe',
      `${b64url(JSON.stringify({ b64: false, crit: ['b64'], kid: '../../admin', alg: 'RS256' }))}..c2ln`,
    ],
  ])('rejects %s as SIGNATURE_INVALID', async (_name, signature) => {
    await expect(verify(BODY, headersOf(base, signature))).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
      statusCode: 401,
    });
  });

  it('rejects a truncated signature value', async () => {
    const signature = signDelivery(BODY, base);
    await expect(verify(BODY, headersOf(base, signature.slice(0, -10)))).rejects.toBeInstanceOf(
      SignatureInvalidError,
    );
  });

  it('rejects a missing signature header as SIGNATURE_MISSING', async () => {
    const headers = headersOf(base, 'x');
    delete headers['x-8x8-signature'];
    await expect(verify(BODY, headers)).rejects.toBeInstanceOf(SignatureMissingError);
  });

  it.each([
    ['x-8x8-event-id', undefined],
    ['x-8x8-tenant-id', undefined],
    ['x-8x8-customer-id', ''],
    ['x-8x8-retry', 'one'],
    ['x-8x8-retry', '-1'],
    ['x-8x8-transmission-time', '17e11'],
    ['x-8x8-event-id', 'e'.repeat(257)],
  ])('rejects header %s = %p as INVALID_WEBHOOK_HEADERS (400)', (name, value) => {
    const headers: Record<string, string | undefined> = headersOf(base, signDelivery(BODY, base));
    headers[name] = value;
    expect(() => readDeliveryHeaders(headers)).toThrow(WebhookHeadersError);
    expect(() => readDeliveryHeaders(headers)).toThrow(
      expect.objectContaining({ code: 'INVALID_WEBHOOK_HEADERS', statusCode: 400 }),
    );
  });

  it('parses the protected header of a detached signature', () => {
    expect(
      parseDetachedSignature(signDelivery(BODY, base, { kid: 'EXaiWfZe20eSjklZ70074w' })).header,
    ).toEqual({
      alg: 'RS256',
      b64: false,
      crit: ['b64'],
      kid: 'EXaiWfZe20eSjklZ70074w',
    });
  });

  it('a replayed delivery still verifies (replays are stopped by event-id deduplication, see the webhook tests)', async () => {
    const headers = headersOf(base, signDelivery(BODY, base));
    await verify(BODY, headers);
    await expect(verify(BODY, headers)).resolves.toMatchObject({ eventId: 'evt-abc' });
  });
});

describe('JwkCache', () => {
  const noSleep = async () => undefined;

  function cacheWith(
    responses: (kid: string, call: number) => JWK | undefined | Error,
    options: Partial<ConstructorParameters<typeof JwkCache>[0]> = {},
  ) {
    let calls = 0;
    const fetchJwk = jest.fn(async (kid: string) => {
      const r = responses(kid, calls++);
      if (r instanceof Error) throw r;
      return r;
    });
    return { fetchJwk, cache: new JwkCache({ fetchJwk, sleep: noSleep, ...options }) };
  }

  const published = (kid: string) => (kid === 'key-1' ? { ...signer.jwk, kid } : undefined);

  it('fetches a key once for many events and verifies all of them', async () => {
    const { cache, fetchJwk } = cacheWith(published);
    for (let i = 0; i < 20; i++) {
      const d = { ...base, eventId: `evt-${i}` };
      await verifyWebhookSignature(BODY, headersOf(d, signDelivery(BODY, d)), {
        getKey: cache.getKey,
        maxAgeMs: MAX_AGE,
        now: () => NOW,
      });
    }
    expect(fetchJwk).toHaveBeenCalledTimes(1);
  });

  it('shares one fetch between concurrent lookups of the same kid', async () => {
    const { cache, fetchJwk } = cacheWith(published);
    await Promise.all(Array.from({ length: 10 }, () => cache.getKey('key-1')));
    expect(fetchJwk).toHaveBeenCalledTimes(1);
  });

  it('fetches the key again after the TTL', async () => {
    let now = NOW;
    const { cache, fetchJwk } = cacheWith(published, { ttlMs: 1000, now: () => now });
    await cache.getKey('key-1');
    now += 999;
    await cache.getKey('key-1');
    expect(fetchJwk).toHaveBeenCalledTimes(1);
    now += 2;
    await cache.getKey('key-1');
    expect(fetchJwk).toHaveBeenCalledTimes(2);
  });

  it('retries an unknown kid a bounded number of times, then refuses it without fetching for the negative TTL', async () => {
    let now = NOW;
    const { cache, fetchJwk } = cacheWith(() => undefined, {
      retries: 2,
      negativeTtlMs: 60_000,
      now: () => now,
    });
    await expect(cache.getKey('forged')).rejects.toBeInstanceOf(UnknownKeyError);
    expect(fetchJwk).toHaveBeenCalledTimes(3);
    await expect(cache.getKey('forged')).rejects.toBeInstanceOf(UnknownKeyError);
    expect(fetchJwk).toHaveBeenCalledTimes(3);
    now += 60_001;
    await expect(cache.getKey('forged')).rejects.toBeInstanceOf(UnknownKeyError);
    expect(fetchJwk).toHaveBeenCalledTimes(6);
  });

  it('finds a newly published key on a retry', async () => {
    const { cache, fetchJwk } = cacheWith((kid, call) => (call < 1 ? undefined : published(kid)), {
      retries: 2,
    });
    await expect(cache.getKey('key-1')).resolves.toMatchObject({ type: 'public' });
    expect(fetchJwk).toHaveBeenCalledTimes(2);
  });

  it('caps lookups of unknown kids per window so a flood of forged kids cannot hammer the JWK URL', async () => {
    const { cache, fetchJwk } = cacheWith(() => undefined, {
      retries: 0,
      unknownKidBudget: { max: 5, windowMs: 60_000 },
      now: () => NOW,
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => cache.getKey(`forged-${i}`)),
    );
    expect(fetchJwk).toHaveBeenCalledTimes(5);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect(
      outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof SigningKeyUnavailableError),
    ).toHaveLength(45);
  });

  it('still serves known keys while the unknown-kid budget is spent', async () => {
    const { cache } = cacheWith(published, {
      retries: 0,
      unknownKidBudget: { max: 2, windowMs: 60_000 },
      now: () => NOW,
    });
    await cache.getKey('key-1');
    await Promise.allSettled([cache.getKey('x1'), cache.getKey('x2'), cache.getKey('x3')]);
    await expect(cache.getKey('key-1')).resolves.toMatchObject({ type: 'public' });
  });

  it('answers SIGNING_KEY_UNAVAILABLE (503) when the JWK URL keeps failing for a new kid', async () => {
    const { cache, fetchJwk } = cacheWith(() => new Error('ECONNRESET'), { retries: 2 });
    await expect(cache.getKey('key-1')).rejects.toMatchObject({
      code: 'SIGNING_KEY_UNAVAILABLE',
      statusCode: 503,
    });
    expect(fetchJwk).toHaveBeenCalledTimes(3);
  });

  it('keeps using an expired key while the JWK URL fails, within maxStaleMs', async () => {
    let now = NOW;
    const { cache } = cacheWith((kid, call) => (call === 0 ? published(kid) : new Error('503')), {
      ttlMs: 1000,
      maxStaleMs: 10_000,
      now: () => now,
    });
    const key = await cache.getKey('key-1');
    now += 5_000;
    await expect(cache.getKey('key-1')).resolves.toBe(key);
    now += 10_000;
    await expect(cache.getKey('key-1')).rejects.toBeInstanceOf(SigningKeyUnavailableError);
  });

  it('drops a key 8x8 no longer publishes (revocation)', async () => {
    let now = NOW;
    const { cache } = cacheWith((kid, call) => (call === 0 ? published(kid) : undefined), {
      ttlMs: 1000,
      now: () => now,
    });
    await cache.getKey('key-1');
    now += 1001;
    await expect(cache.getKey('key-1')).rejects.toBeInstanceOf(UnknownKeyError);
  });

  it.each([
    ['a key with another kid', { ...signer.jwk, kid: 'key-2' }],
    ['an EC key', { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } as JWK],
    ['a key for another algorithm', { ...signer.jwk, alg: 'RS512' }],
    ['an encryption key', { ...signer.jwk, use: 'enc' }],
  ])('refuses %s from the JWK URL', async (_name, jwk) => {
    const { cache } = cacheWith(() => jwk as JWK, { retries: 0 });
    await expect(cache.getKey('key-1')).rejects.toBeInstanceOf(SigningKeyUnavailableError);
  });

  it('imports only the public members of a returned JWK', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
    const { cache } = cacheWith(() => privateJwk, { retries: 0 });
    const key = (await cache.getKey('key-1')) as unknown as { type: string };
    expect(key.type).toBe('public');
  });
});
