import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import path from 'node:path';
import { writeOpenApiFile } from '../lib/openapi';
import { InvalidSettingError } from '../functions/shared/setting-rules';
import { BridgeStack, ContextError, bridgeStackPropsFromContext, contextOption } from '../lib/stack';

/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Options come from context, e.g.
 * `npx cdk deploy -c alarmEmail=ops@example.com -c apiRateLimit=20 -c apiBurstLimit=40`; see the README.
 * cdk-nag runs as a policy-validation plugin: an unacknowledged finding fails synth and deploy. Every synth also
 * writes the API's OpenAPI document to cdk.out/openapi.json.
 */
const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);

try {
  const props = bridgeStackPropsFromContext(context);
  new BridgeStack(app, contextOption(context, 'stackName') ?? 'Cognigy8x8Bridge', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    ...props,
  });
} catch (error) {
  // A refused option or setting: its one sentence, not a stack trace, and synth fails.
  if (!(error instanceof ContextError || error instanceof InvalidSettingError)) throw error;
  console.error(error.message);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
writeOpenApiFile(path.join(app.outdir, 'openapi.json'));
