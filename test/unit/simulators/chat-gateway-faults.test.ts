/**
 * Chat Gateway simulator behaviour the handover integration tests rely on: an agent never joins ahead of 8x8's
 * routing events, a skewed sender clock (correctly signed, stale transmission time), delivery durations, and the
 * request log keeping the bodies of attempts refused by injected faults.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatGatewaySimulator } from '../../../lib/simulators/chat-gateway';
import { httpJwkFetcher, JwkCache } from '../../../functions/handover/jwk-cache';
import { verifyWebhookSignature } from '../../../functions/handover/signature';

const API_KEY = 'sim-key';
const TENANT = 'tenant-faults';

interface Delivery {
  headers: Record<string, string>;
  body: string;
  event: { eventType: string; conversationId?: string; data?: Record<string, unknown> };
}

let sim: ChatGatewaySimulator;
let server: Server;
const delivered: Delivery[] = [];

beforeAll(async () => {
  // A slow lifecycle, so a join asked for right after the create really races the routing events.
  sim = new ChatGatewaySimulator({
    apiKey: API_KEY,
    tenant: TENANT,
    retryDelaysMs: [],
    lifecycleStepMs: 200,
  });
  await sim.start();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      delivered.push({ headers, body, event: JSON.parse(body) as Delivery['event'] });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sim.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
});

beforeEach(async () => {
  await sim.settled();
  sim.reset();
  delivered.length = 0;
});

afterAll(async () => {
  await sim.stop();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function create(): Promise<string> {
  const response = await fetch(`${sim.url}/chat-gateway/v1/conversations`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'x-8x8-tenant': TENANT, 'content-type': 'application/json' },
    body: JSON.stringify({ channelId: 'chan-1', user: { language: 'en' } }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { conversationId: string }).conversationId;
}

const kinds = (conversationId: string) =>
  delivered
    .filter((d) => d.event.conversationId === conversationId)
    .map((d) => {
      const data = d.event.data ?? {};
      return [d.event.eventType, data.state ?? data.change ?? data.queueId].filter(Boolean).join(':');
    });

test('an agent asked to join before 8x8 has queued the chat joins after the routing events', async () => {
  const id = await create();
  const joined = sim.agentJoin(id, 'agent-early');
  expect(sim.conversation(id).agentId).toBeUndefined();
  await joined;
  await sim.settled();

  expect(kinds(id)).toEqual([
    'CONVERSATION_UPDATE:created',
    'QUEUED:queue-1',
    'CONVERSATION_UPDATE:active',
    'MEMBERS_CHANGED:joined',
    'CONVERSATION_UPDATE:active',
  ]);
  expect(sim.conversation(id)).toMatchObject({ agentId: 'agent-early', state: 'active' });
});

test('a join waiting for routing neither hangs nor happens when the user left meanwhile', async () => {
  const id = await create();
  const removed = await fetch(`${sim.url}/chat-gateway/v1/conversations/${id}/participants/user`, {
    method: 'PATCH',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ removed: true }),
  });
  expect(removed.status).toBe(204);
  await sim.agentJoin(id, 'agent-late');
  await sim.settled();
  // The abandoned chat is not offered to the agent.
  expect(sim.conversation(id).agentId).toBeUndefined();
  expect(kinds(id)).not.toContain('MEMBERS_CHANGED:joined');
  expect(kinds(id)).toContain('MEMBERS_CHANGED:left');
});

test('a skewed sender clock shifts x-8x8-transmission-time and signs it as sent', async () => {
  const id = await create();
  await sim.agentJoin(id, 'agent-clock');
  await sim.settled();
  sim.webhookFaults = { clockSkewMs: -600_000 };
  const before = Date.now();
  await sim.agentSay(id, 'from the past');
  const after = Date.now();
  const delivery = delivered.find((d) => d.event.eventType === 'MESSAGE') as Delivery;

  const tt = Number(delivery.headers['x-8x8-transmission-time']);
  expect(tt).toBeGreaterThanOrEqual(before - 600_000);
  expect(tt).toBeLessThanOrEqual(after - 600_000);

  const keys = new JwkCache({
    fetchJwk: httpJwkFetcher({ urlTemplate: sim.jwkUrlTemplate, timeoutMs: 2000 }),
  });
  // Genuine: it verifies when the receiver allows for the skew…
  await expect(
    verifyWebhookSignature(delivery.body, delivery.headers, { getKey: keys.getKey, maxAgeMs: 3_600_000 }),
  ).resolves.toMatchObject({ transmissionTime: tt });
  // …and is stale for the bridge's default window.
  await expect(
    verifyWebhookSignature(delivery.body, delivery.headers, { getKey: keys.getKey, maxAgeMs: 300_000 }),
  ).rejects.toMatchObject({ code: 'EVENT_STALE' });
});

test('the webhook fault control takes clockSkewMs and refuses a value that is not a number', async () => {
  const post = (body: unknown) =>
    fetch(`${sim.url}/__control/faults/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await post({ clockSkewMs: -1000 })).status).toBe(202);
  expect(sim.webhookFaults).toEqual({ clockSkewMs: -1000 });
  expect((await post({ clockSkewMs: 'yesterday' })).status).toBe(400);
  expect(sim.webhookFaults).toEqual({ clockSkewMs: -1000 });
});

test('each delivery records how long the receiver took to answer', async () => {
  await create();
  await sim.settled();
  expect(sim.deliveries.length).toBeGreaterThan(0);
  for (const delivery of sim.deliveries) {
    expect(delivery.status).toBe(200);
    expect(typeof delivery.durationMs).toBe('number');
    expect(delivery.durationMs).toBeGreaterThanOrEqual(0);
  }
});

test('requests refused by an injected fault keep their body in the request log', async () => {
  const id = await create();
  await sim.settled();
  sim.failApiCalls(503, 1, { operation: 'sendMessage' });
  const send = () =>
    fetch(`${sim.url}/chat-gateway/v1/conversations/${id}/messages`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ authorType: 'user', text: 'Anyone there?' }),
    });
  expect((await send()).status).toBe(503);
  expect((await send()).status).toBe(202);
  const sends = sim.requests.filter((r) => r.operation === 'sendMessage');
  expect(sends.map((r) => [r.status, r.body])).toEqual([
    [503, { authorType: 'user', text: 'Anyone there?' }],
    [202, { authorType: 'user', text: 'Anyone there?' }],
  ]);
  expect(sim.conversation(id).userMessages.map((m) => m.text)).toEqual(['Anyone there?']);
});
