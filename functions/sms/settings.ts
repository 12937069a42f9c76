import { SETTINGS } from '../shared/catalogue';
import { loadSettings, type Settings } from '../shared/config';
import * as z from '../shared/zod';

const smsSettingsSchema = z.object({
  receiptMode: z._default(z.enum(['account', 'perMessage']), 'account'),
  idempotencyTtlSeconds: z._default(z.coerce.number().check(z.int(), z.positive()), 86_400),
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
