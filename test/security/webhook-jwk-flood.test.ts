/**
 * Issue 10, gap 2 on the real local stack: a flood of 1000 events signed under random `kid`s must not starve a
 * genuine event signed with a freshly rotated 8x8 key. Figures (printed, never asserted): flood answers, JWK lookups
 * the flood caused, and the genuine event's attempts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigySimulator } from '../../lib/simulators/cognigy';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const FLOOD_SIZE = 1000;
const FLOOD_CONCURRENCY = 20;

let stack: LocalStack;
let api: ApiClient;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let webhookUrl: string;

beforeAll(async () => {
  // A new stack starts new function sandboxes: the webhook's JWK cache is cold.
  stack = await startTestStack({
    settings: { UPSTREAM_TIMEOUT_MS: '3000', RETRY_BASE_DELAY_SECONDS: '1', RETRY_MAX_DELAY_SECONDS: '1' },
    maxReceiveCount: { handoverInbound: 10, handoverOutbound: 10 },
    simulators: { chatGateway: { retryDelaysMs: [100, 200, 400, 800, 1600], deliveryTimeoutMs: 10_000 } },
  });
  api = apiClient(stack);
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  webhookUrl = `${stack.urls.gateway}/handover/eightByEight`;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** A delivery with 8x8's headers and a well-formed signature under a random kid (its value is junk). */
function forgedDelivery(conversationId: string): { headers: Record<string, string>; body: string } {
  const kid = randomBytes(16).toString('base64url');
  const header = Buffer.from(JSON.stringify({ b64: false, crit: ['b64'], kid, alg: 'RS256' })).toString(
    'base64url',
  );
  const body = JSON.stringify({
    eventType: 'MESSAGE',
    conversationId,
    timestamp: Date.now(),
    data: { isEcho: false, sender: { id: 'agent-x', type: 'agent' }, text: 'flood' },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-8x8-tenant-id': 'tenant',
      'x-8x8-customer-id': 'customer',
      'x-8x8-event-id': randomUUID(),
      'x-8x8-transmission-time': String(Date.now()),
      'x-8x8-retry': '0',
      'x-8x8-signature': `${header}..${randomBytes(256).toString('base64url')}`,
    },
  };
}

test('a genuine event signed with a newly rotated key is accepted during a flood of 1000 random kids', async () => {
  const session = { userId: 'user-flood', sessionId: `session-flood-${randomUUID()}`, URLToken: 't-flood' };
  const started = await api.post<{ conversationId: string }>('/handover', {
    cognigy: session,
    channelId: 'chat-api-channel',
  });
  expect(started.status).toBe(201);
  const { conversationId } = started.body;
  await chat.agentJoin(conversationId, 'agent-flood');
  await waitFor('the agent-joined inject', () =>
    cognigy.callsFor(session.sessionId).some((c) => c.mode === 'inject'),
  );

  const newKid = chat.rotateKey();
  const lookupsBefore = chat.jwkLookups.length;
  const statuses = new Map<number, number>();
  let sent = 0;
  let acceptedAfter: number | undefined;
  const genuineText = 'genuine: signed with the rotated key';
  const notified = () =>
    cognigy.callsFor(session.sessionId).some((c) => c.mode === 'notify' && c.body.text === genuineText);

  const floodStartedAt = performance.now();
  let genuineSent: Promise<void> | undefined;
  const worker = async () => {
    while (sent < FLOOD_SIZE) {
      sent++;
      // The genuine event goes out once the flood has spent the lookup budget.
      if (sent === 100) genuineSent = chat.agentSay(conversationId, genuineText);
      if (acceptedAfter === undefined && genuineSent && notified()) acceptedAfter = sent;
      const { headers, body } = forgedDelivery(conversationId);
      const response = await fetch(webhookUrl, { method: 'POST', headers, body });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, worker));
  const floodMs = performance.now() - floodStartedAt;
  await genuineSent;
  await waitFor('the genuine notify', notified);

  const genuineEvent = chat.events.find((e) => e.body.includes(genuineText))!;
  const attempts = chat.deliveries.filter((d) => d.eventId === genuineEvent.eventId);
  const floodLookups = chat.jwkLookups.slice(lookupsBefore).filter((l) => l.kid !== newKid);
  console.log(
    [
      `JWK flood on the local stack (informational): ${FLOOD_SIZE} forged kids, ${FLOOD_CONCURRENCY} at a time, ${floodMs.toFixed(0)} ms`,
      `  flood answers: ${[...statuses].map(([status, count]) => `${status}×${count}`).join(', ')}`,
      `  JWK URL calls for forged kids: ${floodLookups.length}; for the rotated kid: ${chat.jwkLookups.filter((l) => l.kid === newKid).length}`,
      `  genuine event attempts: ${attempts.map((a) => `retry ${a.retry} → ${a.status}`).join(', ')}`,
      `  genuine accepted after ${acceptedAfter ?? 'the end of'} of ${FLOOD_SIZE} forged deliveries`,
    ].join('\n'),
  );

  // Accepted while the flood was still going, and the flood could not use 8x8's JWK URL as a load generator.
  expect(acceptedAfter).toBeDefined();
  expect(acceptedAfter!).toBeLessThan(FLOOD_SIZE);
  expect(attempts.at(-1)?.status).toBe(200);
  expect(floodLookups.length).toBeLessThanOrEqual(3 * 20); // two budgets of 10 kids, 3 attempts each
  expect([...statuses.keys()].every((status) => status === 401 || status === 503)).toBe(true);
}, 120_000);
