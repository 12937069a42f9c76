/**
 * The local API Gateway over real HTTP, with an injected route table and handler loader so the gateway's own
 * behaviour (API key, routing, limits, event shape, error mapping, throttling) is tested apart from the functions.
 */
import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { FunctionName, RouteSpec } from '../../functions/shared/catalogue';
import { LocalGateway, TokenBucket, matchRoute, type GatewayOptions } from '../../lib/local/gateway';
import type { LambdaHandler } from '../../lib/local/lambda';

const API_KEY = 'test-key-0123456789';

const routes: RouteSpec[] = [
  {
    method: 'POST',
    path: '/sms',
    function: 'sms-accept',
    auth: 'apiKey',
    maxBodyBytes: 16_384,
  },
  {
    method: 'GET',
    path: '/sms/{messageId}',
    function: 'sms-status',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'POST',
    path: '/webhooks/8x8/sms',
    function: 'sms-receipt',
    auth: 'self',
    maxBodyBytes: 16_384,
  },
  {
    method: 'GET',
    path: '/handover/{conversationId}',
    function: 'handover-status',
    auth: 'apiKey',
    maxBodyBytes: 0,
  },
  {
    method: 'POST',
    path: '/handover/eightByEight',
    function: 'handover-webhook',
    auth: 'self',
    maxBodyBytes: 262_144,
  },
  {
    method: 'POST',
    path: '/handover/{conversationId}/end',
    function: 'handover-end',
    auth: 'apiKey',
    maxBodyBytes: 4_096,
  },
];

interface Invocation {
  functionName: FunctionName;
  event: APIGatewayProxyEvent;
  remainingMs: number;
  contextFunctionName: string;
}

/** Handlers that echo what they received, unless a test replaces one. */
function setup(
  overrides: Partial<GatewayOptions> = {},
  handlers: Partial<Record<FunctionName, LambdaHandler>> = {},
) {
  const invocations: Invocation[] = [];
  const loadHandler = async (functionName: FunctionName): Promise<LambdaHandler> => {
    const custom = handlers[functionName];
    return async (event, context) => {
      invocations.push({
        functionName,
        event: event as APIGatewayProxyEvent,
        remainingMs: context.getRemainingTimeInMillis(),
        contextFunctionName: context.functionName,
      });
      if (custom) return custom(event, context);
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ok: true, functionName }),
      };
    };
  };
  const gateway = new LocalGateway({ apiKey: API_KEY, routes, loadHandler, ...overrides });
  return { gateway, invocations };
}

let current: LocalGateway | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function started(
  overrides: Partial<GatewayOptions> = {},
  handlers: Partial<Record<FunctionName, LambdaHandler>> = {},
) {
  const s = setup(overrides, handlers);
  current = s.gateway;
  const url = await s.gateway.start(0);
  return { ...s, url };
}

async function json(response: Response): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  return (await response.json()) as { ok: boolean; error?: { code: string; message: string } };
}

describe('API key (usage plan) enforcement', () => {
  test('a missing x-api-key is refused with 403 FORBIDDEN before the function runs', async () => {
    const { url, invocations } = await started();
    const response = await fetch(`${url}/sms`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(403);
    expect(await json(response)).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'Missing or invalid API key' },
    });
    expect(invocations).toHaveLength(0);
  });

  test('a wrong x-api-key is refused with 403', async () => {
    const { url, invocations } = await started();
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': `${API_KEY}x` },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect((await json(response)).error?.code).toBe('FORBIDDEN');
    expect(invocations).toHaveLength(0);
  });

  test('the right key reaches the function, and the key is in requestContext.identity', async () => {
    const { url, invocations } = await started();
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'X-Api-Key': API_KEY },
      body: '{}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, functionName: 'sms-accept' });
    expect(invocations).toHaveLength(1);
    expect(invocations[0]?.event.requestContext.identity.apiKey).toBe(API_KEY);
  });

  test('webhook routes (auth self) need no API key', async () => {
    const { url, invocations } = await started();
    const receipt = await fetch(`${url}/webhooks/8x8/sms`, { method: 'POST', body: '{}' });
    const chat = await fetch(`${url}/handover/eightByEight`, { method: 'POST', body: '{}' });
    expect([receipt.status, chat.status]).toEqual([200, 200]);
    expect(invocations.map((i) => i.functionName)).toEqual(['sms-receipt', 'handover-webhook']);
    expect(invocations[0]?.event.requestContext.identity.apiKey).toBeNull();
  });
});

