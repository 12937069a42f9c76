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

export interface BridgeAlarmsProps {
  /** Optional address subscribed to the alarm topic (SNS sends a confirmation mail first). */
  alarmEmail?: string;
  /** Alarm when the oldest message of a main queue is older than this many seconds. */
  queueAgeAlarmSeconds?: number;
  /** Alarm when a main queue holds more than this many visible messages (a backlog, whatever its age). */
  queueDepthAlarmMessages?: number;
  /** Function errors within five minutes that raise an alarm. */
  functionErrorThreshold?: number;
}

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

  constructor(scope: Construct, id: string, props: BridgeAlarmsProps = {}) {
    super(scope, id);
    this.queueAgeSeconds = props.queueAgeAlarmSeconds ?? 600;
    this.queueDepthMessages = props.queueDepthAlarmMessages ?? 1000;
    this.functionErrorThreshold = props.functionErrorThreshold ?? 1;

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
    });
  }

  watchFunction(name: string, fn: lambda.IFunction): void {
    this.add(`${name}Errors`, {
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: this.functionErrorThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `The ${name} function failed (unhandled errors or timeouts)`,
    });
    this.add(`${name}Throttles`, {
      metric: fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: `The ${name} function was throttled`,
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
    });
  }

  watchApi(api: apigw.RestApi): void {
    this.add('Api5xx', {
      metric: api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      alarmDescription: 'The API answered 5XX (function errors, timeouts or integration failures)',
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
    });
  }

  private add(
    id: string,
    props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number },
  ) {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
