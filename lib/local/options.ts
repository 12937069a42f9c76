/**
 * The environment variables of local mode (`npm start`, bin/local.ts) beside the catalogue's settings: ports, API
 * keys, throttling, logging and the credentials that swap a simulator for the real 8x8 or Cognigy service. Each
 * declares the rule of its value (functions/shared/setting-rules.ts), so a typo stops `npm start` with one sentence
 * instead of a stack trace or a silently ignored value; credentials that only work together are refused half-set.
 */
import {
  InvalidValueError,
  httpUrl,
  invalidValueSentence,
  positiveNumber,
  text,
  wholeNumber,
  type SettingRule,
} from '../../functions/shared/setting-rules';

const port = () => wholeNumber({ min: 0, max: 65_535, unit: '(0 picks a free port)', fallback: undefined });

/** A rule for words compared without case (Powertools reads log levels that way). */
function word(values: readonly string[]): SettingRule<string | undefined> {
  return {
    allowed: `one of ${values.join(', ')}`,
    parse: (value) => {
      if (value === undefined || value.trim() === '') return undefined;
      const upper = value.trim().toUpperCase();
      if (!values.includes(upper)) throw new InvalidValueError();
      return upper;
    },
  };
}

export const LOCAL_OPTIONS = {
  /** Gateway port (default 3000). */
  PORT: port(),
  LOCAL_API_KEY: text(),
  LOCAL_API_KEYS: text('a comma-separated list of API keys'),
  LOCAL_THROTTLE_RATE: positiveNumber({ unit: 'requests per second', fallback: undefined }),
  LOCAL_THROTTLE_BURST: positiveNumber({ unit: 'requests', fallback: undefined }),
  SMS_SIMULATOR_PORT: port(),
  CHAT_GATEWAY_SIMULATOR_PORT: port(),
  COGNIGY_SIMULATOR_PORT: port(),
  LOCAL_DYNAMODB_PORT: port(),
  LOCAL_SQS_PORT: port(),
  LOCAL_SECRETS_MANAGER_PORT: port(),
  LOCAL_SWEEP_INTERVAL_MS: wholeNumber({ min: 0, unit: 'milliseconds (0: off)', fallback: undefined }),
  LOCAL_LOG_REQUESTS: word(['0', '1']),
  LOCAL_BACKGROUND_NICE: wholeNumber({ min: 0, max: 19, unit: '(0: as the routes)', fallback: undefined }),
  LOG_LEVEL: word(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT']),
  EIGHTBYEIGHT_SMS_API_KEY: text(),
  EIGHTBYEIGHT_SMS_SUBACCOUNT_ID: text(),
  EIGHTBYEIGHT_SMS_BASE_URL: httpUrl(),
  SMS_WEBHOOK_AUTHORIZATION: text(),
  SMS_CALLBACK_TOKEN_KEY: text(),
  CHAT_GATEWAY_API_KEY: text(),
  CHAT_GATEWAY_TENANT: text(),
  CHAT_GATEWAY_BASE_URL: httpUrl(),
  CHAT_GATEWAY_JWK_URL: {
    allowed: 'an http(s) URL template containing {kid}',
    parse: (value: string | undefined) => {
      if (value === undefined || value.trim() === '') return undefined;
      if (!/^https?:\/\/\S+$/.test(value.trim()) || !value.includes('{kid}')) throw new InvalidValueError();
      return value.trim();
    },
  },
  COGNIGY_ENDPOINT_BASE_URL: httpUrl(),
  COGNIGY_COPILOT_BASE_URL: httpUrl(),
} satisfies Record<string, SettingRule<unknown>>;

export type LocalOptionName = keyof typeof LOCAL_OPTIONS;
export type LocalOptions = { [K in LocalOptionName]: ReturnType<(typeof LOCAL_OPTIONS)[K]['parse']> };

/** A local-mode variable with a refused value, or credentials given half-set. */
export class LocalOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalOptionError';
  }
}

/**
 * Credentials that only work together: setting some but not all of them would silently fall back to the
 * simulator (or fail on the first call), so it is refused. Values are never echoed (they are secrets).
 */
const CREDENTIAL_GROUPS: { service: string; required: LocalOptionName[]; optional: LocalOptionName[] }[] = [
  {
    service: 'send SMS through the real 8x8 API',
    required: ['EIGHTBYEIGHT_SMS_API_KEY', 'EIGHTBYEIGHT_SMS_SUBACCOUNT_ID'],
    optional: ['EIGHTBYEIGHT_SMS_BASE_URL'],
  },
  {
    service: 'use the real 8x8 Chat Gateway',
    required: ['CHAT_GATEWAY_API_KEY'],
    optional: ['CHAT_GATEWAY_TENANT', 'CHAT_GATEWAY_BASE_URL', 'CHAT_GATEWAY_JWK_URL'],
  },
];

const isSet = (env: NodeJS.ProcessEnv, name: string) => (env[name] ?? '').trim() !== '';

const listed = (names: string[]) =>
  names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]!}`;

/** One local-mode variable checked by its rule; throws LocalOptionError naming it. */
export function localOption<K extends LocalOptionName>(env: NodeJS.ProcessEnv, name: K): LocalOptions[K] {
  const rule: SettingRule<unknown> = LOCAL_OPTIONS[name];
  try {
    return rule.parse(env[name]) as LocalOptions[K];
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    throw new LocalOptionError(invalidValueSentence(name, env[name] ?? '', rule.allowed, error.detail));
  }
}

/** Every local-mode variable checked by its rule and the credential groups checked; throws LocalOptionError. */
export function localOptionsFromEnv(env: NodeJS.ProcessEnv): LocalOptions {
  const options: Record<string, unknown> = {};
  for (const name of Object.keys(LOCAL_OPTIONS) as LocalOptionName[]) options[name] = localOption(env, name);
  checkCredentialGroups(env);
  return options as LocalOptions;
}

/** Refuses credentials given half-set (e.g. an SMS API key without its sub-account). */
export function checkCredentialGroups(env: NodeJS.ProcessEnv): void {
  for (const group of CREDENTIAL_GROUPS) {
    const given = [...group.required, ...group.optional].filter((name) => isSet(env, name));
    const missing = group.required.filter((name) => !isSet(env, name));
    if (given.length > 0 && missing.length > 0) {
      throw new LocalOptionError(
        `${listed(given)} ${given.length === 1 ? 'is' : 'are'} set but ${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} not: ` +
          `set ${listed(group.required)} to ${group.service}, or none of them to use the simulator.`,
      );
    }
  }
}

/** A port a part of the local stack cannot listen on because something else does. */
export class PortInUseError extends Error {
  /** As the listen error it replaces, for callers that check the code. */
  readonly code = 'EADDRINUSE';

  constructor(
    readonly variable: string,
    readonly port: number,
  ) {
    super(
      `Port ${port} (${variable}) is already in use: stop what listens there, or set ${variable} to another port (0 picks a free one).`,
    );
    this.name = 'PortInUseError';
  }
}

/** Runs a listener's start; EADDRINUSE becomes a PortInUseError naming the variable that chose the port. */
export async function listening<T>(
  variable: string,
  port: number | undefined,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(variable, port ?? 0);
    throw error;
  }
}
