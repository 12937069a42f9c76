/**
 * 8x8 SMS API request rules as the simulator applies them: the official schema (ajv, from the OAS fixture) plus the
 * rules 8x8 states only in prose, each mapped to 8x8's error `code` and message (api-error-codes.md, sms_api.json).
 * Pure functions: the simulator supplies the clock.
 */
import { isIP } from 'node:net';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { validateSmsRequest, type SmsSchemaIssue } from './contract/sms-schema';

export type SmsEncoding = 'GSM7' | 'UCS2';

/** An 8x8 API error: HTTP status plus the `code`/`message` of the error body. */
export interface EightByEightError {
  status: number;
  code: number;
  message: string;
}

export const SMS_ERRORS = {
  invalidParameter: { status: 400, code: 1000, message: 'Invalid parameter' },
  invalidBody: { status: 400, code: 1000, message: 'Invalid request body' },
  subAccount: { status: 400, code: 1001, message: "Provided subAccountId doesn't belongs to your account" },
  msisdn: { status: 400, code: 1002, message: 'Invalid MSISDN format (not E.164 international number)' },
  encoding: { status: 400, code: 1003, message: 'Invalid Encoding' },
  textMissing: { status: 400, code: 1004, message: 'Text value is missing' },
  textInvalid: { status: 400, code: 1004, message: 'Invalid Text value' },
  sourceAlphanumeric: { status: 400, code: 1005, message: 'Invalid Source value. Reached max allowed limit' },
  expiryReached: { status: 400, code: 1006, message: 'Expiry time already reached' },
  expiryInvalid: { status: 400, code: 1006, message: 'Invalid Expiry' },
  template: { status: 400, code: 1007, message: 'Invalid SMS Template' },
  country: { status: 400, code: 1009, message: 'Invalid Country Code' },
  schedule: { status: 400, code: 1011, message: 'Invalid Schedule Time' },
  clientIp: { status: 400, code: 1012, message: 'Invalid Ip Address' },
  unauthorized: { status: 401, code: 1200, message: 'Request was not authenticated properly' },
  forbidden: { status: 403, code: 1201, message: 'Access forbidden' },
  notFound: { status: 404, code: 1300, message: "Object wasn't found or is already expired" },
  methodNotAllowed: { status: 405, code: 1000, message: 'Method not allowed' },
  payloadTooLarge: { status: 413, code: 1000, message: 'Request body too large' },
  tls: {
    status: 426,
    code: 1014,
    message: 'TLS 1.3+ is required for Singapore-bound messages. Detected: TLSv1.2',
  },
  rateLimited: { status: 429, code: 429, message: 'Quota exceeded. Please try again in 1 second(s).' },
  internal: { status: 500, code: 2000, message: 'Internal server error' },
  clientMessageIdTooLong: { status: 400, code: 3009, message: 'Too long ClientMessageId' },
  sourceTooLong: { status: 400, code: 3011, message: 'Invalid Source value. Reached max allowed limit' },
  missedMessages: { status: 400, code: 3012, message: 'Missed messages' },
  tooManyMessages: { status: 400, code: 3013, message: 'Too much messages' },
  clientBatchIdTooLong: { status: 400, code: 3014, message: 'Too long ClientBatchId' },
  callbackUrl: { status: 400, code: 3020, message: 'Invalid DR Callback URL' },
} as const satisfies Record<string, EightByEightError>;

/** Default error body for an HTTP status injected on demand (8x8-apis.md §1.4). */
export function errorForStatus(status: number): EightByEightError {
  switch (status) {
    case 400:
      return SMS_ERRORS.msisdn;
    case 401:
      return SMS_ERRORS.unauthorized;
    case 403:
      return SMS_ERRORS.forbidden;
    case 404:
      return SMS_ERRORS.notFound;
    case 426:
      return SMS_ERRORS.tls;
    case 429:
      return SMS_ERRORS.rateLimited;
    default:
      return status >= 500
        ? { ...SMS_ERRORS.internal, status }
        : { status, code: 1000, message: 'Invalid parameter' };
  }
}

