/**
 * Delivery guarantees of the handover relay on the real local stack: order and exactly-once under bursts, retried
 * and duplicated 8x8 webhook deliveries, and outages of Cognigy and of 8x8. Latencies are measured and printed
 * (never asserted): webhook acknowledgement, and agent message → Cognigy notify.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator, SimDelivery } from '../../lib/simulators/chat-gateway';
import type { CognigyCall, CognigySimulator } from '../../lib/simulators/cognigy';
import {
  apiClient,
  stackSecret,
  stackSqsClient,
  startTestStack,
  waitForDrained,
  type ApiClient,
} from '../helpers/local';
import { oasViolations } from '../helpers/chat-gateway-contract';
import { handoverWithAgent as startHandoverWithAgent, type Session } from '../helpers/cognigy-session';
import { RecordingProxy } from '../helpers/recording-proxy';
import { percentile, waitFor, waitForCount } from '../helpers/wait';

let stack: LocalStack;
let api: ApiClient;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let sqs: SQSClient;
let webhookUrl: string;

/** Measurements printed after the file (not assertions: the machine is shared and timing varies). */
const measured: { ackMs: number[]; notifyMs: number[]; burstNotifyMs: number[] } = {
  ackMs: [],
  notifyMs: [],
  burstNotifyMs: [],
};

beforeAll(async () => {
  stack = await startTestStack({
    settings: {
      UPSTREAM_TIMEOUT_MS: '3000',
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
    },
    maxReceiveCount: { handoverInbound: 10, handoverOutbound: 10 },
    simulators: { chatGateway: { retryDelaysMs: [100, 300, 1000], deliveryTimeoutMs: 10_000 } },
  });
  api = apiClient(stack);
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  sqs = stackSqsClient(stack);
  webhookUrl = `${stack.urls.gateway}/handover/eightByEight`;
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
  const line = (name: string, values: number[]) =>
    values.length === 0
      ? `  ${name}: not measured`
      : `  ${name}: n=${values.length} p50=${percentile(values, 50).toFixed(1)} ms p99=${percentile(values, 99).toFixed(1)} ms max=${Math.max(...values).toFixed(1)} ms`;
  console.log(
    [
      'Handover latencies on the local stack (informational):',
      line('webhook acknowledgement (simulator POST → 200)', measured.ackMs),
      line('agent message → Cognigy notify, one at a time', measured.notifyMs),
      line('agent message → Cognigy notify, burst of 50', measured.burstNotifyMs),
    ].join('\n'),
  );
});

// ---- helpers -------------------------------------------------------------------------------------------------

const handoverWithAgent = (name: string) => startHandoverWithAgent({ api, chat, cognigy }, name);

const notifies = (session: Session): CognigyCall[] =>
  cognigy.callsFor(session.sessionId).filter((c) => c.mode === 'notify');
const notifiedTexts = (session: Session) => notifies(session).map((c) => c.body.text);

function waitForNotifies(session: Session, count: number, timeoutMs = 40_000) {
  return waitForCount(`notify calls for ${session.sessionId}`, count, () => notifies(session), { timeoutMs });
}

/** Waits until the simulator has delivered everything (retries included) and the handover queues are empty. */
function settle(): Promise<void> {
  return waitForDrained(sqs, stack, ['handoverInbound', 'handoverOutbound'], {
    beforeProbe: () => chat.settled(),
  });
}

const texts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

/** The simulator's MESSAGE deliveries of one conversation, grouped by event id in emit order. */
function messageDeliveries(conversationId: string): SimDelivery[][] {
  const byEvent = new Map<string, SimDelivery[]>();
  for (const event of chat.events) {
    if (event.conversationId === conversationId && event.eventType === 'MESSAGE')
      byEvent.set(event.eventId, []);
  }
  for (const delivery of chat.deliveries) byEvent.get(delivery.eventId)?.push(delivery);
  return [...byEvent.values()];
}

/** Milliseconds from 8x8 emitting each agent MESSAGE to Cognigy receiving its notify. */
function notifyLatencies(conversationId: string, session: Session): number[] {
  const emitted = new Map<string, number>();
  for (const event of chat.events) {
    if (event.conversationId !== conversationId || event.eventType !== 'MESSAGE') continue;
    const body = JSON.parse(event.body) as { timestamp: number; data: { text: string } };
    emitted.set(body.data.text, body.timestamp);
  }
  return notifies(session).flatMap((call) => {
    const at = emitted.get(String(call.body.text));
    return at === undefined ? [] : [Date.parse(call.receivedAt) - at];
  });
}

// ---- scenarios -----------------------------------------------------------------------------------------------

