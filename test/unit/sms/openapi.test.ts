import '../../helpers/env';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument, requestSchemas } from '../../../lib/openapi';
import { HANDOVER_ERROR_CODES } from '../../../functions/handover/error-codes';
import { SMS_ERROR_CODES } from '../../../functions/sms/error-codes';
import { SHARED_ERROR_CODES } from '../../../functions/shared/errors';
import { errorCodesOf } from '../../../functions/shared/error-catalogue';
import { PATH_PARAMETERS, ROUTES } from '../../../functions/shared/catalogue';
import { CONVERSATION_ID_PATTERN } from '../../../functions/handover/schema';
import { loadSmsApiDocument } from '../../../lib/simulators/contract/sms-schema';

type Json = Record<string, unknown>;
const doc = buildOpenApiDocument({ serverUrl: 'https://api.example.com/prod' }) as Json;
const paths = doc.paths as Record<string, Record<string, Json>>;
const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;

function compile(name: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schemas[name] as Json);
}

test('an OpenAPI 3.1 document with one operation per route of the catalogue', () => {
  expect(doc.openapi).toBe('3.1.0');
  // The given URL first, then the local stack and the deployed stage URL with its variables.
  expect((doc.servers as { url: string }[]).map((s) => s.url)).toEqual([
    'https://api.example.com/prod',
    'http://127.0.0.1:3000',
    'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
  ]);
  for (const route of ROUTES) {
    const operation = paths[route.path]?.[route.method.toLowerCase()];
    expect(operation).toMatchObject({ operationId: route.function });
    expect(operation?.security).toEqual(route.auth === 'apiKey' ? [{ api_key: [] }] : []);
  }
  expect((doc.components as Json).securitySchemes).toMatchObject({
    api_key: { type: 'apiKey', in: 'header', name: 'x-api-key' },
  });
});

test('path parameters are declared; routes with a request schema document their body', () => {
  expect(paths['/sms/{messageId}']?.get?.parameters).toEqual([
    {
      name: 'messageId',
      in: 'path',
      required: true,
      description: expect.any(String),
      schema: { type: 'string', pattern: PATH_PARAMETERS.get('messageId')?.pattern },
    },
  ]);
  // The conversation id is documented with the one pattern the routes and the webhook use.
  for (const path of ['/handover/{conversationId}', '/handover/{conversationId}/messages']) {
    const operation = paths[path]?.[path.endsWith('messages') ? 'post' : 'get'] as
      { parameters?: { schema?: { pattern?: string } }[] } | undefined;
    expect(operation?.parameters?.[0]?.schema?.pattern).toBe(CONVERSATION_ID_PATTERN.source);
  }
  for (const route of ROUTES.filter((r) => requestSchemas[r.function])) {
    expect(paths[route.path]?.[route.method.toLowerCase()]?.requestBody).toBeDefined();
  }
  expect(paths['/sms']?.post?.requestBody).toMatchObject({
    content: { 'application/json': { schema: { $ref: '#/components/schemas/SmsRequest' } } },
  });
});

test('every $ref points at a component that exists', () => {
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  expect(refs.length).toBeGreaterThan(0);
  for (const ref of refs) {
    const name = /#\/components\/schemas\/([^"]+)/.exec(ref)?.[1];
    expect(name && schemas[name]).toBeTruthy();
  }
});

test('the documented SmsRequest accepts 8x8 own example and a Cognigy extension body, and refuses unknown fields', () => {
  const validate = compile('SmsRequest');
  const official = loadSmsApiDocument() as { components: { schemas: { SmsRequest: { example: unknown } } } };
  expect(validate(official.components.schemas.SmsRequest.example)).toBe(true);
  expect(
    validate({
      destination: '6500000000',
      text: 'Hi',
      encoding: 'AUTO',
      country: null,
      source: '',
      scheduled: '',
    }),
  ).toBe(true);
  expect(validate({ destination: '6500000000', text: 'Hi', colour: 'red' })).toBe(false);
  expect(validate({ text: 'Hi' })).toBe(false);
});

test('the documented batch request takes messages or destinations with a template', () => {
  const validate = compile('SmsBatchRequest');
  expect(
    validate({
      destinations: ['+6591234567'],
      template: { text: 'Hi', source: 'Brand' },
      clientBatchId: 'camp-1',
    }),
  ).toBe(true);
  expect(validate({ messages: [{ destination: '+6591234567' }], template: { text: 'Hi' } })).toBe(true);
  expect(
    validate({ messages: Array.from({ length: 501 }, () => ({ destination: '+6591234567', text: 'x' })) }),
  ).toBe(false);
});

test('answers and the error body are documented, and every error code is listed', () => {
  expect(paths['/sms']?.post?.responses).toMatchObject({
    '202': { content: { 'application/json': { schema: { $ref: '#/components/schemas/SmsAccepted' } } } },
    '409': {},
    '503': {},
  });
  expect(paths['/sms/{messageId}']?.get?.responses).toMatchObject({ '200': {}, '404': {} });
  expect(
    compile('ErrorBody')({
      ok: false,
      error: {
        code: 'INVALID_DESTINATION',
        message: 'x',
        details: [{ path: 'destination', code: 'INVALID_DESTINATION', message: 'x' }],
      },
    }),
  ).toBe(true);
  expect(Object.keys(doc['x-error-codes'] as Json).sort()).toEqual(
    [
      ...new Set([
        ...Object.keys(SHARED_ERROR_CODES),
        ...Object.keys(SMS_ERROR_CODES),
        ...Object.keys(HANDOVER_ERROR_CODES),
        ...Object.keys(errorCodesOf('webhook')),
      ]),
    ].sort(),
  );
  expect(paths['/handover']?.post?.requestBody).toMatchObject({ content: { 'application/json': {} } });
  expect(paths['/handover/{conversationId}/messages']?.post?.responses).toMatchObject({
    '202': {},
    '409': {},
  });
});
