import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import path from 'node:path';
import { writeOpenApiFile } from '../lib/openapi';
import { BridgeStack, bridgeStackPropsFromContext } from '../lib/stack';

/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Options come from context, e.g.
 * `npx cdk deploy -c alarmEmail=ops@example.com -c apiRateLimit=20 -c apiBurstLimit=40`; see the README.
 * cdk-nag runs as a policy-validation plugin: an unacknowledged finding fails synth and deploy. Every synth also
 * writes the API's OpenAPI document to cdk.out/openapi.json.
 */
const app = new App();
const context = (key: string): unknown => app.node.tryGetContext(key);

new BridgeStack(app, String(context('stackName') ?? 'Cognigy8x8Bridge'), {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  ...bridgeStackPropsFromContext(context),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
writeOpenApiFile(path.join(app.outdir, 'openapi.json'));
