/**
 * Cancel and erase (issue 14 item 5) on the real local stack over HTTP: DELETE /sms/{messageId} before 8x8 has the
 * SMS (it never reaches the 8x8 simulator), after 8x8 accepted a scheduled SMS (8x8's cancel call, CANCELLED),
 * and of a sent SMS (409); DELETE /sms/{messageId}/pii before and after 8x8 accepted it (no number or text left in
 * any table, a tombstone, 8x8's PII removal asked for); unknown ids and another API key's SMS answer 404 as GET does.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '../../lib/local/aws';
import type { LocalStack } from '../../lib/local/stack';
import type { SmsSimulator } from '../../lib/simulators/sms';
import { apiClient, stackSqsClient, startTestStack, waitForDrained, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const TENANT_B_KEY = 'tenant-b-key-cancel-0123456789';

interface SmsAnswer {
  ok: boolean;
  messageId: string;
  destination: string;
  umid?: string;
  attempts: number;
  status: { code: string };
  history: { status: string; detail?: string }[];
  erased?: { at: string; by?: string; fields: string[]; eightByEight: string; eightByEightAt?: string };
  error?: { code: string; details?: Record<string, unknown> };
}

let stack: LocalStack;
let api: ApiClient;
let apiB: ApiClient;
let sms: SmsSimulator;
let dynamo: DynamoDBClient;

beforeAll(async () => {
  stack = await startTestStack({ apiKeys: [TENANT_B_KEY] });
  api = apiClient(stack);
  apiB = apiClient({ ...stack, apiKey: TENANT_B_KEY });
  sms = stack.sms as SmsSimulator;
  dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

let numberSeq = 0;
function freshNumber(): string {
  numberSeq += 1;
  return `+6587${String(Date.now() % 10_000).padStart(4, '0')}${String(numberSeq).padStart(3, '0')}`;
}

async function send(body: Record<string, unknown>): Promise<string> {
  const answer = await api.post<{ messageId: string }>('/sms', body);
  expect(answer.status).toBe(202);
  return answer.body.messageId;
}

async function waitForUmid(messageId: string): Promise<SmsAnswer> {
  return waitFor(`SMS ${messageId} to be accepted by 8x8`, async () => {
    const answer = await api.get<SmsAnswer>(`/sms/${messageId}`);
    return answer.body.umid ? answer.body : undefined;
  });
}

/** Every item of a table as JSON text, to look for a number or text that should be gone. */
async function tableText(table: string): Promise<string> {
  const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table }));
  return JSON.stringify(Items);
}

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe('DELETE /sms/{messageId}', () => {
  test('before 8x8 has it: CANCELLED at once, and the worker never sends it', async () => {
    await stack.pauseQueue('sms');
    const clientMessageId = `cancel-early-${randomUUID()}`;
    let messageId: string;
    try {
      messageId = await send({ destination: freshNumber(), text: 'Never sent', clientMessageId });
      const cancelled = await api.request<SmsAnswer>('DELETE', `/sms/${messageId}`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({
        ok: true,
        messageId,
        status: { code: 'CANCELLED' },
        attempts: 0,
      });
      expect(cancelled.body.history.map((h) => h.status)).toEqual(['QUEUED', 'CANCELLED']);
    } finally {
      stack.resumeQueue('sms');
    }
    await waitForDrained(stackSqsClient(stack), stack, ['sms']);
    expect(sms.receivedFor(clientMessageId)).toEqual([]);
    const after = await api.get<SmsAnswer>(`/sms/${messageId}`);
    expect(after.body).toMatchObject({ status: { code: 'CANCELLED' }, attempts: 0 });
    // Cancelling again is harmless.
    expect((await api.request<SmsAnswer>('DELETE', `/sms/${messageId}`)).status).toBe(200);
  });

  test("after 8x8 accepted a scheduled SMS: 8x8's cancel call, then CANCELLED", async () => {
    const messageId = await send({ destination: freshNumber(), text: 'Reminder', scheduled: inMinutes(30) });
    const sent = await waitForUmid(messageId);
    expect(sent.status.code).toBe('SENT');

    const cancelled = await api.request<SmsAnswer>('DELETE', `/sms/${messageId}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: { code: 'CANCELLED' }, umid: sent.umid });
    expect(cancelled.body.history.at(-1)).toMatchObject({
      status: 'CANCELLED',
      detail: expect.stringContaining('8x8'),
    });
    const [atEightByEight] = sms.receivedFor(sent.umid as string);
    expect(atEightByEight?.cancelledAt).toEqual(expect.any(String));
  });

  test('a sent SMS cannot be cancelled: 409 SMS_NOT_CANCELLABLE', async () => {
    const messageId = await send({ destination: freshNumber(), text: 'Already out' });
    const sent = await waitForUmid(messageId);
    const refused = await api.request<SmsAnswer>('DELETE', `/sms/${messageId}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'SMS_NOT_CANCELLABLE' });
    // 8x8 was not asked: nothing scheduled to cancel.
    expect(sms.receivedFor(sent.umid as string)[0]?.cancelledAt).toBeUndefined();
    expect((await api.get<SmsAnswer>(`/sms/${messageId}`)).body.status.code).not.toBe('CANCELLED');
  });
});

