import '../../helpers/env';
/**
 * `x-bridge-errors: body` (issue 11 item 3): on the flow routes, business errors (catalogue 4xx) are answered with
 * 200 and the unchanged `{ok:false,error}` body; 5xx, successes and the webhooks keep their status. Run through the
 * real middy chain of functions/shared/http.ts with a stub core (no AWS involved).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { BRIDGE_ERRORS_HEADER, ROUTES } from '../../../functions/shared/catalogue';
import { ERROR_CODES } from '../../../functions/shared/error-catalogue';
import { BridgeError } from '../../../functions/shared/errors';
import {
  apiHandler,
  asBusinessAnswer,
  errorModeOf,
  errorBody,
  type ApiResponse,
} from '../../../functions/shared/http';

const context = {
  functionName: 'test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

const event = (headers: Record<string, string> = {}, body = '{}'): APIGatewayProxyEvent =>
  ({
    httpMethod: 'POST',
    body,
    headers,
    pathParameters: { conversationId: 'c-1' },
    queryStringParameters: null,
    requestContext: { requestId: 'r-1' },
  }) as unknown as APIGatewayProxyEvent;

type Core = () => Promise<ApiResponse>;
const run = async (
  functionName: 'handover-message' | 'handover-webhook' | 'sms-batch',
  core: Core,
  headers = {},
) => (await apiHandler(functionName, core)(event(headers), context)) as APIGatewayProxyResult;
const fail = (code: keyof typeof ERROR_CODES, details?: unknown): Core => {
  return () => Promise.reject(new BridgeError(code, `failed: ${code}`, ERROR_CODES[code].status, details));
};
const BODY = { 'x-bridge-errors': 'body' };

describe('x-bridge-errors: body', () => {
  test('every catalogue 4xx a flow route throws becomes 200 with the same body and x-bridge-status', async () => {
    const fourXx = Object.entries(ERROR_CODES).filter(([, spec]) => spec.status >= 400 && spec.status < 500);
    expect(fourXx.length).toBeGreaterThan(40);
    for (const [code, spec] of fourXx) {
      const details = [{ path: 'text', code, message: 'm' }];
      const plain = await run('handover-message', fail(code as keyof typeof ERROR_CODES, details));
      const inBody = await run('handover-message', fail(code as keyof typeof ERROR_CODES, details), BODY);
      expect([code, plain.statusCode]).toEqual([code, spec.status]);
      expect([code, inBody.statusCode, inBody.headers?.['x-bridge-status']]).toEqual([
        code,
        200,
        String(spec.status),
      ]);
      expect(JSON.parse(inBody.body)).toEqual(JSON.parse(plain.body));
      expect(JSON.parse(inBody.body)).toEqual(errorBody(code, `failed: ${code}`, details));
    }
  });

  test('a 4xx the core returns (not throws) is answered as 200 too, its headers kept', async () => {
    const core: Core = async () => ({
      statusCode: 409,
      body: { ok: false, batchId: null, items: [], ...errorBody('IDEMPOTENCY_IN_PROGRESS', 'wait') },
      headers: { 'retry-after': '1' },
    });
    const answer = await run('sms-batch', core, { 'X-Bridge-Errors': ' Body ' });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toMatchObject({ 'retry-after': '1', 'x-bridge-status': '409' });
    expect(JSON.parse(answer.body)).toMatchObject({ ok: false, error: { code: 'IDEMPOTENCY_IN_PROGRESS' } });
  });

  test('5xx, unexpected errors and successes keep their status', async () => {
    for (const code of ['QUEUE_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_REJECTED'] as const) {
      const answer = await run('handover-message', fail(code), BODY);
      expect([code, answer.statusCode]).toEqual([code, ERROR_CODES[code].status]);
      expect(answer.headers?.['x-bridge-status']).toBeUndefined();
    }
    const crash = await run('handover-message', () => Promise.reject(new TypeError('boom')), BODY);
    expect(crash.statusCode).toBe(500);
    const ok = await run('handover-message', async () => ({ statusCode: 202, body: { ok: true } }), BODY);
    expect(ok.statusCode).toBe(202);
  });

  test('the 8x8 webhooks ignore the header', async () => {
    const answer = await run('handover-webhook', fail('SIGNATURE_MISSING'), BODY);
    expect(answer.statusCode).toBe(401);
  });

  test('without the header, with "status" or with an empty value nothing changes', async () => {
    for (const headers of [{}, { 'x-bridge-errors': 'status' }, { 'x-bridge-errors': '' }]) {
      const answer = await run('handover-message', fail('HANDOVER_CLOSED'), headers);
      expect(answer.statusCode).toBe(409);
    }
  });

  test('an unknown value is 400 INVALID_REQUEST naming the header, before the core runs', async () => {
    let ran = false;
    const answer = await run(
      'handover-message',
      async () => {
        ran = true;
        return { statusCode: 202, body: { ok: true } };
      },
      { 'x-bridge-errors': 'json' },
    );
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST', details: [{ path: 'x-bridge-errors' }] },
    });
    expect(ran).toBe(false);
  });

  test('asBusinessAnswer leaves bodies it cannot vouch for alone', () => {
    const result = (statusCode: number, body: string) => ({ statusCode, body, headers: {} });
    expect(asBusinessAnswer(result(400, 'not json')).statusCode).toBe(400);
    expect(asBusinessAnswer(result(400, '{"ok":true}')).statusCode).toBe(400);
    expect(asBusinessAnswer(result(404, '{"ok":false,"error":{"code":"NO_SUCH_CODE"}}')).statusCode).toBe(
      404,
    );
    expect(asBusinessAnswer(result(503, '{"ok":false,"error":{"code":"NOT_ACCEPTED"}}')).statusCode).toBe(
      503,
    );
    expect(
      asBusinessAnswer(result(404, '{"ok":false,"error":{"code":"MESSAGE_NOT_FOUND"}}')).statusCode,
    ).toBe(200);
  });

  test('the catalogue declares the header for exactly the flow routes', () => {
    expect(errorModeOf({ 'X-BRIDGE-ERRORS': 'BODY' })).toBe('body');
    const flowRoutes = ROUTES.filter((r) => r.auth === BRIDGE_ERRORS_HEADER.routes).map((r) => r.function);
    expect(flowRoutes).toEqual(
      expect.arrayContaining(['sms-accept', 'sms-batch', 'sms-status', 'handover-start', 'handover-message']),
    );
    expect(flowRoutes).not.toContain('handover-webhook');
    expect(flowRoutes).not.toContain('sms-receipt');
  });
});