/** 8x8's scheduling window ("up to 7 days in advance"). */
export const MAX_SCHEDULE_AHEAD_MS = 7 * 24 * 60 * 60 * 1000;
/** Sender IDs: alphanumeric up to 11 characters, numeric up to the OAS maxLength (16). */
export const MAX_ALPHANUMERIC_SOURCE = 11;
/** "The maximum length for a message is 10 message parts. Longer messages will be truncated to this limit and sent." */
export const MAX_SMS_PARTS = 10;

/** Properties a batch `template` supplies to each message that lacks them (BatchSmsRequest description). */
export const TEMPLATE_FIELDS = [
  'source',
  'text',
  'encoding',
  'scheduled',
  'expiry',
  'dlrCallbackUrl',
] as const;

/** When several properties are wrong, the first in this order names the error. */
const FIELD_ORDER = [
  'destination',
  'text',
  'encoding',
  'source',
  'clientMessageId',
  'country',
  'scheduled',
  'expiry',
  'dlrCallbackUrl',
  'clientIp',
  'track',
] as const;

function schemaError(field: string, keyword: string): EightByEightError {
  switch (field) {
    case 'destination':
      return SMS_ERRORS.msisdn;
    case 'text':
      return keyword === 'required' ? SMS_ERRORS.textMissing : SMS_ERRORS.textInvalid;
    case 'encoding':
      return SMS_ERRORS.encoding;
    case 'source':
      return keyword === 'maxLength'
        ? SMS_ERRORS.sourceTooLong
        : { ...SMS_ERRORS.invalidParameter, message: 'Invalid Source' };
    case 'clientMessageId':
      return keyword === 'maxLength' ? SMS_ERRORS.clientMessageIdTooLong : parameter(field);
    case 'country':
      return SMS_ERRORS.country;
    case 'scheduled':
      return SMS_ERRORS.schedule;
    case 'expiry':
      return SMS_ERRORS.expiryInvalid;
    case 'dlrCallbackUrl':
      return SMS_ERRORS.callbackUrl;
    case 'clientIp':
      return SMS_ERRORS.clientIp;
    default:
      return parameter(field);
  }
}

function parameter(field: string): EightByEightError {
  return { ...SMS_ERRORS.invalidParameter, message: `Invalid parameter: ${field}` };
}

/** A message 8x8 would queue, with what the simulator derives from it. */
export interface AcceptedMessage {
  /** The effective request (template merged, nulls dropped). */
  request: Record<string, unknown>;
  /** Normalised international number with `+`. */
  destination: string;
  clientMessageId: string | null;
  encoding: SmsEncoding;
  smsCount: number;
  /** The text exceeded 10 parts; 8x8 truncates and sends. */
  truncated: boolean;
  scheduledAt?: Date;
}

export type MessageCheck = { ok: true; message: AcceptedMessage } | { ok: false; error: EightByEightError };

/**
 * 8x8 (a .NET service) reads a JSON `null` in an optional property as "absent"; Cognigy's 8x8 extension relies on
 * that (`country: null`). The strict contract validator does not, so the simulator drops nulls first.
 */
