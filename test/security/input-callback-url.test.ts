/**
 * Issue 10 gap 4 (SSRF through `dlrCallbackUrl`), on the real local stack in cloud mode (ALLOW_LOOPBACK_URLS=false,
 * as the CDK stack runs): 8x8 would post receipts to the URL, and the bridge itself posts to
 * `cognigy.endpointBaseUrl`, so only https to a public host is accepted, whatever the spelling of the address.
 */
import type { LocalStack } from '../../lib/local/stack';
import { HOSTILE_CALLBACK_URLS } from '../../lib/evidence/hostile-inputs';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startTestStack({ settings: { ALLOW_LOOPBACK_URLS: 'false' } });
  api = apiClient(stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const sms = (extra: Record<string, unknown>) => ({
  destination: '+6591234567',
  text: 'Callback check',
  ...extra,
});

test('every hostile dlrCallbackUrl is refused with 400 INVALID_CALLBACK_URL, on /sms and in a batch template', async () => {
  const verdicts: string[] = [];
  for (const url of HOSTILE_CALLBACK_URLS) {
    const single = await api.post<{ error: { code: string } }>('/sms', sms({ dlrCallbackUrl: url }));
    const batch = await api.post<{ error: { code: string }; items?: { error?: { code: string } }[] }>(
      '/sms/batch',
      { destinations: ['+6591234567'], template: { text: 'x', dlrCallbackUrl: url } },
    );
    verdicts.push(
      `${url}: ${single.status} ${single.body.error?.code} / ${batch.status} ${batch.body.items?.[0]?.error?.code}`,
    );
  }
  expect(verdicts).toEqual(
    HOSTILE_CALLBACK_URLS.map((url) => `${url}: 400 INVALID_CALLBACK_URL / 400 INVALID_CALLBACK_URL`),
  );
});

test('cognigy.endpointBaseUrl, which the bridge itself calls, is held to the same rule on /sms and /handover', async () => {
  const endpointBaseUrl = 'https://[::ffff:169.254.169.254]';
  const answer = await api.post<{ error: { code: string; details: { path: string }[] } }>(
    '/sms',
    sms({ cognigy: { endpointBaseUrl } }),
  );
  const handover = await api.post<{ error: { code: string; details: { path: string }[] } }>('/handover', {
    cognigy: { userId: 'u-1', sessionId: 's-1', URLToken: 't-1', endpointBaseUrl },
    channelId: 'channel-1',
    queueId: 'queue-1',
  });
  expect([answer.status, answer.body.error.code, answer.body.error.details.map((d) => d.path)]).toEqual([
    400,
    'INVALID_COGNIGY',
    ['cognigy.endpointBaseUrl'],
  ]);
  expect([handover.status, handover.body.error.code, handover.body.error.details.map((d) => d.path)]).toEqual(
    [400, 'INVALID_URL', ['cognigy.endpointBaseUrl']],
  );
});

test('https to a public host is accepted', async () => {
  const answer = await api.post('/sms', sms({ dlrCallbackUrl: 'https://receipts.example.com/8x8?flow=otp' }));
  expect(answer.status).toBe(202);
});
