/**
 * Opt-outs on the real local stack (issue 14 item 4): an opt-out written to the optOuts table (dynalite) through
 * the opt-out store, as the inbound consumer records a STOP, refuses POST /sms and batch items with 422
 * RECIPIENT_OPTED_OUT; GET /sms/opt-outs/{number} shows it to every API key; DELETE lifts it (recording the key),
 * and the next POST /sms is accepted and sent.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoDbClient } from '../../lib/local/aws';
import type { LocalStack } from '../../lib/local/stack';
import { dynamoOptOutStore } from '../../functions/sms/dynamo-opt-out-store';
import type { OptOutStore } from '../../functions/sms/inbound-ports';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const SECOND_KEY = `tenant-b-${randomUUID()}`;
const SENDER = '+6580000001';

let stack: LocalStack;
let api: ApiClient;
let secondKey: ApiClient;
let dynamo: DynamoDBClient;
let store: OptOutStore;
let n = 0;
const newNumber = () => `+6598${String(Date.now() % 10_000).padStart(4, '0')}${String(++n).padStart(2, '0')}`;

interface OptOutAnswer {
  number: string;
  optedOut: boolean;
  senders: { sender: string; keyword: string; umid?: string }[];
  history: { action: string; sender: string; via: string }[];
}

beforeAll(async () => {
  stack = await startTestStack({
    apiKeys: [SECOND_KEY],
    simulators: { sms: { receiptDelayMs: 20, receiptRetryScale: 0.01 } },
  });
  api = apiClient(stack);
  secondKey = apiClient({ ...stack, apiKey: SECOND_KEY });
  dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  store = dynamoOptOutStore(DynamoDBDocumentClient.from(dynamo), stack.tables.optOuts);
});

afterAll(async () => {
  dynamo?.destroy();
  await stack?.stop();
});

const stop = (number: string, umid: string = randomUUID()) =>
  store.optOut(number, { sender: SENDER, optedOutAt: new Date().toISOString(), keyword: 'STOP', umid });

test('STOP, then POST /sms → 422; GET shows it; DELETE lifts it; POST /sms → 202 and sent', async () => {
  const number = newNumber();
  await stop(number, 'umid-stop-1');

  const refused = await api.post('/sms', { destination: number, text: 'Sale!', source: SENDER });
  expect(refused.status).toBe(422);
  expect(refused.body).toMatchObject({ ok: false, error: { code: 'RECIPIENT_OPTED_OUT' } });
  expect(refused.text).not.toContain(number.slice(3));

  // Per account, not per API key: another key sees the same opt-out. The + travels as %2B, or is left out.
  const seen = await secondKey.get<OptOutAnswer>(`/sms/opt-outs/${encodeURIComponent(number)}`);
  expect(seen.status).toBe(200);
  expect(seen.body).toMatchObject({
    number,
    optedOut: true,
    senders: [{ sender: SENDER, keyword: 'STOP', umid: 'umid-stop-1' }],
    history: [{ action: 'optOut', sender: SENDER, via: 'STOP' }],
  });
  expect((await api.get<OptOutAnswer>(`/sms/opt-outs/${number.slice(1)}`)).body).toEqual(seen.body);

  const lifted = await secondKey.request<{ lifted: string[]; optedOut: boolean }>(
    'DELETE',
    `/sms/opt-outs/${encodeURIComponent(number)}`,
  );
  expect(lifted.status).toBe(200);
  expect(lifted.body).toEqual({ ok: true, number, lifted: [SENDER], optedOut: false });
  const after = await api.get<OptOutAnswer>(`/sms/opt-outs/${number.slice(1)}`);
  expect(after.body.optedOut).toBe(false);
  expect(after.body.history.at(-1)).toMatchObject({ action: 'optIn', sender: SENDER });
  expect(after.body.history.at(-1)?.via).toMatch(/^api:.+/);

  const accepted = await api.post<{ messageId: string }>('/sms', {
    destination: number,
    text: 'Hi',
    source: SENDER,
  });
  expect(accepted.status).toBe(202);
  await waitFor('the SMS sent to 8x8', async () => {
    const status = await api.get<{ status: { code: string } }>(`/sms/${accepted.body.messageId}`);
    return ['SENT', 'DELIVERED'].includes(status.body.status.code) ? true : undefined;
  });
  // Nothing left to lift: 200 with lifted [].
  const again = await api.request('DELETE', `/sms/opt-outs/${number.slice(1)}`);
  expect([again.status, again.body]).toEqual([200, { ok: true, number, lifted: [], optedOut: false }]);
});

test('a batch refuses only its opted-out items; other senders still reach the number (sender scope)', async () => {
  const optedOut = newNumber();
  const fine = newNumber();
  await stop(optedOut);
  const answer = await api.post<{
    acceptedCount: number;
    items: { ok: boolean; error?: { code: string } }[];
  }>('/sms/batch', { destinations: [fine, optedOut], template: { text: 'Sale!', source: SENDER } });
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({
    acceptedCount: 1,
    items: [{ ok: true }, { ok: false, error: { code: 'RECIPIENT_OPTED_OUT' } }],
  });
  const otherSender = await api.post('/sms', {
    destination: optedOut,
    text: 'Your code is 1234',
    source: 'ACME',
  });
  expect(otherSender.status).toBe(202);
});

test('a number that is not E.164 is 400 INVALID_DESTINATION', async () => {
  const answer = await api.get('/sms/opt-outs/0065123');
  expect(answer.status).toBe(400);
  expect(answer.body).toMatchObject({ ok: false, error: { code: 'INVALID_DESTINATION' } });
});
