import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One logger and metrics per function process. The service name comes from POWERTOOLS_SERVICE_NAME, which the
 * stack and the local stack set per function. No Powertools Tracer: the X-Ray SDK it loads cost about 115 KB of
 * bundle and 250 ms of cold start (bin/bench.ts); Lambda's active tracing still records each invocation.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cognigy-8x8-bridge',
});
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Cognigy8x8Bridge',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cognigy-8x8-bridge',
  // Its only warning is "no application metrics to publish" on invocations that record none (status lookups,
  // ignored webhooks): expected here, so it goes to a child logger that only reports errors.
  logger: logger.createChild({ logLevel: 'ERROR' }),
});

/**
 * One count with dimensions of its own (beside `service`), e.g. a refused webhook's reason. Published at once as its
 * own EMF record, so the dimension never spreads to the invocation's other metrics. Values must come from a closed
 * set (error codes): every distinct value is a metric CloudWatch bills for.
 */
export function countWithDimensions(metric: string, dimensions: Record<string, string>, value = 1): void {
  const single = metrics.singleMetric();
  for (const [name, dimension] of Object.entries(dimensions)) single.addDimension(name, dimension);
  single.addMetric(metric, MetricUnit.Count, value);
}
