import { Duration, Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FUNCTIONS, QUEUES, type QueueName } from '../../functions/shared/catalogue';
import { queueBatching, type QueueBatching } from '../../functions/shared/config';
import type { BridgeFunction } from './bridge-function';

/** AWS guidance for SQS event sources: visibility timeout at least six times the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** The longest retention SQS allows; a DLQ keeps failed messages as long as possible for inspection/redrive. */
export const DLQ_RETENTION_DAYS = 14;

export class QueueConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueConfigurationError';
  }
}

export interface BridgeQueueProps {
  name: QueueName;
  /** RETAIN (default): the queue and its DLQ outlive the stack, so accepted work is never deleted with it. */
  removalPolicy?: RemovalPolicy;
}

/**
 * A catalogue queue (functions/shared/catalogue.ts QUEUES) with its dead-letter queue: same FIFO-ness, SQS-managed encryption,
 * TLS-only access, redrive after `maxReceiveCount` receives. FIFO queues use explicit deduplication ids
 * (content-based deduplication off) because two identical user messages in a chat are both meant to be sent.
 */
export class BridgeQueue extends Construct {
  readonly queueName: QueueName;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BridgeQueueProps) {
    super(scope, id);
    const spec = QUEUES[props.name];
    const consumerTimeout = FUNCTIONS[spec.consumer].timeoutSeconds;
    if (spec.visibilityTimeoutSeconds < VISIBILITY_TIMEOUT_FACTOR * consumerTimeout) {
      throw new QueueConfigurationError(
        `Queue ${props.name}: visibility timeout ${spec.visibilityTimeoutSeconds}s is below ` +
          `${VISIBILITY_TIMEOUT_FACTOR} x the ${spec.consumer} timeout (${consumerTimeout}s)`,
      );
    }
    this.queueName = props.name;
    const fifo = spec.fifo ? { fifo: true, contentBasedDeduplication: false } : {};
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...fifo,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
      removalPolicy,
    });
    // (AwsSolutions-SQS3 already recognises a queue used as a DLQ; the Serverless pack does not.)
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This is the DLQ of the bridge queue; a DLQ of a DLQ would only hide failures',
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifo,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(spec.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
      removalPolicy,
    });
  }

  /**
   * Connects the catalogue consumer: partial batch responses, the batch size and concurrency cap from the
   * catalogue, and a batching window for standard queues only (Lambda does not allow one for FIFO sources).
   */
  attachConsumer(consumer: BridgeFunction, batching: QueueBatching = queueBatching(this.queueName, {})): void {
    const spec = QUEUES[this.queueName];
    if (consumer.functionLogicalName !== spec.consumer) {
      throw new QueueConfigurationError(
        `Queue ${this.queueName} is consumed by ${spec.consumer}, not ${consumer.functionLogicalName}`,
      );
    }
    consumer.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: batching.batchSize,
        maxBatchingWindow:
          !spec.fifo && batching.batchingWindowSeconds > 0
            ? Duration.seconds(batching.batchingWindowSeconds)
            : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: spec.maxConcurrency,
      }),
    );
    // SQS event sources support no on-failure destination; failed messages go to the queue's DLQ instead.
    const mapping = consumer.node.findChild(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`);
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings take no on-failure destination; the queue redrive policy moves failed messages to the DLQ',
    });
  }
}
