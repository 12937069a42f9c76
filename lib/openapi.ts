/**
 * The OpenAPI 3.1 document of the bridge, generated from the route catalogue (functions/shared/catalogue.ts ROUTES) and the same
 * zod schemas that validate requests (zod 4 `z.toJSONSchema`), so the document cannot drift from the code.
 * Served locally at GET /openapi.json, written to dist/openapi.json by `npm run openapi` and next to the template by
 * every `cdk synth`/`cdk deploy` (writeOpenApiFile), so the document always matches the code that is deployed.
 * Build-time only: no function imports it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PATH_PARAMETERS, ROUTES, type FunctionName, type RouteSpec } from '../functions/shared/catalogue';
import { handoverRequestSchemas, handoverResponseSchemas } from '../functions/handover/schema';
import { ERROR_CODES } from '../functions/shared/error-catalogue';
import {
  errorBodySchema,
  smsAcceptedSchema,
  smsBatchAcceptedSchema,
  smsBatchRequestSchema,
  smsRequestSchema,
  smsStatusAnswerSchema,
} from '../functions/sms/schema';
import * as z from '../functions/shared/zod';

/** Request body schema per function; a route whose function is listed here gets a documented JSON body. */
export const requestSchemas: Partial<Record<FunctionName, z.ZodMiniType>> = {
  'sms-accept': smsRequestSchema,
  'sms-batch': smsBatchRequestSchema,
  ...handoverRequestSchemas,
};

interface ResponseDoc {
  description: string;
  schema?: z.ZodMiniType;
}

