import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BridgeMetrics } from './bridge-metrics';

export interface BridgeAlarmsProps {
  /** Optional address subscribed to the alarm topic (SNS sends a confirmation mail first). */
  alarmEmail?: string;
  /** Alarm when the oldest message of a main queue is older than this many seconds. */
  queueAgeAlarmSeconds?: number;
  /** Alarm when a main queue holds more than this many visible messages (a backlog, whatever its age). */
  queueDepthAlarmMessages?: number;
  /** Function errors within five minutes that raise an alarm. */
  functionErrorThreshold?: number;
  /**
   * Where docs/operations.md is read (default the repository path `docs/operations.md`); every alarm description
   * ends with `Runbook: <this>#<the alarm's section>`. Set it to the runbook's URL in your own repository.
   */
  runbookUrl?: string;
  /** The business alarms' thresholds (defaults in BUSINESS_ALARM_DEFAULTS). */
  business?: Partial<BusinessAlarmThresholds>;
}

/** Thresholds of the business alarms; CDK context options of the same names (README "Deploying to AWS"). */
export interface BusinessAlarmThresholds {
  /** Alarm when more than this percentage of the SMS that ended within 15 minutes failed or were undelivered. */
  smsFailureRatioPercent: number;
  /** …but only once at least this many SMS ended in those 15 minutes (a few SMS make no ratio). */
  smsFailureMinOutcomes: number;
  /** Alarm when the two webhooks refused at least this many deliveries within 5 minutes. 0: no alarm. */
  webhookRefusedAlarmCount: number;
  /** Alarm when at least this many Cognigy pushes (SMS statuses, relayed 8x8 events) failed within 5 minutes. 0: no alarm. */
  cognigyPushFailureAlarmCount: number;
  /**
   * Alarm when SMS were handed to 8x8 in every 5 minutes of this many minutes and no receipt arrived (a multiple
   * of 5, at least 10). 0: no alarm (deployments that take no receipts).
   */
  receiptSilenceMinutes: number;
}

export const BUSINESS_ALARM_DEFAULTS: BusinessAlarmThresholds = {
  smsFailureRatioPercent: 10,
  smsFailureMinOutcomes: 20,
  webhookRefusedAlarmCount: 20,
  cognigyPushFailureAlarmCount: 5,
  receiptSilenceMinutes: 15,
};

export class AlarmConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlarmConfigurationError';
  }
}

/** The runbook section of each alarm (docs/operations.md headings "Alarm: …"). */
export const RUNBOOK_ANCHORS = {
  dlq: 'alarm-dlq-not-empty',
  queueAge: 'alarm-queue-age',
  queueDepth: 'alarm-queue-depth',
  functionErrors: 'alarm-function-errors',
  functionThrottles: 'alarm-function-throttles',
  api5xx: 'alarm-api-5xx',
  outboxSwept: 'alarm-sms-outbox-swept',
  bodyMismatch: 'alarm-chat-event-body-mismatch',
  smsFailureRatio: 'alarm-sms-failure-ratio',
  webhooksRefused: 'alarm-webhooks-refused',
  cognigyPushFailures: 'alarm-cognigy-push-failures',
  receiptsMissing: 'alarm-sms-receipts-missing',
} as const;
type RunbookSection = keyof typeof RUNBOOK_ANCHORS;

/**
 * The alarm topic and the alarms that page someone: messages in a DLQ, work piling up in a queue, failing or
 * throttled functions, and 5XX answers from the API. Every alarm notifies on ALARM and on OK.
 */
