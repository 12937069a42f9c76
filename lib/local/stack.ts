/**
 * The whole bridge on one machine, no AWS account and no Docker: DynamoDB (dynalite), SQS (fauxqs) and a Secrets
 * Manager stand-in speaking the real wire protocols; the API Gateway stand-in serving the catalogue's routes;
 * queue pollers with Lambda's SQS event-source semantics; and simulators of 8x8 (SMS, Chat Gateway) and of the
 * Cognigy Endpoint. Each function runs its production code path in its own sandbox (a worker thread,
 * lib/local/sandbox.ts) whose environment is exactly what the CDK stack gives it (functions/shared/catalogue.ts
 * functionEnvironment: its own tables, queues and secrets, and the settings) plus AWS_ENDPOINT_URL_* for the
 * stand-ins; it signs its AWS calls as `local-<function>`, and the stand-ins refuse what the catalogue does not
 * grant it (lib/local/grants.ts). This process's own environment is left untouched. The gateway's port also serves the
 * local console (`/console`, lib/local/console/), which reads and drives all of it over HTTP.
 *
 * Real services instead of simulators — read from `options.env` (default process.env):
 *
 * | Variable                        | Effect                                                                        |
 * | ------------------------------- | ----------------------------------------------------------------------------- |
 * | EIGHTBYEIGHT_SMS_API_KEY        | with EIGHTBYEIGHT_SMS_SUBACCOUNT_ID: send SMS through the real 8x8 API         |
 * | EIGHTBYEIGHT_SMS_SUBACCOUNT_ID  | 8x8 sub-account id                                                            |
 * | EIGHTBYEIGHT_SMS_BASE_URL       | SMS API base URL of the account's region (default https://sms.8x8.com)        |
 * | SMS_WEBHOOK_AUTHORIZATION       | Authorization value 8x8 sends with receipts (default: random, shared with sim) |
 * | SMS_CALLBACK_TOKEN_KEY          | HMAC key for per-message receipt callback URLs (default: random)              |
 * | CHAT_GATEWAY_API_KEY            | use the real 8x8 Contact Center Chat Gateway                                   |
 * | CHAT_GATEWAY_TENANT             | Contact Center tenant (X-8x8-Tenant)                                           |
 * | CHAT_GATEWAY_BASE_URL           | default https://api.8x8.com                                                    |
 * | CHAT_GATEWAY_JWK_URL            | JWK URL template with {kid} (default <base>/chat-gateway/v1/jwk/{kid}/public)  |
 * | COGNIGY_ENDPOINT_BASE_URL       | use a real Cognigy Endpoint (e.g. https://endpoint-app.cognigy.ai)             |
 * | COGNIGY_COPILOT_BASE_URL        | Agent Copilot base URL (optional)                                              |
 * | PUBLIC_BASE_URL                 | public URL of this gateway (e.g. a tunnel) for real 8x8 webhooks and receipts |
 * | LOG_LEVEL                       | functions' Powertools log level (default WARN)                                 |
 * | LOCAL_LOG_REQUESTS=1            | one console line per HTTP request                                              |
 * | LOCAL_SWEEP_INTERVAL_MS         | period of the SMS outbox sweeper (default 60000, as deployed; 0 = off)         |
 * | LOCAL_BACKGROUND_NICE           | CPU niceness of delivery, receipts and sweeper (default 5; 0 = as the routes)  |
 *
 * Real webhooks (8x8 receipts, Chat Gateway events) can only reach this machine through PUBLIC_BASE_URL; the
 * webhook itself must be configured on the 8x8 side to point at it.
 */