describe('DELETE /sms/{messageId}/pii', () => {
  test('before 8x8 has it: cancelled, number and text gone from every table, tombstone, 8x8 not involved', async () => {
    await stack.pauseQueue('sms');
    const destination = freshNumber();
    const text = `Secret text ${randomUUID()}`;
    const clientMessageId = `erase-early-${randomUUID()}`;
    const body = { destination, text, clientMessageId };
    let messageId: string;
    try {
      messageId = await send(body);
      const erased = await api.request<SmsAnswer>('DELETE', `/sms/${messageId}/pii`);
      expect(erased.status).toBe(200);
      expect(erased.body).toMatchObject({
        messageId,
        destination: '[erased]',
        status: { code: 'CANCELLED' },
        erased: {
          at: expect.any(String),
          by: expect.any(String),
          fields: expect.arrayContaining(['destination', 'request.text']),
          eightByEight: 'notSent',
        },
      });
    } finally {
      stack.resumeQueue('sms');
    }
    await waitForDrained(stackSqsClient(stack), stack, ['sms']);
    expect(sms.receivedFor(clientMessageId)).toEqual([]);
    const digits = destination.slice(1);
    for (const table of [stack.tables.messages, stack.tables.idempotency]) {
      const stored = await tableText(table);
      expect(stored).not.toContain(digits);
      expect(stored).not.toContain(text);
    }
    // A repeat of the first request is still that SMS (nothing sent again), with the erased answer.
    const repeat = await api.post<SmsAnswer>('/sms', body);
    expect(repeat.status).toBe(202);
    expect(repeat.body).toMatchObject({ messageId, destination: '[erased]' });
    expect(sms.receivedFor(clientMessageId)).toEqual([]);
  });

  test("after 8x8 accepted it: erased here, tombstone, and 8x8's PII removal requested for the umid", async () => {
    const destination = freshNumber();
    const text = `Delivered secret ${randomUUID()}`;
    const messageId = await send({ destination, text });
    const sent = await waitForUmid(messageId);

    const erased = await api.request<SmsAnswer>('DELETE', `/sms/${messageId}/pii`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      messageId,
      umid: sent.umid,
      destination: '[erased]',
      erased: { eightByEight: 'requested', eightByEightAt: expect.any(String) },
    });
    const [atEightByEight] = sms.receivedFor(sent.umid as string);
    expect(atEightByEight?.piiRemovalRequestedAt).toEqual(expect.any(String));
    const stored = await tableText(stack.tables.messages);
    expect(stored).not.toContain(destination.slice(1));
    expect(stored).not.toContain(text);
    // The status history is kept for the audit.
    expect(erased.body.history.map((h) => h.status)).toContain('SENT');
  });
});

describe('ids and tenancy, as GET /sms/{messageId}', () => {
  test('unknown id 404, malformed id 400', async () => {
    for (const suffix of ['', '/pii']) {
      const unknown = await api.request<SmsAnswer>('DELETE', `/sms/${randomUUID()}${suffix}`);
      expect({ suffix, status: unknown.status, code: unknown.body.error?.code }).toEqual({
        suffix,
        status: 404,
        code: 'MESSAGE_NOT_FOUND',
      });
      const malformed = await api.request<SmsAnswer>('DELETE', `/sms/not-a-uuid${suffix}`);
      expect({ suffix, status: malformed.status, code: malformed.body.error?.code }).toEqual({
        suffix,
        status: 400,
        code: 'INVALID_MESSAGE_ID',
      });
    }
  });

  test("another API key's SMS: 404 for both, and nothing changes", async () => {
    await stack.pauseQueue('sms');
    let messageId: string;
    const destination = freshNumber();
    try {
      messageId = await send({ destination, text: 'Tenant A only' });
      for (const suffix of ['', '/pii']) {
        const other = await apiB.request<SmsAnswer>('DELETE', `/sms/${messageId}${suffix}`);
        expect({ suffix, status: other.status, code: other.body.error?.code }).toEqual({
          suffix,
          status: 404,
          code: 'MESSAGE_NOT_FOUND',
        });
      }
      const own = await api.get<SmsAnswer>(`/sms/${messageId}`);
      expect(own.body).toMatchObject({ destination, status: { code: 'QUEUED' } });
      expect(own.body.erased).toBeUndefined();
    } finally {
      stack.resumeQueue('sms');
    }
    await waitForUmid(messageId);
  });
});