export class BridgeAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: SnsAction;
  private readonly queueAgeSeconds: number;
  private readonly queueDepthMessages: number;
  private readonly functionErrorThreshold: number;
  private readonly runbookUrl: string;
  readonly business: BusinessAlarmThresholds;

  constructor(scope: Construct, id: string, props: BridgeAlarmsProps = {}) {
    super(scope, id);
    this.queueAgeSeconds = props.queueAgeAlarmSeconds ?? 600;
    this.queueDepthMessages = props.queueDepthAlarmMessages ?? 1000;
    this.functionErrorThreshold = props.functionErrorThreshold ?? 1;
    this.runbookUrl = props.runbookUrl ?? 'docs/operations.md';
    this.business = { ...BUSINESS_ALARM_DEFAULTS, ...props.business };
    const silence = this.business.receiptSilenceMinutes;
    if (silence !== 0 && (silence < 10 || silence % 5 !== 0)) {
      throw new AlarmConfigurationError(
        `receiptSilenceMinutes must be 0 (no alarm) or a multiple of 5 from 10 on, not ${silence}`,
      );
    }

    // CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, so the topic gets its own
    // customer managed key whose policy lets CloudWatch use it.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the bridge alarm topic',
      enableKeyRotation: true,
      // SNS keeps no messages, so nothing needs this key once the topic is gone (deletion waits 7 days).
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Cognigy 8x8 bridge alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(this.topic).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'Email notifications only; the alarm state stays visible in CloudWatch when a mail is not delivered',
      });
    }
    this.action = new SnsAction(this.topic);
  }

  /** Any message in a DLQ means work was given up on: alarm on the first one. */
  watchDeadLetterQueue(name: string, dlq: sqs.IQueue): void {
    this.add(`${name}DlqNotEmpty`, {
      metric: dlq.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `Messages of the ${name} queue were moved to its DLQ; inspect them and redrive when fixed`,
      runbook: 'dlq',
    });
  }

  /** Work piling up (consumer failing, throttled or the upstream slow) shows as an ageing oldest message. */
  watchQueueAge(name: string, queue: sqs.IQueue): void {
    this.add(`${name}QueueAge`, {
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: this.queueAgeSeconds,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `The oldest message of the ${name} queue is older than ${this.queueAgeSeconds}s`,
      runbook: 'queueAge',
    });
  }

  /** A backlog (a burst beyond what the consumer's concurrency and 8x8's rate limit drain) shows as depth. */
  watchQueueDepth(name: string, queue: sqs.IQueue): void {
    this.add(`${name}QueueDepth`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: this.queueDepthMessages,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription: `The ${name} queue has held more than ${this.queueDepthMessages} messages for 5 minutes`,
      runbook: 'queueDepth',
    });
  }

  watchFunction(name: string, fn: lambda.IFunction): void {
    this.add(`${name}Errors`, {
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: this.functionErrorThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `The ${name} function failed (unhandled errors or timeouts)`,
      runbook: 'functionErrors',
    });
    this.add(`${name}Throttles`, {
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `The ${name} function was throttled`,
      runbook: 'functionThrottles',
    });
  }

  /**
   * The outbox sweeper queued SMS (metric SmsOutboxSwept of functions/sms/sweeper.ts): an accept died or SQS refused
   * between the record write and the enqueue. Nothing is lost (the sweeper delivered them late), but it should not
   * happen often. `threshold` swept SMS within 5 minutes raise it.
   */
  watchOutboxSweeps(props: { namespace: string; service: string; threshold: number }): void {
    this.add('SmsOutboxSwept', {
      metric: new cloudwatch.Metric({
        namespace: props.namespace,
        metricName: 'SmsOutboxSwept',
        dimensionsMap: { service: props.service },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: props.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription:
        'The outbox sweeper queued accepted SMS that never reached the SMS queue (an accept crashed or SQS refused)',
      runbook: 'outboxSwept',
    });
  }

  watchApi(api: apigw.RestApi): void {
    this.add('Api5xx', {
      metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: 'The API answered 5XX (function errors, timeouts or integration failures)',
      runbook: 'api5xx',
    });
  }

  /**
   * A security event: an 8x8 event id delivered again with another body (a forged body reusing a captured
   * signature; functions/handover/webhook.ts counts ChatEventBodyMismatch). One is enough to page someone.
   */
  watchWebhookBodyMismatch(metricsNamespace: string): void {
    this.add('ChatEventBodyMismatch', {
      metric: new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName: 'ChatEventBodyMismatch',
        // Powertools adds the function's service name as the `service` dimension.
        dimensionsMap: { service: 'handover-webhook' },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription:
        'SECURITY: an 8x8 Chat Gateway event id arrived with a different body (forged body with a captured ' +
        'signature?); it was refused. See the handover-webhook logs (securityEvent EVENT_BODY_MISMATCH)',
      runbook: 'bodyMismatch',
    });
  }

  /**
   * Business alarms (issue 12): what the bridge is for going wrong, read from the functions' Powertools metrics in
   * `namespace`. Each can be tuned or (counts) switched off with its CDK context option.
   */
  watchBusiness(namespace: string): void {
    const metrics = new BridgeMetrics(namespace);
    const t = this.business;

    // Of the SMS that ended (failed before 8x8, or 8x8's final receipt), the share that did not reach the phone.
    const window = Duration.minutes(15);
    this.add('SmsFailureRatio', {
      metric: new cloudwatch.MathExpression({
        expression: `IF((failed + undelivered + delivered) >= ${t.smsFailureMinOutcomes}, 100 * (failed + undelivered) / (failed + undelivered + delivered), 0)`,
        usingMetrics: {
          failed: metrics.total('SmsFailed', { period: window }),
          undelivered: metrics.total('SmsUndelivered', { period: window }),
          delivered: metrics.total('SmsDelivered', { period: window }),
        },
        period: window,
        label: 'failed or undelivered, % of ended SMS',
      }),
      threshold: t.smsFailureRatioPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescription:
        `More than ${t.smsFailureRatioPercent}% of the SMS that ended in 15 minutes (at least ` +
        `${t.smsFailureMinOutcomes}) failed or were undelivered. Check the dashboard's SMS row and the errorCode of ` +
        'failed records (8x8 account balance, sender id, destination country, content filtering)',
      runbook: 'smsFailureRatio',
    });

    if (t.webhookRefusedAlarmCount > 0) {
      this.add('WebhooksRefused', {
        metric: metrics.total('WebhookRefused', { period: Duration.minutes(5), label: 'refused deliveries' }),
        threshold: t.webhookRefusedAlarmCount,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        alarmDescription:
          `The 8x8 webhooks refused at least ${t.webhookRefusedAlarmCount} deliveries in 5 minutes: a misconfigured ` +
          'key (8x8 sends an old Authorization, a wrong tenant) or forgery attempts. The dashboard shows the reasons',
        runbook: 'webhooksRefused',
      });
    }

    if (t.cognigyPushFailureAlarmCount > 0) {
      const period = Duration.minutes(5);
      this.add('CognigyPushFailures', {
        metric: new cloudwatch.MathExpression({
          expression: 'sms + relay',
          usingMetrics: {
            sms: metrics.total('SmsInjectFailed', { period }),
            relay: metrics.total('HandoverRelayPushFailed', { period }),
          },
          period,
          label: 'failed Cognigy pushes',
        }),
        threshold: t.cognigyPushFailureAlarmCount,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        alarmDescription:
          `At least ${t.cognigyPushFailureAlarmCount} pushes to Cognigy (SMS status injections, agent messages and ` +
          'events) failed in 5 minutes. They are retried; check the Cognigy Endpoint (URL token, Endpoint enabled, ' +
          'Cognigy status) before the retries run out',
        runbook: 'cognigyPushFailures',
      });
    }

    if (t.receiptSilenceMinutes > 0) {
      // Each 5-minute point is 1 when SMS went to 8x8 and not one receipt came back; missing data (no SMS at all)
      // counts as 0 through FILL and as not breaching, so a quiet night never alarms.
      const period = Duration.minutes(5);
      const periods = t.receiptSilenceMinutes / 5;
      this.add('SmsReceiptsMissing', {
        metric: new cloudwatch.MathExpression({
          expression: 'IF(sent > 0 AND receipts == 0, 1, 0)',
          usingMetrics: {
            sent: metrics.total('SmsSent', { period }),
            receipts: metrics.total('SmsReceipt', { period }),
          },
          period,
          label: 'SMS sent without any receipt',
        }),
        threshold: 1,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        alarmDescription:
          `SMS were handed to 8x8 in each 5 minutes of the last ${t.receiptSilenceMinutes} and no delivery receipt ` +
          'arrived: the 8x8 receipt webhook is missing, disabled or points elsewhere, or its Authorization is refused',
        runbook: 'receiptsMissing',
      });
    }
  }

  private add(
    id: string,
    props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'> & {
      evaluationPeriods?: number;
      runbook: RunbookSection;
    },
  ) {
    const { runbook, ...alarmProps } = props;
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...alarmProps,
      alarmDescription: `${props.alarmDescription}. Runbook: ${this.runbookUrl}#${RUNBOOK_ANCHORS[runbook]}`,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
