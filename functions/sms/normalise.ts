/**
 * Validation and normalisation of SMS requests, as 8x8 validates them (lib/simulators/contract/8x8/sms_api.json, 8x8-apis.md §1.2):
 * shape and unknown fields through the zod schemas, then the rules a schema cannot express. The result is a
 * NormalisedSmsRequest (destination in E.164 with '+', empty optional fields dropped) or a list of SmsIssues.
 */
import { isIP } from 'node:net';
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
  type MetadataJson,
} from 'libphonenumber-js/core';
import {
  CLOUD_URL_POLICY,
  outboundUrlMessage,
  outboundUrlProblem,
  type OutboundUrlPolicy,
} from '../shared/outbound-url';
import type * as z from '../shared/zod';
import { SmsValidationError, type SmsErrorCode, type SmsIssue } from './error-codes';
import phoneMetadataJson from './phone-metadata.json';
import type { CognigyRef, NormalisedSmsRequest } from './records';
import {
  DEFAULT_RECEIPT_EVENTS,
  smsBatchRequestSchema,
  smsRequestSchema,
  type CognigyRefInput,
  type ReceiptEvent,
  type SmsRequestInput,
  type SmsTemplateInput,
} from './schema';
import { MAX_UNITS, measureText, type TextSize } from './text';

/** 8x8's destination pattern (SmsRequest.destination). */
export const EIGHT_BY_EIGHT_DESTINATION = /^\+{0,1}[1-9]{1}[0-9]{6,14}$/;
/** 8x8 accepts schedules up to 7 days ahead. */
export const SCHEDULE_MAX_AHEAD_MS = 7 * 24 * 3_600_000;
/**
 * A schedule slightly in the past (clock skew, a slow flow) is sent at once rather than refused; further back it
 * is almost certainly a mistake (a wrong date or time zone), so it is refused.
 */
export const SCHEDULE_PAST_TOLERANCE_MS = 5 * 60_000;

const ISO_DATE_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
/** Alphanumeric sender ids: letters and digits plus the few separators operators commonly pass through. */
const ALPHANUMERIC_SENDER = /^[A-Za-z0-9 .\-_&]{1,11}$/;
const NUMERIC_SENDER = /^\+?[0-9]{1,16}$/;
const DESTINATION_SEPARATORS = /[\s\-.()]/g;
/**
 * libphonenumber-js's min metadata without the fields only formatting reads (written by bin/phone-metadata.ts, which
 * explains what is left out and why parsing and validation give the same answers; about 50 KB less per bundle).
 */
const PHONE_METADATA = phoneMetadataJson as unknown as MetadataJson;

export interface NormalisedSms {
  request: NormalisedSmsRequest;
  cognigy?: CognigyRef;
  size: TextSize;
}

export type ItemResult = { ok: true; value: NormalisedSms } | { ok: false; issues: SmsIssue[] };

// ---------------------------------------------------------------------------------------------------------------
// Paths and zod issue mapping

type PathSegment = PropertyKey;

export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment as string];
  }
  return value;
}

/** The error code of a field whose value has the right type but breaks a rule. */
const FIELD_CODES: Record<string, SmsErrorCode> = {
  destination: 'INVALID_DESTINATION',
  destinations: 'INVALID_DESTINATION',
  text: 'TEXT_TOO_LONG',
  source: 'INVALID_SOURCE',
  country: 'INVALID_COUNTRY',
  clientMessageId: 'INVALID_CLIENT_MESSAGE_ID',
  encoding: 'INVALID_ENCODING',
  scheduled: 'INVALID_SCHEDULE',
  expiry: 'INVALID_EXPIRY',
  track: 'INVALID_TRACK',
  clientIp: 'INVALID_CLIENT_IP',
  dlrCallbackUrl: 'INVALID_CALLBACK_URL',
  clientBatchId: 'INVALID_CLIENT_BATCH_ID',
  waitForUmidMs: 'INVALID_WAIT_FOR_UMID',
};

