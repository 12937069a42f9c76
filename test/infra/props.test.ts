/**
 * Stack options (props and CDK context) and the guards that refuse a catalogue the stack cannot build safely.
 * One variant stack carries all non-default options so it is synthesized once.
 */
import { App, SecretValue, Stack } from 'aws-cdk-lib';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BridgeFunction } from '../../lib/constructs/bridge-function';
import { BridgeQueue, QueueConfigurationError } from '../../lib/constructs/bridge-queue';
import { FUNCTIONS, QUEUES, ROUTES, SETTINGS, type FunctionName } from '../../functions/shared/catalogue';
import {
  CatalogueError,
  ContextError,
  bridgeStackPropsFromContext,
  checkCatalogue,
  type BridgeStack,
} from '../../lib/stack';
import { InvalidSettingError } from '../../functions/shared/setting-rules';
import {
  credentialFindings,
  functionIds,
  resourcesOfType,
  synthBridge,
  testEntry,
  unbundledApp,
  buildBridge,
  SYNTH_TIMEOUT_MS,
} from './support';

const WEB_ACL = 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/bridge/0a1b2c3d';
const SMS_SECRET_NAME = 'prod/8x8/sms-credentials';
const CHAT_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/8x8/chat-AbCdEf';

let stack: BridgeStack;
let template: Template;
const envOf = (name: FunctionName) =>
  resourcesOfType(template, 'AWS::Lambda::Function')[functionIds(template)[name]]!.Properties.Environment
    .Variables;

beforeAll(() => {
  ({ stack, template } = synthBridge({
    retainData: false,
    logRetention: logs.RetentionDays.ONE_WEEK,
    alarmEmail: 'oncall@example.com',
    publicBaseUrl: 'https://bridge.example.com',
    settings: { UPSTREAM_TIMEOUT_MS: '8000', SMS_RECEIPT_MODE: 'perMessage' },
    sourceMapStackTraces: true,
    existingSecrets: { smsCredentials: SMS_SECRET_NAME, chatGatewayCredentials: CHAT_SECRET_ARN },
    api: {
      stageName: 'live',
      usagePlanThrottle: { rateLimit: 7, burstLimit: 9 },
      usagePlanQuota: { limit: 50_000, period: apigw.Period.DAY },
      webAclArn: WEB_ACL,
      tenants: [
        {
          name: 'ProjectA',
          throttle: { rateLimit: 3, burstLimit: 6 },
          quota: { limit: 1000, period: apigw.Period.MONTH },
        },
        { name: 'ProjectB' },
      ],
    },
  }));
}, SYNTH_TIMEOUT_MS);

describe('tenants (one API key and usage plan each)', () => {
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;

  test('each tenant has its own key under its own usage plan, with its throttle and quota', () => {
    const keys = resourcesOfType(template, 'AWS::ApiGateway::ApiKey');
    expect(Object.keys(keys)).toHaveLength(3); // the default key and two tenants
    const a = stack.api.tenants.get('ProjectA')!;
    const b = stack.api.tenants.get('ProjectB')!;
    const plans = resourcesOfType(template, 'AWS::ApiGateway::UsagePlan');
    expect(Object.keys(plans)).toHaveLength(3);
    expect(plans[idOf(a.usagePlan)]?.Properties).toMatchObject({
      Throttle: { RateLimit: 3, BurstLimit: 6 },
      Quota: { Limit: 1000, Period: 'MONTH' },
    });
    // Without its own limits a tenant gets the default key's.
    expect(plans[idOf(b.usagePlan)]?.Properties).toMatchObject({
      Throttle: { RateLimit: 7, BurstLimit: 9 },
      Quota: { Limit: 50_000, Period: 'DAY' },
    });
    const planKeys = Object.values(resourcesOfType(template, 'AWS::ApiGateway::UsagePlanKey')).map((k) => [
      k.Properties.UsagePlanId,
      k.Properties.KeyId,
    ]);
    expect(planKeys).toEqual(
      expect.arrayContaining([
        [{ Ref: idOf(a.usagePlan) }, { Ref: idOf(a.apiKey) }],
        [{ Ref: idOf(b.usagePlan) }, { Ref: idOf(b.apiKey) }],
        [{ Ref: idOf(stack.api.usagePlan) }, { Ref: idOf(stack.api.apiKey) }],
      ]),
    );
    expect(planKeys).toHaveLength(3);
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.TenantApiKeyIdProjectA?.Value).toEqual({ Ref: idOf(a.apiKey) });
    expect(outputs.TenantApiKeyIdProjectB?.Value).toEqual({ Ref: idOf(b.apiKey) });
  });

  test("records from before tenancy stay the default key's: functions get its id as UNOWNED_RECORDS_OWNER", () => {
    for (const name of ['sms-status', 'handover-status', 'handover-start'] as FunctionName[]) {
      expect(envOf(name)[SETTINGS.unownedRecordsOwner]).toEqual({ Ref: idOf(stack.api.apiKey) });
    }
  });

  test('tenant names are checked', () => {
    const build = (name: string) => () =>
      synthBridge({ api: { tenants: [{ name }, { name: 'Twice' }, { name: 'Twice' }].slice(name ? 0 : 1) } });
    expect(build('bad name!')).toThrow(/letters and digits/);
    expect(build('')).toThrow(/listed twice/);
  });
});

