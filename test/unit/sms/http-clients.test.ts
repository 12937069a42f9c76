/** The 8x8 SMS client and the Cognigy injector over real HTTP against a scripted local server. */
import '../../helpers/env';
import { cognigyEndpoint } from '../../../functions/shared/cognigy-client';
import { cognigyInjector as injectorOver } from '../../../functions/sms/cognigy-inject';
import {
  EightByEightSmsError,
  UnreadableAnswerError,
  sendSms,
  sendSmsBatch,
} from '../../../functions/sms/eight-by-eight-sms-client';
import type { MessageRecord } from '../../../functions/sms/records';
import { metrics } from '../../../functions/shared/powertools';
import { ScriptedServer, json } from './http-server';

const eightByEightError = (code: number, message: string) => ({
  code,
  message,
  errorId: 'b4478860-2b09-4b48-9a4b-1ad6c5e1d0c1',
  timestamp: '2026-03-02T10:00:00.00Z',
});

const server = new ScriptedServer();
beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => server.reset());

const creds = () => ({ apiKey: 'secret-api-key', subAccountId: 'SubAccount-1', baseUrl: `${server.url}/` });
const sms = { destination: '+6591234567', text: 'Hello', encoding: 'AUTO' as const, clientMessageId: 'c-1' };

async function failure(promise: Promise<unknown>): Promise<EightByEightSmsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EightByEightSmsError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('8x8 SMS client', () => {
  test('posts the SmsRequest to the sub-account with Bearer auth and JSON headers', async () => {
    const answer = {
      umid: 'bda3d56d-1424-e711-813c-06ed3428fe67',
      clientMessageId: 'c-1',
      destination: '6591234567',
      encoding: 'GSM7',
      status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
    };
    server.replies.push(json(200, answer));
    await expect(sendSms(creds(), sms, 2000)).resolves.toEqual(answer);
    expect(server.received[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/subaccounts/SubAccount-1/messages',
      headers: {
        authorization: 'Bearer secret-api-key',
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: sms,
    });
  });

  test('batch goes to /messages/batch and returns the per-message answers', async () => {
    server.replies.push(
      json(200, {
        batchId: 'f1ea5276',
        acceptedCount: 1,
        rejectedCount: 0,
        messages: [{ umid: 'u-1', clientMessageId: 'c-1', status: { code: 'QUEUED' } }],
      }),
    );
    const result = await sendSmsBatch(creds(), { messages: [sms], includeMessagesInResponse: true }, 2000);
    expect(server.received[0]?.url).toBe('/api/v1/subaccounts/SubAccount-1/messages/batch');
    expect(server.received[0]?.body).toEqual({ messages: [sms], includeMessagesInResponse: true });
    expect(result.messages?.[0]?.umid).toBe('u-1');
  });

  test.each([
    [400, 1002, 'Invalid MSISDN format (not E.164 international number)'],
    [401, 1200, 'Request was not authenticated properly'],
    [403, 1201, 'Access forbidden'],
    [404, 1300, "Object wasn't found or is already expired"],
  ])('%s → permanent, with 8x8 code, message and errorId', async (status, code, message) => {
    server.replies.push(json(status, eightByEightError(code, message)));
    const error = await failure(sendSms(creds(), sms, 2000));
    expect(error).toMatchObject({
      kind: 'permanent',
      retryable: false,
      httpStatus: status,
      upstreamCode: code,
      eightByEightMessage: message,
      errorId: 'b4478860-2b09-4b48-9a4b-1ad6c5e1d0c1',
      ambiguous: false,
    });
    expect(error.message).not.toContain('secret-api-key');
  });

  test('429 → rate limited with Retry-After in milliseconds', async () => {
    server.replies.push(
      json(429, eightByEightError(429, 'Quota exceeded. Please try again in 2 second(s).'), {
        'retry-after': '2',
      }),
    );
    expect(await failure(sendSms(creds(), sms, 2000))).toMatchObject({
      kind: 'rateLimited',
      retryAfterMs: 2000,
      retryable: true,
    });
  });

  test('every call records its latency; a 429 is counted as 8x8RateLimited, a 500 is not', async () => {
    const spy = jest.spyOn(metrics, 'addMetric');
    try {
      server.replies.push(json(429, eightByEightError(429, 'Quota exceeded.'), { 'retry-after': '1' }));
      server.replies.push(json(500, eightByEightError(500, 'Internal error')));
      await failure(sendSms(creds(), sms, 2000));
      await failure(sendSms(creds(), sms, 2000));
      const calls = spy.mock.calls.map(([name, unit, value]) => ({ name, unit, value }));
      expect(calls.filter((c) => c.name === '8x8Calls')).toHaveLength(2);
      expect(calls.filter((c) => c.name === '8x8RateLimited')).toHaveLength(1);
      const latencies = calls.filter((c) => c.name === '8x8Latency');
      expect(latencies).toHaveLength(2);
      for (const latency of latencies) {
        expect(latency.unit).toBe('Milliseconds');
        expect(latency.value).toBeGreaterThanOrEqual(0);
        expect(latency.value).toBeLessThan(2000);
      }
    } finally {
      spy.mockRestore();
    }
  });

  test('500 → transient, and 8x8 answered so it is not ambiguous', async () => {
    server.replies.push(json(500, eightByEightError(2000, 'Internal server error')));
    expect(await failure(sendSms(creds(), sms, 2000))).toMatchObject({
      kind: 'transient',
      upstreamCode: 2000,
      ambiguous: false,
    });
  });

  test('no answer within the timeout → transient TIMEOUT, ambiguous', async () => {
    server.replies.push(() => undefined); // hold the request open
    expect(await failure(sendSms(creds(), sms, 150))).toMatchObject({
      kind: 'transient',
      upstreamCode: 'TIMEOUT',
      ambiguous: true,
    });
  });

  test('a reset connection → transient, ambiguous (the request may have arrived)', async () => {
    server.replies.push((res) => res.socket?.destroy());
    expect(await failure(sendSms(creds(), sms, 2000))).toMatchObject({ kind: 'transient', ambiguous: true });
  });

  test('a refused connection → transient, not ambiguous (nothing reached 8x8)', async () => {
    const closed = new ScriptedServer();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    expect(await failure(sendSms({ ...creds(), baseUrl: url }, sms, 2000))).toMatchObject({
      kind: 'transient',
      ambiguous: false,
    });
  });

  test('200 with a body that is not an SmsResponse → UnreadableAnswerError', async () => {
    server.replies.push((res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>ok</html>');
    });
    await expect(sendSms(creds(), sms, 2000)).rejects.toBeInstanceOf(UnreadableAnswerError);
  });
});

describe('Cognigy injector', () => {
  const cognigyInjector = (options: {
    defaultEndpointBaseUrl: () => Promise<string | undefined>;
    timeoutMs: number;
  }) => injectorOver(cognigyEndpoint(options));
  const record = (cognigy: Partial<NonNullable<MessageRecord['cognigy']>> | undefined): MessageRecord =>
    ({
      messageId: '00000000-0000-4000-8000-000000000001',
      clientMessageId: 'otp-1',
      destination: '+6591234567',
      umid: 'umid-1',
      ...(cognigy && { cognigy: { receiptEvents: ['undelivered'], ...cognigy } }),
    }) as MessageRecord;
  const ids = { userId: 'u-1', sessionId: 's-1', URLToken: 'url-token-1' };
  const event = {
    status: 'undelivered' as const,
    detail: 'undelivered_to_recipient',
    errorCode: 15,
    errorMessage: 'Invalid destination',
  };

  test('injects into {endpoint}/inject/{URLToken} with data.sms for the flow', async () => {
    const injector = cognigyInjector({ defaultEndpointBaseUrl: async () => server.url, timeoutMs: 1000 });
    await expect(injector.inject(record(ids), event)).resolves.toBe('ok');
    expect(server.received[0]).toMatchObject({
      method: 'POST',
      url: '/inject/url-token-1',
      body: {
        userId: 'u-1',
        sessionId: 's-1',
        text: '',
        data: {
          sms: {
            messageId: '00000000-0000-4000-8000-000000000001',
            clientMessageId: 'otp-1',
            umid: 'umid-1',
            status: 'UNDELIVERED',
            detail: 'undelivered_to_recipient',
            errorCode: 15,
            errorMessage: 'Invalid destination',
            destination: '+6591234567',
          },
        },
      },
    });
  });

  test("the request's endpointBaseUrl wins over the secret's", async () => {
    const injector = cognigyInjector({
      defaultEndpointBaseUrl: async () => 'http://127.0.0.1:9',
      timeoutMs: 1000,
    });
    await expect(injector.inject(record({ ...ids, endpointBaseUrl: server.url }), event)).resolves.toBe('ok');
    expect(server.received).toHaveLength(1);
  });

  test.each([
    [503, 'transient'],
    [429, 'transient'],
    [404, 'permanent'],
  ] as const)('Cognigy answering %s → %s', async (status, expected) => {
    server.replies.push(json(status, {}));
    const injector = cognigyInjector({ defaultEndpointBaseUrl: async () => server.url, timeoutMs: 1000 });
    await expect(injector.inject(record(ids), event)).resolves.toBe(expected);
  });

  test('nothing is sent when the flow did not ask for the status, or no endpoint is known', async () => {
    const injector = cognigyInjector({ defaultEndpointBaseUrl: async () => undefined, timeoutMs: 1000 });
    await expect(injector.inject(record(ids), { ...event, status: 'delivered' })).resolves.toBe('skipped');
    await expect(injector.inject(record(ids), event)).resolves.toBe('skipped');
    await expect(injector.inject(record(undefined), event)).resolves.toBe('skipped');
    expect(server.received).toHaveLength(0);
  });
});
