/**
 * The sms-inbound consumer on the real local stack (issue 14 items 2 and 4), fed straight through its smsInbound
 * FIFO queue as the inbound webhook feeds it (body QueuedInboundSms, group = the conversation, deduplication id =
 * umid): a reply to a flow's SMS is injected into that flow's session (through a Cognigy outage too); STOP refuses
 * the next POST /sms, START lifts it, HELP is answered once through the normal SMS path from the texted number.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueuedInboundSms } from '../../functions/sms/inbound-ports';
import type { LocalStack } from '../../lib/local/stack';
import { apiClient, stackSqsClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const OUR_NUMBER = '+6580004444';
const HELP_TEXT = `Acme help ${randomUUID().slice(0, 8)}: reply STOP to opt out.`;

let stack: LocalStack;
let api: ApiClient;
let sqs: SQSClient;
let n = 0;
const newNumber = () => `+6597${String(Date.now() % 10_000).padStart(4, '0')}${String(++n).padStart(2, '0')}`;

beforeAll(async () => {
  stack = await startTestStack({
    env: { LOG_LEVEL: 'ERROR' },
    settings: {
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
      SMS_HELP_TEXT: HELP_TEXT,
    },
    simulators: { sms: { receiptDelayMs: 20, receiptRetryScale: 0.01 } },
  });
  api = apiClient(stack);
  sqs = stackSqsClient(stack);
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

afterEach(() => stack.cognigy!.clearOutage());

/** Queues an inbound SMS as the inbound webhook does. */
async function texted(from: string, text: string): Promise<QueuedInboundSms> {
  const sms: QueuedInboundSms = {
    umid: randomUUID(),
    from,
    to: OUR_NUMBER,
    text,
    receivedAt: new Date().toISOString(),
  };
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queues.smsInbound.url,
      MessageBody: JSON.stringify(sms),
      MessageGroupId: createHash('sha256').update(`${from}|${OUR_NUMBER}`).digest('hex'),
      MessageDeduplicationId: sms.umid,
    }),
  );
  return sms;
}

test("a reply to a flow's SMS is injected into that flow's session, through a Cognigy outage", async () => {
  const phone = newNumber();
  const sessionId = `session-${randomUUID()}`;
  const question = await api.post<{ messageId: string }>('/sms', {
    destination: phone,
    source: OUR_NUMBER,
    text: 'Your appointment is tomorrow at 3pm. Reply YES to confirm.',
    clientMessageId: `confirm-${randomUUID()}`,
    cognigy: { userId: 'user-1', sessionId, URLToken: 'flow-token' },
  });
  expect(question.status).toBe(202);

  // The first push is refused with 503: SQS redelivers the SMS after its backoff, nothing is lost.
  stack.cognigy!.setOutage({ status: 503, count: 1 });
  const reply = await texted(phone, 'Yes');
  const injected = await stack.cognigy!.waitFor((call) => call.body.sessionId === sessionId, 15_000);

  expect(injected).toMatchObject({ mode: 'inject', urlToken: 'flow-token' });
  expect(injected.body).toMatchObject({
    userId: 'user-1',
    sessionId,
    text: 'Yes',
    data: {
      bridgeEventId: `sms:inbound:${reply.umid}`,
      sms: {
        inbound: {
          from: phone,
          to: OUR_NUMBER,
          text: 'Yes',
          umid: reply.umid,
          receivedAt: reply.receivedAt,
          inReplyTo: { messageId: question.body.messageId },
        },
      },
    },
  });
  expect(
    stack.cognigy!.rejected.filter((r) => (r.body as { sessionId?: string })?.sessionId === sessionId),
  ).toEqual([expect.objectContaining({ status: 503 })]);
  expect(stack.cognigy!.callsFor(sessionId)).toHaveLength(1);
});

test('STOP refuses the next POST /sms with 422 RECIPIENT_OPTED_OUT; START lifts it', async () => {
  const phone = newNumber();
  const optedOut = async () =>
    (await api.get<{ optedOut: boolean }>(`/sms/opt-outs/${encodeURIComponent(phone)}`)).body.optedOut;

  await texted(phone, 'Stop');
  await waitFor('the opt-out to be recorded', async () => (await optedOut()) === true);
  const refused = await api.post('/sms', { destination: phone, source: OUR_NUMBER, text: 'Sale!' });
  expect(refused.status).toBe(422);
  expect(refused.body).toMatchObject({ ok: false, error: { code: 'RECIPIENT_OPTED_OUT' } });

  await texted(phone, 'START');
  await waitFor('the opt-out to be lifted', async () => (await optedOut()) === false);
  const accepted = await api.post('/sms', { destination: phone, source: OUR_NUMBER, text: 'Welcome back' });
  expect(accepted.status).toBe(202);
});

test('HELP is answered with SMS_HELP_TEXT from the texted number, once per umid', async () => {
  const phone = newNumber();
  const help = await texted(phone, 'help');
  const sent = await stack.sms!.waitForReceived((m) => m.clientMessageId === `kw:${help.umid}`, 15_000);
  expect(sent.destination).toBe(phone);
  expect(sent.request).toMatchObject({ text: HELP_TEXT, source: OUR_NUMBER });
  expect(stack.sms!.received.filter((m) => m.clientMessageId === `kw:${help.umid}`)).toHaveLength(1);
});