/** Documented answers per function (besides the common errors every route may give). */
export const responseSchemas: Partial<Record<FunctionName, Record<string, ResponseDoc>>> = {
  'sms-accept': {
    '202': {
      description: 'Accepted and queued (or the first answer to a repeated clientMessageId)',
      schema: smsAcceptedSchema,
    },
    '409': {
      description:
        'IDEMPOTENCY_CONFLICT, or IDEMPOTENCY_IN_PROGRESS (the first request did not answer within SMS_IDEMPOTENCY_WAIT_MS; see Retry-After)',
      schema: errorBodySchema,
    },
    '503': {
      description: 'NOT_ACCEPTED: the SMS could not be stored, nothing was accepted; send it again',
      schema: errorBodySchema,
    },
  },
  'sms-batch': {
    '202': {
      description: 'At least one SMS accepted; `items` gives each verdict',
      schema: smsBatchAcceptedSchema,
    },
    '400': {
      description: 'The batch itself is invalid, or BATCH_REJECTED: no item was valid',
      schema: smsBatchAcceptedSchema,
    },
    '409': {
      description:
        'IDEMPOTENCY_IN_PROGRESS: nothing accepted, and items are still being accepted by an earlier request after SMS_IDEMPOTENCY_WAIT_MS; see Retry-After',
      schema: smsBatchAcceptedSchema,
    },
    '503': {
      description: 'No item could be accepted for an infrastructure reason; send it again',
      schema: smsBatchAcceptedSchema,
    },
  },
  'sms-status': {
    '200': { description: 'The SMS and its status history', schema: smsStatusAnswerSchema },
    '404': { description: "MESSAGE_NOT_FOUND (also another API key's SMS)", schema: errorBodySchema },
  },
  'sms-receipt': {
    '200': { description: 'Receipt recorded, or acknowledged and ignored' },
    '401': {
      description: 'UNAUTHORIZED: neither the configured Authorization value nor a valid callback token',
      schema: errorBodySchema,
    },
    '502': {
      description: 'COGNIGY_UNAVAILABLE: recorded, injection failed; 8x8 retries the receipt',
      schema: errorBodySchema,
    },
  },
  'handover-start': {
    '201': {
      description: 'The 8x8 conversation exists; handover.status is "queue"',
      schema: handoverResponseSchemas['handover-start'],
    },
    '200': {
      description:
        'The session already has an open chat (or a repeat waited for the start in flight): its conversationId, existing: true',
      schema: handoverResponseSchemas['handover-start'],
    },
    '409': {
      description: 'HANDOVER_START_IN_PROGRESS: still starting after HANDOVER_START_WAIT_MS; see Retry-After',
      schema: errorBodySchema,
    },
    '502': {
      description: 'UPSTREAM_REJECTED: 8x8 refused the conversation; handover.status is "error"',
      schema: errorBodySchema,
    },
    '503': {
      description: 'UPSTREAM_UNAVAILABLE, UPSTREAM_RATE_LIMITED or HANDOVER_NOT_RECORDED; try again',
      schema: errorBodySchema,
    },
    '504': { description: 'UPSTREAM_TIMEOUT: 8x8 did not answer in time', schema: errorBodySchema },
  },
  'handover-message': {
    '202': {
      description: 'Queued for the agent, in order',
      schema: handoverResponseSchemas['handover-message'],
    },
    '400': { description: 'SESSION_ID_REQUIRED, INVALID_CONVERSATION_ID, …', schema: errorBodySchema },
    '403': {
      description: 'HANDOVER_SESSION_MISMATCH: not the session that started it',
      schema: errorBodySchema,
    },
    '404': { description: "HANDOVER_NOT_FOUND (also another API key's handover)", schema: errorBodySchema },
    '409': { description: 'HANDOVER_CLOSED', schema: errorBodySchema },
  },
  'handover-end': {
    '200': {
      description: 'Ended from the user side; handover.status is "cancelled"',
      schema: handoverResponseSchemas['handover-end'],
    },
    '400': { description: 'SESSION_ID_REQUIRED, INVALID_CONVERSATION_ID, …', schema: errorBodySchema },
    '403': {
      description: 'HANDOVER_SESSION_MISMATCH: not the session that started it',
      schema: errorBodySchema,
    },
    '404': { description: "HANDOVER_NOT_FOUND (also another API key's handover)", schema: errorBodySchema },
  },
  'handover-status': {
    '200': { description: 'State, agent and timestamps', schema: handoverResponseSchemas['handover-status'] },
    '404': {
      description:
        "HANDOVER_NOT_FOUND (or no open handover for ?sessionId=; also another API key's handover)",
      schema: errorBodySchema,
    },
  },
  'handover-webhook': {
    '200': { description: 'Verified and queued, a duplicate, or WEB_HOOK_VERIFY' },
    '401': {
      description: 'SIGNATURE_MISSING, SIGNATURE_INVALID, EVENT_STALE or UNKNOWN_SIGNING_KEY',
      schema: errorBodySchema,
    },
    '409': {
      description:
        'EVENT_IN_PROGRESS (8x8 retries), or EVENT_BODY_MISMATCH: the event id came before with another body',
      schema: errorBodySchema,
    },
    '503': {
      description: 'Not accepted (queue or signing key unavailable); 8x8 retries',
      schema: errorBodySchema,
    },
  },
};

/** Named component schemas: [component name, schema, io]. Requests are documented as input, answers as output. */
const COMPONENTS: [string, z.ZodMiniType, 'input' | 'output'][] = [
  ['SmsRequest', smsRequestSchema, 'input'],
  ['SmsBatchRequest', smsBatchRequestSchema, 'input'],
  ['SmsAccepted', smsAcceptedSchema, 'output'],
  ['SmsBatchAccepted', smsBatchAcceptedSchema, 'output'],
  ['SmsStatus', smsStatusAnswerSchema, 'output'],
  ['ErrorBody', errorBodySchema, 'output'],
];

