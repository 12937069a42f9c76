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
  | 'ambiguousTimeoutPolicy';

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
    idempotencyTtlSeconds: Math.min(all.smsIdempotencyTtlSeconds, all.recordTtlDays * 86_400),
  };
}
