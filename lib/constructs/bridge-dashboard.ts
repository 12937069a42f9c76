import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTIONS, QUEUES, type FunctionName, type QueueName } from '../../functions/shared/catalogue';
import { BridgeMetrics } from './bridge-metrics';

export interface BridgeDashboardProps {
  /** Namespace of the functions' Powertools metrics. */
  metricsNamespace: string;
  /** Every catalogue function (a widget each). */
  functions: Record<FunctionName, lambda.IFunction>;
  /** Every catalogue queue with its DLQ (a widget each). */
  queues: Record<QueueName, { queue: sqs.IQueue; deadLetterQueue: sqs.IQueue }>;
  api: apigw.RestApi;
  /** Alarms shown in the status row at the top. */
  alarms: cloudwatch.IAlarm[];
  /** Where docs/operations.md is read; the header links its "Reading the dashboard" section. */
  runbookUrl?: string;
}

const MINUTE = Duration.minutes(1);
const FULL = 24;

/**
 * One CloudWatch dashboard for the operator (docs/operations.md "Reading the dashboard"): alarm states; SMS per
 * minute through their life; the 8x8 SMS API; the webhooks (verified, refused by reason); the handover relay; then
 * one widget per catalogue queue and per catalogue function, so a queue or function added to
 * functions/shared/catalogue.ts appears here without an edit.
 */
export class BridgeDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** The dashboard in the CloudWatch console. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: BridgeDashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const m = new BridgeMetrics(props.metricsNamespace);
    const runbook = props.runbookUrl ?? 'docs/operations.md';

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-operations`,
      defaultInterval: Duration.hours(3),
    });
    this.url = `https://${stack.region}.console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards:name=${this.dashboard.dashboardName}`;

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${stack.stackName}: Cognigy ↔ 8x8 bridge\n` +
          `How to read each row and what each alarm means: [${runbook}](${runbook}#reading-the-dashboard). ` +
          'Counts are per minute (Sum); latencies in milliseconds.',
        width: FULL,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: props.alarms,
        width: FULL,
        height: 4,
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'SMS per minute',
        left: [
          m.total('SmsAccepted', { label: 'accepted' }),
          m.total('SmsSent', { label: 'sent (8x8 took it)' }),
          m.total('SmsDelivered', { label: 'delivered' }),
          m.total('SmsUndelivered', { label: 'undelivered' }),
          m.total('SmsFailed', { label: 'failed' }),
        ],
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: '8x8 SMS API: latency and 429s',
        left: [
          m.of('8x8Latency', 'sms-deliver', { statistic: 'p50', label: 'latency p50 (ms)' }),
          m.of('8x8Latency', 'sms-deliver', { statistic: 'p99', label: 'latency p99 (ms)' }),
        ],
        right: [m.total('8x8Calls', { label: 'calls' }), m.total('8x8RateLimited', { label: '429 answers' })],
        leftYAxis: { label: 'ms', showUnits: false, min: 0 },
        rightYAxis: { label: 'per minute', showUnits: false, min: 0 },
        width: 12,
        height: 6,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhooks verified (2xx) per minute',
        left: (['sms-receipt', 'sms-inbound-webhook', 'handover-webhook'] as const).map((service) =>
          m.of('WebhookVerified', service, { label: service }),
        ),
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Webhooks refused (4xx) per minute, by function and reason',
        left: [m.refusedByReason(MINUTE)],
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'SMS receipts and Cognigy status injections',
        left: [
          m.total('SmsReceipt', { label: 'receipts' }),
          m.total('SmsInjectFailed', { label: 'SMS status injections failed' }),
        ],
        width: 8,
        height: 6,
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Relay latency: 8x8 event → Cognigy answered (ms)',
        left: ['p50', 'p99', 'Maximum'].map((statistic) =>
          m.of('HandoverRelayLatency', 'handover-relay', { statistic, label: statistic }),
        ),
        leftYAxis: { showUnits: false, min: 0 },
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Handover per minute and Cognigy push failures',
        left: [
          m.total('HandoverStarted', { label: 'handovers started' }),
          m.total('HandoverRelayed', { label: '8x8 events pushed to Cognigy' }),
        ],
        right: [
          m.total('HandoverRelayPushFailed', { label: 'Cognigy pushes failed (relay)' }),
          m.total('SmsInjectFailed', { label: 'Cognigy injections failed (SMS)' }),
        ],
        width: 12,
        height: 6,
      }),
    );

    this.dashboard.addWidgets(
      ...(Object.keys(QUEUES) as QueueName[]).map((name) => {
        const { queue, deadLetterQueue } = props.queues[name];
        return new cloudwatch.GraphWidget({
          title: `Queue ${name} (${QUEUES[name].consumer})`,
          left: [
            queue.metricApproximateNumberOfMessagesVisible({
              period: MINUTE,
              statistic: 'Maximum',
              label: 'depth',
            }),
            queue.metricApproximateNumberOfMessagesNotVisible({
              period: MINUTE,
              statistic: 'Maximum',
              label: 'in flight',
            }),
            deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period: MINUTE,
              statistic: 'Maximum',
              label: 'DLQ depth',
            }),
          ],
          right: [
            queue.metricApproximateAgeOfOldestMessage({
              period: MINUTE,
              statistic: 'Maximum',
              label: 'oldest message (s)',
            }),
          ],
          leftYAxis: { label: 'messages', showUnits: false, min: 0 },
          rightYAxis: { label: 'seconds', showUnits: false, min: 0 },
          width: FULL / Object.keys(QUEUES).length,
          height: 6,
        });
      }),
    );

    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API Gateway',
        left: [
          props.api.metricCount({ period: MINUTE, statistic: 'Sum', label: 'requests' }),
          props.api.metricClientError({ period: MINUTE, statistic: 'Sum', label: '4XX' }),
          props.api.metricServerError({ period: MINUTE, statistic: 'Sum', label: '5XX' }),
        ],
        right: [props.api.metricLatency({ period: MINUTE, statistic: 'p99', label: 'latency p99 (ms)' })],
        width: FULL,
        height: 5,
      }),
    );

    this.dashboard.addWidgets(
      ...(Object.keys(FUNCTIONS) as FunctionName[]).map((name) => {
        const fn = props.functions[name];
        return new cloudwatch.GraphWidget({
          title: `λ ${name}`,
          left: [
            fn.metricErrors({ period: MINUTE, statistic: 'Sum', label: 'errors' }),
            fn.metricThrottles({ period: MINUTE, statistic: 'Sum', label: 'throttles' }),
          ],
          right: [fn.metricDuration({ period: MINUTE, statistic: 'p99', label: 'duration p99 (ms)' })],
          leftYAxis: { showUnits: false, min: 0 },
          rightYAxis: { showUnits: false, min: 0 },
          width: 6,
          height: 5,
        });
      }),
    );
  }
}