describe('routing', () => {
  test('an unknown path is 404 ROUTE_NOT_FOUND', async () => {
    const { url } = await started();
    const response = await fetch(`${url}/nope`, { headers: { 'x-api-key': API_KEY } });
    expect(response.status).toBe(404);
    expect((await json(response)).error?.code).toBe('ROUTE_NOT_FOUND');
  });

  test('a known path with another method is 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const { url, invocations } = await started();
    const response = await fetch(`${url}/sms`, { method: 'GET', headers: { 'x-api-key': API_KEY } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect((await json(response)).error?.code).toBe('METHOD_NOT_ALLOWED');
    expect(invocations).toHaveLength(0);
  });

  test('a literal segment beats a {param}: /handover/eightByEight is the webhook, not a conversation id', async () => {
    const { url, invocations } = await started();
    await fetch(`${url}/handover/eightByEight`, { method: 'POST', body: '{}' });
    await fetch(`${url}/handover/conv-1`, { headers: { 'x-api-key': API_KEY } });
    expect(invocations.map((i) => i.functionName)).toEqual(['handover-webhook', 'handover-status']);
    expect(invocations[1]?.event.pathParameters).toEqual({ conversationId: 'conv-1' });
    // GET on the literal resource is not routed to the {conversationId} resource.
    const wrong = await fetch(`${url}/handover/eightByEight`, { headers: { 'x-api-key': API_KEY } });
    expect(wrong.status).toBe(405);
  });

  test('matchRoute prefers the literal resource whatever the table order', () => {
    const reversed = [...routes].reverse();
    const match = matchRoute(reversed, 'POST', '/handover/eightByEight');
    expect(match.kind === 'match' && match.match.route.function).toBe('handover-webhook');
    const nested = matchRoute(reversed, 'POST', '/handover/eightByEight/end');
    expect(nested.kind === 'match' && nested.match.pathParameters).toEqual({
      conversationId: 'eightByEight',
    });
  });
});

describe('the proxy event', () => {
  test('carries the exact body bytes, headers as sent, decoded path parameters and the query', async () => {
    const { url, invocations } = await started();
    const body = '{ "text" : "Grüße 👋\\n",\n  "x": 1 }  ';
    const response = await fetch(`${url}/sms/msg%20one?verbose=1&tag=a&tag=b`, {
      method: 'GET',
      headers: { 'x-api-key': API_KEY, 'X-Custom-Header': 'Value' },
    });
    expect(response.status).toBe(200);
    const post = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body,
    });
    expect(post.status).toBe(200);

    const get = invocations[0]!.event;
    expect(get.httpMethod).toBe('GET');
    expect(get.resource).toBe('/sms/{messageId}');
    expect(get.path).toBe('/sms/msg%20one');
    expect(get.pathParameters).toEqual({ messageId: 'msg one' });
    expect(get.queryStringParameters).toEqual({ verbose: '1', tag: 'b' });
    expect(get.multiValueQueryStringParameters).toEqual({ verbose: ['1'], tag: ['a', 'b'] });
    expect(get.headers['X-Custom-Header']).toBe('Value');
    expect(get.multiValueHeaders['X-Custom-Header']).toEqual(['Value']);
    expect(get.body).toBeNull();
    expect(get.requestContext.requestId).toBe(response.headers.get('x-amzn-requestid'));
    expect(get.requestContext.resourcePath).toBe('/sms/{messageId}');

    const sent = invocations[1]!.event;
    expect(sent.body).toBe(body);
    expect(Buffer.from(sent.body ?? '', 'utf8').equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(sent.isBase64Encoded).toBe(false);
    expect(sent.queryStringParameters).toBeNull();
    expect(sent.pathParameters).toBeNull();
  });

  test('query and header names that are Object.prototype members are own entries, not a crash', async () => {
    const { url, invocations } = await started();
    const response = await fetch(`${url}/sms?valueOf=&constructor=1&__proto__=x&toString=a&toString=b`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, valueOf: 'v', constructor: 'c' },
      body: '{}',
    });
    expect(response.status).toBe(200);
    const event = invocations[0]!.event;
    expect(Object.entries(event.queryStringParameters ?? {})).toEqual([
      ['valueOf', ''],
      ['constructor', '1'],
      ['__proto__', 'x'],
      ['toString', 'b'],
    ]);
    expect(event.multiValueQueryStringParameters?.toString).toEqual(['a', 'b']);
    expect(event.headers.valueOf).toBe('v');
    expect(event.multiValueHeaders.constructor).toEqual(['c']);
  });

  test('the Lambda context names the function and counts down from its timeout', async () => {
    const { url, invocations } = await started({ timeoutMs: () => 7_000 });
    await fetch(`${url}/sms`, { method: 'POST', headers: { 'x-api-key': API_KEY }, body: '{}' });
    expect(invocations[0]?.contextFunctionName).toBe('sms-accept');
    expect(invocations[0]?.remainingMs).toBeGreaterThan(0);
    expect(invocations[0]?.remainingMs).toBeLessThanOrEqual(7_000);
  });
});

