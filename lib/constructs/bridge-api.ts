import { Aws, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ROUTES, routeKey, type RouteSpec } from '../../functions/shared/catalogue';
import { checkSourceIps, WEBHOOK_FUNCTIONS, type WebhookSourceIps } from './webhook-source-ips';

export interface Throttle {
  /** Steady-state requests per second. */
  rateLimit: number;
  /** Requests allowed in a burst. */
  burstLimit: number;
}

/**
 * One Cognigy project (or customer) calling the bridge with its own API key. Records (SMS, conversations) are owned
 * by the key that created them, so a tenant never reads or ends another's (README "Tenancy").
 */
export interface TenantProps {
  /** Letters and digits, starting with a letter (up to 32): names the key, its usage plan and its stack outputs. */
  name: string;
  /** Per-key throttle; default: the usage plan throttle of the default key. */
  throttle?: Throttle;
  /** Request quota of this tenant's key; default: the default key's quota (none unless usagePlanQuota is set). */
  quota?: { limit: number; period: apigw.Period };
}

export const TENANT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

export interface BridgeApiProps {
  /** Stage name; part of every URL. */
  stageName?: string;
  /** Default per-method throttle of the stage: the ceiling for all callers together. */
  stageThrottle?: Throttle;
  /** Per-API-key throttle of the usage plan (the Cognigy flows). */
  usagePlanThrottle?: Throttle;
  /** Optional request quota per API key. */
  usagePlanQuota?: { limit: number; period: apigw.Period };
  /**
   * Further tenants, each with its own API key and usage plan (throttle, quota). The default key (`CognigyApiKey`)
   * stays: existing flows keep working, and records from before tenancy belong to it.
   */
  tenants?: TenantProps[];
  /** Retention of the access log group. */
  logRetention?: logs.RetentionDays;
  logRemovalPolicy?: RemovalPolicy;
  /** ARN of an existing WAFv2 web ACL (REGIONAL scope) to associate with the stage instead of the stack's own. */
  webAclArn?: string;
  /**
   * Without webAclArn, the stack creates and associates its own web ACL (default true): AWS managed common rule
   * set and known-bad-inputs rule set, plus a per-source-IP rate-based rule. False leaves the stage without WAF.
   */
  createWebAcl?: boolean;
  /** Requests one source IP may send in any 5 minutes before the web ACL blocks it (default 15 000). */
  webAclRateLimit?: number;
  /**
   * Source-IP allowlists for the 8x8 webhook routes (off by default): an API Gateway resource policy answers 403 to
   * any other source before a function runs. See EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS for 8x8's SMS addresses.
   */
  webhookSourceIps?: WebhookSourceIps;
  /**
   * Create the account-level role API Gateway uses to write execution logs (AWS::ApiGateway::Account, one per
   * account and region). Set false when the account already has one configured.
   */
  createCloudWatchRole?: boolean;
}

/**
 * 50 requests/s sustained from one address (the usage plan's per-key rate): Cognigy and 8x8 call from a few egress
 * addresses each, so the rule only catches a single source flooding the API, mostly the key-less webhook routes.
 */
export const DEFAULT_WEB_ACL_RATE_LIMIT = 15_000;

/**
 * Rules of the common rule set that only count. SizeRestrictions_BODY: the routes take bodies up to 64 kB (Cognigy's
 * limit) and 256 kB (8x8 Chat Gateway events), above its 8 kB; every function enforces its route's own limit first.
 * NoUserAgent_HEADER: 8x8 documents no User-Agent for its webhooks, and a blocked receipt is a lost receipt.
 */
export const WEB_ACL_COUNT_ONLY_RULES = ['SizeRestrictions_BODY', 'NoUserAgent_HEADER'] as const;

export const DEFAULT_STAGE_THROTTLE: Throttle = { rateLimit: 100, burstLimit: 200 };
export const DEFAULT_USAGE_PLAN_THROTTLE: Throttle = { rateLimit: 50, burstLimit: 100 };

/**
 * Error bodies API Gateway itself sends (before a function runs) in the bridge's `{ok:false,error:{code,message}}`
 * shape, with the codes the local gateway uses, so a flow branches on the same codes in both modes.
 */
const GATEWAY_ERRORS: { type: apigw.ResponseType; statusCode?: string; code: string; message: string }[] = [
  { type: apigw.ResponseType.INVALID_API_KEY, code: 'FORBIDDEN', message: '"Missing or invalid API key"' },
  {
    type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    code: 'ROUTE_NOT_FOUND',
    message: '"No route matches this method and path"',
  },
  {
    type: apigw.ResponseType.THROTTLED,
    code: 'TOO_MANY_REQUESTS',
    message: '"Too many requests; retry later"',
  },
  {
    type: apigw.ResponseType.QUOTA_EXCEEDED,
    code: 'TOO_MANY_REQUESTS',
    message: '"The API key quota is used up"',
  },
  {
    type: apigw.ResponseType.REQUEST_TOO_LARGE,
    code: 'PAYLOAD_TOO_LARGE',
    message: '"The request body is too large"',
  },
  {
    type: apigw.ResponseType.BAD_REQUEST_BODY,
    code: 'MALFORMED_JSON',
    message: '"The request body is not a JSON object; send Content-Type: application/json"',
  },
  {
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    code: 'INVALID_REQUEST',
    message: '$context.error.messageString',
  },
  { type: apigw.ResponseType.DEFAULT_4XX, code: 'REQUEST_REJECTED', message: '$context.error.messageString' },
  {
    type: apigw.ResponseType.DEFAULT_5XX,
    code: 'INTERNAL_ERROR',
    message: '"The request could not be processed; it was not accepted"',
  },
];

