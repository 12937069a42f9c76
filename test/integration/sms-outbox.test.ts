/**
 * The SMS guarantees of issue 9 on the real local stack (dynalite, fauxqs, the 8x8 simulator, the functions
 * in-process): an accept that dies between its record write and its enqueue is delivered by the outbox sweeper, or
 * at once by a repeat of its clientMessageId; two identical POST /sms at the same moment get the same 202 and 8x8
 * one request; an SMS whose retries ran out into the DLQ is delivered after `npm run redrive`'s move.
 *
 * The crash: the SQS access front holds sms-accept's enqueue unanswered, so the function dies there, after its
 * record and idempotency answer were committed — exactly what a killed function leaves.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { HoldHook } from '../../lib/local/access-front';
import { functionAccessKeyId } from '../../lib/local/grants';
import type { LocalStack } from '../../lib/local/stack';
import { redriveDlq } from '../../lib/redrive';
import { apiClient, stackSqsClient, startTestStack, waitForDrained, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

interface StatusAnswer {
  messageId: string;
  status: { code: string };
  errorCode?: string | number;
  attempts: number;
  history: { status: string; detail?: string }[];
}

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startTestStack({
    settings: {
      UPSTREAM_TIMEOUT_MS: '2000',
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
      // The sweeper takes any record still in the outbox; the test runs it on demand (its timer is off).
      SMS_SWEEP_AGE_SECONDS: '0',
    },
    scheduleIntervalMs: { 'sms-sweeper': 0 },
    holdSqsCalls: (call) => killer.hold(call),
    maxReceiveCount: { sms: 2 },
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

afterEach(() => stack.sms!.clearFaults());

let numberSeq = 0;
const freshNumber = () => `+6581${String(++numberSeq).padStart(6, '0')}`;

/**
 * The next sms-accept enqueue is held at the SQS access front, neither forwarded nor answered: the function dies
 * there (its invocation ends at its timeout with a 5xx), after its record and idempotency answer were committed.
 */
const killer = {
  armed: false,
  killed: [] as string[],
  hold: ({ accessKeyId, accesses, body }: Parameters<HoldHook>[0]): boolean => {
    if (!killer.armed || accessKeyId !== functionAccessKeyId('sms-accept')) return false;
    if (!accesses.some((a) => a.action === 'SendMessageBatch')) return false;
    killer.armed = false;
    const entries = (JSON.parse(body) as { Entries: { MessageBody: string }[] }).Entries;
    killer.killed.push(...entries.map((e) => (JSON.parse(e.MessageBody) as { messageId: string }).messageId));
    return true;
  },
};

/** POST /sms whose accept is killed at its enqueue; resolves with the stored messageId and the pending answer. */
async function crashedAccept(body: Record<string, unknown>) {
  killer.armed = true;
  const before = killer.killed.length;
  const answer = api.post('/sms', body);
  await waitFor('the accept to reach its enqueue', () => killer.killed.length > before);
  return { messageId: killer.killed[before]!, answer };
}

async function status(messageId: string): Promise<StatusAnswer> {
  const answer = await api.get<StatusAnswer>(`/sms/${messageId}`);
  expect(answer.status).toBe(200);
  return answer.body;
}

