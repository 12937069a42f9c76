/**
 * Issue 11, item 6: the OpenAPI document is fit for tools. Redocly's linter (recommended-strict plus the rules of
 * lib/openapi-lint.ts) reports nothing, and the parts a tool imports (servers, tags, descriptions, examples, named
 * schemas, the /handover/active query, 8x8's webhook bodies) are there. The linter runs in a child process: Redocly
 * ships ES modules only, which jest's CommonJS runtime cannot load.
 */
import '../../helpers/env';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BRIDGE_STATUS_HEADER, buildOpenApiDocument } from '../../../lib/openapi';
import { BRIDGE_STATUS_HEADER as FUNCTIONS_BRIDGE_STATUS_HEADER } from '../../../functions/shared/http';
import type { LintProblem } from '../../../lib/openapi-lint';
import { BRIDGE_ERRORS_HEADER, ROUTES } from '../../../functions/shared/catalogue';
import { OpenApiValidator } from '../../helpers/openapi-validator';

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: { content: Record<string, { schema: Json; examples?: Record<string, unknown> }> };
  responses: Record<
    string,
    { content?: Record<string, { schema: Json; examples?: Record<string, unknown> }> }
  >;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = path.join(__dirname, '..', '..', '..');

function lint(document: Json, name: string): LintProblem[] {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(document));
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bin/openapi.ts', '--lint', file], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as LintProblem[];
}

const document = buildOpenApiDocument();
const operations = Object.values(document.paths as Record<string, Record<string, Operation>>).flatMap((p) =>
  Object.values(p),
);

test('Redocly recommended-strict and the stricter rules report 0 errors and 0 warnings', () => {
  const problems = lint(document, 'generated');
  expect(problems.map((p) => `${p.severity} ${p.ruleId} ${p.pointer}: ${p.message}`)).toEqual([]);
}, 60_000);

test('the linter does catch what the rules forbid: no description, an undefined tag, an example its schema refuses', () => {
  const broken = structuredClone(document) as { paths: Record<string, Record<string, Operation>> };
  const send = broken.paths['/sms']?.post as Operation;
  delete send.description;
  send.tags = ['Nowhere'];
  const example = send.requestBody?.content['application/json']?.examples?.recipe as { value: Json };
  example.value = { ...example.value, colour: 'red' };
  const rules = new Set(lint(broken as unknown as Json, 'broken').map((p) => p.ruleId));
  expect([...rules].sort()).toEqual(
    expect.arrayContaining([
      'no-invalid-media-type-examples',
      'operation-description',
      'operation-tag-defined',
    ]),
  );
}, 60_000);

test('every operation has a summary, a description, one defined tag and described parameters', () => {
  const tags = new Set((document.tags as { name: string; description: string }[]).map((t) => t.name));
  expect([...tags]).toEqual(['SMS', 'Handover', '8x8 webhooks']);
  expect(operations).toHaveLength(ROUTES.length + 1);
  for (const operation of operations) {
    expect({
      id: operation.operationId,
      summary: operation.summary?.length,
      description: operation.description?.length,
    }).toEqual({ id: operation.operationId, summary: expect.any(Number), description: expect.any(Number) });
    expect(operation.description!.length).toBeGreaterThan(40);
    expect(operation.tags).toHaveLength(1);
    expect(tags.has(operation.tags![0]!)).toBe(true);
    for (const parameter of operation.parameters ?? []) expect(parameter.description).toMatch(/\w/);
  }
});

test('servers: the local stack and the deployed stage URL with its variables', () => {
  expect(document.servers).toEqual([
    expect.objectContaining({ url: 'http://127.0.0.1:3000' }),
    expect.objectContaining({
      url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
      variables: {
        restApiId: expect.objectContaining({ default: expect.any(String) }),
        region: expect.objectContaining({ default: 'us-east-1' }),
        stage: expect.objectContaining({ default: 'v1' }),
      },
    }),
  ]);
});

