import { getSecret, SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretName } from './catalogue';
import { loadSettings, secretName } from './config';
import { BridgeError, SHARED_ERROR_CODES } from './errors';
import { logger } from './powertools';
import * as z from './zod';

/** JSON shapes of the secret values (documented in functions/shared/catalogue.ts SECRETS and the README). */
export const secretSchemas = {
  smsCredentials: z.object({
    apiKey: z.string().check(z.minLength(1)),
    subAccountId: z.string().check(z.regex(/^[A-Za-z0-9\-._&]{3,50}$/)),
    baseUrl: z.url(),
  }),
  smsWebhookAuth: z.object({
    authorization: z.string().check(z.minLength(1)),
    callbackTokenKey: z.optional(z.string().check(z.minLength(16))),
  }),
  chatGatewayCredentials: z.object({
    apiKey: z.string().check(z.minLength(1)),
    tenant: z.optional(z.string()),
    baseUrl: z.url(),
    jwkUrl: z.string().check(z.minLength(1)),
  }),
  cognigy: z.object({
    endpointBaseUrl: z.optional(z.url()),
    copilotBaseUrl: z.optional(z.url()),
    // The SMS bot's Cognigy REST Endpoint (functions/sms/sms-bot.ts); wins over SMS_BOT_ENDPOINT_URL. Empty: unset
    // (so clearing it does not make the whole secret, which receipts and the handover also read, "not configured").
    smsBotEndpointUrl: z.optional(z.union([z.literal(''), z.url({ protocol: /^https?$/ })])),
  }),
} satisfies Record<SecretName, z.ZodMiniType>;

export type SecretValue<N extends SecretName> = z.infer<(typeof secretSchemas)[N]>;

/**
 * A secret that is missing, still holds the stack's placeholder, or lacks the documented shape: the operator has
 * to set it (README "Setting the secrets"). Callers get 503 NOT_CONFIGURED; 8x8 and queue workers retry, so what
 * arrived meanwhile is processed once the secret is set.
 */
export class SecretConfigurationError extends BridgeError {
  constructor(
    readonly secret: SecretName,
    cause: unknown,
  ) {
    // The message names the secret only; values (and the keys' contents) are never included.
    super(
      'NOT_CONFIGURED',
      `The bridge's ${secret} secret is not configured yet (missing or not in its documented JSON shape)`,
      SHARED_ERROR_CODES.NOT_CONFIGURED.status,
      undefined,
      { cause },
    );
  }
}

/**
 * Reads a secret through Powertools Parameters (cached for SECRETS_MAX_AGE_SECONDS so rotation is picked up)
 * and checks its shape. Locally the same call reaches the Secrets Manager stand-in via AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
export async function loadSecret<N extends SecretName>(
  name: N,
  options: { forceFetch?: boolean } = {},
): Promise<SecretValue<N>> {
  const maxAge = loadSettings().secretsMaxAgeSeconds;
  let value: unknown;
  try {
    value = await currentValue(secretName(name), maxAge, options.forceFetch ?? false);
  } catch (error) {
    throw new SecretConfigurationError(name, error);
  }
  const parsed = secretSchemas[name].safeParse(value);
  if (!parsed.success) {
    throw new SecretConfigurationError(name, parsed.error.issues.map((i) => i.path.join('.')).join(', '));
  }
  return parsed.data as SecretValue<N>;
}

/**
 * Reads of AWSCURRENT under way, by secret id. Powertools caches a value once it has arrived, so callers that ask
 * at the same time (e.g. a cold instance reading a secret early while a first query runs) would each make a
 * GetSecretValue call; they share the one under way instead. A forced read always makes its own.
 */
const currentReads = new Map<string, Promise<unknown>>();

function currentValue(id: string, maxAge: number, forceFetch: boolean): Promise<unknown> {
  if (forceFetch) return getSecret(id, { transform: 'json', maxAge, forceFetch: true });
  const underWay = currentReads.get(id);
  if (underWay) return underWay;
  const read = getSecret(id, { transform: 'json', maxAge }).finally(() => currentReads.delete(id));
  currentReads.set(id, read);
  return read;
}

/**
 * Its own provider, hence its own cache: Powertools keys its cache by name and transform only, so an AWSPREVIOUS
 * read through the default provider would be answered with the cached AWSCURRENT value (and the other way round).
 */
const previousVersions = /* @__PURE__ */ new SecretsProvider();
/** Secrets without an AWSPREVIOUS version (never rotated), remembered until this time (ms) so misses cost no call. */
const previousMissUntil = new Map<string, number>();

/**
 * The AWSPREVIOUS version of a secret (the value a rotation just replaced), cached like loadSecret; undefined when
 * there is none, it cannot be read, or it lacks the documented shape. Used to accept credentials that are still in
 * flight during a rotation (8x8 sends the old receipt Authorization until its webhook is updated).
 */
export async function loadPreviousSecret<N extends SecretName>(name: N): Promise<SecretValue<N> | undefined> {
  const maxAge = loadSettings().secretsMaxAgeSeconds;
  const id = secretName(name);
  if ((previousMissUntil.get(id) ?? 0) > Date.now()) return undefined;
  let value: unknown;
  try {
    value = await previousVersions.get(id, {
      transform: 'json',
      maxAge,
      sdkOptions: { VersionStage: 'AWSPREVIOUS' },
    });
  } catch (error) {
    // Usually ResourceNotFoundException: the secret was never rotated. Either way only the current value counts.
    logger.debug('No previous version of a secret', { secret: name, error: (error as Error).name });
    value = undefined;
  }
  const parsed = secretSchemas[name].safeParse(value);
  if (!parsed.success) {
    previousMissUntil.set(id, Date.now() + maxAge * 1000);
    return undefined;
  }
  return parsed.data as SecretValue<N>;
}