import { randomBytes } from 'node:crypto';
import {
  FUNCTIONS,
  QUEUES,
  SECRETS,
  SETTINGS,
  functionEnvironment,
  type FunctionName,
  type QueueName,
  type ResolvedResources,
  type SecretName,
} from '../../functions/shared/catalogue';
import { queueBatching } from '../../functions/shared/config';
import type { ChatGatewaySimulator } from '../simulators/chat-gateway';
import type { CognigySimulator } from '../simulators/cognigy';
import type { SmsSimulator } from '../simulators/sms';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createCatalogueQueues,
  createCatalogueTables,
  installLocalhostResolution,
  localDynamoDbClient,
  localSqsClient,
  startDynamoDb,
  startSqs,
} from './aws';
import { LocalGateway, localApiKeyId, type ThrottleSettings } from './gateway';
import type { HoldHook } from './access-front';
import { functionAccessKeyId, LocalGrants } from './grants';
import { functionTimeoutMs } from './lambda';
import { startPollers, type PollerStats, type WorkerCrashHook } from './poller';
import { FunctionSandboxes } from './sandbox';
import { startSchedules } from './scheduler';
import { CONSOLE_PATH, LocalConsole } from './console/server';
import { LOCAL_SMS_BOT_URL_TOKEN } from './constants';
import { SecretsManagerStandIn } from './secrets-manager';
import { checkCredentialGroups, listening, localOption } from './options';
import { settingProblems } from '../../functions/shared/config';
import type { LocalStackInfo, LocalStackOptions, Simulator } from './types';

export const DEFAULT_SMS_BASE_URL = 'https://sms.8x8.com';
export const DEFAULT_CHAT_GATEWAY_BASE_URL = 'https://api.8x8.com';
const DEFAULT_POLLERS = 2;

export type ServiceMode = 'simulator' | 'real' | 'unavailable';

export interface LocalStack extends LocalStackInfo {
  /** The 8x8 SMS simulator (absent when the real 8x8 API is used or the simulator module is missing). */
  sms?: SmsSimulator;
  cognigy?: CognigySimulator;
  chatGateway?: ChatGatewaySimulator;
  /** Which upstreams are simulated and which are real. */
  services: { sms: ServiceMode; chatGateway: ServiceMode; cognigy: ServiceMode };
  /** The Secrets Manager stand-in, e.g. to rotate a secret in a test (`setSecret(stack.secretNames.x, ...)`). */
  secretsManager: SecretsManagerStandIn;
  /** Secret names as the functions see them (SECRETS[x].nameEnv). */
  secretNames: Record<SecretName, string>;
  gateway: LocalGateway;
  /** Counters of the queue pollers (invocations, deleted, failed). */
  pollerStats(): Record<QueueName, PollerStats>;
  /**
   * Stops handing the queue's messages to its consumer (sends still queue them) until resumeQueue, e.g. to build a
   * backlog. Resolves once the poller is idle: its receive under way and the batches in flight have finished.
   */
  pauseQueue(queue: QueueName): Promise<void>;
  resumeQueue(queue: QueueName): void;
  /** Runs a scheduled function (e.g. sms-sweeper) once now, as its timer would, and resolves with its result. */
  runScheduled(name: FunctionName): Promise<unknown>;
  /** Starts every function's sandbox now, so no request pays a cold start (npm start does this after ready). */
  warmUp(): Promise<void>;
  /**
   * The environment the stack gives a function's sandbox (e.g. for running its bundle in a child process, as the
   * benchmark does): the catalogue's functionEnvironment, the stand-ins' endpoints and the function's own
   * credentials.
   */
  functionEnvironment(functionName: FunctionName): Record<string, string>;
  /** process.env as read inside the function's running sandbox (starts the sandbox if needed). */
  sandboxEnvironment(functionName: FunctionName): Promise<Record<string, string>>;
  /**
   * Changes settings (names from the catalogue's SETTINGS; undefined removes one) of one function, as Lambda's
   * UpdateFunctionConfiguration does: invocations under way finish in the old sandbox, the next one starts a new
   * sandbox with the new environment.
   */
  updateFunctionSettings(functionName: FunctionName, settings: Record<string, string | undefined>): void;
  stop(): Promise<void>;
}

/** Options of the simulators' constructors, beyond what the stack wires itself (URLs, credentials). */
export interface SimulatorTuning {
  sms?: Partial<NonNullable<ConstructorParameters<typeof SmsSimulator>[0]>>;
  chatGateway?: Partial<NonNullable<ConstructorParameters<typeof ChatGatewaySimulator>[0]>>;
  cognigy?: Partial<NonNullable<ConstructorParameters<typeof CognigySimulator>[0]>>;
}