test('every request body and every success answer carries an example; handover bodies are named components', () => {
  for (const operation of operations) {
    const request = operation.requestBody?.content['application/json'];
    if (request)
      expect({ id: operation.operationId, examples: Object.keys(request.examples ?? {}).length > 0 }).toEqual(
        { id: operation.operationId, examples: true },
      );
    for (const [status, answer] of Object.entries(operation.responses)) {
      const media = answer.content?.['application/json'];
      if (!media) continue;
      expect({
        id: operation.operationId,
        status,
        examples: Object.keys(media.examples ?? {}).length > 0,
      }).toEqual({
        id: operation.operationId,
        status,
        examples: true,
      });
    }
  }
  const byId = new Map(operations.map((o) => [o.operationId, o]));
  const schemaOf = (id: string) => byId.get(id)?.requestBody?.content['application/json']?.schema;
  expect(schemaOf('handover-start')).toEqual({ $ref: '#/components/schemas/HandoverStartRequest' });
  expect(schemaOf('handover-message')).toEqual({ $ref: '#/components/schemas/HandoverMessageRequest' });
  expect(schemaOf('handover-end')).toEqual({ $ref: '#/components/schemas/HandoverEndRequest' });
  expect(byId.get('handover-start')?.responses['201']?.content?.['application/json']?.schema).toEqual({
    $ref: '#/components/schemas/HandoverStarted',
  });
  expect(byId.get('handover-start')?.responses['502']?.content?.['application/json']?.schema).toEqual({
    $ref: '#/components/schemas/HandoverStartError',
  });
  expect(byId.get('handover-status')?.responses['200']?.content?.['application/json']?.schema).toEqual({
    oneOf: [{ $ref: '#/components/schemas/HandoverState' }, { $ref: '#/components/schemas/ErrorBody' }],
  });
});

test('GET /handover/active documents its required sessionId query parameter', () => {
  const active = (document.paths as Record<string, Record<string, Operation>>)['/handover/active']?.get;
  expect(active?.parameters).toEqual([
    expect.objectContaining({ name: 'sessionId', in: 'query', required: true }),
    expect.objectContaining({ name: BRIDGE_ERRORS_HEADER.name, in: 'header', required: false }),
  ]);
  expect(Object.keys(active?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '404']));
});

test("the webhook routes document 8x8's bodies: the official receipt sample and Chat Gateway events validate, others do not", () => {
  const openapi = new OpenApiValidator(document);
  const sample = JSON.parse(
    readFileSync(path.join(root, 'test', 'fixtures', '8x8', 'sms-delivery-receipt.sample.json'), 'utf8'),
  ) as Json;
  const receipt = (body: unknown) =>
    openapi.checkRequest({
      method: 'POST',
      path: '/webhooks/8x8/sms',
      contentType: 'application/json',
      body,
    });
  expect(receipt(sample)).toEqual([]);
  expect(receipt({ ...sample, payload: { umid: 'x' } })).not.toEqual([]);
  // The example in the document is 8x8's sample, unchanged.
  const receiptOperation = (document.paths as Record<string, Record<string, Operation>>)['/webhooks/8x8/sms']
    ?.post;
  expect(receiptOperation?.requestBody?.content['application/json']?.examples).toEqual({
    deliveryReceipt: expect.objectContaining({ value: sample }),
  });

  const event = (body: unknown) =>
    openapi.checkRequest({
      method: 'POST',
      path: '/handover/eightByEight',
      contentType: 'application/json',
      body,
    });
  const base = { conversationId: 'ID-0', timestamp: 1713100000000 };
  expect(
    event({
      ...base,
      eventType: 'MEMBERS_CHANGED',
      data: { memberType: 'agent', change: 'joined', id: 'a' },
    }),
  ).toEqual([]);
  expect(event({ ...base, eventType: 'SOMETHING_NEW' })).toEqual([]);
  expect(event({ notificationVersion: 'Chat Gateway v1.0', eventType: 'WEB_HOOK_VERIFY' })).toEqual([]);
  expect(
    event({
      ...base,
      eventType: 'MEMBERS_CHANGED',
      data: { memberType: 'robot', change: 'joined', id: 'a' },
    }),
  ).not.toEqual([]);
  expect(event({ ...base, eventType: 'MESSAGE' })).not.toEqual([]);
});