describe('answers', () => {
  test("the function's status, headers, multi-value headers and base64 body are passed through", async () => {
    const { url } = await started(
      {},
      {
        'sms-accept': async () => ({
          statusCode: 202,
          headers: { 'Content-Type': 'text/plain', 'X-One': '1' },
          multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
          body: Buffer.from('accepted').toString('base64'),
          isBase64Encoded: true,
        }),
      },
    );
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
      body: '{}',
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.text()).toBe('accepted');
  });

  test('a function that throws is 502 INTERNAL_ERROR without its message or stack', async () => {
    const reported: string[] = [];
    const { url } = await started(
      { onError: (message) => reported.push(message) },
      {
        'sms-accept': async () => {
          throw new Error('database password is hunter2');
        },
      },
    );
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
      body: '{}',
    });
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      ok: false,
      error: { code: 'INTERNAL_ERROR', message: 'Internal server error' },
    });
    expect(text).not.toMatch(/hunter2|at .*\.ts/);
    expect(reported).toEqual(['sms-accept failed']);
  });

  test('a malformed proxy response is 502', async () => {
    const { url } = await started({}, { 'sms-accept': async () => ({ body: 'no status code' }) });
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
      body: '{}',
    });
    expect(response.status).toBe(502);
    expect((await json(response)).error?.code).toBe('INTERNAL_ERROR');
  });

  test('a function past its timeout is 502, like a timed-out Lambda behind API Gateway', async () => {
    const { url } = await started(
      { timeoutMs: () => 50 },
      { 'sms-accept': () => new Promise(() => undefined) },
    );
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY },
      body: '{}',
    });
    expect(response.status).toBe(502);
  });

  test('a handler that cannot be loaded is 502', async () => {
    const gateway = new LocalGateway({
      apiKey: API_KEY,
      routes,
      loadHandler: async () => {
        throw new Error('Cannot find module');
      },
    });
    current = gateway;
    const url = await gateway.start(0);
    const response = await fetch(`${url}/webhooks/8x8/sms`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(502);
  });

  test('while the stack failed to start, requests are 503', async () => {
    const failed = Promise.reject(new Error('boom'));
    failed.catch(() => undefined);
    const { url, invocations } = await started({ ready: failed });
    const response = await fetch(`${url}/webhooks/8x8/sms`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(503);
    expect(invocations).toHaveLength(0);
  });
});

describe('payload limit', () => {
  test('a body over API Gateway’s 10 MB is refused with 413 before the function runs', async () => {
    const { url, invocations } = await started();
    const body = Buffer.alloc(10 * 1024 * 1024 + 1, 0x61);
    const response = await fetch(`${url}/webhooks/8x8/sms`, { method: 'POST', body });
    expect(response.status).toBe(413);
    expect((await json(response)).error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(invocations).toHaveLength(0);
  });

  test('a chunked body (no Content-Length) is cut off at the limit too', async () => {
    const { url, invocations } = await started({ maxPayloadBytes: 1024 });
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${url}/webhooks/8x8/sms`, { method: 'POST' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(512, 0x62));
      req.end();
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(invocations).toHaveLength(0);
  });

  test('a body exactly at the limit is accepted', async () => {
    const { url, invocations } = await started({ maxPayloadBytes: 1024 });
    const response = await fetch(`${url}/webhooks/8x8/sms`, { method: 'POST', body: 'x'.repeat(1024) });
    expect(response.status).toBe(200);
    expect(invocations[0]?.event.body).toHaveLength(1024);
  });
});

describe('usage-plan throttling', () => {
  test('requests beyond the burst are 429 TOO_MANY_REQUESTS with Retry-After', async () => {
    // A refill rate of one token per 1000 s keeps the outcome independent of how fast the requests run.
    const { url, invocations } = await started({ throttle: { rateLimit: 0.001, burstLimit: 2 } });
    const send = () => fetch(`${url}/sms`, { method: 'POST', headers: { 'x-api-key': API_KEY }, body: '{}' });
    const statuses = [(await send()).status, (await send()).status];
    const third = await send();
    expect(statuses).toEqual([200, 200]);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1000');
    expect((await json(third)).error?.code).toBe('TOO_MANY_REQUESTS');
    expect(invocations).toHaveLength(2);
    // Webhooks are not under the usage plan.
    expect((await fetch(`${url}/webhooks/8x8/sms`, { method: 'POST', body: '{}' })).status).toBe(200);
  });

  test('the token bucket refills at the rate, up to the burst', () => {
    let now = 0;
    const bucket = new TokenBucket({ rateLimit: 2, burstLimit: 3 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()].every((t) => t.allowed)).toBe(true);
    expect(bucket.take()).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500; // one token at 2/s
    expect(bucket.take().allowed).toBe(true);
    expect(bucket.take().allowed).toBe(false);
    now += 60_000; // long idle: capped at the burst
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()].map((t) => t.allowed)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('GET /openapi.json', () => {
  test('serves the document without an API key', async () => {
    const { url } = await started({ loadOpenApi: async () => ({ openapi: '3.1.0', info: { title: 't' } }) });
    const response = await fetch(`${url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      openapi: '3.1.0',
      info: { title: 't' },
      servers: [{ url, description: 'Local stack (npm start)' }],
    });
  });

  test('is 404 when no document is available', async () => {
    const { url } = await started({ loadOpenApi: async () => undefined });
    const response = await fetch(`${url}/openapi.json`);
    expect(response.status).toBe(404);
  });
});
