/**
 * The operations dashboard and the business alarms (issue 12 items 2 and 3), read from the synthesized template:
 * a widget per catalogue function and queue, the SMS, 8x8, webhook and relay rows on the functions' EMF metrics,
 * the console URL output, and each business alarm with its metric math, thresholds from context and runbook link.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS, QUEUES, type FunctionName, type QueueName } from '../../functions/shared/catalogue';
import {
  AlarmConfigurationError,
  BUSINESS_ALARM_DEFAULTS,
  RUNBOOK_ANCHORS,
} from '../../lib/constructs/bridge-alarms';
import { BRIDGE_METRICS } from '../../lib/constructs/bridge-metrics';
import { ContextError, bridgeStackPropsFromContext, type BridgeStack } from '../../lib/stack';
import { asArray, refId, resourcesOfType, synthBridge, SYNTH_TIMEOUT_MS, type CfnResource } from './support';

let stack: BridgeStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthBridge());
}, SYNTH_TIMEOUT_MS);

interface Widget {
  type: string;
  properties: { title?: string; markdown?: string; metrics?: unknown[][]; alarms?: string[] };
}

/** The dashboard body with every CloudFormation token replaced by a marker, parsed. */
function dashboardOf(t: Template): { id: string; widgets: Widget[]; tokens: unknown[] } {
  const dashboards = Object.entries(resourcesOfType(t, 'AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const [id, dashboard] = dashboards[0]!;
  const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const parts = typeof body === 'string' ? [body] : body['Fn::Join'][1];
  const tokens = parts.filter((part) => typeof part !== 'string');
  const text = parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return { id, widgets: (JSON.parse(text) as { widgets: Widget[] }).widgets, tokens };
}

const alarmsById = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm');
const alarmNamed = (t: Template, name: string): CfnResource | undefined =>
  Object.entries(resourcesOfType(t, 'AWS::CloudWatch::Alarm')).find(([id]) =>
    id.startsWith(`Alarms${name}`),
  )?.[1];

/** The metric names (and their service dimension) an alarm's metric math reads. */
function metricsOfAlarm(alarm: CfnResource): { name: string; service: string }[] {
  return asArray(alarm.Properties.Metrics as { MetricStat?: { Metric: Record<string, unknown> } }[]).flatMap(
    (query) => {
      const metric = query.MetricStat?.Metric;
      if (!metric) return [];
      const dims = metric.Dimensions as { Name: string; Value: string }[];
      return [{ name: metric.MetricName as string, service: dims.find((d) => d.Name === 'service')!.Value }];
    },
  );
}

describe('dashboard', () => {
  test('one widget per catalogue function: errors, throttles and duration p99', () => {
    const { widgets } = dashboardOf(template);
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const widget = widgets.find((w) => w.properties.title === `λ ${name}`);
      const metrics = JSON.stringify(widget?.properties.metrics);
      expect(metrics).toContain('"AWS/Lambda","Errors"');
      expect(metrics).toContain('"AWS/Lambda","Throttles"');
      expect(metrics).toContain('"AWS/Lambda","Duration"');
      expect(metrics).toContain('"stat":"p99"');
    }
    expect(widgets.filter((w) => w.properties.title?.startsWith('λ '))).toHaveLength(
      Object.keys(FUNCTIONS).length,
    );
  });

  test('one widget per catalogue queue: depth, in flight, oldest-message age and its DLQ depth', () => {
    const { widgets } = dashboardOf(template);
    for (const name of Object.keys(QUEUES) as QueueName[]) {
      const widget = widgets.find((w) => w.properties.title?.startsWith(`Queue ${name} `));
      const metrics = JSON.stringify(widget?.properties.metrics);
      for (const metric of [
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateAgeOfOldestMessage',
      ]) {
        expect(metrics).toContain(`"AWS/SQS","${metric}"`);
      }
      expect(metrics).toContain('"label":"DLQ depth"');
    }
  });

  test('the SMS row sums each lifecycle metric over the functions that emit it, per minute', () => {
    const { widgets } = dashboardOf(template);
    const sms = JSON.stringify(
      widgets.find((w) => w.properties.title === 'SMS per minute')?.properties.metrics,
    );
    for (const name of ['SmsAccepted', 'SmsSent', 'SmsDelivered', 'SmsUndelivered', 'SmsFailed'] as const) {
      for (const service of BRIDGE_METRICS[name].services) {
        expect(sms).toContain(`"Cognigy8x8Bridge","${name}","service","${service}"`);
      }
    }
    // Accepted counts both accepting routes.
    expect(sms).toContain('FILL(mSmsAccepted_sms_accept, 0) + FILL(mSmsAccepted_sms_batch, 0)');
    expect(sms).toContain('"period":60');
  });

  test('8x8 latency and 429s, webhooks refused by reason, relay latency and Cognigy push failures are shown', () => {
    const text = JSON.stringify(dashboardOf(template).widgets);
    expect(text).toContain('"Cognigy8x8Bridge","8x8Latency","service","sms-deliver"');
    expect(text).toContain('"Cognigy8x8Bridge","8x8RateLimited","service","sms-deliver"');
    expect(text).toContain(
      `SEARCH('{Cognigy8x8Bridge,reason,service} MetricName=\\"WebhookRefused\\"', 'Sum', 60)`,
    );
    expect(text).toContain('"Cognigy8x8Bridge","WebhookVerified","service","handover-webhook"');
    expect(text).toContain('"Cognigy8x8Bridge","HandoverRelayLatency","service","handover-relay"');
    expect(text).toContain('"Cognigy8x8Bridge","HandoverRelayPushFailed","service","handover-relay"');
  });

  test('the alarm row shows every alarm of the stack', () => {
    const { widgets } = dashboardOf(template);
    const row = widgets.find((w) => w.type === 'alarm');
    expect(row?.properties.alarms).toHaveLength(Object.keys(alarmsById()).length);
  });

  test('the console URL is an output that names the dashboard', () => {
    const { id } = dashboardOf(template);
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const url = JSON.stringify(outputs.DashboardUrl?.Value);
    expect(url).toContain('console.aws.amazon.com/cloudwatch/home?region=');
    expect(url).toContain('#dashboards:name=');
    expect(url).toContain(`{"Ref":"${id}"}`);
    expect(refId(stack.resolve(stack.dashboard.dashboard.dashboardName))).toBe(id);
  });

  test(
    'another metrics namespace moves every EMF line',
    () => {
      const { template: other } = synthBridge({ metricsNamespace: 'Team/Bridge' });
      const text = JSON.stringify(dashboardOf(other).widgets);
      expect(text).toContain('"Team/Bridge","SmsSent"');
      expect(text).not.toContain('Cognigy8x8Bridge');
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('business alarms', () => {
  const notifiesTopic = (alarm: CfnResource) =>
    asArray(alarm.Properties.AlarmActions as unknown[]).some(
      (a) => refId(a) === refId(stack.resolve(stack.alarms.topic.topicArn)),
    );

  test('SMS failure ratio: (failed + undelivered) / ended SMS over 15 minutes, above a minimum volume', () => {
    const alarm = alarmNamed(template, 'SmsFailureRatio')!;
    expect(alarm.Properties).toMatchObject({
      Threshold: BUSINESS_ALARM_DEFAULTS.smsFailureRatioPercent,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    const expression = asArray(
      alarm.Properties.Metrics as { Expression?: string; ReturnData?: boolean }[],
    ).find((q) => q.ReturnData !== false)?.Expression;
    expect(expression).toBe(
      'IF((failed + undelivered + delivered) >= 20, 100 * (failed + undelivered) / (failed + undelivered + delivered), 0)',
    );
    expect(
      metricsOfAlarm(alarm)
        .map((m) => m.name)
        .sort(),
    ).toEqual(['SmsDelivered', 'SmsFailed', 'SmsUndelivered']);
    expect(notifiesTopic(alarm)).toBe(true);
  });

  test('refused webhooks: every webhook summed over 5 minutes (the per-function series, not the per-reason one)', () => {
    const alarm = alarmNamed(template, 'WebhooksRefused')!;
    expect(alarm.Properties).toMatchObject({
      Threshold: 20,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(metricsOfAlarm(alarm)).toEqual([
      { name: 'WebhookRefused', service: 'sms-receipt' },
      { name: 'WebhookRefused', service: 'sms-inbound-webhook' },
      { name: 'WebhookRefused', service: 'handover-webhook' },
    ]);
    expect(notifiesTopic(alarm)).toBe(true);
  });

  test('Cognigy push failures: SMS status injections and relayed events together', () => {
    const alarm = alarmNamed(template, 'CognigyPushFailures')!;
    expect(alarm.Properties).toMatchObject({
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(metricsOfAlarm(alarm)).toEqual(
      expect.arrayContaining([
        { name: 'SmsInjectFailed', service: 'sms-deliver' },
        { name: 'SmsInjectFailed', service: 'sms-receipt' },
        { name: 'HandoverRelayPushFailed', service: 'handover-relay' },
      ]),
    );
    expect(notifiesTopic(alarm)).toBe(true);
  });

  test('receipts missing: sent > 0 and receipts == 0 in every 5 minutes of 15, no data not breaching', () => {
    const alarm = alarmNamed(template, 'SmsReceiptsMissing')!;
    expect(alarm.Properties).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    const queries = asArray(
      alarm.Properties.Metrics as { Expression?: string; MetricStat?: { Period: number } }[],
    );
    expect(queries.map((q) => q.Expression)).toContain('IF(sent > 0 AND receipts == 0, 1, 0)');
    // Missing points of either metric are zeros: a quiet minute is "no receipt", not a gap.
    expect(queries.map((q) => q.Expression)).toEqual(
      expect.arrayContaining(['FILL(mSmsSent_sms_deliver, 0)', 'FILL(mSmsReceipt_sms_receipt, 0)']),
    );
    expect(queries.flatMap((q) => (q.MetricStat ? [q.MetricStat.Period] : []))).toEqual([300, 300]);
    expect(notifiesTopic(alarm)).toBe(true);
  });

  test('every alarm description says where the runbook explains it', () => {
    const anchors = new Set(Object.values(RUNBOOK_ANCHORS));
    for (const alarm of Object.values(alarmsById())) {
      const description = String(alarm.Properties.AlarmDescription);
      const link = /Runbook: docs\/operations\.md#([a-z0-9-]+)$/.exec(description);
      expect(link && anchors.has(link[1] as never)).toBe(true);
    }
  });

  test(
    'thresholds come from context; 0 switches a count alarm off',
    () => {
      const props = bridgeStackPropsFromContext(
        (key) =>
          (
            ({
              smsFailureRatioPercent: '5',
              webhookRefusedAlarmCount: '0',
              receiptSilenceMinutes: '30',
              runbookUrl: 'https://example.com/ops.md',
            }) as Record<string, string>
          )[key],
      );
      const { template: tuned } = synthBridge(props);
      expect(alarmNamed(tuned, 'SmsFailureRatio')?.Properties.Threshold).toBe(5);
      expect(alarmNamed(tuned, 'WebhooksRefused')).toBeUndefined();
      expect(alarmNamed(tuned, 'SmsReceiptsMissing')?.Properties).toMatchObject({
        EvaluationPeriods: 6,
        DatapointsToAlarm: 6,
      });
      expect(String(alarmNamed(tuned, 'CognigyPushFailures')?.Properties.AlarmDescription)).toMatch(
        /Runbook: https:\/\/example\.com\/ops\.md#alarm-cognigy-push-failures$/,
      );
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    'bad thresholds are refused with the option named',
    () => {
      expect(() =>
        bridgeStackPropsFromContext((key) => (key === 'smsFailureRatioPercent' ? '150' : undefined)),
      ).toThrow(
        new ContextError(
          'Context option smsFailureRatioPercent is "150", but it must be a number from 0 to 100 (out of range).',
        ),
      );
      expect(() =>
        bridgeStackPropsFromContext((key) => (key === 'webhookRefusedAlarmCount' ? 'many' : undefined)),
      ).toThrow(ContextError);
      expect(() => synthBridge({ businessAlarms: { receiptSilenceMinutes: 12 } })).toThrow(
        AlarmConfigurationError,
      );
    },
    SYNTH_TIMEOUT_MS,
  );
});