describe('variant stack', () => {
  test('retainData false lets tables, secrets and log groups go with the stack', () => {
    for (const table of Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      for (const resource of Object.values(resourcesOfType(template, type)))
        expect(resource.DeletionPolicy).toBe('Delete');
    }
  });

  test('log retention applies to every log group', () => {
    for (const group of Object.values(resourcesOfType(template, 'AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(7);
    }
  });

  test('the alarm e-mail is subscribed to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  test('an explicit public base URL and settings reach every function', () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      expect(envOf(name)).toMatchObject({
        [SETTINGS.publicBaseUrl]: 'https://bridge.example.com',
        UPSTREAM_TIMEOUT_MS: '8000',
        SMS_RECEIPT_MODE: 'perMessage',
      });
    }
  });

  test('sourceMapStackTraces switches on source-mapped stack traces in every function', () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      expect(envOf(name)).toMatchObject({ NODE_OPTIONS: '--enable-source-maps' });
    }
  });

  test('imported secrets are not created; functions get the given name or ARN and read access to it', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret'))).toHaveLength(2);
    expect(envOf('sms-deliver').SMS_CREDENTIALS_SECRET).toBe(SMS_SECRET_NAME);
    expect(envOf('handover-start').CHAT_GATEWAY_SECRET).toBe(CHAT_SECRET_ARN);
    const policies = JSON.stringify(resourcesOfType(template, 'AWS::IAM::Policy'));
    // A secret imported by name is matched with the random suffix Secrets Manager adds to its ARN.
    expect(policies).toContain(`:secret:${SMS_SECRET_NAME}-??????`);
    expect(policies).toContain(CHAT_SECRET_ARN);
  });

  test('stage name, usage-plan throttle and quota follow the props', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: 'live' });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 7, BurstLimit: 9 },
      Quota: { Limit: 50_000, Period: 'DAY' },
    });
  });

  test('a web ACL is associated with the stage, which then needs no WAF acknowledgement', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: WEB_ACL });
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const stageAcks = stack.api.api.deploymentStage.node.metadata.filter((m) =>
      JSON.stringify(m.data).includes('APIG3'),
    );
    expect(stageAcks).toEqual([]);
  });
});

describe('credential scan', () => {
  test('flags a secret whose value was written into the template', () => {
    const leaky = new Stack(new App(), 'Leaky');
    new secretsmanager.Secret(leaky, 'Leak', {
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify({ apiKey: 'live-key-123' })),
    });
    expect(credentialFindings(Template.fromStack(leaky))).toEqual([expect.stringContaining('apiKey')]);
  });
});

describe('catalogue guards', () => {
  test('the catalogue in functions/shared/catalogue.ts passes', () => {
    expect(() => checkCatalogue()).not.toThrow();
  });

  test('a route declared twice is refused', () => {
    ROUTES.push({ ...ROUTES[0]! });
    try {
      expect(() => checkCatalogue()).toThrow(CatalogueError);
    } finally {
      ROUTES.pop();
    }
  });

  test('a function with no route and no queue is refused', () => {
    const route = ROUTES.findIndex((r) => r.function === 'sms-status');
    const [removed] = ROUTES.splice(route, 1);
    try {
      expect(() => checkCatalogue()).toThrow(/sms-status has neither a route, a queue nor a schedule/);
    } finally {
      ROUTES.splice(route, 0, removed!);
    }
  });

  test('a queue whose visibility timeout is under 6 x its consumer timeout is refused', () => {
    const original = QUEUES.sms.visibilityTimeoutSeconds;
    QUEUES.sms.visibilityTimeoutSeconds = 6 * FUNCTIONS['sms-deliver'].timeoutSeconds - 1;
    try {
      expect(() => new BridgeQueue(new Stack(new App(), 'S'), 'Q', { name: 'sms' })).toThrow(
        QueueConfigurationError,
      );
    } finally {
      QUEUES.sms.visibilityTimeoutSeconds = original;
    }
  });

  test('a queue refuses a consumer other than the catalogue one', () => {
    const scope = new Stack(unbundledApp(), 'S');
    const queue = new BridgeQueue(scope, 'Q', { name: 'sms' });
    const other = new BridgeFunction(scope, 'F', { name: 'sms-status', entry: testEntry('sms-status') });
    expect(() => queue.attachConsumer(other)).toThrow(/consumed by sms-deliver, not sms-status/);
  });
});

