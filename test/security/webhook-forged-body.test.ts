/**
 * Issue 10, gap 1 on the real local stack: 8x8 signs only the CRC32 of a webhook body, so a captured signature also
 * verifies a forged body crafted to the same CRC32. The dedupe claim binds the event id to the body's SHA-256, so
 * such a forgery is refused (409 EVENT_BODY_MISMATCH) and never reaches Cognigy — whether it follows the genuine
 * delivery or comes after a failed genuine delivery released its claim.
 */
import { crc32 } from 'node:zlib';
import { SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigySimulator } from '../../lib/simulators/cognigy';
import { forgeCrc32 } from '../../lib/evidence/crc32-forgery';
import { apiClient, stackSqsClient, startTestStack, waitForDrained, type ApiClient } from '../helpers/local';
import { handoverWithAgent } from '../helpers/cognigy-session';
import { RecordingProxy, replay, type CapturedRequest } from '../helpers/recording-proxy';
import { waitFor } from '../helpers/wait';

let stack: LocalStack;
let api: ApiClient;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let sqs: SQSClient;
let proxy: RecordingProxy;
let webhookUrl: string;

beforeAll(async () => {
  stack = await startTestStack({
    settings: { UPSTREAM_TIMEOUT_MS: '3000', RETRY_BASE_DELAY_SECONDS: '1', RETRY_MAX_DELAY_SECONDS: '1' },
    maxReceiveCount: { handoverInbound: 10, handoverOutbound: 10 },
    // Enough retries, spread out, for the released-claim case to restore the queue in between.
    simulators: { chatGateway: { retryDelaysMs: [300, 600, 1200, 2400, 4800], deliveryTimeoutMs: 10_000 } },
  });
  api = apiClient(stack);
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  sqs = stackSqsClient(stack);
  webhookUrl = `${stack.urls.gateway}/handover/eightByEight`;
  proxy = new RecordingProxy({ target: webhookUrl });
  chat.setWebhookUrl(await proxy.start());
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  sqs?.destroy();
  await stack?.stop();
});

/** A handover with an agent in it; resolves with the conversation id and the Cognigy session id. */
async function activeHandover(name: string): Promise<{ conversationId: string; sessionId: string }> {
  const { session, conversationId } = await handoverWithAgent({ api, chat, cognigy }, name);
  return { conversationId, sessionId: session.sessionId };
}

const notifiedTexts = (sessionId: string) =>
  cognigy
    .callsFor(sessionId)
    .filter((c) => c.mode === 'notify')
    .map((c) => c.body.text as string);

/** The delivery of the agent message `text`, as captured between the simulator and the stack. */
function captured(text: string, status?: number): CapturedRequest | undefined {
  return proxy.captured.find((c) => c.body.includes(text) && (status === undefined || c.status === status));
}

/**
 * What an attacker builds from a captured delivery: an agent MESSAGE of their own in the same conversation, padded
 * so that its CRC32 equals the captured body's, to be sent with the captured headers (signature included).
 */
function forgedBodyFor(genuine: CapturedRequest, text: string): string {
  const original = JSON.parse(genuine.body) as { conversationId: string; timestamp: number };
  const prefix =
    `{"eventType":"MESSAGE","conversationId":${JSON.stringify(original.conversationId)},` +
    `"timestamp":${original.timestamp},"data":{"isEcho":false,"sender":{"id":"agent-x","type":"agent"},` +
    `"text":${JSON.stringify(text).slice(0, -1)} `;
  const forged = forgeCrc32(prefix, '"}}', crc32(Buffer.from(genuine.body, 'utf8')) >>> 0);
  expect(forged).not.toBe(genuine.body);
  expect(JSON.parse(forged)).toMatchObject({ eventType: 'MESSAGE', data: { sender: { type: 'agent' } } });
  return forged;
}

test('a forged body with the captured signature of a delivered event is refused and not relayed', async () => {
  const { conversationId, sessionId } = await activeHandover('after');
  await chat.agentSay(conversationId, 'genuine: your order ships Monday');
  await waitFor('the genuine notify', () =>
    notifiedTexts(sessionId).includes('genuine: your order ships Monday'),
  );
  const genuine = captured('genuine: your order ships Monday', 200)!;

  const forged = await replay(webhookUrl, genuine, {
    body: forgedBodyFor(genuine, 'forged: pay at evil.example'),
  });
  expect(forged).toEqual({
    status: 409,
    body: {
      ok: false,
      error: {
        code: 'EVENT_BODY_MISMATCH',
        message: 'This event id was already received with a different body',
      },
    },
  });

  // The genuine delivery replayed unchanged is still a plain duplicate.
  expect(await replay(webhookUrl, genuine)).toMatchObject({ status: 200, body: { duplicate: true } });
  await waitForDrained(sqs, stack, ['handoverInbound'], { beforeProbe: () => chat.settled() });
  expect(notifiedTexts(sessionId)).toEqual(['genuine: your order ships Monday']);
});

test('after a failed delivery released its claim, a forged body is refused and 8x8 retry goes through', async () => {
  const { conversationId, sessionId } = await activeHandover('released');
  const inbound = stack.queues.handoverInbound.url;
  const longText = `genuine long: ${'order details '.repeat(100)}`.trim();

  // SQS refuses the genuine envelope (larger than the queue's message size limit): 503 and the claim released.
  await sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: inbound, Attributes: { MaximumMessageSize: '1024' } }),
  );
  let restored = false;
  let failed: CapturedRequest;
  try {
    await chat.agentSay(conversationId, longText);
    failed = await waitFor('a refused genuine delivery', () => captured('genuine long', 503));
    expect(failed.responseBody).toContain('EVENT_NOT_ACCEPTED');

    // The forgery is short enough to fit the queue: only the stored body hash stops it.
    const forged = await replay(webhookUrl, failed, {
      body: forgedBodyFor(failed, 'forged: pay at evil.example'),
    });
    expect(forged.status).toBe(409);
    expect(forged.body).toMatchObject({ error: { code: 'EVENT_BODY_MISMATCH' } });

    await sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: inbound, Attributes: { MaximumMessageSize: '262144' } }),
    );
    restored = true;
  } finally {
    if (!restored) {
      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: inbound, Attributes: { MaximumMessageSize: '262144' } }),
      );
    }
  }
  // 8x8's own retry (same body) takes the released claim over.
  await waitFor('the genuine notify after a retry', () => notifiedTexts(sessionId).includes(longText), {
    timeoutMs: 20_000,
  });
  await waitForDrained(sqs, stack, ['handoverInbound'], { beforeProbe: () => chat.settled() });
  expect(notifiedTexts(sessionId)).toEqual([longText]);
  const statuses = chat.deliveries
    .filter((d) => d.eventId === failed.headers['x-8x8-event-id'])
    .map((d) => d.status);
  expect(statuses[0]).toBe(503);
  expect(statuses.at(-1)).toBe(200);
}, 40_000);
