import {
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BridgeAlarms, type BusinessAlarmThresholds } from './constructs/bridge-alarms';
import { BridgeApi, type BridgeApiProps, type TenantProps } from './constructs/bridge-api';
import { BridgeDashboard } from './constructs/bridge-dashboard';
import { BridgeSecret, BridgeTable } from './constructs/bridge-data';
import { BridgeFunction, DEFAULT_METRICS_NAMESPACE } from './constructs/bridge-function';
import { BridgeQueue } from './constructs/bridge-queue';
import { parseSourceIps } from './constructs/webhook-source-ips';
import { queueBatching, settingProblems } from '../functions/shared/config';
import {
  InvalidValueError,
  flag,
  httpUrl,
  invalidValueSentence,
  oneOf,
  parseSetting,
  positiveNumber,
  text,
  type SettingRule,
} from '../functions/shared/setting-rules';
import {
  FUNCTIONS,
  QUEUES,
  ROUTES,
  SECRETS,
  SETTINGS,
  SETTING_SPECS,
  TABLES,
  functionEnvironment,
  routeKey,
  type FunctionName,
  type QueueName,
  type SecretName,
  type TableName,
} from '../functions/shared/catalogue';
import { FUNCTION_DESCRIPTIONS, SECRET_DOCS } from '../functions/shared/catalogue-docs';

/** Environment variable names of the plain settings (functions/shared/catalogue.ts SETTINGS). */
export type SettingName = (typeof SETTINGS)[keyof typeof SETTINGS];

export interface BridgeStackProps extends StackProps {
  /** E-mail address subscribed to the alarm topic. */
  alarmEmail?: string;
  /**
   * Keep tables, queues (with their DLQs), secrets and log groups when the stack is deleted (default true): they
   * hold accepted work and its records. False (context destroyData=true) suits development. README "Tearing down".
   */
  retainData?: boolean;
  /** Retention of every function log group and the API access logs (default one month). */
  logRetention?: logs.RetentionDays;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  metricsNamespace?: string;
  /** Source-mapped stack traces in the functions' logs, at ~20 ms per cold start (default false). */
  sourceMapStackTraces?: boolean;
  /**
   * PUBLIC_BASE_URL for the functions (per-message receipt callback URLs). Default: the stage URL built from the
   * API id; set it when a custom domain fronts the API.
   */
  publicBaseUrl?: string;
  /** Values for the plain settings, keyed by their environment name (e.g. UPSTREAM_TIMEOUT_MS). */
  settings?: Partial<Record<SettingName, string>>;
  /** Existing secrets (name or complete ARN) to use instead of creating them. */
  existingSecrets?: Partial<Record<SecretName, string>>;
  /** Stage, throttling, quota, WAF and logging-role options of the REST API. */
  api?: BridgeApiProps;
  /** Alarm when a queue's oldest message is older than this (seconds, default 600). */
  queueAgeAlarmSeconds?: number;
  /** Alarm when a queue holds more than this many visible messages for 5 minutes (default 1000). */
  queueDepthAlarmMessages?: number;
  /** Thresholds of the business alarms (docs/operations.md "Alarms"); unset ones keep their defaults. */
  businessAlarms?: Partial<BusinessAlarmThresholds>;
  /** The runbook's address in alarm descriptions and on the dashboard (default `docs/operations.md`). */
  runbookUrl?: string;
  /** Handler source per function; defaults to functions/<name>/handler.ts. */
  functionEntry?: (name: FunctionName) => string;
}

export class CatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogueError';
  }
}

/**
 * Checks what the stack relies on: every route key once, every function with exactly one job (one route or one
 * queue to consume), every queue with its own consumer.
 */
