/**
 * Webhook security in the template (issue 10, gap 1): the optional source-IP allowlist of the two 8x8 webhook routes
 * (without the prop the REST API has no resource policy; with it, each allowlisted route is denied to every other
 * address and the rest stays open), and the alarm on forged webhook bodies.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import {
  EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS,
  parseSourceIps,
  WebhookSourceIpError,
} from '../../lib/constructs/webhook-source-ips';
import { bridgeStackPropsFromContext } from '../../lib/stack';
import { buildBridge, resourcesOfType, SYNTH_TIMEOUT_MS, unbundledApp } from './support';

const CHAT_IPS = ['203.0.113.0/24'];

function restApiPolicy(template: Template): { Statement: Record<string, unknown>[] } | undefined {
  const apis = Object.values(resourcesOfType(template, 'AWS::ApiGateway::RestApi'));
  expect(apis).toHaveLength(1);
  return apis[0]!.Properties.Policy;
}

test(
  'off by default: the REST API has no resource policy; one forged webhook body raises an alarm',
  () => {
    const template = Template.fromStack(buildBridge());
    expect(restApiPolicy(template)).toBeUndefined();
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).filter(
      (alarm) => alarm.Properties.MetricName === 'ChatEventBodyMismatch',
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({
      Namespace: 'Cognigy8x8Bridge',
      Dimensions: [{ Name: 'service', Value: 'handover-webhook' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarms[0]!.Properties.AlarmActions).toHaveLength(1);
  },
  SYNTH_TIMEOUT_MS,
);

test(
  'with allowlists, each webhook route is denied to other sources and every route stays invocable otherwise',
  () => {
    const bridge = buildBridge(
      {
        api: {
          webhookSourceIps: {
            chatGateway: CHAT_IPS,
            smsReceipt: EIGHT_BY_EIGHT_SMS_WEBHOOK_SOURCE_IPS.europe,
          },
        },
      },
      unbundledApp(),
      'Allowlisted',
    );
    // The policy adds no cdk-nag finding.
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap(
      (pack) => pack.validateScope(bridge).violations,
    );
    expect(findings.map((v) => v.ruleName)).toEqual([]);
    const policy = restApiPolicy(Template.fromStack(bridge));
    expect(policy?.Statement).toEqual([
      {
        Sid: 'InvokeByAnyone',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
      },
      {
        Sid: 'ChatGatewayWebhookOnlyFrom8x8',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*/POST/handover/eightByEight',
        Condition: { NotIpAddress: { 'aws:SourceIp': CHAT_IPS } },
      },
      {
        Sid: 'SmsReceiptWebhookOnlyFrom8x8',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        // Receipts and inbound SMS come from the same 8x8 addresses: both SMS webhook routes are closed to others.
        Resource: ['execute-api:/*/POST/webhooks/8x8/sms', 'execute-api:/*/POST/webhooks/8x8/sms/inbound'],
        Condition: {
          NotIpAddress: {
            'aws:SourceIp': ['34.142.20.188/32', '34.142.64.178/32', '34.39.69.103/32', '34.39.114.155/32'],
          },
        },
      },
    ]);
  },
  SYNTH_TIMEOUT_MS,
);

test('a malformed or empty allowlist is refused at synthesis, not deployed as a lock-out', () => {
  expect(() =>
    buildBridge({ api: { webhookSourceIps: { chatGateway: ['203.0.113.300'] } } }, unbundledApp(), 'Typo'),
  ).toThrow(WebhookSourceIpError);
  expect(() =>
    buildBridge({ api: { webhookSourceIps: { smsReceipt: [] } } }, unbundledApp(), 'Empty'),
  ).toThrow(WebhookSourceIpError);
});

test('context keys: 8x8:<region> expands to the published SMS addresses, other entries are kept', () => {
  const props = bridgeStackPropsFromContext(
    (key) => ({ smsWebhookSourceIps: '8x8:apac, 198.51.100.7', chatWebhookSourceIps: '203.0.113.0/24' })[key],
  );
  expect(props.api?.webhookSourceIps).toEqual({
    chatGateway: ['203.0.113.0/24'],
    smsReceipt: ['52.220.117.120/32', '52.220.109.9/32', '18.136.13.204/32', '198.51.100.7'],
  });
  expect(bridgeStackPropsFromContext(() => undefined).api?.webhookSourceIps).toBeUndefined();
  expect(() => parseSourceIps('8x8:mars')).toThrow(WebhookSourceIpError);
});
