import * as z from 'zod';
import { SETTINGS } from '../../lib/routes';
import { loadSettings, type Settings } from '../shared/config';

const smsSettingsSchema = z.object({
  receiptMode: z.enum(['account', 'perMessage']).default('account'),
  idempotencyTtlSeconds: z.coerce.number().int().positive().default(86_400),
});

export interface SmsSettings extends Settings {
  receiptMode: 'account' | 'perMessage';
  /** Capped at the record TTL: a replayed answer must never point at a record DynamoDB already removed. */
  idempotencyTtlSeconds: number;
}

/** Shared settings plus the SMS ones (SETTINGS.smsReceiptMode, SETTINGS.smsIdempotencyTtlSeconds). */
export function loadSmsSettings(env: NodeJS.ProcessEnv = process.env): SmsSettings {
  const base = loadSettings(env);
  const read = (name: string) => (env[name] === '' ? undefined : env[name]);
  const sms = smsSettingsSchema.parse({
    receiptMode: read(SETTINGS.smsReceiptMode),
    idempotencyTtlSeconds: read(SETTINGS.smsIdempotencyTtlSeconds),
  });
  return {
    ...base,
    receiptMode: sms.receiptMode,
    idempotencyTtlSeconds: Math.min(sms.idempotencyTtlSeconds, base.recordTtlDays * 86_400),
  };
}
