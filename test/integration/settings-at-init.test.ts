/**
 * A function whose settings are invalid (as after a wrong UpdateFunctionConfiguration) does no work and says why:
 * an HTTP route answers 503 NOT_CONFIGURED naming the setting, its value and what is allowed; a queue consumer fails
 * its whole batch, so every message stays queued and is delivered once the setting is fixed.
 */
import type { LocalStack } from '../../lib/local/stack';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startTestStack({
    // The refusals are logged as errors by design; this file checks the answers instead.
    env: { LOG_LEVEL: 'SILENT' },
    // A failed batch comes back within a second; enough receives that the fix lands before the DLQ.
    visibilityTimeoutSeconds: { sms: 1 },
    maxReceiveCount: { sms: 100 },
  });
  api = apiClient(stack);
}, 120_000);

afterAll(() => stack?.stop());

test('an HTTP route answers 503 NOT_CONFIGURED naming the invalid setting, until it is fixed', async () => {
  stack.updateFunctionSettings('sms-status', { UPSTREAM_TIMEOUT_MS: 'abc' });
  const refused = await api.get('/sms/00000000-0000-4000-8000-000000000000');
  expect(refused.status).toBe(503);
  expect(refused.body).toEqual({
    ok: false,
    error: {
      code: 'NOT_CONFIGURED',
      message:
        'Setting UPSTREAM_TIMEOUT_MS is "abc", but it must be a whole number from 1 to 60000 milliseconds.',
    },
  });

  stack.updateFunctionSettings('sms-status', { UPSTREAM_TIMEOUT_MS: undefined });
  expect((await api.get('/sms/00000000-0000-4000-8000-000000000000')).status).toBe(404);
});

test('a webhook with invalid HANDOVER_RULES answers 503 (8x8 retries it) before reading the body', async () => {
  stack.updateFunctionSettings('handover-webhook', { HANDOVER_RULES: '{"typing":"shout"}' });
  try {
    const refused = await api.request('POST', '/handover/eightByEight', '{}', { 'x-api-key': '' });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      ok: false,
      error: {
        code: 'NOT_CONFIGURED',
        message:
          'Setting HANDOVER_RULES is "{\\"typing\\":\\"shout\\"}", but it must be a JSON object of relay rules (README "Relay rules") (typing: Invalid option: expected one of "ignore"|"inject").',
      },
    });
  } finally {
    stack.updateFunctionSettings('handover-webhook', { HANDOVER_RULES: undefined });
  }
});

test('a queue consumer with an invalid setting fails its batches and loses no message', async () => {
  stack.updateFunctionSettings('sms-deliver', { RETRY_MAX_DELAY_SECONDS: 'soon' });
  const before = stack.pollerStats().sms.batchesFailed;
  const accepted = await api.post<{ messageId: string }>('/sms', {
    destination: '+6591234567',
    text: 'Held back by a bad setting',
  });
  expect(accepted.status).toBe(202);
  const { messageId } = accepted.body;

  await waitFor(
    'two failed batches of the sms queue',
    () => stack.pollerStats().sms.batchesFailed >= before + 2,
    {
      timeoutMs: 30_000,
    },
  );
  // Nothing reached 8x8 and the SMS is still waiting, not failed.
  expect(stack.sms!.received.filter((sms) => sms.request.text === 'Held back by a bad setting')).toEqual([]);
  expect((await api.get<{ status: { code: string } }>(`/sms/${messageId}`)).body.status.code).toBe('QUEUED');

  stack.updateFunctionSettings('sms-deliver', { RETRY_MAX_DELAY_SECONDS: undefined });
  await waitFor(
    'the held-back SMS to reach 8x8',
    () => stack.sms!.received.some((sms) => sms.request.text === 'Held back by a bad setting'),
    { timeoutMs: 30_000 },
  );
}, 90_000);
