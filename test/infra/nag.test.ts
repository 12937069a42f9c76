/**
 * cdk-nag (v3 packs run directly with validateScope): the bridge stack has no unacknowledged finding, every
 * acknowledgement carries a reason and sits next to its resource, and a deliberately broken resource added to the
 * same stack IS reported (so a green run means something).
 */
import { Duration, Stack, Validations, type App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { BridgeStack } from '../../lib/stack';
import { SYNTH_TIMEOUT_MS, buildBridge, unbundledApp } from './support';

let app: App;
let clean: BridgeStack;
let broken: BridgeStack;

const findings = (scope: IConstruct) =>
  [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack
      .validateScope(scope)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`)),
  );

beforeAll(() => {
  app = unbundledApp();
  clean = buildBridge({}, app, 'Clean');
  broken = buildBridge({}, app, 'Broken');
  // Defects a reviewer must never see pass: an unencrypted queue without TLS enforcement or DLQ, and a wildcard
  // grant on a function role (whose X-Ray "*" is acknowledged, so this proves the acknowledgement is that narrow).
  new sqs.Queue(broken, 'UnprotectedQueue', {
    encryption: sqs.QueueEncryption.UNENCRYPTED,
    visibilityTimeout: Duration.seconds(30),
  });
  broken.functions['sms-status'].addToRolePolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: ['*'] }),
  );
}, SYNTH_TIMEOUT_MS);

test('AwsSolutions and Serverless packs report nothing unacknowledged on the bridge stack', () => {
  expect(findings(clean)).toEqual([]);
});

test('a deliberately broken queue and a wildcard grant in the same stack are reported', () => {
  const reported = findings(broken);
  expect(reported).toEqual(
    expect.arrayContaining([
      'AwsSolutions-SQS2 at Broken/UnprotectedQueue/Resource',
      'AwsSolutions-SQS3 at Broken/UnprotectedQueue/Resource',
      'AwsSolutions-SQS4 at Broken/UnprotectedQueue/Resource',
      'Serverless-SQSRedrivePolicy at Broken/UnprotectedQueue/Resource',
      'AwsSolutions-IAM5[Resource::*] at Broken/SmsStatusFunctionRole/DefaultPolicy/Resource',
    ]),
  );
  // Nothing else: the additions are the only defects.
  expect(reported.every((f) => f.includes('UnprotectedQueue') || f.includes('SmsStatusFunctionRole'))).toBe(
    true,
  );
});

test('cdk-nag runs as a policy-validation plugin in the app (bin/app.ts registers both packs)', () => {
  // What `cdk synth` does: the plugin's validate() receives the app construct.
  const plugin = new AwsSolutionsChecks(app);
  const report = plugin.validate({ templatePaths: [], appConstruct: clean } as never);
  expect(report.success).toBe(true);
});

test('every acknowledgement has a reason and is attached below the stack, never to the stack itself', () => {
  const acknowledged: { path: string; id: string; reason: unknown }[] = [];
  for (const construct of clean.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        acknowledged.push({ path: construct.node.path, id, reason });
      }
    }
  }
  expect(acknowledged.length).toBeGreaterThan(0);
  for (const ack of acknowledged) {
    expect(ack.path).not.toBe(clean.node.path);
    expect(typeof ack.reason).toBe('string');
    expect(String(ack.reason).length).toBeGreaterThan(20);
  }
  expect(Stack.isStack(clean)).toBe(true);
});