describe('SMS queue batching settings', () => {
  test('SMS_QUEUE_BATCH_SIZE and SMS_QUEUE_BATCHING_WINDOW_SECONDS shape the event source; Lambda-invalid ones fail synth', () => {
    const { template } = synthBridge({
      settings: { SMS_QUEUE_BATCH_SIZE: '400', SMS_QUEUE_BATCHING_WINDOW_SECONDS: '2' },
    });
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    const sms = mappings.find((m) => m.Properties.BatchSize === 400);
    expect(sms?.Properties.MaximumBatchingWindowInSeconds).toBe(2);
    expect(() =>
      synthBridge({ settings: { SMS_QUEUE_BATCH_SIZE: '50', SMS_QUEUE_BATCHING_WINDOW_SECONDS: '0' } }),
    ).toThrow(/at least 1 s/);
  });
});

describe('CDK context', () => {
  const fromContext = (values: Record<string, string>) => bridgeStackPropsFromContext((key) => values[key]);

  test('defaults when nothing is given: data retained, no optional parts', () => {
    const props = fromContext({});
    expect(props).toMatchObject({
      retainData: true,
      sourceMapStackTraces: false,
      alarmEmail: undefined,
      publicBaseUrl: undefined,
      settings: {},
    });
    expect(props.api).toMatchObject({
      usagePlanThrottle: undefined,
      usagePlanQuota: undefined,
      createCloudWatchRole: true,
    });
  });

  test('tenants: a comma list of names, or JSON with per-tenant throttle and quota', () => {
    expect(fromContext({ tenants: 'ProjectA, ProjectB' }).api?.tenants).toEqual([
      { name: 'ProjectA' },
      { name: 'ProjectB' },
    ]);
    const json =
      '[{"name":"ProjectA","rateLimit":10,"burstLimit":20,"quotaLimit":5000,"quotaPeriod":"WEEK"}]';
    expect(fromContext({ tenants: json }).api?.tenants).toEqual([
      {
        name: 'ProjectA',
        throttle: { rateLimit: 10, burstLimit: 20 },
        quota: { limit: 5000, period: apigw.Period.WEEK },
      },
    ]);
    expect(() => fromContext({ tenants: '[{"name":"A","rateLimit":10}]' })).toThrow(ContextError);
    expect(() => fromContext({ tenants: '[{"name":"A","quotaPeriod":"YEAR"}]' })).toThrow(ContextError);
    expect(() => fromContext({ tenants: '[oops' })).toThrow(ContextError);
    expect(fromContext({}).api?.tenants).toBeUndefined();
  });

  test('command-line strings become typed props', () => {
    const props = fromContext({
      alarmEmail: 'ops@example.com',
      destroyData: 'true',
      logRetentionDays: '14',
      logLevel: 'WARN',
      sourceMapStackTraces: 'true',
      queueDepthAlarmMessages: '250',
      apiRateLimit: '20',
      apiBurstLimit: '40',
      apiQuotaLimit: '1000',
      apiQuotaPeriod: 'WEEK',
      stageName: 'prod',
      createApiGatewayCloudWatchRole: 'false',
      UPSTREAM_TIMEOUT_MS: '7000',
      smsCredentialsSecretName: 'prod/8x8/sms',
    });
    expect(props).toMatchObject({
      alarmEmail: 'ops@example.com',
      retainData: false,
      logRetention: logs.RetentionDays.TWO_WEEKS,
      logLevel: 'WARN',
      sourceMapStackTraces: true,
      queueDepthAlarmMessages: 250,
      settings: { UPSTREAM_TIMEOUT_MS: '7000' },
      existingSecrets: { smsCredentials: 'prod/8x8/sms' },
      api: {
        stageName: 'prod',
        usagePlanThrottle: { rateLimit: 20, burstLimit: 40 },
        usagePlanQuota: { limit: 1000, period: apigw.Period.WEEK },
        createCloudWatchRole: false,
      },
    });
  });

  test('the public base URL can be given as publicBaseUrl or as the setting PUBLIC_BASE_URL', () => {
    expect(fromContext({ PUBLIC_BASE_URL: 'https://bridge.example.com/v1' }).publicBaseUrl).toBe(
      'https://bridge.example.com/v1',
    );
    expect(
      fromContext({ publicBaseUrl: 'https://a.example.com', PUBLIC_BASE_URL: 'https://b.example.com' })
        .publicBaseUrl,
    ).toBe('https://a.example.com');
  });

  test.each([
    [
      { apiRateLimit: 'fast', apiBurstLimit: '10' },
      'Context option apiRateLimit is "fast", but it must be a number more than 0.',
    ],
    [
      { apiRateLimit: '10' },
      'Context options apiRateLimit and apiBurstLimit go together: give both or neither.',
    ],
    [
      { logRetentionDays: '10' },
      /^Context option logRetentionDays is "10", but it must be one of 1, 3, 5, 7, 14, .* \(days\) \(CloudWatch Logs offers only these retention periods\)\.$/,
    ],
    [
      { apiQuotaLimit: '10', apiQuotaPeriod: 'YEAR' },
      'Context option apiQuotaPeriod is "YEAR", but it must be one of DAY, WEEK or MONTH.',
    ],
    [
      { logLevel: 'verbose' },
      'Context option logLevel is "verbose", but it must be one of DEBUG, INFO, WARN or ERROR.',
    ],
    [{ destroyData: 'yes' }, 'Context option destroyData is "yes", but it must be one of true or false.'],
    [
      { publicBaseUrl: 'bridge.example.com' },
      'Context option publicBaseUrl is "bridge.example.com", but it must be an absolute http:// or https:// URL.',
    ],
    [
      { tenants: '[oops' },
      /^Context option tenants is "\[oops", but it must be a comma-separated list .* \(not valid JSON\)\.$/,
    ],
    [
      { smsWebhookSourceIps: '8x8:mars' },
      /^Context option smsWebhookSourceIps is "8x8:mars", but it must be a comma-separated list of CIDR ranges or 8x8:<region> \(8x8:mars: 8x8 publishes SMS webhook addresses for .*\)\.$/,
    ],
    [
      { stackName: '9lives' },
      /^Context option stackName is "9lives", but it must be a CloudFormation stack name/,
    ],
  ])('refuses %j with one sentence naming the option, the value and what is allowed', (values, message) => {
    expect(() => fromContext(values as Record<string, string>)).toThrow(ContextError);
    expect(() => fromContext(values as Record<string, string>)).toThrow(message);
  });

  test.each([
    ['UPSTREAM_TIMEOUT_MS', 'abc', 'a whole number from 1 to 60000 milliseconds'],
    ['HANDOVER_RULES', 'nope', 'a JSON object of relay rules (README "Relay rules") (not JSON)'],
    ['SMS_RECEIPT_MODE', 'perRequest', 'one of account or perMessage'],
  ])('a setting given as context (-c %s=%s) is checked by its catalogue rule', (name, value, allowed) => {
    expect(() => fromContext({ [name]: value })).toThrow(InvalidSettingError);
    expect(() => fromContext({ [name]: value })).toThrow(
      `Setting ${name} is ${JSON.stringify(value)}, but it must be ${allowed}.`,
    );
  });
});

