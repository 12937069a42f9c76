/**
 * Cognigy pushes on the real local stack (issue 9 item 3): a push Cognigy answers slower than the push timeout has
 * arrived although the bridge gave up on it, so the retry repeats it: with the same `data.bridgeEventId`, and with
 * the longer retry timeout, so there is one repeat and no third copy. The `sent` injection of an SMS is retried
 * through the SMS queue after a Cognigy failure, and 8x8 still gets the SMS once. An event that goes to the DLQ
 * leaves a gap that later pushes report (`data.gap`) until it is redriven (issue 9 item 6).
 */
import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigyCall, CognigySimulator } from '../../lib/simulators/cognigy';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { apiClient, stackSqsClient, startTestStack, waitForDrained, type ApiClient } from '../helpers/local';
import { waitFor, waitForCount } from '../helpers/wait';

let stack: LocalStack;
let api: ApiClient;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let sqs: SQSClient;

/** First pushes give up after 2 s; retries wait up to 9 s. The simulator answers slow pushes after 4 s. */
const SLOW_MS = 4000;

beforeAll(async () => {
  stack = await startTestStack({
    settings: {
      UPSTREAM_TIMEOUT_MS: '2000',
      COGNIGY_RETRY_TIMEOUT_MS: '9000',
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
    },
    maxReceiveCount: { handoverInbound: 5, sms: 5 },
    // A message that failed its last receive moves to the DLQ when its visibility timeout ends; short so the gap test
    // does not wait minutes, longer than a retried push (COGNIGY_RETRY_TIMEOUT_MS) so no message reappears mid-push.
    visibilityTimeoutSeconds: { handoverInbound: 12 },
  });
  api = apiClient(stack);
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  sqs = stackSqsClient(stack);
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
});

afterEach(() => {
  cognigy.setLatency(0);
  cognigy.clearOutage();
});

const idOf = (call: CognigyCall) => (call.body.data as { bridgeEventId?: string }).bridgeEventId;

test('an agent message Cognigy answers slowly is repeated once, with the same bridgeEventId', async () => {
  const session = { userId: 'user-slow', sessionId: `session-${randomUUID()}`, URLToken: 'token-slow' };
  // The short UPSTREAM_TIMEOUT_MS also bounds POST /handover's call to 8x8: on a loaded machine a cold start may
  // exceed it, and the flow would start the handover again; so does the test.
  const started = await waitFor('a started handover', async () => {
    const answer = await api.post<{ conversationId: string }>('/handover', {
      cognigy: session,
      channelId: 'chat-api-channel',
    });
    return answer.status < 300 && answer;
  });
  const { conversationId } = started.body;
  await chat.agentJoin(conversationId, 'agent-slow');
  await waitFor('the agent joined inject', () =>
    cognigy.callsFor(session.sessionId).find((c) => c.mode === 'inject'),
  );

  cognigy.setLatency(SLOW_MS);
  await chat.agentSay(conversationId, 'Sorry for the wait');
  const notifies = () => cognigy.callsFor(session.sessionId).filter((c) => c.mode === 'notify');
  const [first, second] = await waitForCount('two notify calls', 2, notifies, { timeoutMs: 30_000 });
  expect(first?.body.text).toBe('Sorry for the wait');
  expect(second?.body).toEqual(first?.body);
  expect(idOf(first!)).toMatch(/^8x8-chat:/);
  // The retry waited for Cognigy's slow answer, so no third copy follows once the queue is empty.
  await waitForDrained(sqs, stack, ['handoverInbound'], { beforeProbe: () => chat.settled() });
  expect(notifies()).toHaveLength(2);
  const repeats = cognigy.duplicates().repeated.filter((r) => r.sessionId === session.sessionId);
  // The slow message was pushed exactly twice. On a loaded machine the earlier `agent joined` inject may also
  // outlast the 2 s push timeout and be repeated (pushes are at least once); no push is repeated more than once.
  expect(repeats.filter((r) => r.bridgeEventId === idOf(first!))).toEqual([
    { sessionId: session.sessionId, bridgeEventId: idOf(first!), count: 2 },
  ]);
  expect(repeats.every((r) => r.count === 2)).toBe(true);
  expect(cognigy.duplicates().duplicatesAfterFlowDedupe).toBe(0);
}, 60_000);

