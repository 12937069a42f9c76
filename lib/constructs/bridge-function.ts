import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import path from 'node:path';
import { EXTERNAL_MODULES, ESM_REQUIRE_BANNER } from '../bundling';
import { functionEntry, projectRoot } from '../paths';
import { FUNCTIONS, type FunctionName } from '../../functions/shared/catalogue';
import { FUNCTION_DESCRIPTIONS } from '../../functions/shared/catalogue-docs';

/** CloudWatch namespace of the functions' Powertools metrics unless the stack sets another. */
export const DEFAULT_METRICS_NAMESPACE = 'Cognigy8x8Bridge';

/** Lambda runtime of every bridge function; the code is built for Node.js 22 and .ci/run runs every test on it. */
export const BRIDGE_RUNTIME = Runtime.NODEJS_22_X;

// Shared with the local stack's sandboxes, which bundle the functions the same way without loading the CDK.
export { EXTERNAL_MODULES, ESM_REQUIRE_BANNER } from '../bundling';

export interface BridgeFunctionProps {
  /** Logical function name from functions/shared/catalogue.ts FUNCTIONS; handler, timeout, memory (description: catalogue-docs.ts). */
  name: FunctionName;
  /** Environment variables: resource names, settings. Never secret values. */
  environment?: Record<string, string>;
  /** Retention of the function's own log group. */
  logRetention?: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  logRemovalPolicy?: RemovalPolicy;
  /** Handler source; defaults to functions/<name>/handler.ts. */
  entry?: string;
  /** Powertools log level (POWERTOOLS_LOG_LEVEL). */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** CloudWatch namespace for Powertools metrics. */
  metricsNamespace?: string;
  /**
   * Source-mapped stack traces (NODE_OPTIONS=--enable-source-maps). Off by default: Node then reads and indexes the
   * source map while loading the bundle, about 20 ms of every cold start (npm run bench). The map ships either way,
   * so switching it on is a configuration change, not a rebuild.
   */
  sourceMapStackTraces?: boolean;
}

/**
 * A bridge Lambda function with the project's defaults: Node.js 22 on ARM64, esbuild ESM bundle with the AWS SDK
 * inside (faster cold starts than the runtime's SDK), active X-Ray tracing, its own log group with retention and
 * its own role that starts with nothing but writing to that log group (no AWS managed policy). Callers add grants.
 */
export class BridgeFunction extends NodejsFunction {
  readonly functionLogicalName: FunctionName;
  /** The function's own log group (also reachable as `logGroup`). */
  readonly functionLogGroup: logs.LogGroup;
  readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    const spec = FUNCTIONS[props.name];
    const root = projectRoot();
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.name} function`,
    });

    super(scope, id, {
      entry: props.entry ?? functionEntry(props.name, root),
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: path.join(root, 'package-lock.json'),
      runtime: BRIDGE_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(spec.timeoutSeconds),
      memorySize: spec.memoryMb,
      description: FUNCTION_DESCRIPTIONS[props.name],
      // Tracing is switched on below, with its permissions in a policy of their own.
      tracing: Tracing.DISABLED,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        ...(props.sourceMapStackTraces ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // Warnings and errors only: no per-bundle size and timing lines on every synth.
        logLevel: LogLevel.WARNING,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK too (one pinned version, a faster cold start than loading the runtime's copy), all but
        // the credential fallbacks Lambda never reaches and the event-stream support no call uses.
        externalModules: EXTERNAL_MODULES,
      },
    });

    this.functionLogicalName = props.name;
    this.functionLogGroup = logGroup;
    this.executionRole = role;
    logGroup.grantWrite(role);

    // Active X-Ray tracing. Its two actions have no resource-level permissions, so they need Resource "*"; they sit
    // in their own policy so that the one acknowledged wildcard cannot cover any other grant on the role.
    const cfnFunction = this.node.defaultChild as CfnFunction;
    cfnFunction.tracingConfig = { mode: Tracing.ACTIVE };
    const xrayPolicy = new iam.Policy(this, 'XRayPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    // Lambda checks the X-Ray permissions when the function is created with active tracing.
    cfnFunction.node.addDependency(xrayPolicy);
    Validations.of(xrayPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The bridge is built for Node.js 22 and CI runs every test on it; runtime upgrades are a deliberate change',
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaLatestVersion',
      reason:
        'The bridge is built for Node.js 22 and CI runs every test on it; runtime upgrades are a deliberate change',
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked synchronously by API Gateway or by an SQS event source; DeadLetterConfig only applies to ' +
        'asynchronous invocations. Queue consumers rely on their queue redrive policy and DLQ.',
    });
  }
}
