/**
 * Request-body validation against the 8x8 Contact Center Chat Gateway OpenAPI file
 * (lib/simulators/contract/8x8/contact-center-chat-gateway-v1.oas.yml, a copy of shared/specs/8x8/…).
 *
 * Used by the Chat Gateway simulator (so the bridge is tested against what 8x8 accepts) and by contract tests
 * (so the Chat Gateway client's bodies are checked against the OAS, not against the simulator's opinion).
 *
 * The OAS states a few limits with keywords JSON Schema ignores on arrays (`maxLength: 200` on history.messages,
 * `maxProperties: 30` on user.additionalProperties) and lists the languages only in prose; those are enforced
 * here as `intent` checks so the simulator refuses what 8x8 documents as refused.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { projectRoot } from '../../paths';

export const CHAT_GATEWAY_OAS_PATH = path.join(
  'lib',
  'simulators',
  'contract',
  '8x8',
  'contact-center-chat-gateway-v1.oas.yml',
);

/** Request bodies the bridge (and the simulator) use, by a readable name → OAS path and method. */
export const CHAT_GATEWAY_OPERATIONS = {
  createConversation: { path: '/chat-gateway/v1/conversations', method: 'post' },
  updateConversation: { path: '/chat-gateway/v1/conversations/{conversationId}', method: 'put' },
  patchConversation: { path: '/chat-gateway/v1/conversations/{conversationId}', method: 'patch' },
  sendMessage: { path: '/chat-gateway/v1/conversations/{conversationId}/messages', method: 'post' },
  removeUser: { path: '/chat-gateway/v1/conversations/{conversationId}/participants/user', method: 'patch' },
  typing: { path: '/chat-gateway/v1/conversations/{conversationId}/typing', method: 'post' },
  thinking: { path: '/chat-gateway/v1/conversations/{conversationId}/thinking', method: 'post' },
  readReceipt: { path: '/chat-gateway/v1/conversations/{conversationId}/read-receipt', method: 'post' },
  verifyWebhook: { path: '/chat-gateway/v1/webhooks/verify', method: 'post' },
} as const;

export type ChatGatewayOperation = keyof typeof CHAT_GATEWAY_OPERATIONS;

/** Language codes listed in the OAS `Language` description. */
export const CHAT_GATEWAY_LANGUAGES = [
  'en',
  'ru',
  'de',
  'ja',
  'es',
  'fr',
  'pt',
  'it',
  'pl',
  'hr',
  'nl',
  'ar',
  'da',
  'ko',
  'no',
  'sv',
  'vi',
  'cy',
  'th',
  'zh-CN',
  'zh-TW',
] as const;

export const MAX_HISTORY_MESSAGES = 200;
export const MAX_ADDITIONAL_PROPERTIES = 30;
/** authorType values the API accepts from integrations (ExternalAuthorType; the BadRequestProblem example). */
const EXTERNAL_AUTHOR_TYPES = ['user', 'bot'];

export interface SchemaIssue {
  /** JSON pointer into the body, e.g. `/user/email`. */
  path: string;
  message: string;
  /** `schema` for an OAS schema violation, `intent` for a documented limit JSON Schema cannot express. */
  source: 'schema' | 'intent';
}

export type SchemaResult = { valid: true } | { valid: false; issues: SchemaIssue[] };

/**
 * The OAS as an object. 8x8's file has multi-line double-quoted descriptions indented no deeper than their key,
 * which YAML 1.2 parsers (rightly) refuse; those prose scalars are folded onto one line before parsing, which is
 * what YAML folding would make of them anyway. Nothing a schema keyword uses is touched.
 */
export function loadChatGatewayOas(): Record<string, unknown> {
  const text = readFileSync(path.join(projectRoot(), CHAT_GATEWAY_OAS_PATH), 'utf8');
  const folded = text.replace(
    /^(\s*(?:description|summary):[ \t]*)"(?:[^"\\]|\\.)*"/gm,
    (scalar, key: string) =>
      key +
      JSON.stringify(
        scalar
          .slice(key.length + 1, -1)
          .replace(/\s+/g, ' ')
          .trim(),
      ),
  );
  return parse(folded) as Record<string, unknown>;
}

interface OasOperation {
  requestBody?: { $ref?: string; required?: boolean; content?: Record<string, { schema?: unknown }> };
}

let compiled:
  | { oas: Record<string, unknown>; validators: Map<ChatGatewayOperation, ValidateFunction | null> }
  | undefined;

