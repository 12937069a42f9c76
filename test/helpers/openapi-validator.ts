/**
 * Checks real HTTP answers (and requests) against the bridge's OpenAPI document (lib/openapi.ts) with ajv, the way a
 * validating proxy would: the operation must exist, the status must be documented for it, the content type must be
 * one the document lists, and the body must satisfy the documented schema. Everything that disagrees is a violation;
 * the tests require none.
 *
 *   const openapi = new OpenApiValidator();
 *   const answer = await api.post('/sms', body);
 *   expect(openapi.checkAnswer(answerOf('POST', '/sms', answer))).toEqual([]);
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../lib/openapi';
import type { ApiAnswer } from './local';

type Json = Record<string, unknown>;

/** One HTTP answer to check. */
export interface AnswerToCheck {
  method: string;
  /** The request path as sent (`/sms/0b2c…?x=1`, query ignored, percent-encoded segments decoded) or a template of the document (`/sms/{messageId}`). */
  path: string;
  status: number;
  /** The answer's Content-Type header; undefined or null when it had none. */
  contentType?: string | null;
  /** The parsed JSON body, or the raw text when it is not JSON; undefined or '' when the answer had no body. */
  body?: unknown;
}

/** One HTTP request body to check against the operation's `requestBody`. */
export interface RequestToCheck {
  method: string;
  path: string;
  contentType?: string | null;
  body?: unknown;
}

export interface Violation {
  /** `METHOD /template status` (or `METHOD /path` when no operation matched). */
  where: string;
  message: string;
}

interface MatchedOperation {
  template: string;
  operation: Json;
  /** JSON pointer of the operation inside the document. */
  pointer: string;
}

const DOCUMENT_ID = 'openapi.json';

/** RFC 6901 escaping of one JSON pointer token. */
const pointerToken = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

const mediaTypeOf = (contentType: string | null | undefined): string | undefined =>
  contentType ? contentType.split(';')[0]?.trim().toLowerCase() : undefined;

const isEmptyBody = (body: unknown): boolean => body === undefined || body === '';

