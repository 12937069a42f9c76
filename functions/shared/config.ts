import {
  QUEUES,
  SECRETS,
  SETTINGS,
  TABLES,
  type QueueName,
  type SecretName,
  type TableName,
} from './catalogue';
import * as z from './zod';

/** Reads a required environment variable; a missing one is a deployment fault, reported by name. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}

export const queueUrl = (queue: QueueName): string => requireEnv(QUEUES[queue].urlEnv);
export const tableName = (table: TableName): string => requireEnv(TABLES[table].nameEnv);
export const secretName = (secret: SecretName): string => requireEnv(SECRETS[secret].nameEnv);

/** A number read from a string (environment variables are text), with checks and a default. */
const envNumber = (fallback: number, ...checks: z.core.$ZodCheck<number>[]) =>
  z._default(z.coerce.number().check(...checks), fallback);

const settingsSchema = z.object({
  publicBaseUrl: z.optional(z.url()),
  upstreamTimeoutMs: envNumber(5000, z.int(), z.positive()),
  secretsMaxAgeSeconds: envNumber(300, z.int(), z.nonnegative()),
  recordTtlDays: envNumber(30, z.int(), z.positive()),
  // 8x8 stamps and signs a new transmission time on every retry, so the window covers clock skew and transit only
  // (README "Security model"), not 8x8's retry schedule.
  webhookMaxAgeMs: envNumber(60_000, z.int(), z.positive()),
  // 8x8 documents signature headers on every webhook POST and nowhere an unsigned verify: refused unless set.
  acceptUnsignedVerify: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  allowLoopbackUrls: z.pipe(
    z._default(z.enum(['true', 'false']), 'false'),
    z.transform((v) => v === 'true'),
  ),
  handoverRules: z.optional(z.string()),
  retryBaseDelaySeconds: envNumber(2, z.positive()),
  retryMaxDelaySeconds: envNumber(300, z.positive()),
  unownedRecordsOwner: z.optional(z.string()),
  handoverStartWaitMs: envNumber(5000, z.int(), z.nonnegative(), z.lte(7000)),
  cognigyRetryTimeoutMs: envNumber(8000, z.int(), z.positive()),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Plain settings from the environment (names in functions/shared/catalogue.ts SETTINGS), validated once per call. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const raw: Record<string, string | undefined> = {};
  for (const [key, envName] of Object.entries(SETTINGS)) {
    const value = env[envName];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return settingsSchema.parse(raw);
}

const smsSettingsSchema = z.object({
  receiptMode: z._default(z.enum(['account', 'perMessage']), 'account'),
  idempotencyTtlSeconds: z._default(z.coerce.number().check(z.int(), z.positive()), 86_400),
  idempotencyWaitMs: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 3_000),
  sweepAgeSeconds: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 60),
  sweepBatchSize: z._default(z.coerce.number().check(z.int(), z.positive(), z.lte(1000)), 100),
  sweepAlarmThreshold: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 1),
  ambiguousTimeoutPolicy: z._default(z.enum(['resend', 'fail']), 'resend'),
  // 8x8's documented default per sub-account; 0 = no pacing. 8x8 takes whole requests, the pacer any positive rate.
  rateLimitPerSecond: z._default(z.coerce.number().check(z.nonnegative(), z.lte(100_000)), 1_800),
});

export interface SmsSettings extends Settings {
  receiptMode: 'account' | 'perMessage';
  /** Capped at the record TTL: a replayed answer must never point at a record DynamoDB already removed. */
  idempotencyTtlSeconds: number;
  /** How long a repeat waits for an in-flight first request of its clientMessageId (ms). */
  idempotencyWaitMs: number;
  /** Outbox sweeper: minimum age (s) of a record it queues, and records per page. */
  sweepAgeSeconds: number;
  sweepBatchSize: number;
  /** CDK alarm: swept SMS within 5 minutes that raise it (0: no alarm). */
  sweepAlarmThreshold: number;
  /** SETTINGS.ambiguousTimeoutPolicy. */
  ambiguousTimeoutPolicy: 'resend' | 'fail';
  /** SETTINGS.smsRateLimitPerSecond: 8x8 requests per second for all SMS workers together (0: no pacing). */
  rateLimitPerSecond: number;
}

