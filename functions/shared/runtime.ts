/**
 * What every core takes instead of reaching for globals: the time, fresh ids, randomness (for jitter) and
 * telemetry. The real ones are built in each domain's wiring.ts; tests pass fixed ones, so a core's decision
 * depends only on its arguments.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics } from './powertools';

export interface Clock {
  now(): Date;
}

export interface Ids {
  uuid(): string;
}

/** A number in [0, 1), as Math.random gives. */
export type Random = () => number;

/** The structured logger the cores write to (Powertools Logger in Lambda; a recording one in tests). */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Metrics and logs of a core: names are the Powertools (EMF) metric names documented in the README. */
export interface Telemetry {
  log: Log;
  count(metric: string, value?: number): void;
  milliseconds(metric: string, value: number): void;
}

export const systemClock: Clock = { now: () => new Date() };
export const uuidIds: Ids = { uuid: () => randomUUID() };
export const mathRandom: Random = () => Math.random();

/** Telemetry through the function's one Powertools Logger and Metrics (flushed by the handler middleware). */
export const powertoolsTelemetry: Telemetry = {
  log: logger,
  count: (metric, value = 1) => metrics.addMetric(metric, MetricUnit.Count, value),
  milliseconds: (metric, value) => metrics.addMetric(metric, MetricUnit.Milliseconds, value),
};
