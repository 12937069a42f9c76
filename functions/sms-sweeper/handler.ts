/** EventBridge schedule (rate 1 minute) → sweepOutbox (functions/sms/sweeper.ts). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { ScheduledEvent } from 'aws-lambda';
import { logger, metrics } from '../shared/powertools';
import { sweepOutbox, type SweepResult } from '../sms/sweeper';
import { sweepDeps } from '../sms/base-wiring';

export const handler = middy<ScheduledEvent, SweepResult>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(() => sweepOutbox(sweepDeps()));