describe('settings at synth', () => {
  test.each([
    ['UPSTREAM_TIMEOUT_MS', 'abc', 'a whole number from 1 to 60000 milliseconds'],
    ['RETRY_MAX_DELAY_SECONDS', '0', 'a number more than 0 and at most 43200 seconds'],
    ['ACCEPT_UNSIGNED_VERIFY', 'yes', 'one of true or false'],
    [
      'HANDOVER_RULES',
      '{"typing":"shout"}',
      'a JSON object of relay rules (README "Relay rules") (typing: Invalid option: expected one of "ignore"|"inject")',
    ],
  ])(
    'the stack constructor refuses %s=%s, naming the setting, the value and what is allowed',
    (name, value, allowed) => {
      const build = () => buildBridge({ settings: { [name]: value } });
      expect(build).toThrow(InvalidSettingError);
      expect(build).toThrow(`Setting ${name} is ${JSON.stringify(value)}, but it must be ${allowed}.`);
    },
  );

  test('cdk synth (the app, bin/app.ts) fails with that one sentence and no stack trace', () => {
    const root = path.resolve(__dirname, '../..');
    const run = spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
      cwd: root,
      // How the CDK CLI hands `-c` options to the app.
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ UPSTREAM_TIMEOUT_MS: 'abc' }),
        CDK_OUTDIR: os.tmpdir(),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ status: run.status, stderr: run.stderr.trim() }).toEqual({
      status: 1,
      stderr:
        'Setting UPSTREAM_TIMEOUT_MS is "abc", but it must be a whole number from 1 to 60000 milliseconds.',
    });
  }, 60_000);
});
