import {
  QUEUES,
  SECRETS,
  SETTING_SPECS,
  TABLES,
  type QueueName,
  type SecretName,
  type SettingKey,
  type SettingSpec,
  type TableName,
} from './catalogue';
import { InvalidSettingError, parseSetting } from './setting-rules';

/** Reads a required environment variable; a missing one is a deployment fault, reported by name. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}

export const queueUrl = (queue: QueueName): string => requireEnv(QUEUES[queue].urlEnv);
export const tableName = (table: TableName): string => requireEnv(TABLES[table].nameEnv);
export const secretName = (secret: SecretName): string => requireEnv(SECRETS[secret].nameEnv);

/** Every setting's value, typed by its rule in the catalogue (SETTING_SPECS), defaults applied. */
export type SettingValues = {
  [K in SettingKey]: ReturnType<(typeof SETTING_SPECS)[K]['rule']['parse']>;
};

/** The SMS settings, which SmsSettings gives under shorter names. */
type SmsSettingKey =
  | 'smsReceiptMode'
  | 'smsIdempotencyTtlSeconds'
  | 'smsIdempotencyWaitMs'
  | 'smsSweepAgeSeconds'
  | 'smsSweepBatchSize'
  | 'smsSweepAlarmThreshold'
  | 'ambiguousTimeoutPolicy'
  | 'smsRateLimitPerSecond'
  | 'smsPacerEdgeGuardMs';

export type Settings = Omit<SettingValues, SmsSettingKey>;

const settingKeys = Object.keys(SETTING_SPECS) as SettingKey[];
const specOf = (key: SettingKey): SettingSpec => SETTING_SPECS[key];

/**
 * Every setting whose value its rule refuses, in catalogue order, each naming the setting, its value and what is
 * allowed. `npm start` and `cdk synth` report them before anything starts; functions check them on first run.
 */
export function settingProblems(env: NodeJS.ProcessEnv = process.env): InvalidSettingError[] {
  const problems: InvalidSettingError[] = [];
  for (const key of settingKeys) {
    const spec = specOf(key);
    try {
      parseSetting(spec.env, spec.rule, env[spec.env]);
    } catch (error) {
      if (!(error instanceof InvalidSettingError)) throw error;
      problems.push(error);
    }
  }
  return problems;
}

/** Throws the first invalid setting's InvalidSettingError (a 503 NOT_CONFIGURED on an HTTP route). */
export function checkSettings(env: NodeJS.ProcessEnv = process.env): void {
  const [first] = settingProblems(env);
  if (first) throw first;
}

let settingsPassed = false;

/**
 * checkSettings for a function's invocations: checked until it passes once (a function instance's environment does
 * not change), so an invalid setting refuses every invocation and costs nothing once valid.
 */
export function checkSettingsOnce(): void {
  if (settingsPassed) return;
  checkSettings();
  settingsPassed = true;
}

/** Plain settings from the environment (functions/shared/catalogue.ts SETTING_SPECS); throws InvalidSettingError. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const values: Record<string, unknown> = {};
  for (const key of settingKeys) {
    const spec = specOf(key);
    values[key] = parseSetting(spec.env, spec.rule, env[spec.env]);
  }
  return values as SettingValues;
}

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
  /** SETTINGS.smsPacerEdgeGuardMs: the end of each second in which the pacer places no calls (ms). */
  pacerEdgeGuardMs: number;
}

/** Shared settings plus the SMS ones (SETTINGS.sms*). */
export function loadSmsSettings(env: NodeJS.ProcessEnv = process.env): SmsSettings {
  const all = loadSettings(env) as SettingValues;
  return {
    ...all,
    receiptMode: all.smsReceiptMode,
    idempotencyWaitMs: all.smsIdempotencyWaitMs,
    sweepAgeSeconds: all.smsSweepAgeSeconds,
    sweepBatchSize: all.smsSweepBatchSize,
    sweepAlarmThreshold: all.smsSweepAlarmThreshold,
    ambiguousTimeoutPolicy: all.ambiguousTimeoutPolicy,
    rateLimitPerSecond: all.smsRateLimitPerSecond,
    pacerEdgeGuardMs: all.smsPacerEdgeGuardMs,
    idempotencyTtlSeconds: Math.min(all.smsIdempotencyTtlSeconds, all.recordTtlDays * 86_400),
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
