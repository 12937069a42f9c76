/**
 * Issue 10, gap 7 (WEB_HOOK_VERIFY) on the real local stack. 8x8 documents signature headers on every webhook POST
 * (specs/8x8/validating-webhook-events.md) and nowhere an unsigned verify, so an unsigned WEB_HOOK_VERIFY is refused
 * by default; ACCEPT_UNSIGNED_VERIFY=true accepts it for a Test Connection that turns out to be unsigned. Either
 * way a verify is answered without claiming, queueing or relaying anything.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoDbClient } from '../../lib/local/aws';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigySimulator } from '../../lib/simulators/cognigy';
import { SETTINGS } from '../../functions/shared/catalogue';
import { queueDepth, stackSqsClient, startTestStack } from '../helpers/local';

let stack: LocalStack;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let webhookUrl: string;

const VERIFY = JSON.stringify({ notificationVersion: 'Chat Gateway v1.0', eventType: 'WEB_HOOK_VERIFY' });

beforeAll(async () => {
  stack = await startTestStack();
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  webhookUrl = `${stack.urls.gateway}/handover/eightByEight`;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const post = async (
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) => {
  const response = await fetch(webhookUrl, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Nothing reached the inbound queue, its consumer, the claims table or Cognigy. */
async function expectNothingForwarded(): Promise<void> {
  const sqs = stackSqsClient(stack);
  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  try {
    expect(await queueDepth(sqs, stack, 'handoverInbound')).toEqual({
      visible: 0,
      inFlight: 0,
      delayed: 0,
      dlq: 0,
    });
    expect(stack.pollerStats().handoverInbound.invocations).toBe(0);
    const claims = await dynamo.send(new ScanCommand({ TableName: stack.tables.idempotency }));
    expect(claims.Items ?? []).toEqual([]);
    expect(cognigy.calls).toEqual([]);
  } finally {
    sqs.destroy();
    dynamo.destroy();
  }
}

test('by default an unsigned WEB_HOOK_VERIFY is refused 401; a signed one is answered 200; nothing is forwarded', async () => {
  expect(await post(VERIFY)).toMatchObject({ status: 401, body: { error: { code: 'SIGNATURE_MISSING' } } });
  expect(await chat.sendVerify({ signed: false, url: webhookUrl })).toBe(401);
  expect(await chat.sendVerify({ signed: true, url: webhookUrl })).toBe(200);
  expect(await post(VERIFY, chat.signedHeaders(VERIFY))).toEqual({ status: 200, body: { ok: true } });
  await expectNothingForwarded();
});

test('with ACCEPT_UNSIGNED_VERIFY=true an unsigned verify is answered 200 and still nothing is forwarded', async () => {
  // As a configuration change in AWS: the webhook function's next invocation runs in a sandbox with the setting.
  stack.updateFunctionSettings('handover-webhook', { [SETTINGS.acceptUnsignedVerify]: 'true' });
  try {
    expect(await chat.sendVerify({ signed: false, url: webhookUrl })).toBe(200);
    // A "verify" that carries an event's fields is still only a verify: nothing of it goes anywhere.
    const loaded = JSON.stringify({
      notificationVersion: 'Chat Gateway v1.0',
      eventType: 'WEB_HOOK_VERIFY',
      conversationId: 'conv-1',
      data: { sender: { type: 'agent', id: 'a' }, text: 'forged' },
    });
    expect(await post(loaded)).toEqual({ status: 200, body: { ok: true } });
    // Any other unsigned event is refused as before.
    const message = JSON.stringify({
      eventType: 'MESSAGE',
      conversationId: 'conv-1',
      timestamp: 1,
      data: {},
    });
    expect(await post(message)).toMatchObject({
      status: 401,
      body: { error: { code: 'SIGNATURE_MISSING' } },
    });
  } finally {
    stack.updateFunctionSettings('handover-webhook', { [SETTINGS.acceptUnsignedVerify]: undefined });
  }
  await expectNothingForwarded();
});