/** The JSON examples of one of 8x8's documents copied into lib/simulators/contract/8x8/. */
function officialExamples(file: string): unknown[] {
  const text = readFileSync(path.join(root, 'lib', 'simulators', 'contract', '8x8', file), 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? '') as unknown);
}

test("every example of 8x8's webhook documents is a body the document accepts", () => {
  const openapi = new OpenApiValidator(document);
  const events = officialExamples('webhooks-events-reference.md');
  expect(events.length).toBeGreaterThanOrEqual(12);
  for (const body of events) {
    expect({
      body,
      violations: openapi.checkRequest({
        method: 'POST',
        path: '/handover/eightByEight',
        contentType: 'application/json',
        body,
      }),
    }).toEqual({ body, violations: [] });
  }
  const receipts = officialExamples('delivery-receipts-for-outbound-sms.md');
  expect(receipts).toHaveLength(1);
  expect(
    openapi.checkRequest({
      method: 'POST',
      path: '/webhooks/8x8/sms',
      contentType: 'application/json',
      body: receipts[0],
    }),
  ).toEqual([]);
});

test('flow routes document x-bridge-errors, and their 200 also carries business errors with x-bridge-status', () => {
  expect(BRIDGE_STATUS_HEADER).toBe(FUNCTIONS_BRIDGE_STATUS_HEADER);
  const paths = document.paths as Record<string, Record<string, Operation>>;
  for (const route of ROUTES) {
    const operation = paths[route.path]?.[route.method.toLowerCase()] as Operation;
    const header = operation.parameters?.find((p) => p.name === BRIDGE_ERRORS_HEADER.name);
    if (route.auth !== BRIDGE_ERRORS_HEADER.routes) {
      expect({ route: route.path, header }).toEqual({ route: route.path, header: undefined });
      continue;
    }
    expect({ route: route.path, header }).toEqual({
      route: route.path,
      header: expect.objectContaining({ in: 'header', required: false }),
    });
    const ok = operation.responses['200'] as {
      headers?: Record<string, unknown>;
      content?: Record<string, { schema: Json }>;
    };
    expect(Object.keys(ok.headers ?? {})).toContain(BRIDGE_STATUS_HEADER);
    expect(JSON.stringify(ok.content?.['application/json']?.schema)).toMatch(/ErrorBody|HandoverStartError/);
  }
});

test("8x8's inbound SMS (inbound_message_received) is a body both SMS webhook URLs accept; one without umid is not", () => {
  const openapi = new OpenApiValidator(document);
  const inbound = {
    namespace: 'SMS',
    eventType: 'inbound_message_received',
    description: 'SMS inbound message',
    payload: {
      umid: '4f3a2b1c-0d9e-5f8a-a7b6-c5d4e3f2a1b0',
      subAccountId: 'SubAccount-1',
      timestamp: '2026-12-07T10:16:02.000Z',
      source: '6591234567',
      destination: '6580001234',
      body: 'YES',
      encoding: 'GSM7',
      smsCount: 1,
      price: { total: 0.01, perSms: 0.01, currency: 'USD' },
    },
  };
  const check = (path: string, body: unknown) =>
    openapi.checkRequest({ method: 'POST', path, contentType: 'application/json', body });
  for (const path of ['/webhooks/8x8/sms/inbound', '/webhooks/8x8/sms']) {
    expect({ path, violations: check(path, inbound) }).toEqual({ path, violations: [] });
    const { umid: _umid, ...withoutUmid } = inbound.payload;
    expect(check(path, { ...inbound, payload: withoutUmid })).not.toEqual([]);
  }
});
