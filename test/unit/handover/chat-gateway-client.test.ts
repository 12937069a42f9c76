import '../../helpers/env';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamError } from '../../../functions/shared/errors';
import {
  chatGatewayClient,
  ChatGatewayError,
  describeProblem,
} from '../../../functions/handover/chat-gateway-client';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
const answers: Answer[] = [];
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: raw ? JSON.parse(raw) : undefined,
      });
      const answer = answers.shift() ?? { status: 204 };
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(
        answer.body === undefined
          ? ''
          : typeof answer.body === 'string'
            ? answer.body
            : JSON.stringify(answer.body),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  seen.length = 0;
  answers.length = 0;
  for (const res of hanging.splice(0)) res.destroy();
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const problemJson = { 'content-type': 'application/problem+json' };
const client = (tenant?: string) =>
  chatGatewayClient(async () => ({
    apiKey: 'key-abc',
    baseUrl: `${baseUrl}/`,
    ...(tenant ? { tenant } : {}),
  }));

async function failure(promise: Promise<unknown>): Promise<ChatGatewayError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatGatewayError);
  expect(error).toBeInstanceOf(UpstreamError);
  return error as ChatGatewayError;
}

describe('Chat Gateway client', () => {
  it('creates a conversation with the documented headers and body', async () => {
    answers.push({
      status: 202,
      body: { conversationId: 'vXg39aMTRlq4xCBFaUCTlA', createdAt: '2021-01-30T08:30:00Z' },
      headers: { 'content-type': 'application/hal+json' },
    });
    const request = {
      channelId: 'ch-1',
      assignment: { type: 'queue' as const, id: '101' },
      user: { name: 'Ada', language: 'en' },
    };
    const created = await client('TheTenant').createConversation(request, { timeoutMs: 2000 });
    expect(created).toEqual({ conversationId: 'vXg39aMTRlq4xCBFaUCTlA', createdAt: '2021-01-30T08:30:00Z' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/chat-gateway/v1/conversations', body: request });
    expect(seen[0]?.headers).toMatchObject({
      'x-api-key': 'key-abc',
      'x-8x8-tenant': 'TheTenant',
      'content-type': 'application/json',
      accept: 'application/hal+json',
    });
  });

  it('leaves out X-8x8-Tenant when no tenant is configured', async () => {
    answers.push({ status: 202, body: { conversationId: 'c' } });
    await client().createConversation({ channelId: 'ch', user: {} }, { timeoutMs: 2000 });
    expect(seen[0]?.headers['x-8x8-tenant']).toBeUndefined();
  });

  it('treats a 2xx without a conversation id as a permanent failure', async () => {
    answers.push({ status: 202, body: {} });
    const error = await failure(
      client().createConversation({ channelId: 'ch', user: {} }, { timeoutMs: 2000 }),
    );
    expect(error).toMatchObject({ kind: 'permanent', upstreamCode: 'UNEXPECTED_RESPONSE' });
  });

  it('sends user messages, the user leaving and typing to the conversation', async () => {
    answers.push({ status: 202 }, { status: 204 }, { status: 204 });
    const c = client('T');
    await c.sendUserMessage('ID/0', 'Hello', { timeoutMs: 2000 });
    await c.endConversationAsUser('ID/0', { timeoutMs: 2000 });
    await c.sendTyping('ID/0', 'user', { timeoutMs: 2000 });
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/chat-gateway/v1/conversations/ID%2F0/messages', { authorType: 'user', text: 'Hello' }],
      ['PATCH', '/chat-gateway/v1/conversations/ID%2F0/participants/user', { removed: true }],
      ['POST', '/chat-gateway/v1/conversations/ID%2F0/typing', { authorType: 'user' }],
    ]);
    expect(seen.every((s) => s.headers['x-8x8-tenant'] === 'T' && s.headers['x-api-key'] === 'key-abc')).toBe(
      true,
    );
  });

  it.each([
    [
      '400 problem+json with coded errors',
      {
        status: 400,
        body: {
          message: 'Bad request',
          errors: [{ code: 'invalid_queue', message: 'Queue ID 112 is invalid.' }],
        },
        headers: problemJson,
      },
      {
        kind: 'permanent',
        httpStatus: 400,
        upstreamCode: 'invalid_queue',
        reason: 'Bad request — Queue ID 112 is invalid.',
      },
    ],
    [
      '401 access denied',
      {
        status: 401,
        body: {
          message: 'Access Denied',
          errors: [{ message: 'Access Denied', code: 'access_denied' }],
          referenceId: 'r',
        },
        headers: problemJson,
      },
      { kind: 'permanent', httpStatus: 401, upstreamCode: 'access_denied', reason: 'Access Denied' },
    ],
    [
      '403 with string errors',
      {
        status: 403,
        body: {
          message: 'The tenant does not belong to customer.',
          errors: ["Header X-8x8-Tenant doesn't match tenant information"],
        },
        headers: problemJson,
      },
      {
        kind: 'permanent',
        httpStatus: 403,
        reason:
          "The tenant does not belong to customer. — Header X-8x8-Tenant doesn't match tenant information",
      },
    ],
    [
      '401 API gateway fault',
      {
        status: 401,
        body: {
          fault: {
            faultstring: 'Invalid access token',
            detail: { errorcode: 'oauth.v2.InvalidAccessToken' },
          },
        },
      },
      {
        kind: 'permanent',
        httpStatus: 401,
        upstreamCode: 'oauth.v2.InvalidAccessToken',
        reason: 'Invalid access token',
      },
    ],
    ['404 without a body', { status: 404 }, { kind: 'permanent', httpStatus: 404 }],
    [
      '429 with Retry-After',
      { status: 429, headers: { 'retry-after': '3' } },
      { kind: 'rateLimited', httpStatus: 429, retryAfterMs: 3000 },
    ],
    [
      '500 with a text body',
      { status: 500, body: 'Internal server error.' },
      { kind: 'transient', httpStatus: 500 },
    ],
    [
      '503',
      { status: 503, body: { message: 'Service unavailable' } },
      { kind: 'transient', httpStatus: 503, reason: 'Service unavailable' },
    ],
  ])('classifies %s by its status', async (_name, answer, expected) => {
    answers.push(answer);
    const error = await failure(client().sendUserMessage('c-1', 'hi', { timeoutMs: 2000 }));
    expect(error).toMatchObject(expected);
    expect(error.message).not.toContain('key-abc');
  });

  it('turns no answer within the timeout into a transient TIMEOUT', async () => {
    answers.push('hang');
    const error = await failure(client().endConversationAsUser('c-1', { timeoutMs: 150 }));
    expect(error).toMatchObject({ kind: 'transient', upstreamCode: 'TIMEOUT' });
  });
});

describe('describeProblem', () => {
  it.each([
    [undefined, {}],
    ['text', {}],
    [
      {
        message: 'Resource not found',
        errors: [
          { code: 'resource_not_found', message: 'Entity of type Conversation with id aaa was not found.' },
        ],
      },
      {
        reason: 'Resource not found — Entity of type Conversation with id aaa was not found.',
        code: 'resource_not_found',
      },
    ],
    [
      {
        message: 'Invalid authorType=x',
        errors: { code: 'invalid_json_object', message: 'Invalid authorType=x' },
      },
      { reason: 'Invalid authorType=x', code: 'invalid_json_object' },
    ],
    [{ errors: ['<<name>>: May not be empty.'] }, { reason: '<<name>>: May not be empty.' }],
  ])('%j → %j', (body, expected) => {
    expect(describeProblem(body)).toEqual(expected);
  });
});
