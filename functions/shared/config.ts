import * as z from 'zod';
import { QUEUES, SECRETS, SETTINGS, TABLES, type QueueName, type SecretName, type TableName } from '../../lib/routes';

/** Reads a required environment variable; a missing one is a deployment fault, reported by name. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}

export const queueUrl = (queue: QueueName): string => requireEnv(QUEUES[queue].urlEnv);
export const tableName = (table: TableName): string => requireEnv(TABLES[table].nameEnv);
export const secretName = (secret: SecretName): string => requireEnv(SECRETS[secret].nameEnv);

const settingsSchema = z.object({
  publicBaseUrl: z.string().url().optional(),
  upstreamTimeoutMs: z.coerce.number().int().positive().default(5000),
  secretsMaxAgeSeconds: z.coerce.number().int().nonnegative().default(300),
  recordTtlDays: z.coerce.number().int().positive().default(30),
  webhookMaxAgeMs: z.coerce.number().int().positive().default(300_000),
  acceptUnsignedVerify: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  handoverRules: z.string().optional(),
  retryBaseDelaySeconds: z.coerce.number().positive().default(2),
  retryMaxDelaySeconds: z.coerce.number().positive().default(300),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Plain settings from the environment (names in lib/routes.ts SETTINGS), validated once per call. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const raw: Record<string, string | undefined> = {};
  for (const [key, envName] of Object.entries(SETTINGS)) {
    const value = env[envName];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return settingsSchema.parse(raw);
}