export interface StartLocalStackOptions extends LocalStackOptions {
  /** e.g. `{ sms: { receiptRetryScale: 0.01 }, chatGateway: { retryDelaysMs: [50, 100] } }` for quick tests. */
  simulators?: SimulatorTuning;
  /** Test hook for chaos runs: queue consumers that crash mid-batch (lib/local/poller.ts WorkerCrashHook). */
  workerCrashes?: Partial<Record<QueueName, WorkerCrashHook>>;
  /**
   * Period (ms) of the scheduled functions (default: the catalogue's, e.g. sms-sweeper every minute; env
   * LOCAL_SWEEP_INTERVAL_MS for sms-sweeper). 0 turns a timer off; runScheduled still runs it on demand.
   */
  scheduleIntervalMs?: Partial<Record<FunctionName, number>>;
  /** Test hook for chaos runs: SQS calls to hold unanswered, as if their caller died (lib/local/access-front.ts). */
  holdSqsCalls?: HoldHook;
  /** Test hook for chaos runs: DynamoDB calls to hold unanswered, as if their caller died (lib/evidence/worker-kill.ts). */
  holdDynamoDbCalls?: HoldHook;
}

export class LocalStackAlreadyRunningError extends Error {
  constructor() {
    super('A local stack is already running in this process; stop it first');
    this.name = 'LocalStackAlreadyRunningError';
  }
}

/**
 * Set from the first line of startLocalStack until stop(), so even concurrent starts are refused: one stack per
 * process keeps its console, `*.localhost` resolution and ports unambiguous.
 */
let occupied = false;

type Cleanup = () => Promise<void> | void;

interface SimulatorModules {
  SmsSimulator: typeof SmsSimulator;
  CognigySimulator: typeof CognigySimulator;
  ChatGatewaySimulator: typeof ChatGatewaySimulator;
}

/** Loads a simulator module, or undefined when it does not exist (the stack then runs without it). */
async function optionalModule<K extends keyof SimulatorModules>(
  file: string,
  exportName: K,
  load: () => Promise<Partial<SimulatorModules>>,
): Promise<SimulatorModules[K] | undefined> {
  try {
    const mod = await load();
    return mod[exportName] as SimulatorModules[K] | undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
    if (missing && String((error as Error).message).includes(`simulators/${file}`)) return undefined;
    throw error;
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error).slice(0, 500);
  } catch {
    return String(error);
  }
}

const randomToken = (bytes = 16) => randomBytes(bytes).toString('hex');

