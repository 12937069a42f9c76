/**
 * SMS delivery end to end on the real local stack (issue #2): POST /sms over real HTTP → DynamoDB record → SQS →
 * sms-deliver → the 8x8 SMS simulator → delivery receipts on POST /webhooks/8x8/sms → GET /sms/{id}, including the
 * retry paths toward 8x8 (429, 5xx, timeouts), permanent refusals, exhaustion into the DLQ, idempotency, the batch
 * route, out-of-order receipts and receipt injection into the Cognigy simulator.
 *
 * Contract: every request the simulator received during this file is checked against 8x8's official OAS at the end.
 * Tests run in order and each waits until its SMS is finished, so the simulator's scripted faults (which answer the
 * next calls, whoever makes them) only ever meet the SMS of the test that scripted them.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../lib/local/stack';
import type { ReceivedSms } from '../../lib/simulators/sms';
import { validateSmsBatchRequest, validateSmsRequest } from '../../lib/simulators/contract/sms-schema';
import { apiClient, stackSqsClient, startTestStack, waitForDrained, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

interface StatusAnswer {
  ok: boolean;
  messageId: string;
  clientMessageId: string | null;
  batchId?: string;
  destination: string;
  status: { code: string; description: string };
  umid?: string;
  errorCode?: string | number;
  reason?: string;
  attempts: number;
  ambiguousAttempts: number;
  history: { status: string; at: string; detail?: string; umid?: string; errorCode?: string | number }[];
}

interface Accepted {
  ok: boolean;
  messageId: string;
  clientMessageId: string | null;
  destination: string;
  status: { code: string; description: string };
}

const WEBHOOK_AUTHORIZATION = `Bearer receipts-${randomUUID()}`;
const FINAL = ['DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED'];

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startTestStack({
    // Powertools warns on every invocation that adds no metric; errors are what a failing run needs to show.
    env: { LOG_LEVEL: 'ERROR' },
    smsWebhookAuthorization: WEBHOOK_AUTHORIZATION,
    settings: {
      // Long enough that a loaded machine never times out an answered call; the timeout tests wait it out.
      UPSTREAM_TIMEOUT_MS: '2000',
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
    },
    maxReceiveCount: { sms: 3 },
    // Above the longest delivery (one timed-out call), so a message in flight never reappears; short because the
    // last failed receive waits it out before SQS moves the message to the DLQ.
    visibilityTimeoutSeconds: { sms: 5 },
    simulators: { sms: { receiptDelayMs: 20, receiptRetryScale: 0.01 } },
  });
  api = apiClient(stack);
  sqs = stackSqsClient(stack);
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

afterEach(() => {
  stack.sms!.clearFaults();
  stack.sms!.setReceiptBehaviour({ outOfOrder: false, duplicate: false, delayMs: 20 });
  stack.cognigy!.clearOutage();
});

// --- helpers -----------------------------------------------------------------------------------------------------

let numberSeq = 0;
/** A fresh, valid Singapore mobile number per call, so per-destination outcomes never leak between tests. */
function freshNumber(suffix?: string): string {
  numberSeq += 1;
  const body = suffix
    ? `9${String(numberSeq).padStart(7 - suffix.length, '0')}${suffix}`
    : `8${String(numberSeq).padStart(7, '0')}`;
  return `+65${body}`;
}

const cmid = (label: string) => `${label}-${randomUUID()}`;

async function send(body: Record<string, unknown>): Promise<Accepted> {
  const answer = await api.post<Accepted>('/sms', body);
  expect({ status: answer.status, body: answer.body }).toEqual({
    status: 202,
    body: expect.objectContaining({ ok: true, status: expect.objectContaining({ code: 'QUEUED' }) }),
  });
  return answer.body;
}

async function status(messageId: string): Promise<StatusAnswer> {
  const answer = await api.get<StatusAnswer>(`/sms/${messageId}`);
  expect(answer.status).toBe(200);
  return answer.body;
}