test('the `sent` injection refused by Cognigy is retried through the queue; 8x8 gets the SMS once', async () => {
  const sessionId = `session-${randomUUID()}`;
  const clientMessageId = `sent-${randomUUID()}`;
  cognigy.setOutage({ status: 500, count: 1 });
  const accepted = await api.post<{ messageId: string }>('/sms', {
    destination: '+6591234567',
    text: 'Your code is 424242',
    clientMessageId,
    cognigy: { userId: 'user-sent', sessionId, URLToken: 'tok', receiptEvents: ['sent'] },
  });
  expect(accepted.status).toBe(202);
  const injected = await cognigy.waitFor((call) => call.body.sessionId === sessionId, 20_000);
  expect(injected.body.data).toMatchObject({
    bridgeEventId: `sms:${accepted.body.messageId}:sent`,
    sms: { messageId: accepted.body.messageId, status: 'SENT' },
  });
  const refused = cognigy.rejected.filter((r) => (r.body as { sessionId?: string }).sessionId === sessionId);
  expect(refused).toEqual([expect.objectContaining({ status: 500 })]);
  expect((refused[0]?.body as { data: unknown }).data).toEqual(injected.body.data);
  expect(stack.sms!.sendCount(clientMessageId)).toBe(1);
}, 60_000);

test('an event that goes to the DLQ leaves a gap: later pushes say so until it is redriven into its place', async () => {
  const session = { userId: 'user-gap', sessionId: `session-${randomUUID()}`, URLToken: 'token-gap' };
  const started = await waitFor('a started handover', async () => {
    const answer = await api.post<{ conversationId: string }>('/handover', {
      cognigy: session,
      channelId: 'chat-api-channel',
    });
    return answer.status < 300 && answer;
  });
  const { conversationId } = started.body;
  await chat.agentJoin(conversationId, 'agent-gap');
  await waitFor('the agent joined inject', () =>
    cognigy.callsFor(session.sessionId).find((c) => c.mode === 'inject'),
  );
  const notified = () =>
    cognigy
      .callsFor(session.sessionId)
      .filter((c) => c.mode === 'notify')
      .map((c): Record<string, unknown> => ({
        text: c.body.text,
        ...(c.body.data as Record<string, unknown>),
      }));

  // Cognigy refuses the first message on each of its 5 receives (maxReceiveCount); the next one gets through.
  cognigy.setOutage({ status: 503, count: 5 });
  await chat.agentSay(conversationId, 'Lost at first');
  await chat.agentSay(conversationId, 'After the gap');
  await waitFor('the message after the gap', () => notified().find((n) => n.text === 'After the gap'), {
    timeoutMs: 45_000,
  });
  expect(notified().map((n) => [n.text, n['gap']])).toEqual([['After the gap', true]]);

  // Redrive the DLQ message as the SQS console does (a fresh deduplication id: the test runs inside SQS FIFO's
  // 5-minute window, which a real redrive, after about 20 minutes of retries, is past).
  const dlqUrl = stack.queues.handoverInbound.dlqUrl;
  const dead = await waitFor('the DLQ message', async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return Messages[0];
  });
  const body = JSON.parse(dead.Body ?? '{}') as { eventId: string };
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queues.handoverInbound.url,
      MessageBody: dead.Body,
      MessageGroupId: dead.Attributes?.MessageGroupId,
      MessageDeduplicationId: `${body.eventId}-redriven`,
    }),
  );
  await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: dead.ReceiptHandle }));
  const redriven = await waitFor('the redriven message', () =>
    notified().find((n) => n.text === 'Lost at first'),
  );
  expect(redriven).toMatchObject({
    redriven: true,
    eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
  });
  expect(redriven['gap']).toBeUndefined();

  await chat.agentSay(conversationId, 'All caught up');
  const later = await waitFor('the next message', () => notified().find((n) => n.text === 'All caught up'));
  expect(later['gap']).toBeUndefined();
  expect(notified().map((n) => n.text)).toEqual(['After the gap', 'Lost at first', 'All caught up']);
}, 90_000);
