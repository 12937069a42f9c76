import '../../helpers/env';
import {
  chatBridgeEventId,
  cognigyConversation,
  cognigyEndpoint,
  COGNIGY_INVALID_ANSWER,
  smsBridgeEventId,
  type CognigyPush,
  type CognigyRestRequest,
} from '../../../functions/shared/cognigy-client';
import { UpstreamError } from '../../../functions/shared/errors';
import { injectBody } from '../../../functions/sms/cognigy-inject';
import type { MessageRecord } from '../../../functions/sms/records';
import { json, ScriptedServer } from '../sms/http-server';

const target = { endpointBaseUrl: 'https://endpoint.example', urlToken: 'token' };
const body: CognigyPush = { userId: 'u', sessionId: 's', text: '', data: { bridgeEventId: 'x' } };

describe('cognigyEndpoint timeouts', () => {
  function recording(options: { timeoutMs: number; retryTimeoutMs?: number }) {
    const timeouts: number[] = [];
    const endpoint = cognigyEndpoint({
      ...options,
      defaultEndpointBaseUrl: async () => undefined,
      push: async (_mode, _target, _push, timeoutMs) => {
        timeouts.push(timeoutMs);
      },
    });
    return { endpoint, timeouts };
  }

  it('a first push uses the timeout, a retry the longer retry timeout', async () => {
    const { endpoint, timeouts } = recording({ timeoutMs: 3000, retryTimeoutMs: 8000 });
    await endpoint.push('inject', target, body);
    await endpoint.push('inject', target, body, { retry: true });
    await endpoint.push('notify', target, body, { retry: false });
    expect(timeouts).toEqual([3000, 8000, 3000]);
  });

  it('a retry timeout shorter than the first one, or none, keeps the first one', async () => {
    const shorter = recording({ timeoutMs: 5000, retryTimeoutMs: 1000 });
    await shorter.endpoint.push('inject', target, body, { retry: true });
    const none = recording({ timeoutMs: 4000 });
    await none.endpoint.push('inject', target, body, { retry: true });
    expect([...shorter.timeouts, ...none.timeouts]).toEqual([5000, 4000]);
  });
});

describe('bridgeEventId', () => {
  const record = {
    messageId: '5f0c6f5e-8a4e-4a53-9d2c-0f7f5b7c1a11',
    destination: '+6591234567',
    cognigy: { userId: 'u', sessionId: 's', URLToken: 't', receiptEvents: ['sent', 'delivered'] },
  } as unknown as MessageRecord;

  it('is the same for every push of one SMS status change and differs between changes', () => {
    const sent = injectBody(record, { status: 'sent', umid: 'umid-1' }).data.bridgeEventId;
    expect(injectBody({ ...record, umid: 'umid-1' }, { status: 'sent' }).data.bridgeEventId).toBe(sent);
    const toOperator = injectBody(record, { status: 'delivered', detail: 'delivered_to_operator' });
    const toRecipient = injectBody(record, { status: 'delivered', detail: 'delivered_to_recipient' });
    expect(new Set([sent, toOperator.data.bridgeEventId, toRecipient.data.bridgeEventId]).size).toBe(3);
    expect(sent).toBe(smsBridgeEventId(record.messageId, 'sent'));
  });

  it('of a relayed 8x8 event is derived from 8x8 event id alone', () => {
    expect(chatBridgeEventId('evt-1')).toBe(chatBridgeEventId('evt-1'));
    expect(chatBridgeEventId('evt-1')).not.toBe(chatBridgeEventId('evt-2'));
  });
});