test('50 agent messages in a burst reach Cognigy in order, each exactly once', async () => {
  const { session, conversationId } = await handoverWithAgent('burst');

  await chat.burst(conversationId, 50, 'Burst');
  await waitForNotifies(session, 50);
  await settle();

  expect(notifiedTexts(session)).toEqual(texts('Burst', 50));
  for (const call of notifies(session)) {
    expect(call.body).toMatchObject({
      userId: session.userId,
      sessionId: session.sessionId,
      source: 'agent',
    });
  }
  measured.burstNotifyMs.push(...notifyLatencies(conversationId, session));
}, 60_000);

test('agent messages one at a time each reach Cognigy once (latencies measured)', async () => {
  const { session, conversationId } = await handoverWithAgent('steady');
  const from = chat.deliveries.length;

  for (const text of texts('Steady', 50)) {
    await chat.agentSay(conversationId, text);
    await waitFor(`notify "${text}"`, () => notifies(session).find((c) => c.body.text === text));
  }
  await settle();

  expect(notifiedTexts(session)).toEqual(texts('Steady', 50));
  measured.notifyMs.push(...notifyLatencies(conversationId, session));
  measured.ackMs.push(
    ...chat.deliveries
      .slice(from)
      .filter((d) => d.conversationId === conversationId && d.status === 200 && d.durationMs !== undefined)
      .map((d) => d.durationMs as number),
  );
}, 60_000);

test("the user's messages reach the agent in the order they were accepted, each once", async () => {
  const { conversationId, session: user } = await handoverWithAgent('user-order');

  for (const text of texts('User', 20)) {
    const answer = await api.post(`/handover/${conversationId}/messages`, {
      text,
      sessionId: user.sessionId,
    });
    expect(answer.status).toBe(202);
  }
  const conversation = chat.conversation(conversationId);
  await waitForCount('user messages at the agent', 20, () => conversation.userMessages);
  await settle();
  expect(conversation.userMessages.map((m) => m.text)).toEqual(texts('User', 20));
});

test('a repeated clientMessageId is sent to the agent once', async () => {
  const { conversationId, session: user } = await handoverWithAgent('client-id');

  const first = await api.post(`/handover/${conversationId}/messages`, {
    text: 'Once only',
    clientMessageId: 'm-1',
    sessionId: user.sessionId,
  });
  const repeat = await api.post(`/handover/${conversationId}/messages`, {
    text: 'Once only',
    clientMessageId: 'm-1',
    sessionId: user.sessionId,
  });
  const next = await api.post(`/handover/${conversationId}/messages`, {
    text: 'Then this',
    clientMessageId: 'm-2',
    sessionId: user.sessionId,
  });
  expect([first.status, repeat.status, next.status]).toEqual([202, 202, 202]);

  const conversation = chat.conversation(conversationId);
  await waitForCount('user messages at the agent', 2, () => conversation.userMessages);
  await settle();
  expect(conversation.userMessages.map((m) => m.text)).toEqual(['Once only', 'Then this']);
});

test('8x8 retries of a delivery whose answer was lost (same event id, retry+1) reach Cognigy once', async () => {
  const { session, conversationId } = await handoverWithAgent('lost-ack');
  // The stack processes every first attempt, but the simulator never hears the answer and retries.
  const proxy = new RecordingProxy({
    target: webhookUrl,
    dropAnswer: (request) =>
      request.headers['x-8x8-retry'] === '0' &&
      (JSON.parse(request.body) as { conversationId?: string }).conversationId === conversationId,
  });
  chat.setWebhookUrl(await proxy.start());
  try {
    for (const text of texts('Lost ack', 5)) await chat.agentSay(conversationId, text);
    await waitForNotifies(session, 5);
    await settle();
  } finally {
    chat.setWebhookUrl(webhookUrl);
    await proxy.stop();
  }

  expect(notifiedTexts(session)).toEqual(texts('Lost ack', 5));
  const deliveries = messageDeliveries(conversationId);
  expect(deliveries).toHaveLength(5);
  for (const attempts of deliveries) {
    expect(attempts.map((d) => [d.retry, d.status])).toEqual([
      [0, 'error'],
      [1, 200],
    ]);
    expect(JSON.parse(attempts[1]?.response ?? '{}')).toEqual({ ok: true, duplicate: true });
  }
  // Every first attempt did reach the stack and was accepted there.
  const firsts = proxy.captured.filter((c) => c.headers['x-8x8-retry'] === '0');
  expect(firsts.map((c) => [c.status, c.answerDropped])).toEqual(Array(5).fill([200, true]));
});