function withArticle(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function expectedTypes(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return issue.expected;
  if (issue.code === 'invalid_union') {
    const names = new Set<string>();
    for (const branch of issue.errors)
      for (const inner of branch) if (inner.code === 'invalid_type') names.add(inner.expected);
    if (names.size > 0) return [...names].join(' or ');
  }
  return 'value of another type';
}

function codeForField(path: readonly PathSegment[]): SmsErrorCode {
  if (path.includes('cognigy')) return 'INVALID_COGNIGY';
  const last = [...path].reverse().find((segment) => typeof segment === 'string') as string | undefined;
  return (last && Object.hasOwn(FIELD_CODES, last) && FIELD_CODES[last]) || 'INVALID_TYPE';
}

/**
 * Turns zod issues into SmsIssues with stable codes. `input` is the parsed JSON (to tell a missing field from a
 * wrong one); `prefix` is prepended to paths (batch items).
 */
export function toSmsIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  prefix: readonly PathSegment[] = [],
): SmsIssue[] {
  const out: SmsIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const field = formatPath(path);
    const value = valueAt(input, issue.path);
    const last = issue.path[issue.path.length - 1];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push({
            path: formatPath([...path, key]),
            code: 'UNKNOWN_FIELD',
            message: `Unknown field "${formatPath([...path, key])}": neither this API nor 8x8 knows it`,
          });
        }
        break;
      case 'too_big':
        if (issue.origin === 'number') {
          out.push({
            path: field,
            code: codeForField(path),
            message: `${field} must be at most ${String(issue.maximum)}`,
          });
        } else if (last === 'messages' || last === 'destinations') {
          out.push({
            path: field,
            code: 'BATCH_TOO_LARGE',
            message: `${field} holds more than ${String(issue.maximum)} entries`,
          });
        } else {
          out.push({
            path: field,
            code: codeForField(path),
            message: `${field} is longer than ${String(issue.maximum)} characters`,
          });
        }
        break;
      case 'too_small':
        if (issue.origin === 'number') {
          out.push({
            path: field,
            code: codeForField(path),
            message: `${field} must be at least ${String(issue.minimum)}`,
          });
        } else if (last === 'messages' || last === 'destinations') {
          out.push({ path: field, code: 'BATCH_EMPTY', message: `${field} must hold at least one entry` });
        } else {
          out.push({ path: field, code: codeForField(path), message: `${field} is too short` });
        }
        break;
      case 'invalid_value':
        out.push({
          path: field,
          code: codeForField(path),
          message: `${field} must be one of ${issue.values.map((v) => String(v)).join(', ')}`,
        });
        break;
      case 'invalid_union': {
        // A string that is not one of an enum's values is a field error; anything else is a type error.
        const enumIssue = issue.errors
          .flat()
          .find((inner) => inner.code === 'invalid_value' && typeof value === 'string');
        // A number that is not whole where an integer is expected breaks the field's rule, not its type.
        const wholeNumberIssue = issue.errors
          .flat()
          .some((inner) => inner.code === 'invalid_type' && inner.expected === 'int');
        if (wholeNumberIssue && typeof value === 'number') {
          out.push({ path: field, code: codeForField(path), message: `${field} must be a whole number` });
        } else if (enumIssue && enumIssue.code === 'invalid_value') {
          out.push({
            path: field,
            code: codeForField(path),
            message: `${field} must be one of ${enumIssue.values.map((v) => String(v)).join(', ')}`,
          });
        } else {
          out.push({
            path: field,
            code: 'INVALID_TYPE',
            message: `${field} must be ${withArticle(expectedTypes(issue))}, not ${typeName(value)}`,
          });
        }
        break;
      }
      case 'invalid_type':
        if (value === undefined && last === 'destination') {
          out.push({ path: field, code: 'DESTINATION_MISSING', message: 'destination is required' });
        } else if (value === undefined && last === 'text') {
          out.push({ path: field, code: 'TEXT_MISSING', message: 'text is required' });
        } else if (path.length === 0) {
          out.push({
            path: '',
            code: 'INVALID_BODY',
            message: `The body must be a JSON object, not ${typeName(value)}`,
          });
        } else if (value === undefined) {
          out.push({ path: field, code: 'INVALID_TYPE', message: `${field} is required` });
        } else {
          out.push({
            path: field,
            code: 'INVALID_TYPE',
            message: `${field} must be ${withArticle(expectedTypes(issue))}, not ${typeName(value)}`,
          });
        }
        break;
      default:
        out.push({ path: field, code: codeForField(path), message: `${field}: ${issue.message}` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Field rules

/** `null`, `""` and whitespace-only mean "not given" for optional fields. */
function given(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

export type DestinationResult =
  { ok: true; e164: string } | { ok: false; code: SmsErrorCode; message: string };

/**
 * Destination → E.164 with '+'. International numbers (with '+', or without '+' and no country) are checked with
 * 8x8's pattern only, as 8x8 does. A national number needs `country`; libphonenumber (min metadata) converts it,
 * preferring a valid national reading, then a valid international reading without '+', then a merely possible one.
 */
export function normaliseDestination(raw: string, country?: CountryCode): DestinationResult {
  const cleaned = raw.replace(DESTINATION_SEPARATORS, '');
  if (cleaned === '') return { ok: false, code: 'DESTINATION_MISSING', message: 'destination is required' };
  if (!/^\+?[0-9]+$/.test(cleaned)) {
    return {
      ok: false,
      code: 'INVALID_DESTINATION',
      message: 'destination may only hold digits, a leading +, and separators',
    };
  }
  const international = cleaned.startsWith('+');
  if (international || !country) {
    if (!EIGHT_BY_EIGHT_DESTINATION.test(cleaned)) {
      return {
        ok: false,
        code: 'INVALID_DESTINATION',
        message: international
          ? 'destination must be an E.164 number: + and 7 to 15 digits, not starting with 0'
          : 'destination is not an international number; give the number in E.164 (+ and country code) or set country',
      };
    }
    return { ok: true, e164: `+${cleaned.replace(/^\+/, '')}` };
  }
  const national = parsePhoneNumberFromString(cleaned, country, PHONE_METADATA);
  const asInternational = EIGHT_BY_EIGHT_DESTINATION.test(cleaned)
    ? parsePhoneNumberFromString(`+${cleaned}`, PHONE_METADATA)
    : undefined;
  const candidate =
    (national?.isValid() && national) ||
    (asInternational?.isValid() && asInternational) ||
    (national?.isPossible() && national) ||
    undefined;
  if (!candidate || !EIGHT_BY_EIGHT_DESTINATION.test(candidate.number)) {
    return {
      ok: false,
      code: 'INVALID_DESTINATION',
      message: `destination is not a valid number for country ${country}`,
    };
  }
  return { ok: true, e164: candidate.number };
}

export function checkSource(source: string): SmsIssue | undefined {
  if (NUMERIC_SENDER.test(source)) return undefined;
  if (ALPHANUMERIC_SENDER.test(source) && /[A-Za-z]/.test(source)) return undefined;
  return {
    path: 'source',
    code: 'INVALID_SOURCE',
    message:
      'source (sender id) must be alphanumeric up to 11 characters (letters, digits, space . - _ &) or numeric up to 16 digits',
  };
}

function parseInstant(value: string): number | undefined {
  if (!ISO_DATE_TIME_WITH_OFFSET.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** An optional date-time field: its instant in epoch ms, or undefined (absent, or refused with `code` in `issues`). */
function instantField(
  raw: string | undefined,
  field: 'scheduled' | 'expiry',
  code: 'INVALID_SCHEDULE' | 'INVALID_EXPIRY',
  at: (field: string) => string,
  issues: SmsIssue[],
): number | undefined {
  if (raw === undefined) return undefined;
  const ms = parseInstant(raw);
  if (ms === undefined) {
    issues.push({
      path: at(field),
      code,
      message: `${field} must be an ISO-8601 date-time with offset, e.g. 2026-11-07T19:20:30+08:00`,
    });
  }
  return ms;
}

/** The fields of one SMS after a batch template was merged in; the same rules apply to single sends. */
export type SmsFields = Omit<SmsRequestInput, 'text' | 'cognigy' | 'waitForUmidMs'> & {
  text?: string | null;
  cognigy?: CognigyRefInput;
};

function normaliseCognigy(
  input: CognigyRefInput | undefined,
  at: (field: string) => string,
  urls: OutboundUrlPolicy,
): { value?: CognigyRef; issues: SmsIssue[] } {
  if (!input) return { issues: [] };
  const ref: CognigyRef = {
    userId: given(input.userId),
    sessionId: given(input.sessionId),
    URLToken: given(input.URLToken),
    endpointBaseUrl: given(input.endpointBaseUrl)?.replace(/\/+$/, ''),
    receiptEvents:
      input.injectReceipts === false
        ? []
        : input.receiptEvents
          ? [...new Set(input.receiptEvents.map((event) => event.toLowerCase() as ReceiptEvent))]
          : input.injectReceipts
            ? DEFAULT_RECEIPT_EVENTS
            : [],
  };
  const issues: SmsIssue[] = [];
  if (ref.receiptEvents.length > 0) {
    for (const key of ['userId', 'sessionId', 'URLToken'] as const) {
      if (!ref[key]) {
        issues.push({
          path: at(`cognigy.${key}`),
          code: 'INVALID_COGNIGY',
          message: `cognigy.${key} is required to inject receipts`,
        });
      }
    }
  }
  if (ref.endpointBaseUrl) {
    // The receipt function calls this URL (SSRF): https to a public host only (local mode: loopback too).
    const problem = outboundUrlProblem(ref.endpointBaseUrl, urls);
    if (problem) {
      issues.push({
        path: at('cognigy.endpointBaseUrl'),
        code: 'INVALID_COGNIGY',
        message: `${outboundUrlMessage('cognigy.endpointBaseUrl', problem)}, such as https://endpoint-app.cognigy.ai`,
      });
    }
  }
  const empty =
    !ref.userId && !ref.sessionId && !ref.URLToken && !ref.endpointBaseUrl && ref.receiptEvents.length === 0;
  return { value: empty ? undefined : ref, issues };
}

/**
 * Applies 8x8's rules to fields that passed the schema. `at(field)` names a field in issue paths (batch items
 * prefix their index, or `template.` for values taken from the template). `urls` says whether loopback callback
 * URLs are allowed (local mode only).
 */
export function checkSms(
  fields: SmsFields,
  now: Date,
  at: (field: string) => string = (f) => f,
  urls: OutboundUrlPolicy = CLOUD_URL_POLICY,
): ItemResult {
  const issues: SmsIssue[] = [];
  const nowMs = now.getTime();

  const countryRaw = given(fields.country)?.toUpperCase();
  let country: CountryCode | undefined;
  if (countryRaw !== undefined) {
    if (/^[A-Z]{2}$/.test(countryRaw) && isSupportedCountry(countryRaw as CountryCode, PHONE_METADATA))
      country = countryRaw as CountryCode;
    else
      issues.push({
        path: at('country'),
        code: 'INVALID_COUNTRY',
        message: 'country must be an ISO 3166-1 alpha-2 code such as SG or US',
      });
  }

  let destination: string | undefined;
  const destinationRaw = typeof fields.destination === 'string' ? fields.destination : '';
  if (countryRaw === undefined || country) {
    const result = normaliseDestination(destinationRaw, country);
    if (result.ok) destination = result.e164;
    else issues.push({ path: at('destination'), code: result.code, message: result.message });
  }

  const text = typeof fields.text === 'string' ? fields.text : '';
  const encoding =
    (given(fields.encoding ?? undefined) as NormalisedSmsRequest['encoding'] | undefined) ?? 'AUTO';
  let size: TextSize | undefined;
  if (text.trim() === '') {
    issues.push({
      path: at('text'),
      code: 'TEXT_MISSING',
      message: 'text is required and must not be blank',
    });
  } else {
    size = measureText(text, encoding);
    if (size.units > MAX_UNITS[size.encoding]) {
      const unit = size.encoding === 'GSM7' ? 'septets' : 'UTF-16 units';
      issues.push({
        path: at('text'),
        code: 'TEXT_TOO_LONG',
        message: `text needs ${size.units} ${unit} (${size.parts} parts) in ${size.encoding}; at most ${MAX_UNITS[size.encoding]} (10 parts) are sent untruncated`,
      });
    }
  }

  const source = given(fields.source);
  if (source !== undefined) {
    const issue = checkSource(source);
    if (issue) issues.push({ ...issue, path: at('source') });
  }

  const scheduledRaw = given(fields.scheduled);
  const scheduledMs = instantField(scheduledRaw, 'scheduled', 'INVALID_SCHEDULE', at, issues);
  if (scheduledMs !== undefined) {
    if (scheduledMs > nowMs + SCHEDULE_MAX_AHEAD_MS) {
      issues.push({
        path: at('scheduled'),
        code: 'SCHEDULE_TOO_FAR',
        message: 'scheduled must be at most 7 days ahead',
      });
    } else if (scheduledMs < nowMs - SCHEDULE_PAST_TOLERANCE_MS) {
      issues.push({
        path: at('scheduled'),
        code: 'SCHEDULE_IN_PAST',
        message: 'scheduled is in the past; leave it out to send now',
      });
    }
  }

  const expiryRaw = given(fields.expiry);
  const expiryMs = instantField(expiryRaw, 'expiry', 'INVALID_EXPIRY', at, issues);
  if (expiryMs !== undefined) {
    if (expiryMs <= nowMs) {
      issues.push({ path: at('expiry'), code: 'EXPIRY_IN_PAST', message: 'expiry must be in the future' });
    } else if (scheduledMs !== undefined && expiryMs <= scheduledMs) {
      issues.push({
        path: at('expiry'),
        code: 'EXPIRY_BEFORE_SCHEDULE',
        message: 'expiry must be after scheduled',
      });
    }
  }

  const clientIp = given(fields.clientIp);
  if (clientIp !== undefined && isIP(clientIp) === 0) {
    issues.push({
      path: at('clientIp'),
      code: 'INVALID_CLIENT_IP',
      message: 'clientIp must be an IPv4 or IPv6 address',
    });
  }

  const dlrCallbackUrl = given(fields.dlrCallbackUrl);
  // 8x8 posts receipts to this URL: no plain http, no private, loopback, link-local or metadata address.
  const callbackProblem = dlrCallbackUrl === undefined ? undefined : outboundUrlProblem(dlrCallbackUrl, urls);
  if (callbackProblem) {
    issues.push({
      path: at('dlrCallbackUrl'),
      code: 'INVALID_CALLBACK_URL',
      message: outboundUrlMessage('dlrCallbackUrl', callbackProblem),
    });
  }

  const cognigy = normaliseCognigy(fields.cognigy, at, urls);
  issues.push(...cognigy.issues);

  if (issues.length > 0 || !destination || !size) return { ok: false, issues };

  // clientMessageId is an identifier: kept exactly as given (only "" and null mean "none").
  const clientMessageId =
    fields.clientMessageId === null || fields.clientMessageId === '' ? undefined : fields.clientMessageId;
  const track = given(fields.track ?? undefined) as NormalisedSmsRequest['track'];
  const request: NormalisedSmsRequest = {
    destination,
    text,
    encoding,
    ...(source !== undefined && { source }),
    ...(country && { country }),
    ...(clientMessageId !== undefined && { clientMessageId }),
    ...(scheduledMs !== undefined && { scheduled: new Date(scheduledMs).toISOString() }),
    ...(expiryMs !== undefined && { expiry: new Date(expiryMs).toISOString() }),
    ...(track && { track }),
    ...(clientIp !== undefined && { clientIp }),
    ...(dlrCallbackUrl !== undefined && { dlrCallbackUrl }),
  };
  return { ok: true, value: { request, ...(cognigy.value && { cognigy: cognigy.value }), size } };
}

// ---------------------------------------------------------------------------------------------------------------
// Whole requests

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Fields whose rule check depends on another field: if that one is broken, their verdict would mislead. */
// A Map, not an object literal: field names come from the caller, and `toString` must not find Object.prototype.
const DEPENDENT_FIELDS = new Map<string, string[]>([
  ['country', ['destination']],
  ['scheduled', ['expiry']],
]);

/**
 * When some fields fail the schema, the fields that passed it are still checked against the rules, so the caller
 * learns about every problem in one answer. `check` runs the rules on the input without the broken fields.
 */
function ruleIssuesBesides(
  input: unknown,
  shapeIssues: readonly z.core.$ZodIssue[],
  pathOf: (field: string) => string,
  check: (fields: Record<string, unknown>) => ItemResult,
): SmsIssue[] {
  if (!isPlainObject(input)) return [];
  const broken = new Set<string>();
  for (const issue of shapeIssues) {
    const [head] = issue.path;
    if (typeof head === 'string') broken.add(head);
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0)
      issue.keys.forEach((key) => broken.add(key));
  }
  for (const field of [...broken]) DEPENDENT_FIELDS.get(field)?.forEach((dependent) => broken.add(dependent));
  const result = check(Object.fromEntries(Object.entries(input).filter(([key]) => !broken.has(key))));
  if (result.ok) return [];
  const brokenPaths = [...broken].map(pathOf);
  return result.issues.filter(
    (issue) =>
      !brokenPaths.some(
        (p) => issue.path === p || issue.path.startsWith(`${p}.`) || issue.path.startsWith(`${p}[`),
      ),
  );
}

/** POST /sms: the SMS plus how long the caller waits for 8x8's answer (not part of the SMS, nor of its fingerprint). */
export interface NormalisedSingleSms extends NormalisedSms {
  waitForUmidMs: number;
}

/** POST /sms body → NormalisedSingleSms, or SmsValidationError listing every problem. */
export function normaliseSmsRequest(
  body: unknown,
  now: Date,
  urls: OutboundUrlPolicy = CLOUD_URL_POLICY,
): NormalisedSingleSms {
  const parsed = smsRequestSchema.safeParse(body);
  if (!parsed.success) {
    const shape = toSmsIssues(parsed.error.issues, body);
    const rules = ruleIssuesBesides(
      body,
      parsed.error.issues,
      (f) => f,
      (fields) => checkSms(fields as SmsFields, now, (f) => f, urls),
    );
    throw new SmsValidationError([...shape, ...rules]);
  }
  const { waitForUmidMs, ...fields } = parsed.data;
  const result = checkSms(fields, now, (f) => f, urls);
  if (!result.ok) throw new SmsValidationError(result.issues);
  return { ...result.value, waitForUmidMs: typeof waitForUmidMs === 'number' ? waitForUmidMs : 0 };
}

export interface NormalisedBatch {
  clientBatchId?: string;
  mode: 'messages' | 'destinations';
  items: ItemResult[];
}

const TEMPLATE_FIELDS = ['source', 'text', 'encoding', 'scheduled', 'expiry', 'dlrCallbackUrl'] as const;

function itemPath(mode: 'messages' | 'destinations', index: number, field: string): string {
  if (mode === 'messages') return `messages[${index}].${field}`;
  // With destinations the only per-item value is the destination; the rest is the batch's own.
  return field === 'destination' ? `destinations[${index}]` : field;
}

function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * POST /sms/batch body → per-item results. Problems of the batch itself (unknown top-level field, bad template,
 * too many items) throw SmsValidationError; problems of one item stay with that item. As in 8x8's batch,
 * `messages` wins over `destinations`, and a message's own value wins over the template's.
 */
export function normaliseSmsBatch(
  body: unknown,
  now: Date,
  urls: OutboundUrlPolicy = CLOUD_URL_POLICY,
): NormalisedBatch {
  const parsed = smsBatchRequestSchema.safeParse(body);
  const itemIssues = new Map<number, z.core.$ZodIssue[]>();
  if (!parsed.success) {
    const batchIssues: z.core.$ZodIssue[] = [];
    const mode = valueAt(body, ['messages']) !== undefined ? 'messages' : 'destinations';
    for (const issue of parsed.error.issues) {
      const [head, index] = issue.path;
      if ((head === 'messages' || head === 'destinations') && typeof index === 'number') {
        if (head !== mode) continue; // the ignored list is not validated, as 8x8 ignores it
        itemIssues.set(index, [...(itemIssues.get(index) ?? []), issue]);
      } else {
        batchIssues.push(issue);
      }
    }
    if (batchIssues.length > 0) throw new SmsValidationError(toSmsIssues(batchIssues, body));
  }
  // The schema passed except inside items, so the top level has the parsed shape.
  const batch = body as z.input<typeof smsBatchRequestSchema>;
  const clientBatchId = given(batch.clientBatchId);
  const template: SmsTemplateInput = batch.template ?? {};
  const entries: unknown[] | undefined = batch.messages ?? batch.destinations;
  if (!entries) {
    throw new SmsValidationError([
      { path: 'messages', code: 'BATCH_EMPTY', message: 'A batch needs messages or destinations' },
    ]);
  }
  const mode = batch.messages ? 'messages' : 'destinations';

  const checkItem = (index: number, message: Record<string, unknown>): ItemResult => {
    const fromTemplate = new Set<string>();
    const merged: Record<string, unknown> = { ...message };
    for (const field of TEMPLATE_FIELDS) {
      if (!isGiven(merged[field]) && isGiven(template[field])) {
        merged[field] = template[field];
        fromTemplate.add(field);
      }
    }
    if (!isGiven(merged.clientIp) && isGiven(batch.clientIp)) merged.clientIp = batch.clientIp;
    if (!merged.cognigy && batch.cognigy) merged.cognigy = batch.cognigy;
    return checkSms(
      merged as SmsFields,
      now,
      (field) => (fromTemplate.has(field) ? `template.${field}` : itemPath(mode, index, field)),
      urls,
    );
  };

  const items = entries.map((entry, index): ItemResult => {
    const message: Record<string, unknown> =
      mode === 'messages' ? (entry as Record<string, unknown>) : { destination: entry };
    const own = itemIssues.get(index);
    if (own) {
      const shape = own.map((issue) => ({
        ...issue,
        path: issue.path.slice(2) as PropertyKey[],
      })) as unknown as z.core.$ZodIssue[];
      const rules =
        mode === 'messages'
          ? ruleIssuesBesides(
              message,
              shape,
              (f) => itemPath(mode, index, f),
              (fields) => checkItem(index, fields),
            )
          : [];
      return { ok: false, issues: [...toSmsIssues(own, body), ...rules] };
    }
    const result = checkItem(index, message);
    if (!result.ok) return result;
    // With destinations, 8x8 itself names messages "<clientBatchId>/<destination>"; doing the same makes a
    // repeated batch idempotent per recipient.
    if (mode === 'destinations' && clientBatchId && result.value.request.clientMessageId === undefined) {
      result.value.request.clientMessageId = `${clientBatchId}/${result.value.request.destination}`;
    }
    return result;
  });
  return { ...(clientBatchId && { clientBatchId }), mode, items };
}