export function dropNulls(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (v !== null && v !== undefined) out[key] = v;
  return out;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one SmsRequest the way 8x8 does; `now` is the simulator's clock. */
export function checkMessage(input: Record<string, unknown>, now: Date): MessageCheck {
  const request = dropNulls(input);
  const issues = validateSmsRequest(request).errors;
  if (issues.length > 0) return { ok: false, error: firstSchemaError(issues) };

  const text = request.text as string;
  if (text.length === 0) return { ok: false, error: SMS_ERRORS.textMissing };
  const source = request.source as string | undefined;
  if (source !== undefined && !/^\+?\d+$/.test(source) && source.length > MAX_ALPHANUMERIC_SOURCE) {
    return { ok: false, error: SMS_ERRORS.sourceAlphanumeric };
  }
  const country = request.country as string | undefined;
  if (country !== undefined && !isSupportedCountry(country.toUpperCase()))
    return { ok: false, error: SMS_ERRORS.country };

  const scheduled = request.scheduled === undefined ? undefined : new Date(request.scheduled as string);
  if (scheduled && scheduled.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS)
    return { ok: false, error: SMS_ERRORS.schedule };
  if (request.expiry !== undefined) {
    const expiry = new Date(request.expiry as string);
    if (expiry.getTime() <= now.getTime()) return { ok: false, error: SMS_ERRORS.expiryReached };
    if (scheduled && expiry.getTime() <= scheduled.getTime())
      return { ok: false, error: SMS_ERRORS.expiryInvalid };
  }
  if (request.dlrCallbackUrl !== undefined && !/^https?:\/\//i.test(request.dlrCallbackUrl as string)) {
    return { ok: false, error: SMS_ERRORS.callbackUrl };
  }
  if (request.clientIp !== undefined && isIP(request.clientIp as string) === 0)
    return { ok: false, error: SMS_ERRORS.clientIp };

  const requested = (request.encoding as string | undefined) ?? 'AUTO';
  const encoding: SmsEncoding = requested === 'AUTO' ? detectEncoding(text) : (requested as SmsEncoding);
  const parts = countParts(text, encoding);
  return {
    ok: true,
    message: {
      request,
      destination: normaliseDestination(request.destination as string, country),
      clientMessageId: (request.clientMessageId as string | undefined) ?? null,
      encoding,
      smsCount: Math.min(parts, MAX_SMS_PARTS),
      truncated: parts > MAX_SMS_PARTS,
      ...(scheduled && scheduled.getTime() > now.getTime() ? { scheduledAt: scheduled } : {}),
    },
  };
}

function firstSchemaError(issues: SmsSchemaIssue[]): EightByEightError {
  const byField = new Map<string, string>();
  for (const issue of issues) {
    const field = issue.path.split('/')[1] ?? '';
    if (!byField.has(field)) byField.set(field, issue.keyword);
  }
  for (const field of FIELD_ORDER) {
    const keyword = byField.get(field);
    if (keyword) return schemaError(field, keyword);
  }
  const [field, keyword] = [...byField.entries()][0] ?? ['', 'type'];
  return field === '' ? SMS_ERRORS.invalidBody : schemaError(field, keyword);
}

/**
 * International numbers keep their digits; a national number with `country` becomes E.164 (8x8: "We also accept
 * national formats (for national you have to specify the country)").
 */
export function normaliseDestination(destination: string, country?: string): string {
  if (!destination.startsWith('+') && country) {
    const parsed = parsePhoneNumberFromString(destination, country.toUpperCase() as CountryCode);
    if (parsed?.isValid()) return parsed.number;
  }
  return `+${destination.replace(/^\+/, '')}`;
}

/** GSM 03.38 default alphabet; the extension table characters cost two septets. */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENSION = new Set('\f^{}\\[~]|€');

export function detectEncoding(text: string): SmsEncoding {
  for (const char of text) if (!GSM7_BASIC.has(char) && !GSM7_EXTENSION.has(char)) return 'UCS2';
  return 'GSM7';
}

/** Message parts before truncation: GSM7 160 septets (153 per part when split), UCS2 70 code units (67). */
export function countParts(text: string, encoding: SmsEncoding): number {
  if (encoding === 'UCS2') return text.length <= 70 ? 1 : Math.ceil(text.length / 67);
  let septets = 0;
  for (const char of text) septets += GSM7_EXTENSION.has(char) ? 2 : 1;
  return septets <= 160 ? 1 : Math.ceil(septets / 153);
}

/** Applies the batch template to a message: the message's own (non-null) values win. */
export function mergeTemplate(
  template: Record<string, unknown> | undefined,
  message: Record<string, unknown>,
): Record<string, unknown> {
  const merged = dropNulls(message);
  if (!template) return merged;
  for (const field of TEMPLATE_FIELDS) {
    if (merged[field] === undefined && template[field] !== undefined && template[field] !== null)
      merged[field] = template[field];
  }
  return merged;
}

/** 8x8 timestamps look like `2020-07-06T07:07:00.30Z` (two fractional digits). */
export function eightByEightTimestamp(date: Date): string {
  return date.toISOString().replace(/(\.\d\d)\dZ$/, '$1Z');
}
