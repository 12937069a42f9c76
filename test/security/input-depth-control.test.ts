/**
 * Issue 10 gap 6 (bad input reaching a 500), on the real local stack: JSON nested 10 000 levels deep is refused
 * with 400 JSON_TOO_DEEP on every route that takes a body (both webhooks included, before their own parsing), and
 * NUL or other control characters in text, identifiers, path and query parameters of the flow routes are refused
 * with 400 CONTROL_CHARACTER, while the line breaks a text may carry still pass.
 */
import { MAX_JSON_DEPTH } from '../../functions/shared/http';
import { ROUTES } from '../../functions/shared/catalogue';
import type { LocalStack } from '../../lib/local/stack';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';

let stack: LocalStack;
let api: ApiClient;
let receiptAuthorization: string;

beforeAll(async () => {
  stack = await startTestStack();
  api = apiClient(stack);
  receiptAuthorization = (
    JSON.parse(stack.secretsManager.getSecretString(stack.secretNames.smsWebhookAuth)!) as {
      authorization: string;
    }
  ).authorization;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const nestedArrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const nestedObjects = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** Headers that get a request past each route's credentials, so the function itself answers. */
function headersFor(path: string, body: string): Record<string, string> {
  if (path === '/handover/eightByEight') return stack.chatGateway!.signedHeaders(body);
  if (path === '/webhooks/8x8/sms') return { authorization: receiptAuthorization };
  return { 'x-api-key': stack.apiKey };
}

type Code = { status: number; code: string | undefined };

async function post(path: string, body: string): Promise<Code> {
  const response = await fetch(`${stack.urls.gateway}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersFor(path, body) },
    body,
  });
  const json = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: json.error?.code };
}

test('JSON nested 10 000 levels deep is 400 JSON_TOO_DEEP on every route with a body (inside its size limit)', async () => {
  const verdicts: Record<string, Code[]> = {};
  for (const route of ROUTES.filter((r) => r.method === 'POST')) {
    const path = route.path.replace('{conversationId}', 'conv-1');
    // 10 000 levels where the route's size limit allows it, else as deep as fits (always far past the bound).
    const levels = Math.min(10_000, Math.floor((route.maxBodyBytes - 200) / 6));
    expect(levels).toBeGreaterThan(MAX_JSON_DEPTH);
    const arrays = Math.min(10_000, Math.floor((route.maxBodyBytes - 200) / 2));
    verdicts[path] = [
      await post(path, nestedArrays(arrays)),
      await post(path, nestedObjects(levels)),
      // Deep inside an otherwise well-formed body, where validation or marshalling would recurse.
      await post(path, `{"eventType":"MESSAGE","data":${nestedObjects(levels - 2)}}`),
    ];
  }
  const expected = { status: 400, code: 'JSON_TOO_DEEP' };
  expect(verdicts).toEqual(
    Object.fromEntries(Object.keys(verdicts).map((path) => [path, [expected, expected, expected]])),
  );
});

test(`JSON exactly ${MAX_JSON_DEPTH} levels deep is not refused for its depth`, async () => {
  const answer = await post('/sms', nestedArrays(MAX_JSON_DEPTH));
  expect(answer).toEqual({ status: 400, code: 'INVALID_BODY' });
});

test('NUL and other control characters in text, ids and parameters are 400 CONTROL_CHARACTER', async () => {
  const sms = { destination: '+6591234567', text: 'Hello' };
  const cognigy = { userId: 'u-1', sessionId: 's-1', URLToken: 'token-1' };
  const cases: [string, () => Promise<{ status: number; body: { error?: { code: string } } }>][] = [
    ['NUL in SMS text', () => api.post('/sms', { ...sms, text: 'Hel\u0000lo' })],
    ['escape in SMS text', () => api.post('/sms', { ...sms, text: 'Hel\u001blo' })],
    ['C1 control in SMS text', () => api.post('/sms', { ...sms, text: 'Hel\u0085lo' })],
    ['NUL in clientMessageId', () => api.post('/sms', { ...sms, clientMessageId: 'otp\u0000-1' })],
    ['line feed in clientMessageId', () => api.post('/sms', { ...sms, clientMessageId: 'otp\n-1' })],
    [
      'NUL in cognigy.sessionId',
      () => api.post('/sms', { ...sms, cognigy: { ...cognigy, sessionId: 's\u0000' } }),
    ],
    [
      'NUL in a batch item clientMessageId',
      () => api.post('/sms/batch', { messages: [{ ...sms, clientMessageId: 'a\u0000' }] }),
    ],
    [
      'NUL in clientBatchId',
      () =>
        api.post('/sms/batch', {
          clientBatchId: 'b\u0000',
          destinations: ['+6591234567'],
          template: { text: 'x' },
        }),
    ],
    [
      'NUL in a handover session id',
      () =>
        api.post('/handover', {
          cognigy: { ...cognigy, sessionId: 's\u0000' },
          channelId: 'c',
          queueId: 'q',
        }),
    ],
    ['NUL in a handover message', () => api.post('/handover/conv-1/messages', { text: 'hi\u0000' })],
    [
      'NUL in a property key',
      () => api.post('/handover', { cognigy, channelId: 'c', properties: { 'k\u0000': 'v' } }),
    ],
    ['NUL in the sessionId query', () => api.get('/handover/active?sessionId=s%00')],
    ['tab in the sessionId query', () => api.get('/handover/active?sessionId=s%09')],
  ];
  const verdicts: string[] = [];
  for (const [name, send] of cases) {
    const answer = await send();
    verdicts.push(`${name}: ${answer.status} ${answer.body.error?.code}`);
  }
  expect(verdicts).toEqual(cases.map(([name]) => `${name}: 400 CONTROL_CHARACTER`));
});

test('a raw (unescaped) control character inside a JSON string is MALFORMED_JSON, as JSON forbids it', async () => {
  const answer = await post('/sms', '{"destination":"+6591234567","text":"a\u0000b"}');
  expect(answer).toEqual({ status: 400, code: 'MALFORMED_JSON' });
});

test('text keeps tab, line feed, carriage return and form feed', async () => {
  const answer = await api.post('/sms', {
    destination: '+6591234567',
    text: 'Line one\r\nLine two\n\tindented\fpage',
  });
  expect(answer.status).toBe(202);
});