describe('cognigyConversation converse (REST Endpoint)', () => {
  const server = new ScriptedServer();
  const URL_TOKEN = 'b5a7c0ffee0123456789secret';
  const request: CognigyRestRequest = {
    userId: '+6591234567',
    sessionId: 'sms-1',
    text: 'Hi',
    data: { sms: { inbound: { umid: 'u-1' } } },
  };
  const endpoint = (timeoutMs = 2000) => cognigyConversation({ timeoutMs, retryTimeoutMs: timeoutMs * 2 });
  const endpointUrl = () => `${server.url}/${URL_TOKEN}`;
  const failure = async (promise: Promise<unknown>): Promise<UpstreamError> => {
    const error = await promise.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  };

  beforeAll(() => server.start());
  afterEach(() => server.reset());
  afterAll(() => server.stop());

  it('POSTs the input as JSON to the Endpoint URL and gives the outputStack in order', async () => {
    server.replies.push(
      json(200, {
        text: 'Second',
        data: {},
        outputStack: [
          { text: 'First', data: null, traceId: 't1', disableSensitiveLogging: false, source: 'bot' },
          {
            text: 'Second',
            data: { _cognigy: { _default: { _quickReplies: { quickReplies: [] } } } },
            source: 'bot',
          },
        ],
        userId: request.userId,
        sessionId: request.sessionId,
      }),
    );
    const answer = await endpoint().converse(endpointUrl(), request);
    expect(answer.outputs).toEqual([
      { text: 'First' },
      { text: 'Second', data: { _cognigy: { _default: { _quickReplies: { quickReplies: [] } } } } },
    ]);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ method: 'POST', url: `/${URL_TOKEN}`, body: request });
    expect(server.received[0]?.headers['content-type']).toBe('application/json');
  });

  it('falls back to the top-level text and data without an outputStack, and reads odd fields leniently', async () => {
    server.replies.push(json(200, { text: 'Only one', data: { a: 1 } }));
    server.replies.push(
      json(200, { outputStack: [{ text: 42, data: { b: 2 } }, null, 'x', { text: 'ok' }] }),
    );
    server.replies.push(json(200, { sessionId: 's' }));
    expect((await endpoint().converse(endpointUrl(), request)).outputs).toEqual([
      { text: 'Only one', data: { a: 1 } },
    ]);
    expect((await endpoint().converse(endpointUrl(), request)).outputs).toEqual([
      { data: { b: 2 } },
      { text: 'ok' },
    ]);
    expect((await endpoint().converse(endpointUrl(), request)).outputs).toEqual([]);
  });

  it('classifies failures as push does, never quoting the Endpoint token', async () => {
    server.replies.push(json(503, { message: 'down' }));
    server.replies.push(json(429, {}, { 'retry-after': '2' }));
    server.replies.push(json(404, { message: 'Endpoint not found' }));
    server.replies.push((res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });
    const errors = [];
    for (let i = 0; i < 4; i++) errors.push(await failure(endpoint().converse(endpointUrl(), request)));
    expect(errors.map((error) => [error.kind, error.httpStatus])).toEqual([
      ['transient', 503],
      ['rateLimited', 429],
      ['permanent', 404],
      ['permanent', 200],
    ]);
    expect(errors[1]?.retryAfterMs).toBe(2000);
    expect(errors[3]?.upstreamCode).toBe(COGNIGY_INVALID_ANSWER);
    for (const error of errors) expect(`${error.message} ${String(error.cause)}`).not.toContain(URL_TOKEN);
  });

  it('gives up after the timeout as a transient failure (the record is retried)', async () => {
    server.replies.push(() => undefined); // never answers
    const error = await failure(endpoint(200).converse(endpointUrl(), request));
    expect([error.kind, error.upstreamCode]).toEqual(['transient', 'TIMEOUT']);
    expect(error.message).not.toContain(URL_TOKEN);
  });

  it('uses the push timeouts: the retry timeout for a retry', async () => {
    const timeouts: number[] = [];
    const recording = cognigyConversation({
      timeoutMs: 3000,
      retryTimeoutMs: 8000,
      converse: async (_url, _body, timeoutMs) => {
        timeouts.push(timeoutMs);
        return { outputs: [] };
      },
    });
    await recording.converse('https://endpoint.example/t', request);
    await recording.converse('https://endpoint.example/t', request, { retry: true });
    expect(timeouts).toEqual([3000, 8000]);
  });
});