async function waitForStatus(messageId: string, codes: string[], timeoutMs = 20_000): Promise<StatusAnswer> {
  return waitFor(
    `SMS ${messageId} to reach ${codes.join(' or ')}`,
    async () => {
      const current = await status(messageId);
      return codes.includes(current.status.code) ? current : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

const drained = () => waitForDrained(sqs, stack, ['sms'], { timeoutMs: 20_000 });

test('an accept killed between the record write and the enqueue: nothing sends it until the sweeper does, once', async () => {
  const clientMessageId = `crash-${randomUUID()}`;
  const { messageId, answer } = await crashedAccept({
    destination: freshNumber(),
    text: 'Stranded',
    clientMessageId,
  });
  // The caller hears what API Gateway answers for a function that died: a 5xx, no messageId.
  expect((await answer).status).toBeGreaterThanOrEqual(500);
  await drained();
  expect((await status(messageId)).status.code).toBe('QUEUED');
  expect(stack.sms!.sendCount(clientMessageId)).toBe(0);

  const swept = await stack.runScheduled('sms-sweeper');
  expect(swept).toMatchObject({ swept: 1, failed: 0 });
  const delivered = await waitForStatus(messageId, ['DELIVERED']);
  expect(delivered.attempts).toBe(1);
  await drained();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
  // Swept once: a second run has nothing left.
  expect(await stack.runScheduled('sms-sweeper')).toMatchObject({ found: 0, swept: 0 });
});

test('a repeat of a killed accept gets the same 202 and queues the SMS itself', async () => {
  const clientMessageId = `crash-repeat-${randomUUID()}`;
  const body = { destination: freshNumber(), text: 'Repeat me', clientMessageId };
  const { messageId, answer } = await crashedAccept(body);
  // The flow's retry comes after the failed answer (the function's timeout), long past the 2 s re-queue age.
  expect((await answer).status).toBeGreaterThanOrEqual(500);

  const repeat = await api.post('/sms', body);
  expect(repeat.status).toBe(202);
  expect(repeat.body).toMatchObject({ messageId, clientMessageId });
  await waitForStatus(messageId, ['DELIVERED']);
  await drained();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('two identical POST /sms at the same moment both get the first answer; 8x8 gets one request', async () => {
  const clientMessageId = `twins-${randomUUID()}`;
  const body = { destination: freshNumber(), text: 'Twins', clientMessageId };
  // Slow 8x8 does not matter here (accept never calls it); the race is on the idempotency key.
  const [a, b] = await Promise.all([api.post('/sms', body), api.post('/sms', body)]);
  expect({ a: a.status, b: b.status }).toEqual({ a: 202, b: 202 });
  expect(b.body).toEqual(a.body);
  await waitForStatus(a.body.messageId as string, ['DELIVERED']);
  await drained();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
});

test('an SMS whose retries ran out into the DLQ is delivered after a redrive, as a fresh recorded attempt', async () => {
  stack.sms!.failNext([{ status: 503, count: 2 }]);
  const clientMessageId = `redrive-${randomUUID()}`;
  const accepted = await api.post('/sms', {
    destination: freshNumber(),
    text: 'Redrive me',
    clientMessageId,
  });
  expect(accepted.status).toBe(202);
  const messageId = accepted.body.messageId as string;
  const failed = await waitForStatus(messageId, ['FAILED']);
  expect(failed).toMatchObject({ errorCode: 'RETRIES_EXHAUSTED', attempts: 2 });
  await waitFor(
    'the SMS in the DLQ',
    async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues.sms.dlqUrl,
          VisibilityTimeout: 0,
          WaitTimeSeconds: 1,
        }),
      );
      return Messages.some((m) => JSON.parse(m.Body ?? '{}').messageId === messageId);
    },
    { timeoutMs: 20_000 },
  );

  const moved = await redriveDlq({ sqs, queue: 'sms', queueUrl: stack.queues.sms.url });
  expect(moved).toMatchObject({ moved: 1, failed: 0, dlqUrl: stack.queues.sms.dlqUrl });

  const delivered = await waitForStatus(messageId, ['DELIVERED']);
  expect(delivered.attempts).toBe(3);
  expect(delivered.history.map((h) => h.status)).toEqual(['QUEUED', 'FAILED', 'QUEUED', 'SENT', 'DELIVERED']);
  expect(delivered.history[2]?.detail).toBe('redriven from the DLQ');
  await drained();
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
  // The DLQ is empty again: a second redrive moves nothing.
  expect(await redriveDlq({ sqs, queue: 'sms', queueUrl: stack.queues.sms.url })).toMatchObject({ moved: 0 });
});

test('a FIFO DLQ (handover queues) is redriven in order, each message keeping its conversation group', async () => {
  await stack.pauseQueue('handoverInbound');
  try {
    const conversationId = `conv-${randomUUID()}`;
    for (const n of [1, 2, 3]) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queues.handoverInbound.dlqUrl,
          MessageBody: JSON.stringify({ n, conversationId }),
          MessageGroupId: conversationId,
          MessageDeduplicationId: `${conversationId}-${n}`,
        }),
      );
    }
    const moved = await redriveDlq({
      sqs,
      queue: 'handoverInbound',
      queueUrl: stack.queues.handoverInbound.url,
    });
    expect(moved).toMatchObject({ moved: 3, failed: 0 });

    const received: { n: number; group?: string }[] = [];
    await waitFor(
      'the three events back in the inbound queue',
      async () => {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queues.handoverInbound.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['MessageGroupId'],
          }),
        );
        for (const m of Messages) {
          received.push({ n: JSON.parse(m.Body!).n, group: m.Attributes?.MessageGroupId });
          await sqs.send(
            new DeleteMessageCommand({
              QueueUrl: stack.queues.handoverInbound.url,
              ReceiptHandle: m.ReceiptHandle,
            }),
          );
        }
        return received.length >= 3;
      },
      { timeoutMs: 15_000 },
    );
    expect(received).toEqual([1, 2, 3].map((n) => ({ n, group: conversationId })));
  } finally {
    stack.resumeQueue('handoverInbound');
  }
});
