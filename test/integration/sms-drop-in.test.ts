/**
 * Drop-in result shapes (issue 11 item 2) on the real local stack: the 202 of POST /sms has the keys of 8x8's
 * SmsResponse (`encoding` and `smsCount` counted as the 8x8 simulator counts them, `umid` null until 8x8 answered),
 * and `waitForUmidMs` waits for the first attempt's answer: 8x8's umid when the simulator answers fast, the usual
 * QUEUED when it is slow, 8x8's refusal when it refuses.
 */
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { LocalStack } from '../../lib/local/stack';
import { buildOpenApiDocument } from '../../lib/openapi';
import { apiClient, startTestStack, type ApiAnswer, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

interface Accepted {
  ok: boolean;
  messageId: string;
  clientMessageId: string | null;
  destination: string;
  encoding: string;
  smsCount: number;
  umid: string | null;
  status: { code: string; description: string };
  errorCode?: string | number;
  reason?: string;
}

/** 8x8's answer to the slow sends; far below UPSTREAM_TIMEOUT_MS, far above the short wait. */
const SLOW_8X8_MS = 2_500;

let stack: LocalStack;
let api: ApiClient;
/** Every 202 of this file, checked against the OpenAPI document at the end. */
const accepted: ApiAnswer[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    env: { LOG_LEVEL: 'ERROR' },
    settings: { UPSTREAM_TIMEOUT_MS: '6000', RETRY_BASE_DELAY_SECONDS: '1', RETRY_MAX_DELAY_SECONDS: '1' },
    simulators: { sms: { receiptDelayMs: 20 } },
  });
  const client = apiClient(stack);
  const remember = async <T>(answer: Promise<ApiAnswer<T>>) => {
    const a = await answer;
    if (a.status === 202) accepted.push(a as ApiAnswer);
    return a;
  };
  api = {
    request: (method, path, body, headers) => remember(client.request(method, path, body, headers)),
    get: (path) => client.get(path),
    post: (path, body) => remember(client.post(path, body)),
  };
});

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => stack.sms!.clearFaults());

const sms = (text: string, extra: Record<string, unknown> = {}) => ({
  destination: `+659${String(Math.floor(1_000_000 + Math.random() * 8_999_999))}`,
  text,
  clientMessageId: `drop-in-${randomUUID()}`,
  ...extra,
});

/** What the 8x8 simulator accepted for this SMS, once the delivery worker handed it over. */
const receivedBy8x8 = (clientMessageId: string) =>
  waitFor(`8x8 to receive ${clientMessageId}`, () => stack.sms!.receivedFor(clientMessageId)[0], {
    timeoutMs: 15_000,
  });

test.each([
  ['a GSM7 text of one part', 'Your code is 123456'],
  ['a GSM7 text of three parts, extension characters counting two', `${'{€}'.repeat(60)} ok`],
  ['a UCS2 text of one part', 'Ваш код 123456'],
  ['a UCS2 text of two parts (an emoji is two UTF-16 units)', `${'ä'.repeat(40)}😀${'ж'.repeat(30)}`],
])('%s: encoding and smsCount as 8x8 counts them, umid null', async (_name, text) => {
  const body = sms(text);
  const answer = await api.post<Accepted>('/sms', body);
  expect(answer.status).toBe(202);
  expect(answer.body.umid).toBeNull();
  expect(answer.body.status.code).toBe('QUEUED');

  const received = await receivedBy8x8(body.clientMessageId);
  expect({ encoding: answer.body.encoding, smsCount: answer.body.smsCount }).toEqual({
    encoding: received.encoding,
    smsCount: received.smsCount,
  });
});

test('the answers name GSM7 and UCS2 with the part counts of the texts above', async () => {
  const counts = await Promise.all(
    ['Hi', 'x'.repeat(161), 'Привет', 'ж'.repeat(135)].map(async (text) => {
      const request = sms(text);
      const { body } = await api.post<Accepted>('/sms', request);
      // Delivered before the next test scripts 8x8's faults.
      await receivedBy8x8(request.clientMessageId);
      return [body.encoding, body.smsCount];
    }),
  );
  expect(counts).toEqual([
    ['GSM7', 1],
    ['GSM7', 2],
    ['UCS2', 1],
    ['UCS2', 3],
  ]);
});