/** Like Promise.all, but waits for every task before rethrowing the first failure, so all cleanups are known. */
async function settleAll<T extends readonly unknown[]>(
  tasks: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(tasks);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/**
 * The settings the functions will get (the environment's, then the options') checked by their catalogue rules, and
 * the real-service credentials checked for completeness, before anything starts: the first problem throws
 * InvalidSettingError or LocalOptionError, whose message names the variable, its value and what is allowed.
 */
export function checkLocalSettings(env: NodeJS.ProcessEnv, settings: Record<string, string> = {}): void {
  const given: Record<string, string | undefined> = {};
  for (const name of Object.values(SETTINGS)) given[name] = env[name];
  const [invalid] = settingProblems({ ...given, ...settings });
  if (invalid) throw invalid;
  checkCredentialGroups(env);
}

export async function startLocalStack(options: StartLocalStackOptions = {}): Promise<LocalStack> {
  if (occupied) throw new LocalStackAlreadyRunningError();
  const env = options.env ?? process.env;
  checkLocalSettings(env, options.settings);
  occupied = true;
  const startedAt = performance.now();
  const quiet = options.quiet ?? false;
  const log = (message: string) => {
    if (!quiet) console.log(message);
  };
  const reportError = quiet
    ? undefined
    : (message: string, error: unknown) => console.error(`[local] ${message}: ${describeError(error)}`);

  const stackId = randomToken(3);
  const apiKey = options.apiKey ?? `local-${randomToken(12)}`;
  const extraApiKeys = [...new Set(options.apiKeys ?? [])].filter((key) => key !== '' && key !== apiKey);
  const cleanups: Cleanup[] = [];
  let resolveReady!: () => void;
  let rejectReady!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);

  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        reportError?.('Stopping a part of the local stack failed', error);
      }
    }
  };

  try {
    // Filled in once the tables, queues and secrets exist; no function runs before `ready`.
    let environmentOf: (functionName: FunctionName) => Record<string, string> = () => {
      throw new Error('The local stack is still starting');
    };
    const backgroundNice = localOption(env, 'LOCAL_BACKGROUND_NICE');
    const sandboxes = new FunctionSandboxes((functionName) => environmentOf(functionName), {
      ...(backgroundNice !== undefined ? { backgroundNice } : {}),
    });
    cleanups.push(() => sandboxes.stop());
    const loadHandler = sandboxes.loader;
    const gateway = new LocalGateway({
      apiKey,
      apiKeys: extraApiKeys,
      loadHandler,
      ready,
      throttle: options.throttle,
      logRequests: env.LOCAL_LOG_REQUESTS === '1' && !quiet,
      onError: reportError,
    });
    const secretsManager = new SecretsManagerStandIn();
    cleanups.push(installLocalhostResolution());

    // The gateway listens first so the simulators know where to send webhooks; everything else then starts at
    // once (module loading, key generation and table/queue creation overlap).
    const gatewayUrl = await listening('PORT', options.port, () => gateway.start(options.port ?? 0));
    cleanups.push(() => gateway.stop());
    const upstreams = resolveUpstreams(env, options, gatewayUrl);
    const standInPorts = options.standInPorts ?? {};

    const [dynamo, sqs, secretsUrl, , simulators] = await settleAll([
      listening('LOCAL_DYNAMODB_PORT', standInPorts.dynamodb, () =>
        startDynamoDb(standInPorts.dynamodb),
      ).then((s) => (cleanups.push(() => s.stop()), s)),
      listening('LOCAL_SQS_PORT', standInPorts.sqs, () => startSqs(standInPorts.sqs)).then(
        (s) => (cleanups.push(() => s.stop()), s),
      ),
      listening('LOCAL_SECRETS_MANAGER_PORT', standInPorts.secretsManager, () =>
        secretsManager.start(standInPorts.secretsManager),
      ).then((url) => (cleanups.push(() => secretsManager.stop()), url)),
      sandboxes.prepare(),
      startSimulators(
        upstreams,
        gatewayUrl,
        options,
        cleanups,
        log,
        env.LOCAL_LOG_REQUESTS === '1' && !quiet,
      ),
    ] as const);

    const sqsClient = localSqsClient(sqs);
    const dynamoClient = localDynamoDbClient(dynamo);
    cleanups.push(() => {
      sqsClient.destroy();
      dynamoClient.destroy();
    });
    const [tables, queues] = await Promise.all([
      createCatalogueTables(dynamoClient),
      createCatalogueQueues(sqsClient, {
        maxReceiveCount: options.maxReceiveCount,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      }),
    ]);

    const secretNames = Object.fromEntries(
      (Object.keys(SECRETS) as SecretName[]).map((secret) => [secret, `local/${stackId}/${secret}`]),
    ) as Record<SecretName, string>;
    const services = writeSecrets(secretsManager, secretNames, upstreams, simulators, log);
    // The local console reads and drives everything over HTTP, like a person with curl (lib/local/console/).
    const localConsole = new LocalConsole(
      {
        gateway: gatewayUrl,
        apiKey,
        ...(simulators.sms ? { sms: simulators.sms.url } : {}),
        ...(simulators.chatGateway ? { chatGateway: simulators.chatGateway.url } : {}),
        ...(simulators.cognigy ? { cognigy: simulators.cognigy.url } : {}),
      },
      { services },
    );
    gateway.mount(localConsole);

    const smsBotEndpoint = simulators.cognigy
      ? `${simulators.cognigy.url}/${LOCAL_SMS_BOT_URL_TOKEN}`
      : undefined;
    const resolved: ResolvedResources = {
      tables,
      queueUrls: mapQueues((q) => queues[q].url),
      secrets: secretNames,
      settings: {
        // The Cognigy simulator's REST Endpoint (an echo bot unless scripted) answers inbound SMS, unless the
        // environment or the options name another bot.
        ...(smsBotEndpoint ? { [SETTINGS.smsBotEndpointUrl]: smsBotEndpoint } : {}),
        // Settings in the developer's environment (e.g. `HANDOVER_RULES=... npm start`), then the options'.
        ...Object.fromEntries(
          Object.values(SETTINGS).flatMap((name) => (env[name] !== undefined ? [[name, env[name]]] : [])),
        ),
        [SETTINGS.publicBaseUrl]: upstreams.publicBaseUrl,
        // The simulators and test receivers listen on 127.0.0.1 over http (local mode only).
        [SETTINGS.allowLoopbackUrls]: 'true',
        // As in AWS (lib/stack.ts): records without an owner belong to the default key.
        [SETTINGS.unownedRecordsOwner]: localApiKeyId(apiKey),
        ...options.settings,
      },
      maxReceiveCounts: mapQueues((q) => queues[q].maxReceiveCount),
    };
    const grants = new LocalGrants(resolved);
    dynamo.front.grants = grants;
    sqs.front.grants = grants;
    if (options.holdSqsCalls) sqs.front.hold = options.holdSqsCalls;
    if (options.holdDynamoDbCalls) dynamo.front.hold = options.holdDynamoDbCalls;
    secretsManager.grants = grants;
    const runtime = {
      ...hostRuntimeVariables(),
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      // Lambda runs the functions on nodejs22.x: the SDK's warning about an older Node on this machine is noise.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
        process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
      POWERTOOLS_METRICS_NAMESPACE: env.POWERTOOLS_METRICS_NAMESPACE ?? 'Cognigy8x8Bridge',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: env.LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      // EMF metric lines on stdout every invocation would drown the console; opt in with =false.
      POWERTOOLS_METRICS_DISABLED: env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    };
    const settingUpdates = new Map<FunctionName, Record<string, string | undefined>>();
    environmentOf = (functionName) => ({
      ...runtime,
      // What Lambda and lib/constructs/bridge-function.ts set for every function.
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(FUNCTIONS[functionName].memoryMb),
      POWERTOOLS_SERVICE_NAME: env.POWERTOOLS_SERVICE_NAME ?? functionName,
      // The function's own identity: the stand-ins check its grants against this key id.
      AWS_ACCESS_KEY_ID: functionAccessKeyId(functionName),
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      ...withUpdates(functionEnvironment(functionName, resolved), settingUpdates.get(functionName)),
    });

    const pollers = startPollers(
      (Object.keys(QUEUES) as QueueName[]).map((queue) => {
        const spec = QUEUES[queue];
        // The same batch size and window as the deployed event source (catalogue and its settings).
        const batching = queueBatching(queue, resolved.settings);
        return {
          name: queue,
          queueUrl: queues[queue].url,
          queueArn: queues[queue].arn,
          functionName: spec.consumer,
          handler: () => loadHandler(spec.consumer),
          batchSize: batching.batchSize,
          concurrency: Math.min(options.pollers?.[queue] ?? DEFAULT_POLLERS, spec.maxConcurrency),
          timeoutMs: functionTimeoutMs(spec.consumer),
          batchingWindowSeconds: batching.batchingWindowSeconds,
          ...(options.workerCrashes?.[queue] ? { crash: options.workerCrashes[queue] } : {}),
        };
      }),
      { sqs: sqsClient, region: LOCAL_REGION, onError: reportError },
    );
    const sweepIntervalMs = localOption(env, 'LOCAL_SWEEP_INTERVAL_MS');
    const schedules = startSchedules({
      loadHandler,
      intervalMs: {
        ...(sweepIntervalMs !== undefined ? { 'sms-sweeper': sweepIntervalMs } : {}),
        ...options.scheduleIntervalMs,
      },
      onError: reportError,
    });
    // Registered last so it runs first: no new work (timers, queue batches, then HTTP requests) before anything
    // the functions depend on goes away. Stopping the gateway again later is a no-op.
    cleanups.push(async () => {
      localConsole.close();
      await schedules.stop();
      await pollers.stop();
      await gateway.stop();
    });

    const pollerOf = (queue: QueueName) => {
      const poller = pollers.pollers.find((p) => p.target.name === queue);
      if (!poller) throw new Error(`No poller for queue ${queue}`);
      return poller;
    };

    const startupMs = Math.round(performance.now() - startedAt);
    let stopped: Promise<void> | undefined;
    const stack: LocalStack = {
      urls: {
        gateway: gatewayUrl,
        openapi: `${gatewayUrl}/openapi.json`,
        console: `${gatewayUrl}${CONSOLE_PATH}`,
        // Reachable from any process; clients must not follow the queue URLs' `*.localhost` host (see localSqsClient).
        sqs: sqs.url,
        dynamodb: dynamo.url,
        secretsManager: secretsUrl,
        smsSimulator: simulators.sms?.url,
        chatGatewaySimulator: simulators.chatGateway?.url,
        cognigySimulator: simulators.cognigy?.url,
        smsBotEndpoint: resolved.settings[SETTINGS.smsBotEndpointUrl] || undefined,
      },
      apiKey,
      apiKeys: [apiKey, ...extraApiKeys],
      queues: Object.fromEntries(
        (Object.keys(queues) as QueueName[]).map((q) => [
          q,
          { url: queues[q].url, dlqUrl: queues[q].dlqUrl },
        ]),
      ) as LocalStackInfo['queues'],
      tables,
      startupMs,
      sms: simulators.sms,
      cognigy: simulators.cognigy,
      chatGateway: simulators.chatGateway,
      services,
      secretsManager,
      secretNames,
      gateway,
      pollerStats: () =>
        Object.fromEntries(pollers.pollers.map((p) => [p.target.name, { ...p.stats }])) as Record<
          QueueName,
          PollerStats
        >,
      pauseQueue: async (queue) => {
        await pollerOf(queue).pause();
      },
      resumeQueue: (queue) => pollerOf(queue).resume(),
      runScheduled: (name) => schedules.runNow(name),
      warmUp: async () => {
        await Promise.all(
          (Object.keys(FUNCTIONS) as FunctionName[]).map((fn) => loadHandler(fn).catch(() => undefined)),
        );
      },
      functionEnvironment: (functionName) => environmentOf(functionName),
      sandboxEnvironment: (functionName) => sandboxes.environment(functionName),
      updateFunctionSettings: (functionName, settings) => {
        const known = new Set<string>(Object.values(SETTINGS));
        const unknown = Object.keys(settings).filter((name) => !known.has(name));
        if (unknown.length > 0) throw new UnknownSettingError(unknown);
        settingUpdates.set(functionName, { ...settingUpdates.get(functionName), ...settings });
        sandboxes.recycle(functionName);
      },
      stop: () => {
        stopped ??= (async () => {
          await runCleanups();
          occupied = false;
        })();
        return stopped;
      },
    };
    resolveReady();
    return stack;
  } catch (error) {
    rejectReady(error);
    await runCleanups();
    occupied = false;
    throw error;
  }
}