/** Polls GET /sms/{id} until the status is `code`; a different final status fails at once with the record. */
async function waitForStatus(messageId: string, code: string, timeoutMs = 15_000): Promise<StatusAnswer> {
  const answer = await waitFor(
    `SMS ${messageId} to reach ${code}`,
    async () => {
      const current = await status(messageId);
      return current.status.code === code || FINAL.includes(current.status.code) ? current : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
  expect({ messageId, status: answer.status.code, record: answer }).toMatchObject({ status: code });
  return answer;
}

/** Calls the simulator received whose body carries this clientMessageId (single or inside a batch). */
function callsFor(clientMessageId: string) {
  return stack.sms!.requests.filter((call) => {
    const body = call.body as { clientMessageId?: unknown; messages?: { clientMessageId?: unknown }[] };
    return (
      body?.clientMessageId === clientMessageId ||
      (Array.isArray(body?.messages) && body.messages.some((m) => m?.clientMessageId === clientMessageId))
    );
  });
}

function receiptsFor(umid: string) {
  return stack.sms!.receiptsSent.filter((r) => r.umid === umid);
}

/** Waits until the SMS queue is empty and nothing is in flight, so "sent exactly once" is a settled fact. */
function settled(): Promise<void> {
  return waitForDrained(sqs, stack, ['sms'], { timeoutMs: 20_000 });
}

const statuses = (answer: StatusAnswer) => answer.history.map((h) => h.status);

// --- the path of one SMS ----------------------------------------------------------------------------------------

test('accepted SMS is delivered by 8x8 and GET /sms/{id} shows queued → sent (umid) → delivered', async () => {
  const destination = freshNumber();
  const clientMessageId = cmid('happy');
  const accepted = await send({
    destination,
    text: 'Your code is 123456',
    source: 'Bridge',
    clientMessageId,
  });
  expect(accepted).toEqual({
    ok: true,
    messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    clientMessageId,
    destination,
    encoding: 'GSM7',
    smsCount: 1,
    umid: null,
    status: { code: 'QUEUED', description: expect.any(String) },
  });

  const queued = await status(accepted.messageId);
  expect(['QUEUED', 'SENT', 'DELIVERED']).toContain(queued.status.code);
  expect(queued.history[0]).toEqual({ status: 'QUEUED', at: expect.any(String) });

  const atSimulator = await stack.sms!.waitForReceived((m) => m.clientMessageId === clientMessageId, 10_000);
  expect(atSimulator).toMatchObject({
    endpoint: 'single',
    destination,
    request: { destination, text: 'Your code is 123456', source: 'Bridge', clientMessageId },
  });
  // The bridge authenticates to 8x8 with the secret's API key; the simulator redacts the value in its log.
  expect(atSimulator.headers).toMatchObject({
    authorization: expect.any(String),
    'content-type': 'application/json',
    accept: 'application/json',
  });

  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');
  expect(delivered).toMatchObject({
    ok: true,
    messageId: accepted.messageId,
    clientMessageId,
    destination,
    umid: atSimulator.umid,
    attempts: 1,
    ambiguousAttempts: 0,
  });
  expect(statuses(delivered)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
  expect(delivered.history[1]).toMatchObject({ umid: atSimulator.umid });
  expect(delivered.history[2]).toMatchObject({ detail: 'delivered_to_recipient' });

  // The receipts reached the stack with 8x8's Authorization value and were acknowledged. The record turns DELIVERED
  // before the webhook's answer reaches the simulator, so wait for the simulator to log that answer; the two
  // deliveries may finish in either order.
  await waitFor('both receipts answered', () => receiptsFor(atSimulator.umid).length >= 2);
  const receipts = receiptsFor(atSimulator.umid);
  expect(receipts.map((r) => [r.state, r.status]).sort()).toEqual([
    ['delivered', 200],
    ['sent', 200],
  ]);
  await settled();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('an SMS without clientMessageId goes to 8x8 with our messageId, so its receipts still map back', async () => {
  const accepted = await send({ destination: freshNumber(), text: 'No reference given' });
  expect(accepted.clientMessageId).toBeNull();
  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');
  expect(stack.sms!.sendCount(accepted.messageId)).toBe(1);
  expect(delivered.clientMessageId).toBeNull();
});

// --- Cognigy injection -------------------------------------------------------------------------------------------

test('an undelivered one-time code is injected into the Cognigy session that asked for it (data.sms)', async () => {
  // The simulator reports numbers ending in 0000 as undelivered (errorCode 15, "Invalid destination").
  const destination = freshNumber('0000');
  const sessionId = `session-${randomUUID()}`;
  const URLToken = `token-${randomUUID()}`;
  const clientMessageId = cmid('otp');
  const accepted = await send({
    destination,
    text: 'Your one-time code is 987654',
    clientMessageId,
    cognigy: { userId: 'user-1', sessionId, URLToken, injectReceipts: true },
  });

  const injected = await stack.cognigy!.waitFor(
    (call) => call.body.sessionId === sessionId && call.mode === 'inject',
    10_000,
  );
  expect(injected.urlToken).toBe(URLToken);
  expect(injected.body).toEqual({
    userId: 'user-1',
    sessionId,
    text: '',
    data: {
      bridgeEventId: `sms:${accepted.messageId}:undelivered:rejected_by_operator`,
      sms: {
        messageId: accepted.messageId,
        clientMessageId,
        umid: expect.any(String),
        status: 'UNDELIVERED',
        detail: 'rejected_by_operator',
        errorCode: 15,
        errorMessage: 'Invalid destination',
        destination,
      },
    },
  });

  const final = await waitForStatus(accepted.messageId, 'UNDELIVERED');
  expect(final).toMatchObject({ errorCode: 15, reason: 'Invalid destination' });
  // injectReceipts asks for final outcomes only: `sent` was not injected, and the token never leaves the bridge.
  expect(stack.cognigy!.callsFor(sessionId)).toHaveLength(1);
  expect(JSON.stringify(final)).not.toContain(URLToken);
});

test('a Cognigy outage during injection is retried through 8x8’s receipt retry, and the event is not lost', async () => {
  const destination = freshNumber('0000');
  const sessionId = `session-${randomUUID()}`;
  stack.cognigy!.setOutage({ status: 503, count: 1 });
  const accepted = await send({
    destination,
    text: 'Your one-time code is 111111',
    cognigy: { userId: 'user-2', sessionId, URLToken: 'tok', receiptEvents: ['UNDELIVERED'] },
  });

  const injected = await stack.cognigy!.waitFor((call) => call.body.sessionId === sessionId, 10_000);
  expect((injected.body.data as { sms: { status: string } }).sms.status).toBe('UNDELIVERED');
  expect(
    stack.cognigy!.rejected.filter((r) => (r.body as { sessionId?: string })?.sessionId === sessionId),
  ).toEqual([expect.objectContaining({ status: 503 })]);
  const final = await waitForStatus(accepted.messageId, 'UNDELIVERED');
  // The webhook answered 502 while Cognigy was down (8x8 retries non-2xx), then 200.
  const undelivered = await waitFor('the retried receipt to be acknowledged', () => {
    const attempts = receiptsFor(final.umid!).filter((r) => r.state === 'undelivered');
    return attempts.some((r) => r.ok) && attempts;
  });
  expect(undelivered.map((r) => r.status)).toEqual([502, 200]);
  expect(stack.cognigy!.callsFor(sessionId)).toHaveLength(1);
});

// --- idempotency ---------------------------------------------------------------------------------------------------

test('a repeated clientMessageId with the same body returns the first answer and 8x8 gets the SMS once', async () => {
  const body = { destination: freshNumber(), text: 'Only once, please', clientMessageId: cmid('idem') };
  const first = await send(body);
  const second = await send(body);
  expect(second).toEqual(first);

  // The same request with cosmetic differences in the number is the same SMS after normalisation.
  const third = await send({ ...body, destination: body.destination.replace(/^(\+65)(\d{4})/, '$1 $2 ') });
  expect(third.messageId).toBe(first.messageId);

  await waitForStatus(first.messageId, 'DELIVERED');
  await settled();
  expect(stack.sms!.sendCount(body.clientMessageId)).toBe(1);
  expect(callsFor(body.clientMessageId)).toHaveLength(1);
});

test('the same clientMessageId with a different body is refused with 409 IDEMPOTENCY_CONFLICT', async () => {
  const body = { destination: freshNumber(), text: 'Original text', clientMessageId: cmid('conflict') };
  const first = await send(body);
  const conflict = await api.post('/sms', { ...body, text: 'Different text' });
  expect(conflict.status).toBe(409);
  expect(conflict.body).toEqual({
    ok: false,
    error: { code: 'IDEMPOTENCY_CONFLICT', message: expect.any(String) },
  });
  await waitForStatus(first.messageId, 'DELIVERED');
  await settled();
  expect(
    stack.sms!.received.filter((m) => m.clientMessageId === body.clientMessageId).map((m) => m.request.text),
  ).toEqual(['Original text']);
});

// --- failures toward 8x8 -----------------------------------------------------------------------------------------

test('8x8 answering 429 with Retry-After is retried, then the SMS is delivered', async () => {
  stack.sms!.failNext([{ status: 429, retryAfter: 1 }]);
  const clientMessageId = cmid('rate');
  const accepted = await send({ destination: freshNumber(), text: 'Rate limited first', clientMessageId });
  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');

  const calls = callsFor(clientMessageId);
  expect(calls.map((c) => (c.answer.kind === 'answered' ? c.answer.status : c.answer.kind))).toEqual([
    429, 200,
  ]);
  expect(calls[0]!.fault).toBe('scripted:429');
  // The retry honours Retry-After, whether the worker waits it out inside the attempt (within its wait budget) or
  // gives the SMS back to the queue with that delay.
  expect(Date.parse(calls[1]!.receivedAt) - Date.parse(calls[0]!.receivedAt)).toBeGreaterThanOrEqual(1000);
  expect(delivered.ambiguousAttempts).toBe(0);
  expect(statuses(delivered)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
  await settled();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('8x8 answering 5xx is retried with backoff, then the SMS is delivered', async () => {
  stack.sms!.failNext([{ status: 500 }, { status: 503 }]);
  const clientMessageId = cmid('5xx');
  const accepted = await send({ destination: freshNumber(), text: 'Server errors first', clientMessageId });
  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');

  const calls = callsFor(clientMessageId);
  expect(calls.map((c) => (c.answer.kind === 'answered' ? c.answer.status : c.answer.kind))).toEqual([
    500, 503, 200,
  ]);
  expect(delivered).toMatchObject({ attempts: 3, ambiguousAttempts: 0 });
  await settled();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('a connection reset before 8x8 accepted anything is retried, and the SMS is sent once', async () => {
  stack.sms!.failNext([{ kind: 'reset' }]);
  const clientMessageId = cmid('reset');
  const accepted = await send({ destination: freshNumber(), text: 'Reset first', clientMessageId });
  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');
  expect(callsFor(clientMessageId).map((c) => c.answer.kind)).toEqual(['reset', 'answered']);
  expect(delivered.attempts).toBe(2);
  await settled();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('a send that times out is retried and the attempt is counted as ambiguous (8x8 may have accepted it)', async () => {
  // No receipts for this number, so nothing tells the bridge that 8x8 accepted the timed-out send.
  const destination = freshNumber();
  stack.sms!.setOutcome(destination, 'none');
  stack.sms!.failNext([{ kind: 'timeout' }]);
  const clientMessageId = cmid('timeout');
  const accepted = await send({ destination, text: 'Timed out first', clientMessageId });

  const sent = await waitForStatus(accepted.messageId, 'SENT');
  await settled();
  const received = stack.sms!.receivedFor(clientMessageId);
  // The simulator accepted the first send but never answered; the retry got an answer.
  expect(received.map((m) => m.answer)).toEqual(['unanswered', 'answered']);
  expect(sent).toMatchObject({ attempts: 2, ambiguousAttempts: 1, umid: received[1]!.umid });
  expect(statuses(sent)).toEqual(['QUEUED', 'SENT']);
});

test('a timed-out send whose receipt arrives before the retry is not sent again', async () => {
  stack.sms!.failNext([{ kind: 'timeout' }]);
  const clientMessageId = cmid('timeout-receipt');
  const accepted = await send({
    destination: freshNumber(),
    text: 'Timed out, then receipted',
    clientMessageId,
  });
  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');
  await settled();
  // The receipts carried 8x8's umid; the redelivered queue message found it on the record and sent nothing.
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
  expect(callsFor(clientMessageId)).toHaveLength(1);
  expect(delivered.umid).toBe(stack.sms!.receivedFor(clientMessageId)[0]!.umid);
});

test('a permanent 400 from 8x8 is recorded as failed with 8x8’s error code and never retried', async () => {
  stack.sms!.failNext([{ status: 400 }]); // 8x8's 1002 "Invalid MSISDN format (not E.164 international number)"
  const clientMessageId = cmid('permanent');
  const sessionId = `session-${randomUUID()}`;
  const accepted = await send({
    destination: freshNumber(),
    text: 'Refused by 8x8',
    clientMessageId,
    cognigy: { userId: 'user-3', sessionId, URLToken: 'tok', receiptEvents: ['failed'] },
  });
  const failed = await waitForStatus(accepted.messageId, 'FAILED');
  expect(failed).toMatchObject({
    errorCode: 1002,
    reason: 'Invalid MSISDN format (not E.164 international number)',
    attempts: 1,
  });
  expect(failed.umid).toBeUndefined();
  expect(failed.history.at(-1)).toMatchObject({ status: 'FAILED', errorCode: 1002 });
  // The worker itself tells the flow, since no receipt will ever come for an SMS 8x8 refused.
  const injected = await stack.cognigy!.waitFor((call) => call.body.sessionId === sessionId, 10_000);
  expect((injected.body.data as { sms: unknown }).sms).toMatchObject({
    messageId: accepted.messageId,
    status: 'FAILED',
    errorCode: 1002,
    errorMessage: 'Invalid MSISDN format (not E.164 international number)',
  });
  await settled();
  expect(callsFor(clientMessageId)).toHaveLength(1);
  expect(stack.sms!.sendCount(clientMessageId)).toBe(0);
});

test('a 401 from 8x8 (bad credentials) is permanent too: failed with code 1200, sent once', async () => {
  stack.sms!.failNext([{ status: 401 }]);
  const clientMessageId = cmid('unauthorised');
  const accepted = await send({ destination: freshNumber(), text: 'Bad key', clientMessageId });
  const failed = await waitForStatus(accepted.messageId, 'FAILED');
  expect(failed.errorCode).toBe(1200);
  await settled();
  expect(callsFor(clientMessageId)).toHaveLength(1);
});

test('retries exhausted: the record is failed with the reason and the message is in the DLQ', async () => {
  stack.sms!.failNext([{ status: 500, count: 3 }]);
  const clientMessageId = cmid('exhausted');
  const accepted = await send({ destination: freshNumber(), text: 'Never accepted', clientMessageId });
  const failed = await waitForStatus(accepted.messageId, 'FAILED', 20_000);
  expect(failed).toMatchObject({ errorCode: 'RETRIES_EXHAUSTED', attempts: 3 });
  expect(failed.reason).toMatch(/after 3 attempts/);
  expect(failed.reason).toContain('Internal server error (8x8 code 2000)');
  expect(callsFor(clientMessageId)).toHaveLength(3);

  const dead = await waitFor(
    'the SMS queue message in the DLQ',
    async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.sms.dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 0,
        }),
      );
      return Messages.find((m) => JSON.parse(m.Body ?? '{}').messageId === accepted.messageId);
    },
    { timeoutMs: 20_000 },
  );
  expect(JSON.parse(dead.Body!)).toEqual({ messageId: accepted.messageId });
  await sqs.send(
    new DeleteMessageCommand({ QueueUrl: stack.queues.sms.dlqUrl, ReceiptHandle: dead.ReceiptHandle }),
  );
  // Nothing more was sent after exhaustion.
  expect(callsFor(clientMessageId)).toHaveLength(3);
  expect((await status(accepted.messageId)).status.code).toBe('FAILED');
});

// --- receipts ----------------------------------------------------------------------------------------------------

test('receipts out of order (delivered, then sent) leave the record delivered', async () => {
  stack.sms!.setReceiptBehaviour({ outOfOrder: true, delayMs: 150 });
  const clientMessageId = cmid('ooo');
  const accepted = await send({ destination: freshNumber(), text: 'Out of order receipts', clientMessageId });
  const received = await stack.sms!.waitForReceived((m) => m.clientMessageId === clientMessageId, 10_000);
  await waitFor(
    'both receipts acknowledged',
    () => receiptsFor(received.umid).filter((r) => r.ok).length === 2,
  );
  expect(receiptsFor(received.umid).map((r) => r.state)).toEqual(['delivered', 'sent']);

  const final = await status(accepted.messageId);
  expect(final.status.code).toBe('DELIVERED');
  expect(statuses(final)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
  expect(final.umid).toBe(received.umid);
});

test('duplicated receipts change nothing the second time', async () => {
  stack.sms!.setReceiptBehaviour({ duplicate: true });
  const clientMessageId = cmid('dup');
  const accepted = await send({ destination: freshNumber(), text: 'Duplicated receipts', clientMessageId });
  const received = await stack.sms!.waitForReceived((m) => m.clientMessageId === clientMessageId, 10_000);
  await waitFor(
    'four receipts acknowledged',
    () => receiptsFor(received.umid).filter((r) => r.ok).length === 4,
  );
  const final = await status(accepted.messageId);
  expect(statuses(final)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
});

// --- batch ---------------------------------------------------------------------------------------------------------

test('POST /sms/batch answers per item and delivers through 8x8’s batch endpoint (fewer calls than SMS)', async () => {
  const ids = [1, 2, 3, 4].map((i) => cmid(`batch${i}`));
  const destinations = ids.map(() => freshNumber());
  const answer = await api.post<{
    ok: boolean;
    batchId: string;
    acceptedCount: number;
    rejectedCount: number;
    items: { index: number; ok: boolean; messageId?: string; error?: { code: string } }[];
  }>('/sms/batch', {
    clientBatchId: 'b-1',
    template: { source: 'Bridge' },
    messages: [
      ...ids.map((clientMessageId, i) => ({
        destination: destinations[i],
        text: `Batch SMS ${i}`,
        clientMessageId,
      })),
      { destination: 'not-a-number', text: 'Invalid item' },
    ],
  });
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({
    ok: true,
    acceptedCount: 4,
    rejectedCount: 1,
    batchId: expect.any(String),
  });
  expect(answer.body.items.map((i) => [i.index, i.ok])).toEqual([
    [0, true],
    [1, true],
    [2, true],
    [3, true],
    [4, false],
  ]);
  expect(answer.body.items[4]!.error!.code).toBe('INVALID_DESTINATION');

  const records = await Promise.all(
    answer.body.items.slice(0, 4).map((i) => waitForStatus(i.messageId!, 'DELIVERED')),
  );
  expect(records.every((r) => r.batchId === answer.body.batchId)).toBe(true);
  await settled();

  const calls = stack.sms!.requests.filter((call) => ids.some((id) => callsFor(id).includes(call)));
  expect(calls.length).toBeLessThan(ids.length);
  expect(calls.some((c) => c.endpoint === 'batch')).toBe(true);
  for (const id of ids) expect(stack.sms!.sendCount(id)).toBe(1);
  const batchCall = calls.find((c) => c.endpoint === 'batch')!;
  expect(batchCall.body).toMatchObject({ includeMessagesInResponse: true });
  // The template's source reached each SMS.
  for (const id of ids) expect(stack.sms!.receivedFor(id)[0]!.request.source).toBe('Bridge');
});

test('POST /sms/batch with destinations and a template delivers every SMS once, even when repeated', async () => {
  const destinations = [freshNumber(), freshNumber(), freshNumber()];
  const body = { clientBatchId: `t-${numberSeq}`, destinations, template: { text: 'Templated text' } };
  const first = await api.post<{ acceptedCount: number; items: { messageId: string }[] }>('/sms/batch', body);
  expect(first.status).toBe(202);
  expect(first.body.acceptedCount).toBe(3);
  const again = await api.post<{ acceptedCount: number; items: { messageId: string }[] }>('/sms/batch', body);
  expect(again.status).toBe(202);
  expect(again.body.items.map((i) => i.messageId)).toEqual(first.body.items.map((i) => i.messageId));

  await Promise.all(first.body.items.map((i) => waitForStatus(i.messageId, 'DELIVERED')));
  await settled();
  for (const destination of destinations) expect(stack.sms!.sendCount(destination)).toBe(1);
});

test('a rate-limited call to 8x8 retries every SMS it carried, and each is still sent once', async () => {
  stack.sms!.failNext([{ status: 429, retryAfter: 1 }]);
  const ids = [1, 2, 3].map((i) => cmid(`rate-batch${i}`));
  const answer = await api.post<{ items: { messageId: string }[] }>('/sms/batch', {
    messages: ids.map((clientMessageId) => ({
      destination: freshNumber(),
      text: 'Rate limited batch',
      clientMessageId,
    })),
  });
  expect(answer.status).toBe(202);
  await Promise.all(answer.body.items.map((i) => waitForStatus(i.messageId, 'DELIVERED')));
  await settled();
  const calls = stack.sms!.requests.filter((call) => ids.some((id) => callsFor(id).includes(call)));
  expect(calls[0]!.answer).toMatchObject({ kind: 'answered', status: 429 });
  for (const id of ids) expect(stack.sms!.sendCount(id)).toBe(1);
});

test('repeats of a clientMessageId inside one batch are one SMS with one messageId', async () => {
  const clientMessageId = cmid('repeat');
  const message = { destination: freshNumber(), text: 'Listed twice', clientMessageId };
  const answer = await api.post<{ acceptedCount: number; items: { ok: boolean; messageId?: string }[] }>(
    '/sms/batch',
    { messages: [message, { destination: freshNumber(), text: 'Listed once' }, message] },
  );
  expect(answer.status).toBe(202);
  expect(answer.body.acceptedCount).toBe(3);
  const [first, , repeat] = answer.body.items;
  expect(repeat).toEqual({ ...first, index: 2 });
  await waitForStatus(first!.messageId!, 'DELIVERED');
  await settled();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('a scheduled SMS is handed to 8x8 with its schedule, and is delivered when it is due', async () => {
  const scheduled = new Date(Date.now() + 1_500);
  const clientMessageId = cmid('scheduled');
  const accepted = await send({
    destination: freshNumber(),
    text: 'Later',
    clientMessageId,
    // With an offset, as a flow in another time zone would write it; 8x8 gets the same instant in UTC.
    scheduled: scheduled.toISOString().replace('Z', '+00:00'),
  });
  const received = await stack.sms!.waitForReceived((m) => m.clientMessageId === clientMessageId, 10_000);
  expect(received.request.scheduled).toBe(scheduled.toISOString());
  const delivered = await waitForStatus(accepted.messageId, 'DELIVERED');
  expect(Date.parse(delivered.history.at(-1)!.at)).toBeGreaterThanOrEqual(scheduled.getTime() - 1_000);
});

// --- contract ----------------------------------------------------------------------------------------------------

test('contract: every request the 8x8 simulator received in this file matches 8x8’s official OAS', () => {
  const requests = stack.sms!.requests;
  expect(requests.length).toBeGreaterThan(10);
  const invalid = requests
    .map((call) => ({
      seq: call.seq,
      endpoint: call.endpoint,
      result: call.endpoint === 'batch' ? validateSmsBatchRequest(call.body) : validateSmsRequest(call.body),
    }))
    .filter((r) => !r.result.valid);
  expect(invalid).toEqual([]);
  // Every send carried a clientMessageId (the caller's or our messageId), so every receipt maps back.
  const accepted: ReceivedSms[] = stack.sms!.received;
  expect(accepted.every((m) => typeof m.clientMessageId === 'string')).toBe(true);
});