test('batch items carry encoding, smsCount and umid null', async () => {
  const messages = [sms('Hello'), sms('Grüße 😀')];
  const answer = await api.post<{ items: Record<string, unknown>[] }>('/sms/batch', { messages });
  await Promise.all(messages.map((m) => receivedBy8x8(m.clientMessageId)));
  expect(answer.status).toBe(202);
  expect(answer.body.items).toEqual([
    expect.objectContaining({ ok: true, encoding: 'GSM7', smsCount: 1, umid: null }),
    expect.objectContaining({ ok: true, encoding: 'UCS2', smsCount: 1, umid: null }),
  ]);
});

test('waitForUmidMs: 8x8 answers fast, so the 202 carries its umid', async () => {
  const body = sms('Your code is 654321', { waitForUmidMs: 5000 });
  const answer = await api.post<Accepted>('/sms', body);
  expect(answer.status).toBe(202);
  const [received] = stack.sms!.receivedFor(body.clientMessageId);
  expect(received).toBeDefined();
  expect(answer.body).toMatchObject({
    umid: received!.umid,
    encoding: 'GSM7',
    smsCount: 1,
    status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
  });
});

test('waitForUmidMs: 8x8 is slower than the wait, so the answer is the usual QUEUED; the umid shows later', async () => {
  stack.sms!.setFaults({ latencyMs: SLOW_8X8_MS });
  const body = sms('Slow 8x8', { waitForUmidMs: 300 });
  const answer = await api.post<Accepted>('/sms', body);
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({ umid: null, status: { code: 'QUEUED' } });

  const status = await waitFor(
    'the slow 8x8 to answer',
    async () => {
      const { body: current } = await api.get<{ umid?: string }>(`/sms/${answer.body.messageId}`);
      return current.umid;
    },
    { timeoutMs: 15_000 },
  );
  expect(status).toBe(stack.sms!.receivedFor(body.clientMessageId)[0]!.umid);
});

test('waitForUmidMs: 8x8 refuses the SMS, so the 202 says FAILED with 8x8 error code', async () => {
  stack.sms!.setFaults({ next: [{ status: 400, code: 1002, message: 'Invalid MSISDN' }] });
  const answer = await api.post<Accepted>('/sms', sms('Refused by 8x8', { waitForUmidMs: 5000 }));
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({ umid: null, status: { code: 'FAILED' }, errorCode: 1002 });
});

test.each([
  [5001, 'waitForUmidMs must be at most 5000'],
  [-5, 'waitForUmidMs must be at least 0'],
  [250.5, 'waitForUmidMs must be a whole number'],
])('waitForUmidMs %p: 400 INVALID_WAIT_FOR_UMID', async (waitForUmidMs, message) => {
  const body = sms('Hello', { waitForUmidMs });
  const answer = await api.post<{ ok: boolean; error: { code: string; message: string } }>('/sms', body);
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ ok: false, error: { code: 'INVALID_WAIT_FOR_UMID', message } });
  expect(stack.sms!.receivedFor(body.clientMessageId)).toEqual([]);
});

test('waitForUmidMs as a string is a type error (400 INVALID_TYPE)', async () => {
  const answer = await api.post<{ error: { code: string } }>('/sms', sms('Hello', { waitForUmidMs: '300' }));
  expect(answer.status).toBe(400);
  expect(answer.body.error.code).toBe('INVALID_TYPE');
});

test('every 202 of this file matches the OpenAPI document (SmsAccepted, SmsBatchAccepted)', () => {
  const doc = buildOpenApiDocument({ serverUrl: stack.urls.gateway }) as {
    components: { schemas: Record<string, object> };
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const [name, schema] of Object.entries(doc.components.schemas)) ajv.addSchema(schema, name);
  const single = ajv.getSchema('SmsAccepted')!;
  const batch = ajv.getSchema('SmsBatchAccepted')!;
  expect(accepted.length).toBeGreaterThan(8);
  const violations = accepted.flatMap((a) => {
    const validate = 'items' in a.body ? batch : single;
    return validate(a.body) ? [] : [{ body: a.body, errors: validate.errors }];
  });
  expect(violations).toEqual([]);
});