function jsonSchema(schema: z.ZodMiniType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

export interface OpenApiOptions {
  /** Base URL shown under `servers` (e.g. the deployed stage URL or the local gateway). */
  serverUrl?: string;
}

export function buildOpenApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const components: Record<string, Record<string, unknown>> = {};
  const refs = new Map<z.ZodMiniType, string>();
  for (const [name, schema, io] of COMPONENTS) {
    components[name] = jsonSchema(schema, io);
    refs.set(schema, `#/components/schemas/${name}`);
  }
  const schemaOrRef = (schema: z.ZodMiniType, io: 'input' | 'output') => {
    const ref = refs.get(schema);
    return ref ? { $ref: ref } : jsonSchema(schema, io);
  };
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
  });

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route);
  }

  function operation(route: RouteSpec): Record<string, unknown> {
    const parameters: Record<string, unknown>[] = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => {
      const spec = PATH_PARAMETERS.get(match[1] ?? '');
      return {
        name: match[1],
        in: 'path',
        required: true,
        ...(spec ? { description: spec.description } : {}),
        schema: { type: 'string', ...(spec ? { pattern: spec.pattern } : {}) },
      };
    });
    if (route.function === 'sms-receipt') {
      parameters.push(
        {
          name: 'Authorization',
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: "8x8's configured httpAuthorization value",
        },
        {
          name: 'messageId',
          in: 'query',
          required: false,
          schema: { type: 'string' },
          description: 'Per-message callback: our messageId',
        },
        {
          name: 'token',
          in: 'query',
          required: false,
          schema: { type: 'string' },
          description: 'Per-message callback: HMAC of the messageId',
        },
      );
    }
    const requestSchema = requestSchemas[route.function];
    const documented = responseSchemas[route.function] ?? {};
    const responses: Record<string, unknown> = {};
    for (const [status, doc] of Object.entries(documented)) {
      responses[status] = doc.schema
        ? {
            description: doc.description,
            content: { 'application/json': { schema: schemaOrRef(doc.schema, 'output') } },
          }
        : { description: doc.description };
    }
    if (Object.keys(responses).every((status) => !status.startsWith('2')))
      responses['200'] = { description: 'Success' };
    if (route.method === 'POST' || parameters.length > 0) {
      responses['400'] ??= errorResponse(
        'Invalid request: MALFORMED_JSON or a field error; `error.details` lists every problem',
      );
    }
    if (route.auth === 'apiKey') responses['403'] ??= errorResponse('Missing or invalid x-api-key');
    if (route.maxBodyBytes > 0)
      responses['413'] ??= errorResponse(`PAYLOAD_TOO_LARGE: body over ${route.maxBodyBytes} bytes`);
    if (route.auth === 'apiKey') responses['429'] ??= errorResponse('Usage plan throttling');
    responses['500'] ??= errorResponse('INTERNAL_ERROR: not accepted');

    return {
      operationId: route.function,
      summary: route.description,
      tags: [route.path.split('/')[1] ?? 'api'],
      security: route.auth === 'apiKey' ? [{ api_key: [] }] : [],
      ...(parameters.length > 0 && { parameters }),
      ...(requestSchema && {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schemaOrRef(requestSchema, 'input') } },
          description: `At most ${route.maxBodyBytes} bytes`,
        },
      }),
      responses,
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Cognigy ↔ 8x8 bridge',
      version: '1.0.0',
      description:
        'SMS through 8x8 Connect and agent handover to 8x8 Contact Center, for Cognigy HTTP Request nodes. ' +
        'Every answer carries `ok`; errors carry a stable `error.code` (see `x-error-codes`).',
    },
    ...(options.serverUrl && { servers: [{ url: options.serverUrl }] }),
    paths,
    components: {
      securitySchemes: { api_key: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: components,
    },
    'x-error-codes': Object.fromEntries(
      Object.entries(ERROR_CODES).map(([code, { status, description }]) => [code, { status, description }]),
    ),
  };
}

/** Writes the document to `target` (creating its folder) and returns the path. */
export function writeOpenApiFile(target: string, serverUrl?: string): string {
  mkdirSync(path.dirname(target), { recursive: true });
  const document = buildOpenApiDocument(serverUrl ? { serverUrl } : {});
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  return target;
}