function describeAjvError(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'body' : `body${error.instancePath}`;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (${String((error.params as { additionalProperty?: string }).additionalProperty)})`
      : error.keyword === 'enum' || error.keyword === 'const'
        ? ` (${JSON.stringify(error.params)})`
        : '';
  return `${where} ${error.message ?? error.keyword}${extra}`;
}

export class OpenApiValidator {
  readonly document: Json;
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly paths: Record<string, Record<string, Json>>;

  constructor(document: Json = buildOpenApiDocument()) {
    this.document = document;
    this.paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
    // strict: false because OpenAPI schemas carry keywords JSON Schema does not know (`example`, `discriminator`).
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(document, DOCUMENT_ID);
  }

  /**
   * The operation serving `method path`: an exact path of the document first (so `/handover/active` wins over
   * `/handover/{conversationId}`, as in API Gateway), then a template whose parameters match their patterns.
   */
  operationFor(method: string, path: string): MatchedOperation | undefined {
    const verb = method.toLowerCase();
    const bare = path.split('?')[0] ?? '';
    const found = (template: string): MatchedOperation | undefined => {
      const operation = this.paths[template]?.[verb];
      return operation
        ? { template, operation, pointer: `/paths/${pointerToken(template)}/${verb}` }
        : undefined;
    };
    // A path the document names exactly belongs to it alone: another method there is not served (405), even when a
    // template would fit (GET /sms/batch is not GET /sms/{messageId}).
    if (Object.hasOwn(this.paths, bare)) return found(bare);
    const segments = bare.split('/').map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
    // Parameters that fit their patterns first; then any template of the same shape, so a request with an invalid
    // id (answered 400 by the route) is still checked against that route's operation.
    for (const checkPatterns of [true, false]) {
      for (const template of Object.keys(this.paths)) {
        if (!template.includes('{')) continue;
        const candidate = found(template);
        if (!candidate) continue;
        const parts = template.split('/');
        if (parts.length !== segments.length) continue;
        const parameters = (candidate.operation.parameters ?? []) as {
          name: string;
          in: string;
          schema?: { pattern?: string };
        }[];
        const fits = parts.every((part, i) => {
          const value = segments[i] ?? '';
          const name = /^\{(.+)\}$/.exec(part)?.[1];
          if (name === undefined) return part === value;
          const pattern = parameters.find((p) => p.in === 'path' && p.name === name)?.schema?.pattern;
          return (
            value !== '' && (!checkPatterns || pattern === undefined || new RegExp(pattern, 'u').test(value))
          );
        });
        if (fits) return candidate;
      }
    }
    return undefined;
  }

  /** Every way the answer disagrees with the document; empty when it conforms. */
  checkAnswer(answer: AnswerToCheck): Violation[] {
    const matched = this.operationFor(answer.method, answer.path);
    if (!matched) {
      return [
        {
          where: `${answer.method.toUpperCase()} ${answer.path}`,
          message: 'no operation of the document serves this method and path',
        },
      ];
    }
    const where = `${answer.method.toUpperCase()} ${matched.template} ${answer.status}`;
    const responses = (matched.operation.responses ?? {}) as Record<string, Json>;
    const status = String(answer.status);
    const key = [status, `${status[0] ?? ''}XX`, 'default'].find((k) => Object.hasOwn(responses, k));
    if (key === undefined) {
      return [
        {
          where,
          message: `status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`,
        },
      ];
    }
    const content = responses[key]?.content as Record<string, Json> | undefined;
    const pointer = `${matched.pointer}/responses/${pointerToken(key)}/content`;
    return this.checkBody(where, pointer, content, answer.contentType, answer.body, 'answer');
  }

  /** Every way a request body disagrees with the operation's `requestBody`; empty when it conforms. */
  checkRequest(request: RequestToCheck): Violation[] {
    const matched = this.operationFor(request.method, request.path);
    if (!matched) {
      return [
        {
          where: `${request.method.toUpperCase()} ${request.path}`,
          message: 'no operation of the document serves this method and path',
        },
      ];
    }
    const where = `${request.method.toUpperCase()} ${matched.template} request`;
    const requestBody = matched.operation.requestBody as
      { required?: boolean; content?: Record<string, Json> } | undefined;
    if (!requestBody) {
      return isEmptyBody(request.body)
        ? []
        : [{ where, message: 'the operation documents no request body, but one was sent' }];
    }
    if (isEmptyBody(request.body)) {
      return requestBody.required ? [{ where, message: 'the request body is required' }] : [];
    }
    return this.checkBody(
      where,
      `${matched.pointer}/requestBody/content`,
      requestBody.content,
      request.contentType,
      request.body,
      'request',
    );
  }

  /** Throws with every violation listed, for tests that want one line per check. */
  assertAnswer(answer: AnswerToCheck): void {
    const violations = this.checkAnswer(answer);
    if (violations.length > 0) throw new Error(formatViolations(violations));
  }

  private checkBody(
    where: string,
    contentPointer: string,
    content: Record<string, Json> | undefined,
    contentType: string | null | undefined,
    body: unknown,
    what: 'answer' | 'request',
  ): Violation[] {
    if (!content || Object.keys(content).length === 0) {
      return isEmptyBody(body)
        ? []
        : [{ where, message: `the ${what} has a body, but the document gives none` }];
    }
    const mediaType = mediaTypeOf(contentType);
    if (mediaType === undefined) {
      return [
        {
          where,
          message: `the ${what} has no Content-Type (documented: ${Object.keys(content).join(', ')})`,
        },
      ];
    }
    const documented = Object.keys(content).find((m) => m.toLowerCase() === mediaType);
    if (documented === undefined) {
      return [
        {
          where,
          message: `Content-Type ${mediaType} is not documented (documented: ${Object.keys(content).join(', ')})`,
        },
      ];
    }
    if (!content[documented]?.schema) return [];
    if (mediaType.endsWith('json') && typeof body === 'string') {
      return [{ where, message: `the ${what} body is not JSON: ${body.slice(0, 80)}` }];
    }
    const validate = this.validatorAt(`${contentPointer}/${pointerToken(documented)}/schema`);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((error) => ({ where, message: describeAjvError(error) }));
  }

  private validatorAt(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }
}

export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.where}: ${v.message}`).join('\n');
}

/** The answer of test/helpers/local.ts apiClient (or any fetch answer read the same way) as an AnswerToCheck. */
export function answerOf(
  method: string,
  path: string,
  answer: Pick<ApiAnswer<unknown>, 'status' | 'headers' | 'body' | 'text'>,
): AnswerToCheck {
  return {
    method,
    path,
    status: answer.status,
    contentType: answer.headers.get('content-type'),
    body: answer.body === undefined ? answer.text : answer.body,
  };
}
