import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

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
