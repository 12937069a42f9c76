/**
 * JWK refetch starvation (issue 10, gap 2): the unknown-kid budget, its repeat lane and reset, the bounded negative
 * cache, and the kid pattern checked before a kid can reach the JWK URL. The flood over HTTP is
 * test/security/webhook-jwk-flood.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { httpJwkFetcher, JwkCache, type JwkCacheOptions } from '../../../functions/handover/jwk-cache';
import {
  isValidKid,
  parseDetachedSignature,
  SignatureInvalidError,
  SigningKeyUnavailableError,
  UnknownKeyError,
} from '../../../functions/handover/signature';

const NOW = 1_760_000_000_000;
const publicJwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
  format: 'jwk',
}) as JWK;

/** A JWK URL stand-in: `published` kids answer a key, others "not found"; every call is counted. */
function cacheWith(published: Set<string>, options: Partial<JwkCacheOptions> = {}) {
  const fetched: string[] = [];
  let now = NOW;
  const cache = new JwkCache({
    fetchJwk: async (kid) => {
      fetched.push(kid);
      return published.has(kid) ? { ...publicJwk, kid } : undefined;
    },
    retries: 0,
    sleep: async () => undefined,
    now: () => now,
    unknownKidBudget: { max: 5, windowMs: 60_000 },
    repeatKidBudget: { max: 2, windowMs: 60_000 },
    ...options,
  });
  return { cache, fetched, advance: (ms: number) => (now += ms) };
}

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'key',
    (error: unknown) =>
      error instanceof SigningKeyUnavailableError ? 503 : error instanceof UnknownKeyError ? 401 : error,
  );

describe('unknown-kid budget', () => {
  it('a rotated kid refused during a flood of new forged kids is looked up when 8x8 delivers it again', async () => {
    const published = new Set<string>();
    const { cache, fetched } = cacheWith(published);
    const flood = (from: number) =>
      Promise.all(Array.from({ length: 200 }, (_, i) => outcome(cache.getKey(`forged${from + i}`))));

    const firstWave = await flood(0);
    expect(firstWave.filter((o) => o === 401)).toHaveLength(5);
    expect(firstWave.filter((o) => o === 503)).toHaveLength(195);

    published.add('rotatedKey');
    expect(await outcome(cache.getKey('rotatedKey'))).toBe(503);
    await flood(1000);
    // The redelivery uses the repeat lane, which first-seen forged kids cannot spend.
    expect(await outcome(cache.getKey('rotatedKey'))).toBe('key');
    expect(fetched.filter((kid) => kid === 'rotatedKey')).toHaveLength(1);
    expect(fetched).toHaveLength(6);
  });

  it('a lookup that finds a new key resets the budget', async () => {
    const published = new Set(['newKey']);
    const { cache, fetched } = cacheWith(published);
    await Promise.all(Array.from({ length: 4 }, (_, i) => outcome(cache.getKey(`forged${i}`))));
    expect(await outcome(cache.getKey('newKey'))).toBe('key');
    // Without the reset, the budget of 5 per minute would be spent by now.
    const after = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(cache.getKey(`later${i}`))));
    expect(after).toEqual([401, 401, 401, 401, 401]);
    expect(fetched).toHaveLength(10);
  });

  it('a refreshed known key does not reset the budget', async () => {
    const { cache, advance, fetched } = cacheWith(new Set(['known']), { ttlMs: 1000 });
    await cache.getKey('known');
    await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(cache.getKey(`forged${i}`))));
    advance(1001);
    await cache.getKey('known');
    expect(await outcome(cache.getKey('forged9'))).toBe(503);
    expect(fetched).toHaveLength(7);
  });

  it('the repeat lane is bounded too: forged kids sent twice cannot make it a load generator', async () => {
    const { cache, fetched } = cacheWith(new Set());
    const kids = Array.from({ length: 50 }, (_, i) => `forged${i}`);
    await Promise.all(kids.map((kid) => outcome(cache.getKey(kid))));
    await Promise.all(kids.map((kid) => outcome(cache.getKey(kid))));
    expect(fetched).toHaveLength(5 + 2);
    expect(cache.deferredCount).toBe(50 - 5 + 50 - 5 - 2);
  });

  it('the budget refills after its window', async () => {
    const { cache, advance } = cacheWith(new Set());
    await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(cache.getKey(`forged${i}`))));
    expect(await outcome(cache.getKey('late'))).toBe(503);
    advance(60_000);
    expect(await outcome(cache.getKey('later'))).toBe(401);
  });
});

describe('negative cache', () => {
  it('refuses a kid not found after a lookup without asking again until its TTL ends', async () => {
    const { cache, fetched, advance } = cacheWith(new Set(), { negativeTtlMs: 10_000 });
    expect(await outcome(cache.getKey('gone'))).toBe(401);
    expect(await outcome(cache.getKey('gone'))).toBe(401);
    expect(fetched).toEqual(['gone']);
    advance(10_001);
    expect(await outcome(cache.getKey('gone'))).toBe(401);
    expect(fetched).toEqual(['gone', 'gone']);
  });

  it('is bounded: the oldest kids are forgotten first', async () => {
    const { cache, fetched } = cacheWith(new Set(), {
      maxNegativeEntries: 3,
      unknownKidBudget: { max: 100, windowMs: 60_000 },
    });
    for (const kid of ['k1', 'k2', 'k3', 'k4']) await outcome(cache.getKey(kid));
    fetched.length = 0;
    await outcome(cache.getKey('k4'));
    await outcome(cache.getKey('k2'));
    expect(fetched).toEqual([]);
    await outcome(cache.getKey('k1'));
    expect(fetched).toEqual(['k1']);
  });
});

describe('kid pattern', () => {
  it.each([
    ['a path separator', 'a/b'],
    ['a dot', 'key.1'],
    ['a parent reference', '..'],
    ['a percent escape', '%2e%2e'],
    ['a query', 'k?x=1'],
    ['an empty kid', ''],
    ['129 characters', 'k'.repeat(129)],
    ['a non-ASCII letter', 'kéy'],
  ])('refuses %s before any lookup', async (_name, kid) => {
    expect(isValidKid(kid)).toBe(false);
    const { cache, fetched } = cacheWith(new Set([kid]));
    expect(await outcome(cache.getKey(kid))).toBe(401);
    expect(fetched).toEqual([]);
    const header = Buffer.from(JSON.stringify({ b64: false, crit: ['b64'], kid, alg: 'RS256' })).toString(
      'base64url',
    );
    expect(() => parseDetachedSignature(`${header}..c2ln`)).toThrow(SignatureInvalidError);
  });

  it.each(['EXaiWfZe20eSjklZ70074w', 'key1', 'k'.repeat(128), 'a_b-C'])('accepts %s', (kid) => {
    expect(isValidKid(kid)).toBe(true);
  });

  it('the HTTP fetcher never builds a URL from a kid outside the pattern', async () => {
    const fetcher = httpJwkFetcher({ urlTemplate: 'http://127.0.0.1:9/jwk/{kid}/public', timeoutMs: 100 });
    await expect(fetcher('../admin')).rejects.toThrow(/never put into the JWK URL/);
  });
});
