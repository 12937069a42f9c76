import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
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
import {
  FUNCTIONS,
  QUEUES,
  ROUTES,
  SECRETS,
  SETTINGS,
  TABLES,
  functionEnvironment,
  routeKey,
  type FunctionName,
  type QueueName,
  type SecretName,
  type TableName,
} from '../functions/shared/catalogue';

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
      queue.attachConsumer(this.functions[QUEUES[name].consumer]);
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
        description: `Runs ${name}: ${spec.description}`,
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
    new CfnOutput(this, 'ChatGatewayWebhookUrl', {
      description: '8x8 Contact Center Chat Gateway v1.0 webhook URL',
      value: this.api.urlFor(route('handover-webhook')),
    });
    for (const [name, secret] of Object.entries(this.secrets) as [SecretName, BridgeSecret][]) {
      new CfnOutput(this, `${pascal(name)}SecretName`, {
        description: `Secret ${name}: ${SECRETS[name].description} (env ${SECRETS[name].nameEnv})`,
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

const RETENTION_DAYS = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'),
);

export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

/**
 * Stack props from CDK context (`cdk deploy -c alarmEmail=ops@example.com -c destroyData=true ...`); context values
 * given on the command line are strings, so numbers and booleans are parsed and checked here.
 */
export function bridgeStackPropsFromContext(get: (key: string) => unknown): BridgeStackProps {
  const text = (key: string): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value);
  };
  const number = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0)
      throw new ContextError(`Context ${key} must be a positive number`);
    return parsed;
  };
  const logRetentionDays = number('logRetentionDays');
  if (logRetentionDays !== undefined && !RETENTION_DAYS.has(logRetentionDays)) {
    throw new ContextError(`Context logRetentionDays must be one of ${[...RETENTION_DAYS].join(', ')}`);
  }
  const quotaLimit = number('apiQuotaLimit');
  const quotaPeriod = text('apiQuotaPeriod') ?? 'DAY';
  if (!['DAY', 'WEEK', 'MONTH'].includes(quotaPeriod))
    throw new ContextError('Context apiQuotaPeriod must be DAY, WEEK or MONTH');
  const throttle = (rate: string, burst: string) => {
    const rateLimit = number(rate);
    const burstLimit = number(burst);
    if (rateLimit === undefined && burstLimit === undefined) return undefined;
    if (rateLimit === undefined || burstLimit === undefined) {
      throw new ContextError(`Context ${rate} and ${burst} go together`);
    }
    return { rateLimit, burstLimit };
  };
  // e.g. -c smsWebhookSourceIps=8x8:europe -c chatWebhookSourceIps=203.0.113.0/24
  const sourceIps = () => {
    const chat = text('chatWebhookSourceIps');
    const sms = text('smsWebhookSourceIps');
    if (chat === undefined && sms === undefined) return undefined;
    return {
      ...(chat === undefined ? {} : { chatGateway: parseSourceIps(chat) }),
      ...(sms === undefined ? {} : { smsReceipt: parseSourceIps(sms) }),
    };
  };
  const logLevel = text('logLevel');
  if (logLevel !== undefined && !['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) {
    throw new ContextError('Context logLevel must be DEBUG, INFO, WARN or ERROR');
  }

  const settings: Partial<Record<SettingName, string>> = {};
  for (const name of Object.values(SETTINGS)) {
    const value = text(name);
    if (value !== undefined) settings[name] = value;
  }
  const existingSecrets: Partial<Record<SecretName, string>> = {};
  for (const name of Object.keys(SECRETS) as SecretName[]) {
    const value = text(`${name}SecretName`);
    if (value !== undefined) existingSecrets[name] = value;
  }

  return {
    alarmEmail: text('alarmEmail'),
    retainData: text('destroyData') !== 'true',
    logRetention: logRetentionDays as logs.RetentionDays | undefined,
    logLevel: logLevel as BridgeStackProps['logLevel'],
    sourceMapStackTraces: text('sourceMapStackTraces') === 'true',
    // Either spelling: the context key, or the setting's own name as README's settings table lists it.
    publicBaseUrl: text('publicBaseUrl') ?? text(SETTINGS.publicBaseUrl),
    queueAgeAlarmSeconds: number('queueAgeAlarmSeconds'),
    queueDepthAlarmMessages: number('queueDepthAlarmMessages'),
    businessAlarms: businessAlarmsFromContext(get),
    runbookUrl: text('runbookUrl'),
    settings,
    existingSecrets,
    api: {
      stageName: text('stageName'),
      stageThrottle: throttle('stageRateLimit', 'stageBurstLimit'),
      usagePlanThrottle: throttle('apiRateLimit', 'apiBurstLimit'),
      usagePlanQuota:
        quotaLimit === undefined
          ? undefined
          : { limit: quotaLimit, period: apigw.Period[quotaPeriod as 'DAY'] },
      webAclArn: text('webAclArn'),
      tenants: tenantsFromContext(text('tenants')),
      createWebAcl: text('createWebAcl') !== 'false',
      webAclRateLimit: number('webAclRateLimit'),
      webhookSourceIps: sourceIps(),
      createCloudWatchRole: text('createApiGatewayCloudWatchRole') !== 'false',
    },
  };
}

/**
 * The business alarms' thresholds (`-c smsFailureRatioPercent=5 -c receiptSilenceMinutes=30`); the counts and the
 * receipt silence take 0 to switch their alarm off.
 */
export function businessAlarmsFromContext(get: (key: string) => unknown): Partial<BusinessAlarmThresholds> {
  const limits: Record<keyof BusinessAlarmThresholds, { min: number; max?: number }> = {
    smsFailureRatioPercent: { min: 0, max: 100 },
    smsFailureMinOutcomes: { min: 1 },
    webhookRefusedAlarmCount: { min: 0 },
    cognigyPushFailureAlarmCount: { min: 0 },
    receiptSilenceMinutes: { min: 0 },
  };
  const thresholds: Partial<BusinessAlarmThresholds> = {};
  for (const [key, { min, max }] of Object.entries(limits) as [
    keyof BusinessAlarmThresholds,
    { min: number; max?: number },
  ][]) {
    const value = get(key);
    if (value === undefined || value === null || value === '') continue;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || (max !== undefined && parsed > max)) {
      throw new ContextError(
        `Context ${key} must be a number from ${min}${max === undefined ? ' on' : ` to ${max}`}, not ${String(value)}`,
      );
    }
    thresholds[key] = parsed;
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
    throw new ContextError('Context tenants is not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new ContextError('Context tenants must be a JSON list');
  return parsed.map((entry: unknown) => {
    const t = (entry ?? {}) as Record<string, unknown>;
    if (typeof t.name !== 'string') throw new ContextError('Every tenant needs a name');
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