function load() {
  if (compiled) return compiled;
  const oas = loadChatGatewayOas();
  // The OAS uses OpenAPI-only keywords (example, x-extensible-enum, format: string); strict mode would refuse them.
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addFormat('string', true);
  ajv.addSchema(oas, 'chat-gateway-oas');
  const validators = new Map<ChatGatewayOperation, ValidateFunction | null>();
  const paths = oas.paths as Record<string, Record<string, OasOperation>>;
  for (const [name, op] of Object.entries(CHAT_GATEWAY_OPERATIONS) as [
    ChatGatewayOperation,
    { path: string; method: string },
  ][]) {
    const operation = paths[op.path]?.[op.method];
    if (!operation) throw new Error(`The OAS has no ${op.method.toUpperCase()} ${op.path}`);
    validators.set(name, compileBody(ajv, operation, ['paths', op.path, op.method]));
  }
  compiled = { oas, validators };
  return compiled;
}

function compileBody(ajv: Ajv, operation: OasOperation, at: string[]): ValidateFunction | null {
  const body = operation.requestBody;
  if (!body) return null;
  const pointer = body.$ref
    ? [...body.$ref.replace(/^#\//, '').split('/'), 'content', 'application/json', 'schema']
    : [...at, 'requestBody', 'content', 'application/json', 'schema'];
  if (!body.$ref && !body.content?.['application/json']?.schema) return null;
  // Compiled by reference into the whole document, so the schema's own `#/components/...` refs resolve.
  return ajv.compile({ $ref: `chat-gateway-oas#/${pointer.map(pointerSegment).join('/')}` });
}

function pointerSegment(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

/** Validates a request body for one Chat Gateway operation against the OAS plus its documented limits. */
export function validateChatGatewayRequest(operation: ChatGatewayOperation, body: unknown): SchemaResult {
  const validator = load().validators.get(operation);
  const issues: SchemaIssue[] = [];
  if (validator && !validator(body)) {
    issues.push(...dedupe((validator.errors ?? []).map(toIssue)));
  }
  issues.push(...intentChecks(operation, body));
  return issues.length === 0 ? { valid: true } : { valid: false, issues };
}

function toIssue(error: ErrorObject): SchemaIssue {
  const missing =
    error.keyword === 'required' ? `/${(error.params as { missingProperty: string }).missingProperty}` : '';
  return {
    path: `${error.instancePath}${missing}` || '/',
    message: error.message ?? 'is invalid',
    source: 'schema',
  };
}

function dedupe(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path} ${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intent(path: string, message: string): SchemaIssue {
  return { path, message, source: 'intent' };
}

function intentChecks(operation: ChatGatewayOperation, body: unknown): SchemaIssue[] {
  if (!isObject(body)) return [];
  const issues: SchemaIssue[] = [];
  if (
    operation === 'createConversation' ||
    operation === 'updateConversation' ||
    operation === 'patchConversation'
  ) {
    const user = body.user;
    if (isObject(user)) {
      if (
        user.language !== undefined &&
        !(CHAT_GATEWAY_LANGUAGES as readonly unknown[]).includes(user.language)
      ) {
        issues.push(intent('/user/language', `must be one of ${CHAT_GATEWAY_LANGUAGES.join(', ')}`));
      }
      if (
        Array.isArray(user.additionalProperties) &&
        user.additionalProperties.length > MAX_ADDITIONAL_PROPERTIES
      ) {
        issues.push(
          intent('/user/additionalProperties', `must have at most ${MAX_ADDITIONAL_PROPERTIES} items`),
        );
      }
    }
    const history = body.history;
    if (isObject(history) && Array.isArray(history.messages)) {
      if (history.messages.length > MAX_HISTORY_MESSAGES) {
        issues.push(intent('/history/messages', `must have at most ${MAX_HISTORY_MESSAGES} items`));
      }
      history.messages.forEach((m, i) => issues.push(...messageChecks(m, `/history/messages/${i}`)));
    }
  }
  if (operation === 'sendMessage') issues.push(...messageChecks(body, ''));
  return issues;
}

/** A message needs a known authorType and some content (text, attachments, cards or an external provider). */
function messageChecks(message: unknown, at: string): SchemaIssue[] {
  if (!isObject(message)) return [];
  const issues: SchemaIssue[] = [];
  if (message.authorType !== undefined && !EXTERNAL_AUTHOR_TYPES.includes(message.authorType as string)) {
    issues.push(intent(`${at}/authorType`, `must be one of ${EXTERNAL_AUTHOR_TYPES.join(', ')}`));
  }
  const hasText = typeof message.text === 'string' && message.text.length > 0;
  const hasAttachments = Array.isArray(message.attachments) && message.attachments.length > 0;
  const hasCards = Array.isArray(message.cards) && message.cards.length > 0;
  if (!hasText && !hasAttachments && !hasCards && message.externalProvider === undefined) {
    issues.push(intent(at || '/', 'must have text, attachments, cards or externalProvider'));
  }
  return issues;
}