/** Shared settings plus the SMS ones (SETTINGS.sms*). */
export function loadSmsSettings(env: NodeJS.ProcessEnv = process.env): SmsSettings {
  const base = loadSettings(env);
  const read = (name: string) => (env[name] === '' ? undefined : env[name]);
  const sms = smsSettingsSchema.parse({
    receiptMode: read(SETTINGS.smsReceiptMode),
    idempotencyTtlSeconds: read(SETTINGS.smsIdempotencyTtlSeconds),
    idempotencyWaitMs: read(SETTINGS.smsIdempotencyWaitMs),
    sweepAgeSeconds: read(SETTINGS.smsSweepAgeSeconds),
    sweepBatchSize: read(SETTINGS.smsSweepBatchSize),
    sweepAlarmThreshold: read(SETTINGS.smsSweepAlarmThreshold),
    ambiguousTimeoutPolicy: read(SETTINGS.ambiguousTimeoutPolicy),
    rateLimitPerSecond: read(SETTINGS.smsRateLimitPerSecond),
  });
  return {
    ...base,
    receiptMode: sms.receiptMode,
    idempotencyWaitMs: sms.idempotencyWaitMs,
    sweepAgeSeconds: sms.sweepAgeSeconds,
    sweepBatchSize: sms.sweepBatchSize,
    sweepAlarmThreshold: sms.sweepAlarmThreshold,
    ambiguousTimeoutPolicy: sms.ambiguousTimeoutPolicy,
    rateLimitPerSecond: sms.rateLimitPerSecond,
    idempotencyTtlSeconds: Math.min(sms.idempotencyTtlSeconds, base.recordTtlDays * 86_400),
  };
}

/** How a queue's event source batches records: the same for the CDK event source and the local poller. */
export interface QueueBatching {
  batchSize: number;
  batchingWindowSeconds: number;
}

/** A batching setting that Lambda's SQS event source would refuse. */
export class InvalidQueueBatchingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueueBatchingError';
  }
}

/**
 * A queue's batch size and batching window: the catalogue's, overridden by its batchingSettings (e.g.
 * SMS_QUEUE_BATCH_SIZE) in `settings`, checked against Lambda's SQS event source rules (standard queues: batch size
 * 1–10 000 and above 10 only with a window of at least 1 s; FIFO: 1–10 and no window; window 0–300 whole seconds).
 */
export function queueBatching(queue: QueueName, settings: Record<string, string | undefined>): QueueBatching {
  const spec = QUEUES[queue];
  const read = (name: string | undefined, fallback: number): number => {
    const raw = name === undefined ? undefined : settings[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value))
      throw new InvalidQueueBatchingError(`${name} must be a whole number: ${raw}`);
    return value;
  };
  const names = spec.batchingSettings;
  const batchSize = read(names?.batchSize, spec.batchSize);
  const batchingWindowSeconds = read(names?.batchingWindowSeconds, spec.batchingWindowSeconds);
  const label = names ? `${names.batchSize}/${names.batchingWindowSeconds}` : `queue ${queue}`;
  const maxBatch = spec.fifo ? 10 : 10_000;
  if (batchSize < 1 || batchSize > maxBatch)
    throw new InvalidQueueBatchingError(`${label}: batch size must be 1–${maxBatch}, not ${batchSize}`);
  if (batchingWindowSeconds < 0 || batchingWindowSeconds > 300 || (spec.fifo && batchingWindowSeconds > 0))
    throw new InvalidQueueBatchingError(
      `${label}: batching window must be 0–300 s (0 on FIFO queues), not ${batchingWindowSeconds}`,
    );
  if (batchSize > 10 && batchingWindowSeconds < 1)
    throw new InvalidQueueBatchingError(
      `${label}: a batch size above 10 needs a batching window of at least 1 s`,
    );
  return { batchSize, batchingWindowSeconds };
}