export function checkCatalogue(): void {
  const keys = new Set<string>();
  const jobs = new Map<FunctionName, string>();
  const assign = (fn: FunctionName, job: string) => {
    const existing = jobs.get(fn);
    if (existing) throw new CatalogueError(`Function ${fn} serves both ${existing} and ${job}`);
    jobs.set(fn, job);
  };
  for (const route of ROUTES) {
    const key = routeKey(route);
    if (keys.has(key)) throw new CatalogueError(`Route ${key} is declared twice`);
    keys.add(key);
    assign(route.function, `route ${key}`);
  }
  for (const [queue, spec] of Object.entries(QUEUES)) assign(spec.consumer, `queue ${queue}`);
  for (const [fn, spec] of Object.entries(FUNCTIONS) as [FunctionName, (typeof FUNCTIONS)[FunctionName]][]) {
    if (spec.schedule) assign(fn, `schedule rate(${spec.schedule.rateMinutes} minutes)`);
  }
  for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
    if (!jobs.has(fn)) throw new CatalogueError(`Function ${fn} has neither a route, a queue nor a schedule`);
  }
}

/**
 * The deployed bridge, built entirely from the catalogue in functions/shared/catalogue.ts: REST API routes to one function each,
 * SQS queues (with DLQs) to their consumers, DynamoDB tables, Secrets Manager secrets, alarms, and outputs that
 * tell the operator what to configure in Cognigy and 8x8.
 */
export class BridgeStack extends Stack {
  readonly api: BridgeApi;
  readonly functions = {} as Record<FunctionName, BridgeFunction>;
  readonly queues = {} as Record<QueueName, BridgeQueue>;
  readonly tables = {} as Record<TableName, BridgeTable>;
  readonly secrets = {} as Record<SecretName, BridgeSecret>;
  readonly alarms: BridgeAlarms;
  readonly dashboard: BridgeDashboard;
  /** PUBLIC_BASE_URL as given to the functions. */
  readonly publicBaseUrl: string;

  constructor(scope: Construct, id: string, props: BridgeStackProps = {}) {
    super(scope, id, {
      description:
        'Cognigy.AI to 8x8 bridge: SMS through 8x8 Connect and agent handover to 8x8 Contact Center',
      ...props,
    });
    checkCatalogue();
    const dataRemoval = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    for (const name of Object.keys(TABLES) as TableName[]) {
      this.tables[name] = new BridgeTable(this, `${pascal(name)}Table`, { name, removalPolicy: dataRemoval });
    }
    for (const name of Object.keys(QUEUES) as QueueName[]) {
      // A queue holds accepted work (an SMS waiting for 8x8, a chat message): kept like the tables on deletion.
      this.queues[name] = new BridgeQueue(this, `${pascal(name)}Queue`, { name, removalPolicy: dataRemoval });
    }
    for (const name of Object.keys(SECRETS) as SecretName[]) {
      this.secrets[name] = new BridgeSecret(this, `${pascal(name)}Secret`, {
        name,
        existingSecret: props.existingSecrets?.[name],
        removalPolicy: dataRemoval,
      });
    }
    this.alarms = new BridgeAlarms(this, 'Alarms', {
      alarmEmail: props.alarmEmail,
      queueAgeAlarmSeconds: props.queueAgeAlarmSeconds,
      queueDepthAlarmMessages: props.queueDepthAlarmMessages,
      runbookUrl: props.runbookUrl,
      business: props.businessAlarms,
    });
    this.api = new BridgeApi(this, 'Api', { logRetention, logRemovalPolicy: dataRemoval, ...props.api });
    this.publicBaseUrl = props.publicBaseUrl ?? this.api.baseUrl;

    const settings: Record<string, string> = {
      [SETTINGS.publicBaseUrl]: this.publicBaseUrl,
      // Records written before tenancy carry no owner: they stay the default key's (functions/shared/tenancy.ts).
      [SETTINGS.unownedRecordsOwner]: this.api.apiKey.keyId,
    };
    for (const [name, value] of Object.entries(props.settings ?? {})) {
      if (value !== undefined && name !== SETTINGS.publicBaseUrl) settings[name] = value;
    }
    // The catalogue's rules, at synth: a refused value fails `cdk synth` instead of every request after deploy.
    // Values the stack resolves at deploy time (the API's own URL, the key id) are tokens, not checkable text.
    const [invalid] = settingProblems(
      Object.fromEntries(Object.entries(settings).filter(([, value]) => !Token.isUnresolved(value))),
    );
    if (invalid) throw invalid;
    if (settings[SETTINGS.allowLoopbackUrls] === 'true') {
      // Loopback callback URLs exist for the local stack's simulators; in AWS they only open an SSRF path.
      throw new Error(`${SETTINGS.allowLoopbackUrls}=true is for the local stack only`);
    }

    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      this.functions[name] = this.createFunction(name, {
        settings,
        logRetention,
        logRemovalPolicy: dataRemoval,
        props,
      });
    }

