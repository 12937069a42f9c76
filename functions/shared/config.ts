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
  });
  return {
    ...base,
    receiptMode: sms.receiptMode,
    idempotencyWaitMs: sms.idempotencyWaitMs,
    sweepAgeSeconds: sms.sweepAgeSeconds,
    sweepBatchSize: sms.sweepBatchSize,
    sweepAlarmThreshold: sms.sweepAlarmThreshold,
    ambiguousTimeoutPolicy: sms.ambiguousTimeoutPolicy,
    idempotencyTtlSeconds: Math.min(sms.idempotencyTtlSeconds, base.recordTtlDays * 86_400),
  };
}
