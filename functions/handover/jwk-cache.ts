/**
 * In-memory cache of 8x8's public signing keys (JWK by `kid`), shared by all invocations of a warm function.
 *
 * - A known key is served from memory for `ttlMs`, then fetched again (rotation or revocation is picked up).
 * - An unknown `kid` is fetched with a few short retries (a freshly rotated key may not be published yet).
 * - A `kid` the JWK URL does not know is remembered for `negativeTtlMs` (at most `maxNegativeEntries`), and fetches
 *   for unknown kids are capped per time window, so a flood of forged kids cannot turn the webhook into a load
 *   generator against 8x8.
 * - The cap must not starve a genuine rotated key (issue 10, gap 2). Forged kids in a flood are new each time (a
 *   repeated one is refused from the negative cache after its first lookup), whereas 8x8 redelivers a refused event
 *   and signs every later event with the same new kid. So a kid refused for want of budget is remembered, and when
 *   it comes again it has a budget of its own (`repeatKidBudget`) that first-seen kids cannot use up; and a lookup
 *   that finds a new key resets both budgets (a rotation is under way, more of its events follow).
 * - While the JWK URL is failing, an expired key is still served for `maxStaleMs` (8x8 downtime is not our outage).
 */
import { importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { UpstreamError } from '../shared/errors';
import { callUpstream } from '../shared/upstream';
import {
  isValidKid,
  SIGNATURE_ALGORITHM,
  SigningKeyLookupDeferredError,
  SigningKeyUnavailableError,
  UnknownKeyError,
} from './signature';

/** Fetches one public JWK; resolves undefined when the JWK URL says the kid does not exist; throws on failure. */
export type JwkFetcher = (kid: string) => Promise<JWK | undefined>;

export interface JwkCacheOptions {
  fetchJwk: JwkFetcher;
  /** How long a fetched key is trusted before it is fetched again. Default 1 h. */
  ttlMs?: number;
  /** How long after expiry a key may still be used while the JWK URL is failing. Default 24 h. */
  maxStaleMs?: number;
  /** Extra attempts after a failed or not-found fetch. Default 2. */
  retries?: number;
  /** Wait before the first retry; doubled per retry. Default 100 ms. */
  retryDelayMs?: number;
  /** How long a kid the JWK URL did not know is refused without asking again. Default 60 s. */
  negativeTtlMs?: number;
  /** At most `max` lookups of not-yet-known kids per `windowMs`. Default 10 per minute. */
  unknownKidBudget?: { max: number; windowMs: number };
  /** Lookups per `windowMs` reserved for kids that were refused for want of budget and came again. Default 10/min. */
  repeatKidBudget?: { max: number; windowMs: number };
  /** Bound on remembered unknown kids (oldest forgotten first). Default 10 000. */
  maxNegativeEntries?: number;
  /** Bound on remembered kids refused for want of budget (oldest forgotten first). Default 10 000. */
  maxDeferredEntries?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface CachedKey {
  key: CryptoKey | KeyObject;
  expiresAt: number;
}

export class JwkCache {
  private readonly keys = new Map<string, CachedKey>();
  private readonly unknown = new Map<string, number>();
  /** Kids refused for want of budget (insertion order = first refusal), so a redelivery can use the repeat lane. */
  private readonly deferred = new Set<string>();
  private readonly inFlight = new Map<string, Promise<CryptoKey | KeyObject>>();
  private unknownLookups: number[] = [];
  private repeatLookups: number[] = [];
  private readonly o: Required<JwkCacheOptions>;
  /** Number of calls made to the JWK URL (for tests and metrics). */
  fetchCount = 0;
  /** Lookups refused for want of budget (answered 503 so 8x8 redelivers). */
  deferredCount = 0;

  constructor(options: JwkCacheOptions) {
    this.o = {
      ttlMs: 3_600_000,
      maxStaleMs: 86_400_000,
      retries: 2,
      retryDelayMs: 100,
      negativeTtlMs: 60_000,
      unknownKidBudget: { max: 10, windowMs: 60_000 },
      repeatKidBudget: { max: 10, windowMs: 60_000 },
      maxNegativeEntries: 10_000,
      maxDeferredEntries: 10_000,
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  /** The verification key for `kid` (a SigningKeyLookup). Throws UnknownKeyError or SigningKeyUnavailableError. */
  getKey = async (kid: string): Promise<CryptoKey | KeyObject> => {
    // Callers check the kid first (signature.ts); checked again here because the kid is put into a URL.
    if (!isValidKid(kid)) throw new UnknownKeyError(kid);
    const now = this.o.now();
    const cached = this.keys.get(kid);
    if (cached && now < cached.expiresAt) return cached.key;
    const pending = this.inFlight.get(kid);
    if (pending) return pending;
    if (!cached) this.admitUnknownLookup(kid, now);
    const lookup = this.fetchAndCache(kid, cached).finally(() => this.inFlight.delete(kid));
    this.inFlight.set(kid, lookup);
    return lookup;
  };

  private admitUnknownLookup(kid: string, now: number): void {
    const refusedUntil = this.unknown.get(kid);
    if (refusedUntil !== undefined) {
      if (now < refusedUntil) throw new UnknownKeyError(kid);
      this.unknown.delete(kid);
    }
    this.unknownLookups = withinWindow(this.unknownLookups, now, this.o.unknownKidBudget.windowMs);
    if (this.unknownLookups.length < this.o.unknownKidBudget.max) {
      this.unknownLookups.push(now);
      this.deferred.delete(kid);
      return;
    }
    if (this.deferred.has(kid)) {
      this.repeatLookups = withinWindow(this.repeatLookups, now, this.o.repeatKidBudget.windowMs);
      if (this.repeatLookups.length < this.o.repeatKidBudget.max) {
        this.repeatLookups.push(now);
        this.deferred.delete(kid);
        return;
      }
    } else {
      this.deferred.add(kid);
      forgetOldest(this.deferred, this.o.maxDeferredEntries);
    }
    this.deferredCount++;
    throw new SigningKeyLookupDeferredError();
  }

  private async fetchAndCache(kid: string, cached: CachedKey | undefined): Promise<CryptoKey | KeyObject> {
    let lastError: unknown;
    let notFound = false;
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) await this.o.sleep(this.o.retryDelayMs * 2 ** (attempt - 1));
      this.fetchCount++;
      try {
        const jwk = await this.o.fetchJwk(kid);
        if (jwk) {
          const key = await toVerificationKey(kid, jwk);
          this.keys.set(kid, { key, expiresAt: this.o.now() + this.o.ttlMs });
          if (!cached) {
            // A new key: 8x8 has rotated, so the budgets start afresh for the events that follow.
            this.unknownLookups = [];
            this.repeatLookups = [];
          }
          return key;
        }
        notFound = true;
      } catch (error) {
        notFound = false;
        lastError = error;
      }
    }
    if (notFound) {
      // 8x8 no longer (or never) publishes this kid: a revoked key must stop verifying.
      this.keys.delete(kid);
      this.rememberUnknown(kid);
      throw new UnknownKeyError(kid);
    }
    if (cached && this.o.now() < cached.expiresAt + this.o.maxStaleMs) return cached.key;
    throw new SigningKeyUnavailableError({ cause: lastError });
  }

  private rememberUnknown(kid: string): void {
    this.unknown.delete(kid);
    this.unknown.set(kid, this.o.now() + this.o.negativeTtlMs);
    forgetOldest(this.unknown, this.o.maxNegativeEntries);
  }
}

function withinWindow(times: number[], now: number, windowMs: number): number[] {
  return times.filter((t) => now - t < windowMs);
}

/** Drops the oldest entries (Map/Set iterate in insertion order) until `collection` holds at most `max`. */
function forgetOldest(collection: Map<string, unknown> | Set<string>, max: number): void {
  for (const oldest of collection.keys()) {
    if (collection.size <= max) return;
    collection.delete(oldest);
  }
}

/** Imports a fetched JWK after checking it is an RSA signing key for this kid and algorithm. */
async function toVerificationKey(kid: string, jwk: JWK): Promise<CryptoKey | KeyObject> {
  if (
    typeof jwk !== 'object' ||
    jwk === null ||
    jwk.kty !== 'RSA' ||
    typeof jwk.n !== 'string' ||
    typeof jwk.e !== 'string'
  ) {
    throw new Error('The JWK URL did not return an RSA public key');
  }
  if (jwk.kid !== undefined && jwk.kid !== kid)
    throw new Error('The JWK URL returned a key with another kid');
  if (jwk.alg !== undefined && jwk.alg !== SIGNATURE_ALGORITHM)
    throw new Error(`The JWK is not for ${SIGNATURE_ALGORITHM}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Error('The JWK is not a signing key');
  // Only the public members are imported, so a JWK carrying private parts is never held as a private key.
  const key = await importJWK({ kty: 'RSA', n: jwk.n, e: jwk.e }, SIGNATURE_ALGORITHM);
  if (key instanceof Uint8Array) throw new Error('The JWK is not an asymmetric key');
  return key;
}

export interface HttpJwkFetcherOptions {
  /** URL template with `{kid}`, e.g. https://api.8x8.com/chat-gateway/v1/jwk/{kid}/public */
  urlTemplate: string;
  timeoutMs: number;
  /** Sent as X-8x8-Tenant (optional in the OAS; needed when a customer has several tenants). */
  tenant?: string;
}

/**
 * Fetches a JWK from the Chat Gateway JWK endpoint (`GET /chat-gateway/v1/jwk/{jwkId}/public`, no auth; it answers
 * a single JWK). 404/410 mean "no such kid"; anything else that is not 2xx is a failure worth retrying.
 */
export function httpJwkFetcher(options: HttpJwkFetcherOptions): JwkFetcher {
  if (!options.urlTemplate.includes('{kid}')) throw new Error('The JWK URL template must contain {kid}');
  return async (kid) => {
    if (!isValidKid(kid))
      throw new Error('A kid that is not a plain base64url id is never put into the JWK URL');
    const url = options.urlTemplate.replace('{kid}', encodeURIComponent(kid));
    try {
      const response = await callUpstream('jwk', url, {
        method: 'GET',
        timeoutMs: options.timeoutMs,
        headers: {
          accept: 'application/json',
          ...(options.tenant ? { 'x-8x8-tenant': options.tenant } : {}),
        },
      });
      // The OAS types the body as a JSON string holding the JWK; accept both that and a plain object.
      const body = typeof response.json === 'string' ? (JSON.parse(response.json) as unknown) : response.json;
      return body as JWK;
    } catch (error) {
      if (error instanceof UpstreamError && (error.httpStatus === 404 || error.httpStatus === 410))
        return undefined;
      throw error;
    }
  };
}
