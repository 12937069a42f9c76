/**
 * 8x8's inbound SMS webhook on the real local stack (issue 14, item 1): POST /webhooks/8x8/sms/inbound (and the
 * receipt URL) over real HTTP with the receipt webhook's Authorization → the smsInbound FIFO queue, read through the
 * stack's SQS endpoint. The queue's consumer is paused, so what the webhook queued stays there to be counted, until
 * the last test hands a STOP to the real consumer (functions/sms/inbound.ts).
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueuedInboundSms } from '../../functions/sms/inbound-ports';
import type { LocalStack } from '../../lib/local/stack';
import { apiClient, queueDepth, stackSqsClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const WEBHOOK_AUTHORIZATION = `Bearer inbound-${randomUUID()}`;

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;

beforeAll(async () => {
  stack = await startTestStack({ smsWebhookAuthorization: WEBHOOK_AUTHORIZATION });
  api = apiClient(stack);
  sqs = stackSqsClient(stack);
  await stack.pauseQueue('smsInbound');
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

let seq = 0;
/** 8x8's inbound event (numbers without `+`, as 8x8 writes them), from a fresh phone number per call. */
function inboundEvent() {
  seq += 1;
  const umid = randomUUID();
  return {
    umid,
    from: `+659${String(seq).padStart(7, '0')}`,
    body: {
      namespace: 'SMS',
      eventType: 'inbound_message_received',
      description: 'An inbound SMS message was received',
      payload: {
        umid,
        subAccountId: 'SubAccount-1',
        timestamp: '2026-03-02T09:38:04.27Z',
        source: `659${String(seq).padStart(7, '0')}`,
        destination: '6587654321',
        body: 'YES',
        encoding: 'GSM7',
        smsCount: 1,
        price: { total: 0.0, perSms: 0.0, currency: 'EUR' },
      },
    },
  };
}

const post = (path: string, body: unknown, authorization = WEBHOOK_AUTHORIZATION) =>
  api.request('POST', path, body, { authorization });

/** Receives (and deletes) the smsInbound messages of `umid` until one arrived. */
async function receiveQueued(umid: string): Promise<{ sms: QueuedInboundSms; groupId?: string }[]> {
  const found: { sms: QueuedInboundSms; groupId?: string }[] = [];
  await waitFor(`SMS ${umid} on the smsInbound queue`, async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.queues.smsInbound.url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    for (const message of Messages) {
      const sms = JSON.parse(message.Body!) as QueuedInboundSms;
      if (sms.umid === umid) found.push({ sms, groupId: message.Attributes?.MessageGroupId });
      await sqs.send(
        new DeleteMessageCommand({
          QueueUrl: stack.queues.smsInbound.url,
          ReceiptHandle: message.ReceiptHandle!,
        }),
      );
    }
    return found.length > 0 ? true : undefined;
  });
  return found;
}

async function queueIsEmpty(): Promise<void> {
  const depth = await queueDepth(sqs, stack, 'smsInbound');
  expect(depth).toEqual({ visible: 0, inFlight: 0, delayed: 0, dlq: 0 });
}

test('an inbound SMS POSTed twice (8x8 retrying) is queued once, with the numbers in E.164', async () => {
  const event = inboundEvent();
  const first = await post('/webhooks/8x8/sms/inbound', event.body);
  expect({ status: first.status, body: first.body }).toEqual({
    status: 200,
    body: { ok: true, umid: event.umid, queued: true },
  });
  const again = await post('/webhooks/8x8/sms/inbound', event.body);
  expect({ status: again.status, body: again.body }).toEqual({
    status: 200,
    body: { ok: true, umid: event.umid, duplicate: true },
  });

  const queued = await receiveQueued(event.umid);
  expect(queued).toEqual([
    {
      sms: {
        umid: event.umid,
        from: event.from,
        to: '+6587654321',
        text: 'YES',
        receivedAt: '2026-03-02T09:38:04.270Z',
        subAccountId: 'SubAccount-1',
        encoding: 'GSM7',
        smsCount: 1,
      },
      groupId: expect.stringMatching(/^[0-9a-f]{64}$/),
    },
  ]);
  await queueIsEmpty();
});

test('an inbound SMS sent to the receipt URL is queued the same way, and once across both URLs', async () => {
  const event = inboundEvent();
  const viaReceipts = await post('/webhooks/8x8/sms', event.body);
  expect({ status: viaReceipts.status, body: viaReceipts.body }).toEqual({
    status: 200,
    body: { ok: true, umid: event.umid, queued: true },
  });
  const viaInbound = await post('/webhooks/8x8/sms/inbound', event.body);
  expect(viaInbound.body).toMatchObject({ ok: true, duplicate: true });
  expect((await receiveQueued(event.umid)).map((q) => q.sms.from)).toEqual([event.from]);
  await queueIsEmpty();
});

test('a wrong or missing Authorization is refused with 401 and nothing is queued', async () => {
  const event = inboundEvent();
  const wrong = await post('/webhooks/8x8/sms/inbound', event.body, 'Bearer not-the-configured-value');
  expect({ status: wrong.status, code: (wrong.body.error as { code: string }).code }).toEqual({
    status: 401,
    code: 'UNAUTHORIZED',
  });
  const missing = await api.request('POST', '/webhooks/8x8/sms/inbound', event.body);
  expect(missing.status).toBe(401);
  // The genuine delivery afterwards is still the first of its umid: the refused ones claimed nothing.
  const genuine = await post('/webhooks/8x8/sms/inbound', event.body);
  expect(genuine.body).toMatchObject({ ok: true, queued: true });
  expect(await receiveQueued(event.umid)).toHaveLength(1);
  await queueIsEmpty();
});

test('a payload without umid is a 400 INVALID_INBOUND_SMS', async () => {
  const { body } = inboundEvent();
  const { umid: _umid, ...payload } = body.payload;
  const answer = await post('/webhooks/8x8/sms/inbound', { ...body, payload });
  expect({ status: answer.status, code: (answer.body.error as { code: string }).code }).toEqual({
    status: 400,
    code: 'INVALID_INBOUND_SMS',
  });
  await queueIsEmpty();
});

test('end to end: a STOP texted through the webhook reaches the inbound consumer and records the opt-out', async () => {
  stack.resumeQueue('smsInbound');
  const event = inboundEvent();
  event.body.payload.body = ' stop ';
  const answer = await post('/webhooks/8x8/sms/inbound', event.body);
  expect(answer.body).toMatchObject({ ok: true, queued: true });
  const optOut = await waitFor(`the opt-out of ${event.from}`, async () => {
    const status = await api.get<{ optedOut: boolean; senders: { sender: string; umid?: string }[] }>(
      `/sms/opt-outs/${encodeURIComponent(event.from)}`,
    );
    return status.body.optedOut ? status.body : undefined;
  });
  expect(optOut.senders).toEqual([expect.objectContaining({ sender: '+6587654321', umid: event.umid })]);
});