    for (const route of ROUTES) this.api.addRoute(route, this.functions[route.function]);
    for (const [name, queue] of Object.entries(this.queues) as [QueueName, BridgeQueue][]) {
      // The batching settings (e.g. SMS_QUEUE_BATCH_SIZE), checked against Lambda's rules at synth.
      queue.attachConsumer(this.functions[QUEUES[name].consumer], queueBatching(name, settings));
      this.alarms.watchDeadLetterQueue(pascal(name), queue.deadLetterQueue);
      this.alarms.watchQueueAge(pascal(name), queue.queue);
      this.alarms.watchQueueDepth(pascal(name), queue.queue);
    }
    for (const [name, spec] of Object.entries(FUNCTIONS) as [
      FunctionName,
      (typeof FUNCTIONS)[FunctionName],
    ][]) {
      if (!spec.schedule) continue;
      const rule = new events.Rule(this, `${pascal(name)}Schedule`, {
        description: `Runs ${name}: ${FUNCTION_DESCRIPTIONS[name]}`,
        schedule: events.Schedule.rate(Duration.minutes(spec.schedule.rateMinutes)),
        targets: [new targets.LambdaFunction(this.functions[name], { retryAttempts: 0 })],
      });
      Validations.of(rule).acknowledge({
        id: 'Serverless-EventBusDLQ',
        reason: 'A missed tick needs no replay: the next one, a period later, does the same work',
      });
    }
    for (const [name, fn] of Object.entries(this.functions)) this.alarms.watchFunction(pascal(name), fn);
    const sweepAlarmThreshold = Number(settings[SETTINGS.smsSweepAlarmThreshold] ?? 1);
    if (sweepAlarmThreshold > 0) {
      this.alarms.watchOutboxSweeps({
        namespace: props.metricsNamespace ?? 'Cognigy8x8Bridge',
        service: 'sms-sweeper',
        threshold: sweepAlarmThreshold,
      });
    }
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    this.alarms.watchApi(this.api.api);
    this.alarms.watchWebhookBodyMismatch(metricsNamespace);
    this.alarms.watchBusiness(metricsNamespace);
    this.dashboard = new BridgeDashboard(this, 'Dashboard', {
      metricsNamespace,
      functions: this.functions,
      queues: this.queues,
      api: this.api.api,
      alarms: this.alarms.alarms,
      runbookUrl: props.runbookUrl,
    });

