/**
 * Request-body validation against 8x8's official SMS API OpenAPI file
 * (lib/simulators/contract/8x8/sms_api.json, a verbatim copy of shared/specs/8x8/sms_api.json).
 *
 * Used by contract tests (the bridge's outgoing bodies are checked against what 8x8 publishes, not against the
 * simulator's opinion) and by the SMS simulator, which layers 8x8's error codes and its prose-only rules on top.
 *
 * One deliberate deviation: the OAS marks `messages` as the only required property of BatchSmsRequest, while the
 * same operation's description says `messages` or `destinations` is "Required, Exclusive". The batch validator
 * therefore requires one of the two instead of `messages` alone. Likewise the template "applies common properties to
 * the SmsRequest objects in messages", so a message without `text` is valid when `template.text` supplies it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { projectRoot } from '../../paths';

export const SMS_API_OAS_PATH = path.join('lib', 'simulators', 'contract', '8x8', 'sms_api.json');

export interface SmsSchemaIssue {
  /** JSON pointer into the body, e.g. `/destination` or `/messages/3/text` (a missing property included). */
  path: string;
  /** The JSON Schema keyword that failed (`pattern`, `maxLength`, `required`, `enum`, `format`, `type`, ...). */
  keyword: string;
  message: string;
}

export interface SmsSchemaResult {
  valid: boolean;
  /** Empty when valid. */
  errors: SmsSchemaIssue[];
}

type JsonObject = Record<string, unknown>;

interface Compiled {
  document: JsonObject;
  single: ValidateFunction;
  batch: ValidateFunction;
  singleResponse: ValidateFunction;
  batchResponse: ValidateFunction;
}

let compiled: Compiled | undefined;

/** The parsed OAS document (read once). Tests use it for the published examples. */
export function loadSmsApiDocument(): JsonObject {
  return load().document;
}

function load() {
  if (compiled) return compiled;
  const raw = readFileSync(path.join(projectRoot(), SMS_API_OAS_PATH), 'utf8');
  const document = JSON.parse(raw) as JsonObject;
  // A private copy so the documented "messages or destinations" rule can replace `required: [messages]`.
  const forAjv = JSON.parse(raw) as JsonObject;
  const schemas = (forAjv.components as { schemas: Record<string, JsonObject> }).schemas;
  const batch = schemas.BatchSmsRequest;
  if (!batch || !schemas.SmsRequest)
    throw new Error(`${SMS_API_OAS_PATH} has no SmsRequest/BatchSmsRequest schema`);
  delete batch.required;
  batch.anyOf = [{ required: ['messages'] }, { required: ['destinations'] }];

  // The OAS carries OpenAPI-only keywords (example, nullable, ...); strict mode would refuse them.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(forAjv, 'sms-api');
  compiled = {
    document,
    single: ajv.compile({ $ref: 'sms-api#/components/schemas/SmsRequest' }),
    batch: ajv.compile({ $ref: 'sms-api#/components/schemas/BatchSmsRequest' }),
    singleResponse: ajv.compile({ $ref: 'sms-api#/components/schemas/SmsResponse' }),
    batchResponse: ajv.compile({ $ref: 'sms-api#/components/schemas/BatchSmsResponse' }),
  };
  return compiled;
}

/** Validates a body for `POST /api/v1/subaccounts/{subAccountId}/messages` against the official SmsRequest schema. */
export function validateSmsRequest(body: unknown): SmsSchemaResult {
  return run(load().single, body);
}

/** Validates a body for `POST .../messages/batch` against the official BatchSmsRequest schema (see header note). */
export function validateSmsBatchRequest(body: unknown): SmsSchemaResult {
  const result = run(load().batch, body);
  if (result.valid || !templateHasText(body)) return result;
  const errors = result.errors.filter(
    (e) => !(e.keyword === 'required' && /^\/messages\/\d+\/text$/.test(e.path)),
  );
  return { valid: errors.length === 0, errors };
}

/**
 * Validates a 200 answer of the single send against SmsResponse. Note: 8x8 answers `"clientMessageId": null` when
 * none was sent, which the OAS (`type: string`) does not allow; this validator follows the OAS.
 */
export function validateSmsResponse(body: unknown): SmsSchemaResult {
  return run(load().singleResponse, body);
}

/** Validates a 200 answer of the batch send against BatchSmsResponse (same `clientMessageId: null` caveat). */
export function validateSmsBatchResponse(body: unknown): SmsSchemaResult {
  return run(load().batchResponse, body);
}

function templateHasText(body: unknown): boolean {
  const template = (body as { template?: unknown } | null)?.template;
  return (
    typeof template === 'object' &&
    template !== null &&
    typeof (template as { text?: unknown }).text === 'string'
  );
}

function run(validate: ValidateFunction, body: unknown): SmsSchemaResult {
  if (validate(body)) return { valid: true, errors: [] };
  return { valid: false, errors: dedupe((validate.errors ?? []).map(toIssue)) };
}

function toIssue(error: ErrorObject): SmsSchemaIssue {
  const missing =
    error.keyword === 'required' ? `/${(error.params as { missingProperty: string }).missingProperty}` : '';
  return {
    path: `${error.instancePath}${missing}` || '/',
    keyword: error.keyword,
    message: error.message ?? 'is invalid',
  };
}

function dedupe(issues: SmsSchemaIssue[]): SmsSchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path} ${issue.keyword} ${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