/**
 * Access log line: JSON (CloudWatch Logs Insights parses it), no API key value, no query string (per-message
 * receipt callback URLs carry a token there), no bodies.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  apiKeyId: '$context.identity.apiKeyId',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  errorType: '$context.error.responseType',
  xrayTraceId: '$context.xrayTraceId',
};

/**
 * The REST API (API Gateway v1) of the bridge: one regional stage with access logs, execution error logs, X-Ray
 * and default throttling; the Cognigy API key under a usage plan, plus one key and usage plan per tenant; one
 * request validator; routes from the catalogue.
 */
export class BridgeApi extends Construct {
  readonly api: apigw.RestApi;
  readonly stageName: string;
  readonly apiKey: apigw.ApiKey;
  readonly usagePlan: apigw.UsagePlan;
  /** The tenants' keys and usage plans by tenant name (props.tenants). */
  readonly tenants = new Map<string, { apiKey: apigw.ApiKey; usagePlan: apigw.UsagePlan }>();
  readonly accessLogGroup: logs.LogGroup;
  /** The stack's own web ACL (undefined with webAclArn or createWebAcl: false). */
  readonly webAcl: wafv2.CfnWebACL | undefined;
  readonly methods = new Map<string, apigw.Method>();
  /**
   * `https://{api id}.execute-api.{region}.{suffix}/{stage}` built from the API id and the stage *name*: functions
   * may carry it in their environment without depending on the stage, which depends on them (no cycle).
   */
  readonly baseUrl: string;
  private readonly validator: apigw.RequestValidator;

