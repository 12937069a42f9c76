/**
 * The deployed shape of the bridge, one assertion per security or reliability default, read from the synthesized
 * CloudFormation template (no bundling; the template is synthesized once for the whole file).
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  FUNCTIONS,
  QUEUES,
  ROUTES,
  SECRETS,
  SETTINGS,
  TABLES,
  maxReceiveCountEnv,
  routeKey,
  type FunctionName,
  type QueueName,
  type SecretName,
  type TableName,
} from '../../functions/shared/catalogue';
import { FUNCTION_DESCRIPTIONS, SECRET_DOCS } from '../../functions/shared/catalogue-docs';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../lib/constructs/bridge-queue';
import { SECRET_TEMPLATES } from '../../lib/constructs/bridge-data';
import {
  AccessDeniedError,
  DYNAMODB_READ_WRITE_ACTIONS,
  functionAccessKeyId,
  LocalGrants,
  SECRET_READ_ACTIONS,
  SQS_CONSUME_ACTIONS,
  SQS_SEND_ACTIONS,
  type LocalService,
} from '../../lib/local/grants';
import type { BridgeStack } from '../../lib/stack';
import {
  asArray,
  credentialFindings,
  functionIds,
  refId,
  resourceIds,
  resourcesOfType,
  statementsOfRole,
  synthBridge,
  type CfnResource,
  SYNTH_TIMEOUT_MS,
} from './support';

let stack: BridgeStack;
let template: Template;
let fnIds: Record<FunctionName, string>;
let functions: Record<string, CfnResource>;

const functionNames = Object.keys(FUNCTIONS) as FunctionName[];
const queueNames = Object.keys(QUEUES) as QueueName[];
const tableNames = Object.keys(TABLES) as TableName[];
const secretNames = Object.keys(SECRETS) as SecretName[];

const idOf = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const fnOf = (name: FunctionName) => functions[fnIds[name]]!;
const envOf = (name: FunctionName): Record<string, unknown> => fnOf(name).Properties.Environment.Variables;
const roleOf = (name: FunctionName): string => refId(fnOf(name).Properties.Role)!;
const actionsOn = (name: FunctionName, resourceId: string): Set<string> =>
  new Set(
    statementsOfRole(template, roleOf(name))
      .filter((s) => s.Effect === 'Allow' && resourceIds(s).includes(resourceId))
      .flatMap((s) => asArray(s.Action)),
  );

const mapNames = <K extends string>(keys: K[], value: (key: K) => string) =>
  Object.fromEntries(keys.map((key) => [key, value(key)])) as Record<K, string>;

beforeAll(() => {
  ({ stack, template } = synthBridge());
  fnIds = functionIds(template);
  functions = resourcesOfType(template, 'AWS::Lambda::Function');
}, SYNTH_TIMEOUT_MS);

describe('functions', () => {
  test('one function per catalogue entry, with its timeout, memory and description', () => {
    expect(Object.keys(fnIds).sort()).toEqual([...functionNames].sort());
    expect(Object.keys(functions)).toHaveLength(functionNames.length);
    for (const name of functionNames) {
      expect(fnOf(name).Properties).toMatchObject({
        Timeout: FUNCTIONS[name].timeoutSeconds,
        MemorySize: FUNCTIONS[name].memoryMb,
        Description: FUNCTION_DESCRIPTIONS[name],
      });
    }
  });

  test('every function runs Node.js 22 on ARM64', () => {
    for (const name of functionNames) {
      expect(fnOf(name).Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    }
  });

  test('every function has active X-Ray tracing, created after its X-Ray permissions', () => {
    const policies = resourcesOfType(template, 'AWS::IAM::Policy');
    for (const name of functionNames) {
      expect(fnOf(name).Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const dependsOn = asArray((fnOf(name) as unknown as { DependsOn?: string[] }).DependsOn);
      const xray = dependsOn.filter((id) =>
        JSON.stringify(policies[id]?.Properties.PolicyDocument ?? '').includes('xray:PutTraceSegments'),
      );
      expect(xray).toHaveLength(1);
      expect(policies[xray[0]!]!.Properties.Roles).toEqual([{ Ref: roleOf(name) }]);
    }
  });

  test('every function logs to its own log group with a retention', () => {
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    const used = functionNames.map((name) => refId(fnOf(name).Properties.LoggingConfig?.LogGroup));
    expect(new Set(used).size).toBe(functionNames.length);
    for (const id of used) expect(logGroups[id!]?.Properties.RetentionInDays).toBe(30);
  });

  test('every function has its own role without AWS managed policies', () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    const used = functionNames.map(roleOf);
    expect(new Set(used).size).toBe(functionNames.length);
    for (const id of used) {
      expect(roles[id]).toBeDefined();
      expect(roles[id]!.Properties.ManagedPolicyArns).toBeUndefined();
      expect(roles[id]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' } }),
      ]);
    }
  });

  test('every function may write to its own log group only', () => {
    for (const name of functionNames) {
      const logGroupId = refId(fnOf(name).Properties.LoggingConfig.LogGroup)!;
      const logStatements = statementsOfRole(template, roleOf(name)).filter((s) =>
        asArray(s.Action).some((a) => a.startsWith('logs:')),
      );
      expect(logStatements).toHaveLength(1);
      expect(resourceIds(logStatements[0]!)).toEqual([logGroupId]);
    }
  });

  test('Powertools settings are set per function', () => {
    for (const name of functionNames) {
      expect(envOf(name)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: 'Cognigy8x8Bridge',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      // Source-mapped stack traces cost ~20 ms per cold start; they are opt-in (sourceMapStackTraces).
      expect(envOf(name)).not.toHaveProperty('NODE_OPTIONS');
    }
  });

  test('each function gets the names of exactly the tables, queues and secrets it declares', () => {
    for (const name of functionNames) {
      const spec = FUNCTIONS[name];
      const env = envOf(name);
      for (const table of tableNames) {
        if (spec.tables[table])
          expect(refId(env[TABLES[table].nameEnv])).toBe(idOf(stack.tables[table].table));
        else expect(env[TABLES[table].nameEnv]).toBeUndefined();
      }
      for (const queue of queueNames) {
        const uses = spec.sendsTo.includes(queue) || QUEUES[queue].consumer === name;
        if (uses) expect(refId(env[QUEUES[queue].urlEnv])).toBe(idOf(stack.queues[queue].queue));
        else expect(env[QUEUES[queue].urlEnv]).toBeUndefined();
      }
      for (const secret of secretNames) {
        if (spec.secrets.includes(secret)) {
          expect(refId(env[SECRETS[secret].nameEnv])).toBe(idOf(stack.secrets[secret].secret));
        } else expect(env[SECRETS[secret].nameEnv]).toBeUndefined();
      }
    }
  });

  test('queue consumers learn their maxReceiveCount from the catalogue', () => {
    for (const queue of queueNames) {
      expect(envOf(QUEUES[queue].consumer)[maxReceiveCountEnv(queue)]).toBe(
        String(QUEUES[queue].maxReceiveCount),
      );
    }
  });

  test('PUBLIC_BASE_URL is built from the API id and stage name, not the stage (no dependency cycle)', () => {
    const apiId = idOf(stack.api.api);
    for (const name of functionNames) {
      const joined = JSON.stringify(envOf(name).PUBLIC_BASE_URL);
      expect(joined).toContain(`{"Ref":"${apiId}"}`);
      expect(joined).toContain('/v1');
      expect(joined).not.toMatch(/Stage|Deployment/);
    }
  });
});

describe('template', () => {
  test('has no dependency cycle (functions carry the API URL without depending on the stage)', () => {
    const resources = template.toJSON().Resources as Record<string, { DependsOn?: string | string[] }>;
    const edges = new Map<string, Set<string>>();
    for (const [id, resource] of Object.entries(resources)) {
      const targets = new Set<string>(asArray(resource.DependsOn));
      const visit = (value: unknown) => {
        const target = refId(value);
        if (target && target in resources) targets.add(target);
        else if (Array.isArray(value)) value.forEach(visit);
        else if (value && typeof value === 'object') Object.values(value).forEach(visit);
      };
      visit(resource);
      edges.set(id, targets);
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const walk = (id: string, path: string[]) => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(id)), id].join(' -> '));
        return;
      }
      state.set(id, 'visiting');
      for (const next of edges.get(id) ?? []) walk(next, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of edges.keys()) walk(id, []);
    expect(cycles).toEqual([]);
  });
});

describe('least privilege', () => {
  const allStatements = () =>
    Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(
      (p) =>
        p.Properties.PolicyDocument.Statement as { Effect: string; Action: unknown; Resource: unknown }[],
    );

  test('no policy allows a wildcard action', () => {
    for (const statement of allStatements()) {
      for (const action of asArray(statement.Action as string | string[])) expect(action).not.toContain('*');
    }
  });

  test('Resource "*" appears only for the X-Ray actions, which have no resource-level permissions', () => {
    const starred = allStatements().filter((s) => asArray(s.Resource).includes('*'));
    expect(starred.length).toBeGreaterThan(0);
    for (const statement of starred) {
      expect(asArray(statement.Action as string[]).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
  });

  test('table access matches the catalogue: writes only for "rw", nothing on undeclared tables', () => {
    for (const name of functionNames) {
      for (const table of tableNames) {
        const actions = actionsOn(name, idOf(stack.tables[table].table));
        const mode = FUNCTIONS[name].tables[table];
        if (!mode) expect([...actions]).toEqual([]);
        else {
          expect(actions.has('dynamodb:GetItem')).toBe(true);
          expect(actions.has('dynamodb:Query')).toBe(true);
          expect(actions.has('dynamodb:PutItem')).toBe(mode === 'rw');
          expect(actions.has('dynamodb:UpdateItem')).toBe(mode === 'rw');
        }
      }
    }
  });

  test('queue access matches the catalogue: senders send, the consumer receives and changes visibility', () => {
    for (const name of functionNames) {
      for (const queue of queueNames) {
        const actions = actionsOn(name, idOf(stack.queues[queue].queue));
        expect(actions.has('sqs:SendMessage')).toBe(FUNCTIONS[name].sendsTo.includes(queue));
        const consumes = QUEUES[queue].consumer === name;
        expect(actions.has('sqs:ReceiveMessage')).toBe(consumes);
        expect(actions.has('sqs:ChangeMessageVisibility')).toBe(consumes);
        expect(actions.has('sqs:DeleteMessage')).toBe(consumes);
      }
    }
  });

  test('only the two SMS webhooks and the delivery worker can read the receipt Authorization secret', () => {
    // Whoever reads it could forge 8x8 delivery receipts and inbound SMS: the receipt and inbound webhooks check it,
    // the worker signs per-message callback URLs with its key. Accepting or answering an SMS needs no secret at all.
    const readers = functionNames.filter((name) =>
      actionsOn(name, idOf(stack.secrets.smsWebhookAuth.secret)).has('secretsmanager:GetSecretValue'),
    );
    expect(readers.sort()).toEqual(['sms-deliver', 'sms-inbound-webhook', 'sms-receipt']);
  });

  test('secret access matches the catalogue', () => {
    for (const name of functionNames) {
      for (const secret of secretNames) {
        const actions = actionsOn(name, idOf(stack.secrets[secret].secret));
        expect(actions.has('secretsmanager:GetSecretValue')).toBe(FUNCTIONS[name].secrets.includes(secret));
        expect(actions.has('secretsmanager:PutSecretValue')).toBe(false);
      }
    }
  });
  test('the local stand-ins allow each function exactly what its role allows (lib/local/grants.ts)', () => {
    // The local stack's resources named by their logical ids, so local grants and template speak of the same thing.
    const local = new LocalGrants({
      tables: mapNames(tableNames, (t) => idOf(stack.tables[t].table)),
      queueUrls: mapNames(queueNames, (q) => `http://sqs.local/000000000000/${idOf(stack.queues[q].queue)}`),
      secrets: mapNames(secretNames, (s) => idOf(stack.secrets[s].secret)),
    });
    const resources: [LocalService, string][] = [
      ...tableNames.map((t): [LocalService, string] => ['dynamodb', idOf(stack.tables[t].table)]),
      ...queueNames.map((q): [LocalService, string] => ['sqs', idOf(stack.queues[q].queue)]),
      ...secretNames.map((s): [LocalService, string] => ['secretsmanager', idOf(stack.secrets[s].secret)]),
    ];
    const universe: Record<LocalService, string[]> = {
      dynamodb: [...DYNAMODB_READ_WRITE_ACTIONS, 'TransactWriteItems', 'DeleteTable', 'ListTables'],
      sqs: [...SQS_SEND_ACTIONS, ...SQS_CONSUME_ACTIONS, 'PurgeQueue', 'SetQueueAttributes'],
      secretsmanager: [...SECRET_READ_ACTIONS, 'PutSecretValue'],
    };
    let granted = 0;
    for (const name of functionNames) {
      for (const [service, id] of resources) {
        const inTemplate = [...actionsOn(name, id)].filter((a) => a.startsWith(`${service}:`));
        const allowedLocally = [...new Set(universe[service])]
          .filter((action) => {
            try {
              local.check(functionAccessKeyId(name), service, [{ action, resource: id }]);
              return true;
            } catch (error) {
              if (error instanceof AccessDeniedError) return false;
              throw error;
            }
          })
          .map((action) => `${service}:${action}`);
        expect([name, id, allowedLocally.sort()]).toEqual([name, id, [...new Set(inTemplate)].sort()]);
        if (inTemplate.length > 0) granted++;
      }
    }
    // Every resource a function is granted took part in the comparison.
    expect(granted).toBe(
      functionNames.reduce(
        (sum, name) =>
          sum +
          Object.keys(FUNCTIONS[name].tables).length +
          new Set([...FUNCTIONS[name].sendsTo, ...queueNames.filter((q) => QUEUES[q].consumer === name)])
            .size +
          FUNCTIONS[name].secrets.length,
        0,
      ),
    );
  });
});

describe('queues', () => {
  const queues = () => resourcesOfType(template, 'AWS::SQS::Queue');
  const mainQueue = (name: QueueName) => queues()[idOf(stack.queues[name].queue)]!;
  const deadLetterQueue = (name: QueueName) => queues()[idOf(stack.queues[name].deadLetterQueue)]!;

  test('each catalogue queue has exactly one DLQ (six queues in all)', () => {
    expect(Object.keys(queues())).toHaveLength(queueNames.length * 2);
  });

  test('every queue has server-side encryption', () => {
    for (const queue of Object.values(queues())) {
      expect(
        queue.Properties.SqsManagedSseEnabled === true || queue.Properties.KmsMasterKeyId !== undefined,
      ).toBe(true);
    }
  });

  test('every queue denies requests without TLS', () => {
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));
    for (const id of Object.keys(queues())) {
      const policy = policies.find((p) => asArray(p.Properties.Queues).map(refId).includes(id));
      expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  test('every main queue redrives to its DLQ after the catalogue maxReceiveCount', () => {
    for (const name of queueNames) {
      expect(mainQueue(name).Properties.RedrivePolicy).toEqual({
        maxReceiveCount: QUEUES[name].maxReceiveCount,
        deadLetterTargetArn: { 'Fn::GetAtt': [idOf(stack.queues[name].deadLetterQueue), 'Arn'] },
      });
    }
  });

  test('DLQs keep messages 14 days and have no DLQ of their own', () => {
    for (const name of queueNames) {
      expect(deadLetterQueue(name).Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      expect(deadLetterQueue(name).Properties.RedrivePolicy).toBeUndefined();
    }
  });

  test('FIFO queues and their DLQs are FIFO with explicit deduplication; standard queues are not FIFO', () => {
    for (const name of queueNames) {
      for (const queue of [mainQueue(name), deadLetterQueue(name)]) {
        if (QUEUES[name].fifo) {
          expect(queue.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false });
        } else expect(queue.Properties.FifoQueue).toBeUndefined();
      }
    }
  });

  test(`visibility timeout is at least ${VISIBILITY_TIMEOUT_FACTOR} x the consumer timeout`, () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    for (const name of queueNames) {
      const queueId = idOf(stack.queues[name].queue);
      const mapping = mappings.find((m) => refId(m.Properties.EventSourceArn) === queueId)!;
      const consumerTimeout = functions[refId(mapping.Properties.FunctionName)!]!.Properties
        .Timeout as number;
      expect(mainQueue(name).Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        VISIBILITY_TIMEOUT_FACTOR * consumerTimeout,
      );
    }
  });

  test('each queue feeds its consumer with partial batch responses, batch size and a concurrency cap', () => {
    const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(queueNames.length);
    for (const name of queueNames) {
      const mapping = mappings.find(
        (m) => refId(m.Properties.EventSourceArn) === idOf(stack.queues[name].queue),
      );
      expect(mapping?.Properties).toMatchObject({
        FunctionName: { Ref: fnIds[QUEUES[name].consumer] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: QUEUES[name].batchSize,
        ScalingConfig: { MaximumConcurrency: QUEUES[name].maxConcurrency },
      });
      if (QUEUES[name].fifo) expect(mapping?.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
      // The SMS queue: batches of up to 100 gathered for at most 1 s (SMS_QUEUE_BATCH_SIZE / _BATCHING_WINDOW_SECONDS).
      else
        expect(mapping?.Properties.MaximumBatchingWindowInSeconds).toBe(QUEUES[name].batchingWindowSeconds);
    }
  });
});

describe('REST API', () => {
  const methods = () => resourcesOfType(template, 'AWS::ApiGateway::Method');
  const methodOf = (route: (typeof ROUTES)[number]) =>
    methods()[idOf(stack.api.methods.get(routeKey(route))!)]!;

  test('one method per catalogue route, each a Lambda proxy integration to its own function', () => {
    expect(Object.keys(methods())).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const method = methodOf(route);
      expect(method.Properties.HttpMethod).toBe(route.method);
      expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(`"${fnIds[route.function]}","Arn"`);
    }
  });

  test('resource paths match the catalogue', () => {
    const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
    const fullPath = (id: string): string => {
      const resource = resources[id];
      if (!resource) return '';
      return `${fullPath(refId(resource.Properties.ParentId) ?? '')}/${resource.Properties.PathPart}`;
    };
    for (const route of ROUTES)
      expect(fullPath(refId(methodOf(route).Properties.ResourceId)!)).toBe(route.path);
  });

  test('Cognigy routes require the API key; webhook routes do not (they authenticate themselves)', () => {
    for (const route of ROUTES)
      expect(methodOf(route).Properties.ApiKeyRequired).toBe(route.auth === 'apiKey');
  });

  test('every method validates its path parameters; bodies go to the function untouched (no model)', () => {
    const validators = resourcesOfType(template, 'AWS::ApiGateway::RequestValidator');
    expect(Object.values(validators)).toEqual([
      expect.objectContaining({
        Properties: expect.objectContaining({ ValidateRequestBody: true, ValidateRequestParameters: true }),
      }),
    ]);
    const validatorId = Object.keys(validators)[0];
    for (const route of ROUTES) {
      const method = methodOf(route);
      expect(refId(method.Properties.RequestValidatorId)).toBe(validatorId);
      const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => `method.request.path.${m[1]}`);
      expect(Object.keys(method.Properties.RequestParameters ?? {}).sort()).toEqual(params.sort());
      // A model would let API Gateway refuse a body before a webhook authenticates it, with other codes than the
      // function's (and the local stack's).
      expect(method.Properties.RequestModels).toBeUndefined();
    }
  });

  test('the usage plan throttles the API key and covers the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: Match.anyValue(), BurstLimit: Match.anyValue() },
      ApiStages: [Match.objectLike({ ApiId: { Ref: idOf(stack.api.api) }, Stage: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: idOf(stack.api.apiKey) },
      KeyType: 'API_KEY',
    });
  });

  test('the stage has JSON access logs, X-Ray, metrics, error logs without payloads and default throttling', () => {
    const stages = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'));
    expect(stages).toHaveLength(1);
    const stage = stages[0]!.Properties;
    expect(stage.TracingEnabled).toBe(true);
    expect(refId(stage.AccessLogSetting.DestinationArn)).toBe(idOf(stack.api.accessLogGroup));
    const format = JSON.parse(stage.AccessLogSetting.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(stage.AccessLogSetting.Format).not.toMatch(
      /identity\.apiKey"|querystring|requestOverride|\.body/i,
    );
    expect(stage.MethodSettings).toContainEqual(
      expect.objectContaining({
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
        ThrottlingRateLimit: expect.any(Number),
        ThrottlingBurstLimit: expect.any(Number),
      }),
    );
    const accessLogs = resourcesOfType(template, 'AWS::Logs::LogGroup')[idOf(stack.api.accessLogGroup)];
    expect(accessLogs?.Properties.RetentionInDays).toBe(30);
  });

  test("API Gateway's own errors use the bridge error shape", () => {
    const responses = Object.values(resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse'));
    const types = responses.map((r) => r.Properties.ResponseType);
    expect(types).toEqual(
      expect.arrayContaining(['INVALID_API_KEY', 'THROTTLED', 'BAD_REQUEST_BODY', 'DEFAULT_5XX']),
    );
    for (const response of responses) {
      // $context.error.messageString is a quoted JSON string at run time.
      const body = String(response.Properties.ResponseTemplates['application/json']).replace(
        '$context.error.messageString',
        '"message"',
      );
      expect(JSON.parse(body)).toEqual({
        ok: false,
        error: { code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) },
      });
    }
    const invalidKey = responses.find((r) => r.Properties.ResponseType === 'INVALID_API_KEY')!;
    expect(invalidKey.Properties.ResponseTemplates['application/json']).toContain('"FORBIDDEN"');
  });
});

describe('tables', () => {
  const tableOf = (name: TableName) =>
    resourcesOfType(template, 'AWS::DynamoDB::Table')[idOf(stack.tables[name].table)]!;

  test('on-demand billing', () => {
    for (const name of tableNames) expect(tableOf(name).Properties.BillingMode).toBe('PAY_PER_REQUEST');
  });

  test('TTL on the catalogue attribute; none where the catalogue has none (opt-outs never expire)', () => {
    for (const name of tableNames) {
      const ttlAttribute = TABLES[name].ttlAttribute;
      expect(tableOf(name).Properties.TimeToLiveSpecification).toEqual(
        ttlAttribute === undefined ? undefined : { AttributeName: ttlAttribute, Enabled: true },
      );
    }
    // The one table without TTL (issue 14): an opt-out lasts until START or support staff lift it.
    expect(tableNames.filter((name) => TABLES[name].ttlAttribute === undefined)).toEqual(['optOuts']);
    expect(tableOf('optOuts').Properties.TimeToLiveSpecification).toBeUndefined();
  });

  test('point-in-time recovery and server-side encryption', () => {
    for (const name of tableNames) {
      expect(tableOf(name).Properties.PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
      expect(tableOf(name).Properties.SSESpecification).toEqual({ SSEEnabled: true });
    }
  });

  test('partition key and GSIs from the catalogue, projecting all attributes', () => {
    for (const name of tableNames) {
      const props = tableOf(name).Properties;
      expect(props.KeySchema).toEqual([{ AttributeName: TABLES[name].partitionKey, KeyType: 'HASH' }]);
      expect(asArray(props.GlobalSecondaryIndexes)).toEqual(
        TABLES[name].indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' }] : []),
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      );
    }
  });

  test('data is retained and protected from deletion by default', () => {
    for (const name of tableNames) {
      expect(tableOf(name).DeletionPolicy).toBe('Retain');
      expect(tableOf(name).Properties.DeletionProtectionEnabled).toBe(true);
    }
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const topicId = () => idOf(stack.alarms.topic);
  const notifiesTopic = (alarm: Record<string, unknown>) =>
    asArray(alarm.AlarmActions as unknown[]).some((a) => refId(a) === topicId()) &&
    asArray(alarm.OKActions as unknown[]).some((a) => refId(a) === topicId());
  const alarmsOn = (metric: string, dimension: string, id: string) =>
    alarms().filter(
      (a) =>
        a.MetricName === metric &&
        asArray(a.Dimensions as { Name: string; Value: unknown }[]).some(
          (d) => d.Name === dimension && refId(d.Value) === id,
        ),
    );

  test('every DLQ alarms on its first message', () => {
    for (const name of queueNames) {
      const found = alarmsOn(
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        idOf(stack.queues[name].deadLetterQueue),
      );
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      expect(notifiesTopic(found[0]!)).toBe(true);
    }
  });

  test('every main queue alarms on the age of its oldest message', () => {
    for (const name of queueNames) {
      const found = alarmsOn('ApproximateAgeOfOldestMessage', 'QueueName', idOf(stack.queues[name].queue));
      expect(found).toHaveLength(1);
      expect(notifiesTopic(found[0]!)).toBe(true);
    }
  });

  test('every main queue alarms on its depth (a backlog of visible messages)', () => {
    for (const name of queueNames) {
      const found = alarmsOn(
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        idOf(stack.queues[name].queue),
      );
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ Threshold: 1000, ComparisonOperator: 'GreaterThanThreshold' });
      expect(notifiesTopic(found[0]!)).toBe(true);
    }
  });

  test('every function alarms on errors and throttles', () => {
    for (const name of functionNames) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarmsOn(metric, 'FunctionName', fnIds[name]);
        expect(found).toHaveLength(1);
        expect(notifiesTopic(found[0]!)).toBe(true);
      }
    }
  });

  test('the API alarms on 5XX answers', () => {
    const found = alarms().filter((a) => a.MetricName === '5XXError' && a.Namespace === 'AWS/ApiGateway');
    expect(found).toHaveLength(1);
    expect(notifiesTopic(found[0]!)).toBe(true);
  });

  test('the alarm topic is encrypted with a rotating key CloudWatch may use, and requires TLS', () => {
    const topic = resourcesOfType(template, 'AWS::SNS::Topic')[topicId()]!;
    const keyId = refId(topic.Properties.KmsMasterKeyId)!;
    const key = resourcesOfType(template, 'AWS::KMS::Key')[keyId]!;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' } }),
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('secrets', () => {
  const secretOf = (name: SecretName) =>
    resourcesOfType(template, 'AWS::SecretsManager::Secret')[idOf(stack.secrets[name].secret)]!;

  test('one secret per catalogue entry, its description documenting every key of the JSON shape', () => {
    expect(Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret'))).toHaveLength(
      secretNames.length,
    );
    for (const name of secretNames) {
      for (const key of Object.keys(SECRET_DOCS[name].shape)) {
        expect(secretOf(name).Properties.Description).toContain(`"${key}"`);
      }
    }
  });

  test('credentials are generated placeholders, never literal values in the template', () => {
    for (const name of secretNames) {
      const props = secretOf(name).Properties;
      const { generatedKey, defaults } = SECRET_TEMPLATES[name];
      if (generatedKey) {
        expect(props.SecretString).toBeUndefined();
        expect(props.GenerateSecretString.GenerateStringKey).toBe(generatedKey);
        expect(JSON.parse(props.GenerateSecretString.SecretStringTemplate)).toEqual(defaults);
      } else {
        expect(JSON.parse(props.SecretString)).toEqual(defaults);
      }
    }
  });

  test('no credential-bearing key has a value anywhere in the template', () => {
    expect(credentialFindings(template)).toEqual([]);
  });

  test('environment variables carry secret references (ARNs), never secret content', () => {
    for (const name of functionNames) {
      for (const [key, value] of Object.entries(envOf(name))) {
        if (key.endsWith('_SECRET')) expect(value).toEqual({ Ref: expect.any(String) });
        if (key === SETTINGS.unownedRecordsOwner) {
          // The Ref of an AWS::ApiGateway::ApiKey is the key's id (as in requestContext.identity.apiKeyId), not its value.
          expect(value).toEqual({ Ref: idOf(stack.api.apiKey) });
          continue;
        }
        expect(JSON.stringify(value)).not.toMatch(/apiKey|authorization|Bearer/i);
      }
    }
  });
});

describe('outputs', () => {
  test('URLs, API key id and command, webhook URLs, secret names and the alarm topic', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const text = (name: string) => JSON.stringify(outputs[name]?.Value);
    expect(text('ApiUrl')).toContain(idOf(stack.api.api));
    expect(outputs.ApiKeyId?.Value).toEqual({ Ref: idOf(stack.api.apiKey) });
    expect(text('ApiKeyValueCommand')).toContain('aws apigateway get-api-key --api-key ');
    expect(text('ApiKeyValueCommand')).toContain('--include-value');
    expect(text('SmsReceiptWebhookUrl')).toMatch(/\/webhooks\/8x8\/sms"/);
    expect(text('SmsInboundWebhookUrl')).toMatch(/\/webhooks\/8x8\/sms\/inbound"/);
    expect(text('ChatGatewayWebhookUrl')).toMatch(/\/handover\/eightByEight"/);
    for (const name of secretNames) {
      const output = Object.keys(outputs).find((k) => k.toLowerCase() === `${name}SecretName`.toLowerCase());
      expect(output).toBeDefined();
      expect(text(output!)).toContain(idOf(stack.secrets[name].secret));
    }
    expect(outputs.AlarmTopicArn?.Value).toEqual({ Ref: idOf(stack.alarms.topic) });
  });
});