export class UnknownSettingError extends Error {
  constructor(names: string[]) {
    super(`Not settings of the catalogue (functions/shared/catalogue.ts SETTINGS): ${names.join(', ')}`);
    this.name = 'UnknownSettingError';
  }
}

/** The environment with some variables replaced or (undefined) removed. */
function withUpdates(
  environment: Record<string, string>,
  updates: Record<string, string | undefined> = {},
): Record<string, string> {
  const result = { ...environment };
  for (const [name, value] of Object.entries(updates)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

const mapQueues = <T>(value: (queue: QueueName) => T) =>
  Object.fromEntries((Object.keys(QUEUES) as QueueName[]).map((q) => [q, value(q)])) as Record<QueueName, T>;

/** Host variables every Lambda runtime has too (PATH, locale, time zone, temp dir); nothing of the application. */
const HOST_RUNTIME_VARIABLES = [
  'PATH',
  'LANG',
  'TZ',
  'TMPDIR',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
];

function hostRuntimeVariables(): Record<string, string> {
  return Object.fromEntries(
    HOST_RUNTIME_VARIABLES.flatMap((name) =>
      process.env[name] !== undefined ? [[name, process.env[name]!]] : [],
    ),
  );
}

interface Upstreams {
  publicBaseUrl: string;
  smsWebhookAuthorization: string;
  callbackTokenKey: string;
  sms: { apiKey: string; subAccountId: string; baseUrl: string } | undefined;
  chatGateway: { apiKey: string; tenant?: string; baseUrl: string; jwkUrl: string } | undefined;
  cognigy: { endpointBaseUrl: string; copilotBaseUrl?: string } | undefined;
  copilotBaseUrl?: string;
}

/** Real upstreams configured in the environment; the others are simulated. */
function resolveUpstreams(env: NodeJS.ProcessEnv, options: LocalStackOptions, gatewayUrl: string): Upstreams {
  const value = (name: string) => (env[name] && env[name]!.trim() !== '' ? env[name]!.trim() : undefined);
  const chatBase = value('CHAT_GATEWAY_BASE_URL') ?? DEFAULT_CHAT_GATEWAY_BASE_URL;
  const smsKey = value('EIGHTBYEIGHT_SMS_API_KEY');
  const smsSubAccount = value('EIGHTBYEIGHT_SMS_SUBACCOUNT_ID');
  const chatKey = value('CHAT_GATEWAY_API_KEY');
  const cognigyUrl = value('COGNIGY_ENDPOINT_BASE_URL');
  return {
    publicBaseUrl: value('PUBLIC_BASE_URL') ?? gatewayUrl,
    smsWebhookAuthorization:
      options.smsWebhookAuthorization ??
      value('SMS_WEBHOOK_AUTHORIZATION') ??
      `Bearer local-${randomToken(12)}`,
    callbackTokenKey: value('SMS_CALLBACK_TOKEN_KEY') ?? randomToken(32),
    sms:
      smsKey && smsSubAccount
        ? {
            apiKey: smsKey,
            subAccountId: smsSubAccount,
            baseUrl: value('EIGHTBYEIGHT_SMS_BASE_URL') ?? DEFAULT_SMS_BASE_URL,
          }
        : undefined,
    chatGateway: chatKey
      ? {
          apiKey: chatKey,
          tenant: value('CHAT_GATEWAY_TENANT'),
          baseUrl: chatBase,
          jwkUrl:
            value('CHAT_GATEWAY_JWK_URL') ??
            `${chatBase.replace(/\/+$/, '')}/chat-gateway/v1/jwk/{kid}/public`,
        }
      : undefined,
    cognigy: cognigyUrl ? { endpointBaseUrl: cognigyUrl } : undefined,
    copilotBaseUrl: value('COGNIGY_COPILOT_BASE_URL'),
  };
}

interface StartedSimulators {
  sms?: SmsSimulator;
  chatGateway?: ChatGatewaySimulator;
  cognigy?: CognigySimulator;
  /** Credentials the simulators were configured with (the stack writes them into the secrets). */
  smsCredentials?: { apiKey: string; subAccountId: string };
  chatCredentials?: { apiKey: string; tenant: string };
}

async function startSimulators(
  upstreams: Upstreams,
  gatewayUrl: string,
  options: StartLocalStackOptions,
  cleanups: Cleanup[],
  log: (message: string) => void,
  logRequests: boolean,
): Promise<StartedSimulators> {
  const result: StartedSimulators = {};
  const tuning = options.simulators ?? {};
  const ports = options.simulatorPorts ?? {};
  const startOne = async <S extends Simulator>(
    simulator: S,
    port: number | undefined,
    variable: string,
  ): Promise<S> => {
    await listening(variable, port, () => simulator.start(port ?? 0));
    cleanups.push(() => simulator.stop());
    return simulator;
  };
  const tasks: Promise<void>[] = [];

  if (!upstreams.sms) {
    tasks.push(
      (async () => {
        const Sms = await optionalModule('sms', 'SmsSimulator', () => import('../simulators/sms'));
        if (!Sms)
          return log('SMS simulator module not found (lib/simulators/sms.ts); SMS delivery is unavailable');
        const credentials = { apiKey: `sms-${randomToken(12)}`, subAccountId: 'local-subaccount' };
        result.sms = await startOne(
          new Sms({
            // Handsets text the bridge's inbound route (8x8's per-number inbound callback); a test may point it
            // elsewhere (e.g. the receipt URL, which hands inbound events to the same core).
            inboundWebhookUrl: `${gatewayUrl}/webhooks/8x8/sms/inbound`,
            ...tuning.sms,
            webhookUrl: `${gatewayUrl}/webhooks/8x8/sms`,
            webhookAuthorization: upstreams.smsWebhookAuthorization,
            ...credentials,
          }),
          ports.sms,
          'SMS_SIMULATOR_PORT',
        );
        result.smsCredentials = credentials;
      })(),
    );
  }
  if (!upstreams.chatGateway) {
    tasks.push(
      (async () => {
        const Chat = await optionalModule(
          'chat-gateway',
          'ChatGatewaySimulator',
          () => import('../simulators/chat-gateway'),
        );
        if (!Chat)
          return log(
            'Chat Gateway simulator module not found (lib/simulators/chat-gateway.ts); handover is unavailable',
          );
        const credentials = { apiKey: `cgw-${randomToken(12)}`, tenant: 'local-tenant' };
        result.chatGateway = await startOne(
          new Chat({
            ...(logRequests ? { log: (line: string) => console.log(`[chat-gateway-sim] ${line}`) } : {}),
            ...tuning.chatGateway,
            webhookUrl: `${gatewayUrl}/handover/eightByEight`,
            ...credentials,
          }),
          ports.chatGateway,
          'CHAT_GATEWAY_SIMULATOR_PORT',
        );
        result.chatCredentials = credentials;
      })(),
    );
  }
  if (!upstreams.cognigy) {
    tasks.push(
      (async () => {
        const Cognigy = await optionalModule(
          'cognigy',
          'CognigySimulator',
          () => import('../simulators/cognigy'),
        );
        if (!Cognigy)
          return log('Cognigy simulator module not found (lib/simulators/cognigy.ts); no Cognigy endpoint');
        result.cognigy = await startOne(
          new Cognigy({ ...tuning.cognigy }),
          ports.cognigy,
          'COGNIGY_SIMULATOR_PORT',
        );
      })(),
    );
  }
  await settleAll(tasks);
  return result;
}

/** Writes the four secrets in their documented shapes (functions/shared/catalogue.ts SECRETS) and reports the service modes. */
function writeSecrets(
  secrets: SecretsManagerStandIn,
  names: Record<SecretName, string>,
  upstreams: Upstreams,
  simulators: StartedSimulators,
  log: (message: string) => void,
): LocalStack['services'] {
  const services: LocalStack['services'] = {
    sms: 'unavailable',
    chatGateway: 'unavailable',
    cognigy: 'unavailable',
  };

  if (upstreams.sms) {
    secrets.setSecret(names.smsCredentials, upstreams.sms);
    services.sms = 'real';
  } else if (simulators.sms && simulators.smsCredentials) {
    secrets.setSecret(names.smsCredentials, { ...simulators.smsCredentials, baseUrl: simulators.sms.url });
    services.sms = 'simulator';
  }
  secrets.setSecret(names.smsWebhookAuth, {
    authorization: upstreams.smsWebhookAuthorization,
    callbackTokenKey: upstreams.callbackTokenKey,
  });

  if (upstreams.chatGateway) {
    const { tenant, ...rest } = upstreams.chatGateway;
    secrets.setSecret(names.chatGatewayCredentials, tenant ? { ...rest, tenant } : rest);
    services.chatGateway = 'real';
  } else if (simulators.chatGateway && simulators.chatCredentials) {
    const baseUrl = simulators.chatGateway.url;
    secrets.setSecret(names.chatGatewayCredentials, {
      ...simulators.chatCredentials,
      baseUrl,
      jwkUrl: `${baseUrl}/chat-gateway/v1/jwk/{kid}/public`,
    });
    services.chatGateway = 'simulator';
  }

  const copilot = upstreams.copilotBaseUrl ? { copilotBaseUrl: upstreams.copilotBaseUrl } : {};
  if (upstreams.cognigy) {
    secrets.setSecret(names.cognigy, { ...upstreams.cognigy, ...copilot });
    services.cognigy = 'real';
  } else if (simulators.cognigy) {
    secrets.setSecret(names.cognigy, { endpointBaseUrl: simulators.cognigy.url, ...copilot });
    services.cognigy = 'simulator';
  } else {
    // Both keys are optional in the documented shape; flows that need Cognigy report it as not configured.
    secrets.setSecret(names.cognigy, copilot);
  }

  if (services.sms === 'unavailable')
    log('smsCredentials not written: neither the SMS simulator nor 8x8 credentials');
  if (services.chatGateway === 'unavailable') {
    log('chatGatewayCredentials not written: neither the Chat Gateway simulator nor 8x8 credentials');
  }
  return services;
}

export type { LocalStackInfo, LocalStackOptions, ThrottleSettings };