  constructor(scope: Construct, id: string, props: BridgeApiProps = {}) {
    super(scope, id);
    this.stageName = props.stageName ?? 'v1';
    const stageThrottle = props.stageThrottle ?? DEFAULT_STAGE_THROTTLE;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Cognigy.AI to 8x8 bridge: SMS and agent handover',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: props.createCloudWatchRole ?? true,
      deployOptions: {
        stageName: this.stageName,
        tracingEnabled: true,
        metricsEnabled: true,
        // Errors only and never the payloads: request bodies hold phone numbers and message text.
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        throttlingRateLimit: stageThrottle.rateLimit,
        throttlingBurstLimit: stageThrottle.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    // The stack exports the URL as ApiUrl with a description; CDK's own undocumented duplicate goes.
    this.api.node.tryRemoveChild('Endpoint');
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role; AWS maintains this service-role policy for exactly this use",
      });
    }

    this.baseUrl = Fn.join('', [
      'https://',
      this.api.restApiId,
      '.execute-api.',
      Aws.REGION,
      '.',
      Aws.URL_SUFFIX,
      '/',
      this.stageName,
    ]);

    for (const error of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Gateway${error.type.responseType}`, {
        type: error.type,
        statusCode: error.statusCode,
        responseHeaders: { 'Cache-Control': "'no-store'" },
        templates: {
          'application/json': `{"ok":false,"error":{"code":"${error.code}","message":${error.message}}}`,
        },
      });
    }

    // Required path parameters are checked here. Bodies reach the functions as sent, with no request model: the
    // webhooks must authenticate the raw bytes before anything looks at them, and the functions answer every body
    // problem with their own stable codes, the same as the local stack does. (cdk-nag's APIG2 wants both flags.)
    this.validator = this.api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    this.apiKey = new apigw.ApiKey(this, 'CognigyApiKey', {
      description: 'x-api-key for Cognigy HTTP Request nodes calling the bridge',
      enabled: true,
    });
    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      description: 'Cognigy flows calling the bridge',
      throttle: props.usagePlanThrottle ?? DEFAULT_USAGE_PLAN_THROTTLE,
      quota: props.usagePlanQuota,
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.usagePlan.addApiKey(this.apiKey);

    for (const tenant of props.tenants ?? []) {
      if (!TENANT_NAME_PATTERN.test(tenant.name)) {
        throw new Error(
          `Tenant name "${tenant.name}" must be letters and digits, starting with a letter (≤ 32)`,
        );
      }
      if (this.tenants.has(tenant.name)) throw new Error(`Tenant "${tenant.name}" is listed twice`);
      const scope = new Construct(this, `Tenant${tenant.name}`);
      const apiKey = new apigw.ApiKey(scope, 'ApiKey', {
        description: `x-api-key of tenant ${tenant.name} (sees only the records it creates)`,
        enabled: true,
      });
      // Its own plan: throttle and quota per tenant; API Gateway counts quotas per key and plan.
      const usagePlan = this.api.addUsagePlan(`TenantUsagePlan${tenant.name}`, {
        description: `Tenant ${tenant.name} calling the bridge`,
        throttle: tenant.throttle ?? props.usagePlanThrottle ?? DEFAULT_USAGE_PLAN_THROTTLE,
        quota: tenant.quota ?? props.usagePlanQuota,
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      usagePlan.addApiKey(apiKey);
      this.tenants.set(tenant.name, { apiKey, usagePlan });
    }

    this.restrictWebhookSources(props.webhookSourceIps ?? {});

    if (props.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAcl', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: props.webAclArn,
      });
    } else if (props.createWebAcl ?? true) {
      this.webAcl = this.createWebAcl(props.webAclRateLimit ?? DEFAULT_WEB_ACL_RATE_LIMIT);
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.api.deploymentStage.stageArn,
        webAclArn: this.webAcl.attrArn,
      });
    } else {
      Validations.of(this.api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF turned off on purpose (createWebAcl: false): API key + usage plan and webhook signatures still apply',
      });
    }
  }

  /** The stack's own REGIONAL web ACL: AWS managed rule groups first, then the per-IP rate limit. */
  private createWebAcl(rateLimit: number): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managed = (priority: number, name: string, countOnly: readonly string[] = []) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(countOnly.length > 0 && {
            ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
          }),
        },
      },
      visibilityConfig: visibility(name),
    });
    return new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      description: 'Cognigy 8x8 bridge: AWS managed common and known-bad-inputs rules, per-IP rate limit',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('Cognigy8x8BridgeWebAcl'),
      rules: [
        managed(0, 'AWSManagedRulesCommonRuleSet', WEB_ACL_COUNT_ONLY_RULES),
        managed(1, 'AWSManagedRulesKnownBadInputsRuleSet'),
        {
          name: 'RateLimitPerSourceIp',
          priority: 2,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerSourceIp'),
        },
      ],
    });
  }

  /**
   * One resource policy: everyone may invoke (API keys and the functions' own checks still apply), except that an
   * allowlisted webhook route is denied to every other source address. Without allowlists there is no policy.
   */
  private restrictWebhookSources(allowlists: WebhookSourceIps): void {
    const entries = (Object.keys(WEBHOOK_FUNCTIONS) as (keyof WebhookSourceIps)[]).flatMap((name) => {
      const ips = allowlists[name];
      return ips === undefined ? [] : [{ name, ips: checkSourceIps(name, ips) }];
    });
    if (entries.length === 0) return;
    this.api.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'InvokeByAnyone',
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
    );
    for (const { name, ips } of entries) {
      const resources = WEBHOOK_FUNCTIONS[name].map((fn) => {
        const route = ROUTES.find((r) => r.function === fn);
        if (!route) throw new Error(`No catalogue route for ${fn}`);
        return `execute-api:/*/${route.method}${route.path}`;
      });
      this.api.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `${name.charAt(0).toUpperCase()}${name.slice(1)}WebhookOnlyFrom8x8`,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['execute-api:Invoke'],
          resources,
          conditions: { NotIpAddress: { 'aws:SourceIp': ips } },
        }),
      );
    }
    // A policy change takes effect only with a new deployment of the stage.
    this.api.latestDeployment?.addToLogicalId({ webhookSourceIps: entries });
  }

  /** Adds a catalogue route with a Lambda proxy integration to its function. */
  addRoute(route: RouteSpec, fn: lambda.IFunction): apigw.Method {
    const resource = this.api.root.resourceForPath(route.path);
    const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const method = resource.addMethod(
      route.method,
      new apigw.LambdaIntegration(fn, { allowTestInvoke: false }),
      {
        operationName: route.function,
        apiKeyRequired: route.auth === 'apiKey',
        authorizationType: apigw.AuthorizationType.NONE,
        requestValidator: this.validator,
        requestParameters: Object.fromEntries(pathParameters.map((p) => [`method.request.path.${p}`, true])),
      },
    );
    const reason =
      route.auth === 'apiKey'
        ? 'Server-to-server route for Cognigy HTTP Request nodes: x-api-key under a throttled usage plan, no end users to sign in'
        : '8x8 webhook: 8x8 cannot present AWS or Cognito credentials; the function authenticates every call by the signature/Authorization header before any work';
    Validations.of(method).acknowledge({ id: 'AwsSolutions-APIG4', reason });
    Validations.of(method).acknowledge({ id: 'AwsSolutions-COG4', reason });
    this.methods.set(routeKey(route), method);
    return method;
  }

  /** Public URL of a route path (with the stage). */
  urlFor(route: Pick<RouteSpec, 'path'>): string {
    return this.api.urlForPath(route.path);
  }
}