    this.addOutputs();
  }

  /** One function with exactly the environment and permissions its catalogue entry declares. */
  private createFunction(
    name: FunctionName,
    options: {
      settings: Record<string, string>;
      logRetention: logs.RetentionDays;
      logRemovalPolicy: RemovalPolicy;
      props: BridgeStackProps;
    },
  ): BridgeFunction {
    const spec = FUNCTIONS[name];
    const environment = functionEnvironment(name, {
      tables: mapNames(TABLES, (t) => this.tables[t].table.tableName),
      queueUrls: mapNames(QUEUES, (q) => this.queues[q].queue.queueUrl),
      secrets: mapNames(SECRETS, (s) => this.secrets[s].reference),
      settings: options.settings,
    });

    const fn = new BridgeFunction(this, `${pascal(name)}Function`, {
      name,
      environment,
      logRetention: options.logRetention,
      logRemovalPolicy: options.logRemovalPolicy,
      entry: options.props.functionEntry?.(name),
      logLevel: options.props.logLevel,
      metricsNamespace: options.props.metricsNamespace,
      sourceMapStackTraces: options.props.sourceMapStackTraces,
    });

    for (const [table, mode] of Object.entries(spec.tables) as [TableName, 'r' | 'rw'][]) {
      const { table: ddb } = this.tables[table];
      if (mode === 'rw') ddb.grantReadWriteData(fn);
      else ddb.grantReadData(fn);
      if (TABLES[table].indexes.length > 0) {
        // CDK grants `<table arn>/index/*`: the table's own GSIs, which the function queries by design.
        const tableArn = this.resolve(ddb.tableArn) as { 'Fn::GetAtt': [string, string] };
        Validations.of(fn.executionRole).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${tableArn['Fn::GetAtt'][0]}.Arn>/index/*]`,
          reason: `Queries the GSIs of the ${table} table (${TABLES[table].indexes.map((i) => i.name).join(', ')}) only`,
        });
      }
    }
    for (const queue of spec.sendsTo) this.queues[queue].queue.grantSendMessages(fn);
    for (const secret of spec.secrets) this.secrets[secret].secret.grantRead(fn);
    return fn;
  }

  private addOutputs(): void {
    const route = (fn: FunctionName) => {
      const found = ROUTES.find((r) => r.function === fn);
      if (!found) throw new CatalogueError(`No route for ${fn}`);
      return found;
    };
    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL for the Cognigy HTTP Request nodes (send the API key as x-api-key)',
      value: this.api.api.url,
    });
    new CfnOutput(this, 'PublicBaseUrl', {
      description: 'PUBLIC_BASE_URL given to the functions',
      value: this.publicBaseUrl,
    });
    new CfnOutput(this, 'ApiKeyId', {
      description: 'Id of the Cognigy API key; read its value with the ApiKeyValueCommand output',
      value: this.api.apiKey.keyId,
    });
    new CfnOutput(this, 'ApiKeyValueCommand', {
      description: 'Prints the API key value (never stored in the template or outputs)',
      value: Fn.join('', [
        'aws apigateway get-api-key --api-key ',
        this.api.apiKey.keyId,
        ' --include-value --query value --output text',
      ]),
    });
    for (const [name, tenant] of this.api.tenants) {
      new CfnOutput(this, `TenantApiKeyId${name}`, {
        description: `Id of tenant ${name}'s API key; its value: aws apigateway get-api-key --api-key <id> --include-value`,
        value: tenant.apiKey.keyId,
      });
    }
    new CfnOutput(this, 'SmsReceiptWebhookUrl', {
      description:
        "8x8 Connect webhook for outbound_message_status_changed (send the smsWebhookAuth 'authorization' value as Authorization)",
      value: this.api.urlFor(route('sms-receipt')),
    });
    new CfnOutput(this, 'SmsInboundWebhookUrl', {
      description:
        '8x8 Connect webhook for inbound_message_received (the same Authorization as receipts; the receipt URL takes them too)',
      value: this.api.urlFor(route('sms-inbound-webhook')),
    });
    new CfnOutput(this, 'ChatGatewayWebhookUrl', {
      description: '8x8 Contact Center Chat Gateway v1.0 webhook URL',
      value: this.api.urlFor(route('handover-webhook')),
    });
    for (const [name, secret] of Object.entries(this.secrets) as [SecretName, BridgeSecret][]) {
      new CfnOutput(this, `${pascal(name)}SecretName`, {
        description: `Secret ${name}: ${SECRET_DOCS[name].description} (env ${SECRETS[name].nameEnv})`,
        value: secret.imported ? secret.reference : secret.secret.secretName,
      });
    }
    for (const [name, queue] of Object.entries(this.queues) as [QueueName, BridgeQueue][]) {
      new CfnOutput(this, `${pascal(name)}QueueUrl`, {
        description: `The ${name} queue (its DLQ redrives with: npm run redrive -- --queue ${name} --queue-url <this>)`,
        value: queue.queue.queueUrl,
      });
    }
    new CfnOutput(this, 'DashboardUrl', {
      description:
        'The operations dashboard in the CloudWatch console (docs/operations.md "Reading the dashboard")',
      value: this.dashboard.url,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic that receives every alarm; subscribe on-call tooling to it',
      value: this.alarms.topic.topicArn,
    });
  }
}

function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

/** A rule whose parse is a function that throws with a reason (tenants, source addresses). */
function customRule<T>(allowed: string, parse: (text: string) => T): SettingRule<T | undefined> {
  return {
    allowed,
    parse: (value) => {
      if (value === undefined || value.trim() === '') return undefined;
      try {
        return parse(value);
      } catch (error) {
        throw new InvalidValueError(error instanceof Error ? error.message : String(error));
      }
    },
  };
}

const positive = () => positiveNumber({ fallback: undefined });
const numberFrom = (min: number, max?: number) =>
  customRule(`a number from ${min}${max === undefined ? ' on' : ` to ${max}`}`, (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || (max !== undefined && parsed > max)) {
      throw new Error('out of range');
    }
    return parsed;
  });

/**
 * Every `-c` context option of the app (bin/app.ts) with the rule of its value (functions/shared/setting-rules.ts),
 * checked before anything is built; the settings (SETTINGS, e.g. `-c UPSTREAM_TIMEOUT_MS=7000`) follow their own
 * rules from the catalogue, and `<secret>SecretName` options name existing secrets (SECRETS).
 */
export const CONTEXT_OPTIONS = {
  stackName: customRule(
    'a CloudFormation stack name (a letter, then letters, digits and hyphens, at most 128 characters)',
    (value) => {
      if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(value)) throw new Error('not a stack name');
      return value;
    },
  ),
  alarmEmail: text('an e-mail address'),
  destroyData: flag(false),
  logRetentionDays: customRule(`one of ${RETENTION_DAYS.join(', ')} (days)`, (value) => {
    const days = Number(value);
    if (!RETENTION_DAYS.includes(days))
      throw new Error('CloudWatch Logs offers only these retention periods');
    return days as logs.RetentionDays;
  }),
  logLevel: oneOf(['DEBUG', 'INFO', 'WARN', 'ERROR'], undefined),
  sourceMapStackTraces: flag(false),
  publicBaseUrl: httpUrl(),
  queueAgeAlarmSeconds: positive(),
  queueDepthAlarmMessages: positive(),
  apiQuotaLimit: positive(),
  apiQuotaPeriod: oneOf(['DAY', 'WEEK', 'MONTH'], 'DAY'),
  stageName: text('an API Gateway stage name'),
  stageRateLimit: positive(),
  stageBurstLimit: positive(),
  apiRateLimit: positive(),
  apiBurstLimit: positive(),
  webAclArn: text('the ARN of a WAFv2 web ACL'),
  tenants: customRule(
    'a comma-separated list of tenant names or a JSON list of {name, rateLimit, burstLimit, quotaLimit, quotaPeriod}',
    (value) => tenantsFromContext(value),
  ),
  createWebAcl: flag(true),
  webAclRateLimit: positive(),
  chatWebhookSourceIps: customRule('a comma-separated list of CIDR ranges or 8x8:<region>', (value) =>
    parseSourceIps(value),
  ),
  smsWebhookSourceIps: customRule('a comma-separated list of CIDR ranges or 8x8:<region>', (value) =>
    parseSourceIps(value),
  ),
  createApiGatewayCloudWatchRole: flag(true),
  runbookUrl: httpUrl(),
  // The business alarms' thresholds (lib/constructs/bridge-alarms.ts): the counts and the receipt silence take 0 to
  // switch their alarm off.
  smsFailureRatioPercent: numberFrom(0, 100),
  smsFailureMinOutcomes: numberFrom(1),
  webhookRefusedAlarmCount: numberFrom(0),
  cognigyPushFailureAlarmCount: numberFrom(0),
  receiptSilenceMinutes: numberFrom(0),
} satisfies Record<string, SettingRule<unknown>>;

export type ContextOption = keyof typeof CONTEXT_OPTIONS;

/** A context value as text: `-c` gives strings, cdk.json may give numbers, booleans or JSON. */
function contextText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** One context option, checked by its rule; a refusal is a ContextError naming the option, its value and what is allowed. */
export function contextOption<K extends ContextOption>(
  get: (key: string) => unknown,
  key: K,
): ReturnType<(typeof CONTEXT_OPTIONS)[K]['parse']> {
  const value = contextText(get(key));
  const rule = CONTEXT_OPTIONS[key] as SettingRule<ReturnType<(typeof CONTEXT_OPTIONS)[K]['parse']>>;
  try {
    return rule.parse(value);
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    throw new ContextError(
      invalidValueSentence(`Context option ${key}`, value ?? '', rule.allowed, error.detail),
    );
  }
}

/**
 * Stack props from CDK context (`cdk deploy -c alarmEmail=ops@example.com -c destroyData=true ...`). Every option
 * is checked by its rule (CONTEXT_OPTIONS) and every setting by the catalogue's; the first refusal throws a
 * ContextError or InvalidSettingError whose message names the option, its value and what is allowed.
 */
export function bridgeStackPropsFromContext(get: (key: string) => unknown): BridgeStackProps {
  const option = <K extends ContextOption>(key: K) => contextOption(get, key);
  const throttle = (rate: 'stageRateLimit' | 'apiRateLimit', burst: 'stageBurstLimit' | 'apiBurstLimit') => {
    const rateLimit = option(rate);
    const burstLimit = option(burst);
    if (rateLimit === undefined && burstLimit === undefined) return undefined;
    if (rateLimit === undefined || burstLimit === undefined) {
      throw new ContextError(`Context options ${rate} and ${burst} go together: give both or neither.`);
    }
    return { rateLimit, burstLimit };
  };
  const chat = option('chatWebhookSourceIps');
  const sms = option('smsWebhookSourceIps');
  const quotaLimit = option('apiQuotaLimit');

  const settings: Partial<Record<SettingName, string>> = {};
  for (const [key, spec] of Object.entries(SETTING_SPECS)) {
    const value = contextText(get(spec.env));
    if (value === undefined) continue;
    parseSetting(spec.env, spec.rule as SettingRule<unknown>, value);
    settings[SETTINGS[key as keyof typeof SETTINGS]] = value;
  }
  const existingSecrets: Partial<Record<SecretName, string>> = {};
  for (const name of Object.keys(SECRETS) as SecretName[]) {
    const value = contextText(get(`${name}SecretName`));
    if (value !== undefined) existingSecrets[name] = value;
  }

  const stackName = option('stackName');
  return {
    ...(stackName === undefined ? {} : { stackName }),
    alarmEmail: option('alarmEmail'),
    retainData: !option('destroyData'),
    logRetention: option('logRetentionDays'),
    logLevel: option('logLevel'),
    sourceMapStackTraces: option('sourceMapStackTraces'),
    // Either spelling: the context key, or the setting's own name as README's settings table lists it.
    publicBaseUrl: option('publicBaseUrl') ?? settings[SETTINGS.publicBaseUrl],
    queueAgeAlarmSeconds: option('queueAgeAlarmSeconds'),
    queueDepthAlarmMessages: option('queueDepthAlarmMessages'),
    businessAlarms: businessAlarmsFromContext(get),
    runbookUrl: option('runbookUrl'),
    settings,
    existingSecrets,
    api: {
      stageName: option('stageName'),
      stageThrottle: throttle('stageRateLimit', 'stageBurstLimit'),
      usagePlanThrottle: throttle('apiRateLimit', 'apiBurstLimit'),
      usagePlanQuota:
        quotaLimit === undefined
          ? undefined
          : { limit: quotaLimit, period: apigw.Period[option('apiQuotaPeriod')] },
      webAclArn: option('webAclArn'),
      tenants: option('tenants'),
      createWebAcl: option('createWebAcl'),
      webAclRateLimit: option('webAclRateLimit'),
      webhookSourceIps:
        chat === undefined && sms === undefined
          ? undefined
          : {
              ...(chat === undefined ? {} : { chatGateway: chat }),
              ...(sms === undefined ? {} : { smsReceipt: sms }),
            },
      createCloudWatchRole: option('createApiGatewayCloudWatchRole'),
    },
  };
}

/**
 * The business alarms' thresholds (`-c smsFailureRatioPercent=5 -c receiptSilenceMinutes=30`); the counts and the
 * receipt silence take 0 to switch their alarm off.
 */
export function businessAlarmsFromContext(get: (key: string) => unknown): Partial<BusinessAlarmThresholds> {
  const keys: (keyof BusinessAlarmThresholds)[] = [
    'smsFailureRatioPercent',
    'smsFailureMinOutcomes',
    'webhookRefusedAlarmCount',
    'cognigyPushFailureAlarmCount',
    'receiptSilenceMinutes',
  ];
  const thresholds: Partial<BusinessAlarmThresholds> = {};
  for (const key of keys) {
    const value = contextOption(get, key);
    if (value !== undefined) thresholds[key] = value;
  }
  return thresholds;
}

/**
 * `-c tenants=projectA,projectB` (default throttle and quota) or a JSON list
 * `[{"name":"projectA","rateLimit":10,"burstLimit":20,"quotaLimit":10000,"quotaPeriod":"DAY"}]`.
 */
export function tenantsFromContext(value: string | undefined): TenantProps[] | undefined {
  if (value === undefined) return undefined;
  if (!value.trim().startsWith('[')) {
    return value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '')
      .map((name) => ({ name }));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ContextError('not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new ContextError('not a JSON list');
  return parsed.map((entry: unknown) => {
    const t = (entry ?? {}) as Record<string, unknown>;
    if (typeof t.name !== 'string') throw new ContextError('every tenant needs a name');
    const positive = (key: string): number | undefined => {
      if (t[key] === undefined) return undefined;
      const n = Number(t[key]);
      if (!Number.isFinite(n) || n <= 0)
        throw new ContextError(`Tenant ${t.name}: ${key} must be a positive number`);
      return n;
    };
    const rateLimit = positive('rateLimit');
    const burstLimit = positive('burstLimit');
    if ((rateLimit === undefined) !== (burstLimit === undefined))
      throw new ContextError(`Tenant ${t.name}: rateLimit and burstLimit go together`);
    const quotaLimit = positive('quotaLimit');
    const period = t.quotaPeriod === undefined ? 'DAY' : String(t.quotaPeriod);
    if (!['DAY', 'WEEK', 'MONTH'].includes(period))
      throw new ContextError(`Tenant ${t.name}: quotaPeriod must be DAY, WEEK or MONTH`);
    return {
      name: t.name,
      ...(rateLimit !== undefined && burstLimit !== undefined ? { throttle: { rateLimit, burstLimit } } : {}),
      ...(quotaLimit !== undefined
        ? { quota: { limit: quotaLimit, period: apigw.Period[period as 'DAY'] } }
        : {}),
    };
  });
}

/** One value per catalogue key (tables, queues or secrets), resolved from this stack's constructs. */
function mapNames<K extends string, V>(catalogue: Record<K, unknown>, resolve: (key: K) => V): Record<K, V> {
  return Object.fromEntries((Object.keys(catalogue) as K[]).map((key) => [key, resolve(key)])) as Record<
    K,
    V
  >;
}
