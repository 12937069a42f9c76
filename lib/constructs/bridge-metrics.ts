import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { FunctionName } from '../../functions/shared/catalogue';

/**
 * The Powertools (EMF) metrics the dashboard and the business alarms read: each name with the functions that emit
 * it (Powertools sets the `service` dimension to the function's name), its unit and its meaning. Every name here
 * is emitted somewhere in functions/ and documented in docs/operations.md "Metrics" (test/unit/ops/metrics.test.ts
 * checks both), so a renamed metric cannot leave a dashboard line or an alarm watching nothing.
 */
export const BRIDGE_METRICS = {
  SmsAccepted: { services: ['sms-accept', 'sms-batch'], unit: 'Count', meaning: 'new SMS stored and queued' },
  SmsSent: { services: ['sms-deliver'], unit: 'Count', meaning: 'SMS 8x8 accepted (status sent)' },
  SmsDelivered: { services: ['sms-receipt'], unit: 'Count', meaning: 'receipts that made an SMS delivered' },
  SmsUndelivered: {
    services: ['sms-receipt'],
    unit: 'Count',
    meaning: 'receipts that made an SMS undelivered or rejected after 8x8 took it',
  },
  SmsFailed: {
    services: ['sms-deliver'],
    unit: 'Count',
    meaning: 'SMS that ended failed or rejected before reaching 8x8',
  },
  SmsReceipt: { services: ['sms-receipt'], unit: 'Count', meaning: 'authenticated 8x8 delivery receipts' },
  '8x8Calls': { services: ['sms-deliver'], unit: 'Count', meaning: 'calls to the 8x8 SMS API' },
  '8x8Latency': {
    services: ['sms-deliver'],
    unit: 'Milliseconds',
    meaning: 'duration of each 8x8 SMS API call',
  },
  '8x8RateLimited': { services: ['sms-deliver'], unit: 'Count', meaning: '8x8 SMS API answers 429' },
  WebhookVerified: {
    services: ['sms-receipt', 'sms-inbound-webhook', 'handover-webhook'],
    unit: 'Count',
    meaning: 'webhook deliveries answered 2xx (credential or signature verified)',
  },
  WebhookRefused: {
    services: ['sms-receipt', 'sms-inbound-webhook', 'handover-webhook'],
    unit: 'Count',
    meaning: 'webhook deliveries answered 4xx; also per `reason` (the error code)',
  },
  HandoverRelayLatency: {
    services: ['handover-relay'],
    unit: 'Milliseconds',
    meaning: '8x8 event accepted by the webhook → Cognigy answered the push',
  },
  HandoverRelayPushFailed: {
    services: ['handover-relay'],
    unit: 'Count',
    meaning: 'failed Cognigy pushes of 8x8 events (retried or recorded)',
  },
  SmsInjectFailed: {
    services: ['sms-deliver', 'sms-receipt'],
    unit: 'Count',
    meaning: 'failed Cognigy injections of SMS statuses',
  },
  HandoverStarted: { services: ['handover-start'], unit: 'Count', meaning: 'handovers started' },
  HandoverRelayed: { services: ['handover-relay'], unit: 'Count', meaning: '8x8 events pushed to Cognigy' },
  SmsOutboxSwept: { services: ['sms-sweeper'], unit: 'Count', meaning: 'accepted SMS the sweeper queued' },
  ChatEventBodyMismatch: {
    services: ['handover-webhook'],
    unit: 'Count',
    meaning: 'an 8x8 event id delivered again with another body',
  },
} as const satisfies Record<string, { services: readonly FunctionName[]; unit: string; meaning: string }>;

export type BridgeMetricName = keyof typeof BRIDGE_METRICS;

/** A MathExpression id: a lower-case letter first, then letters, digits and underscores. */
function metricId(name: string, service: string): string {
  return `m${name}_${service}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Reads the bridge's EMF metrics in one namespace, per function or summed over the functions that emit them. */
export class BridgeMetrics {
  constructor(readonly namespace: string) {}

  /** One function's series of a metric. */
  of(
    name: BridgeMetricName,
    service: FunctionName,
    options: { statistic?: string; period?: Duration; label?: string } = {},
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: name,
      dimensionsMap: { service },
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? Duration.minutes(1),
      ...(options.label ? { label: options.label } : {}),
    });
  }

  /**
   * The sum over every emitting function, missing points as 0: a minute without an SMS is 0, not a gap, so ratios
   * and "sent but no receipt" comparisons see numbers. Ids are `m<metric>_<service>`, unique within a widget.
   */
  total(
    name: BridgeMetricName,
    options: { period?: Duration; label?: string } = {},
  ): cloudwatch.MathExpression {
    const services = BRIDGE_METRICS[name].services as readonly FunctionName[];
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    for (const service of services) usingMetrics[metricId(name, service)] = this.of(name, service, options);
    return new cloudwatch.MathExpression({
      expression: Object.keys(usingMetrics)
        .map((id) => `FILL(${id}, 0)`)
        .join(' + '),
      usingMetrics,
      period: options.period ?? Duration.minutes(1),
      label: options.label ?? name,
    });
  }

  /** `WebhookRefused` per function and reason: every reason that occurred, found by search (dashboard only). */
  refusedByReason(period = Duration.minutes(1)): cloudwatch.SearchExpression {
    return new cloudwatch.SearchExpression({
      expression: `SEARCH('{${this.namespace},reason,service} MetricName="WebhookRefused"', 'Sum', ${period.toSeconds()})`,
      label: '',
      period,
    });
  }
}