test('8x8 delivering each event twice (same event id and retry) reaches Cognigy once', async () => {
  const { session, conversationId } = await handoverWithAgent('duplicate');
  chat.webhookFaults = { duplicate: true };
  try {
    for (const text of texts('Twice', 5)) await chat.agentSay(conversationId, text);
    await waitForNotifies(session, 5);
    await settle();
  } finally {
    chat.webhookFaults = {};
  }

  expect(notifiedTexts(session)).toEqual(texts('Twice', 5));
  for (const attempts of messageDeliveries(conversationId)) {
    expect(attempts.map((d) => [d.retry, d.status])).toEqual([
      [0, 200],
      [0, 200],
    ]);
    expect(JSON.parse(attempts[1]?.response ?? '{}')).toEqual({ ok: true, duplicate: true });
  }
});

test('a Cognigy outage delays agent messages but loses none and keeps their order', async () => {
  const { session, conversationId } = await handoverWithAgent('cognigy-outage');
  const rejectedBefore = cognigy.rejected.length;
  cognigy.setOutage({ status: 503 });
  try {
    for (const text of texts('Outage', 5)) await chat.agentSay(conversationId, text);
    // The relay keeps retrying the oldest message; the later ones wait behind it in the conversation's group.
    await waitForCount('calls refused by Cognigy', rejectedBefore + 3, () => cognigy.rejected, {
      timeoutMs: 20_000,
    });
    expect(notifies(session)).toHaveLength(0);
  } finally {
    cognigy.clearOutage();
  }
  await waitForNotifies(session, 5);
  await settle();

  expect(notifiedTexts(session)).toEqual(texts('Outage', 5));
  const refused = cognigy.rejected
    .slice(rejectedBefore)
    .filter((r) => (r.body as { sessionId?: string }).sessionId === session.sessionId);
  expect(refused.length).toBeGreaterThanOrEqual(3);
  expect(new Set(refused.map((r) => (r.body as { text?: string }).text))).toEqual(new Set(['Outage 1']));
  // The webhook acknowledged every event at once: the outage was absorbed by the queue, not by 8x8's retries.
  for (const attempts of messageDeliveries(conversationId)) {
    expect(attempts.map((d) => d.status)).toEqual([200]);
  }
  const status = await api.get(`/handover/${conversationId}`);
  expect(status.body).toMatchObject({ handover: { status: 'active' } });
});

test('Cognigy refusing an event for good (404) is recorded on the handover; later events still flow', async () => {
  const { session, conversationId } = await handoverWithAgent('cognigy-refuses');
  cognigy.setOutage({ status: 404, count: 1 });
  await chat.agentSay(conversationId, 'Refused for good');
  const refused = await waitFor('the refusal on the handover', async () => {
    const status = await api.get<{ lastError?: Record<string, unknown> }>(`/handover/${conversationId}`);
    return status.body.lastError;
  });
  expect(refused).toMatchObject({ source: 'cognigy', operation: 'notify', httpStatus: 404 });

  await chat.agentSay(conversationId, 'Still here');
  await waitForNotifies(session, 1);
  await settle();
  expect(notifiedTexts(session)).toEqual(['Still here']);
  expect(cognigy.rejected.filter((r) => r.status === 404)).toHaveLength(1);
});

test('an 8x8 outage delays user messages but loses none and keeps their order', async () => {
  const { conversationId, session: user } = await handoverWithAgent('chat-outage');
  chat.failApiCalls(503, 2, { operation: 'sendMessage' });

  for (const text of texts('Through', 3)) {
    const answer = await api.post(`/handover/${conversationId}/messages`, {
      text,
      sessionId: user.sessionId,
    });
    expect(answer.status).toBe(202);
  }
  const conversation = chat.conversation(conversationId);
  await waitForCount('user messages at the agent', 3, () => conversation.userMessages, { timeoutMs: 20_000 });
  await settle();

  expect(conversation.userMessages.map((m) => m.text)).toEqual(texts('Through', 3));
  const sends = chat.requests.filter(
    (r) => r.conversationId === conversationId && r.operation === 'sendMessage',
  );
  // The first message refused twice, then each message once, in order.
  expect(sends.map((r) => [(r.body as { text: string }).text, r.status])).toEqual([
    ['Through 1', 503],
    ['Through 1', 503],
    ['Through 1', 202],
    ['Through 2', 202],
    ['Through 3', 202],
  ]);
});

test('every request the stack sent to the Chat Gateway simulator matches the official OAS', async () => {
  const { tenant } = stackSecret(stack, 'chatGatewayCredentials');
  expect(chat.requests.length).toBeGreaterThan(0);
  // Including the attempts the simulator refused with injected 503s: those were valid requests too.
  expect(oasViolations(chat.requests, tenant as string)).toEqual([]);
});
