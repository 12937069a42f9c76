/**
 * The Cognigy Extension's nodes against the real local stack (issue 11 item 1): the archive is built and unpacked
 * (test/helpers/extension.ts), each node's function runs with a recording `cognigy` object, and the test checks what
 * it stored where, which exit it took, and what reached the 8x8 and Cognigy simulators. Includes 4xx answers, a
 * timeout (8x8 slower than the node's timeout while the bridge waits for the umid) and a bridge that is down.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigyCall, CognigySimulator } from '../../lib/simulators/cognigy';
import type { SmsSimulator } from '../../lib/simulators/sms';
import { newSession, type Session } from '../helpers/cognigy-session';
import { loadBuiltExtension, runNode, type LoadedExtension, type RunOptions } from '../helpers/extension';
import { startTestStack } from '../helpers/local';
import { waitFor } from '../helpers/wait';

let extension: LoadedExtension;
let stack: LocalStack;
let sms: SmsSimulator;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let connection: { baseUrl: string; apiKey: string };

beforeAll(async () => {
  extension = loadBuiltExtension();
  stack = await startTestStack({
    env: { LOG_LEVEL: 'ERROR' },
    settings: { UPSTREAM_TIMEOUT_MS: '6000', RETRY_BASE_DELAY_SECONDS: '1', RETRY_MAX_DELAY_SECONDS: '1' },
    simulators: { sms: { receiptDelayMs: 20 } },
  });
  sms = stack.sms!;
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  connection = { baseUrl: stack.urls.gateway, apiKey: stack.apiKey };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  extension?.cleanup();
});

afterEach(() => sms.clearFaults());

const run = (type: string, config: Record<string, unknown>, options?: RunOptions) =>
  runNode(extension, type, { connection, ...config }, options);

/** The input of a flow run by a user's message in `session`. */
const userInput = (session: Session, text: string) => ({
  ...session,
  text,
  inputId: randomUUID(),
  data: {},
});

/** The input of a flow run by a push of the bridge into the session, as Cognigy's Endpoint passes it on. */
const injectedInput = (call: CognigyCall) => ({
  userId: call.body.userId,
  sessionId: call.body.sessionId,
  URLToken: call.urlToken,
  text: typeof call.body.text === 'string' ? call.body.text : '',
  inputId: randomUUID(),
  data: call.body.data as Record<string, unknown>,
});

const freshNumber = () => `+6591${String(Math.floor(100_000 + Math.random() * 899_999))}`;

/** A port on this machine with nothing listening. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---- SMS ------------------------------------------------------------------------------------------------------

describe('Send SMS', () => {
  test("stores the bridge's 202 under context.sms8x8 (the keys Cognigy's node stores) and takes On Success", async () => {
    const clientMessageId = `ext-${randomUUID()}`;
    const result = await run('sendSMS', {
      destination: freshNumber(),
      text: 'Your code is 123456',
      clientMessageId,
    });

    expect(result.exitLabel).toBe('On Success');
    expect(result.stored.map((s) => [s.where, s.key, s.mode])).toEqual([['context', 'sms8x8', 'simple']]);
    const stored = result.value('context', 'sms8x8');
    expect(stored).toMatchObject({
      ok: true,
      clientMessageId,
      umid: null,
      encoding: 'GSM7',
      smsCount: 1,
      status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
    });
    expect(stored.messageId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('8x8 to receive the SMS', () => sms.receivedFor(clientMessageId)[0]);
  });

  test("every field of Cognigy's node reaches 8x8; waitForUmidMs brings 8x8's umid; storage in the input", async () => {
    const clientMessageId = `ext-${randomUUID()}`;
    const scheduled = new Date(Date.now() + 3_600_000).toISOString();
    const expiry = new Date(Date.now() + 7_200_000).toISOString();
    const result = await run('sendSMS', {
      destination: '9123 4567',
      country: 'SG',
      text: 'Grüße 😀',
      source: 'MyBrand',
      clientMessageId,
      encoding: 'AUTO',
      scheduled,
      expiry,
      clientIp: '203.0.113.7',
      track: 'Outcome',
      waitForUmidMs: 5000,
      storeLocation: 'input',
      inputKey: 'sms',
    });

    expect(result.exitLabel).toBe('On Success');
    const [received] = sms.receivedFor(clientMessageId);
    expect(result.value('input', 'sms')).toMatchObject({
      umid: received!.umid,
      destination: '+6591234567',
      encoding: 'UCS2',
      status: { code: 'QUEUED' },
    });
    expect(result.input.sms).toBe(result.value('input', 'sms'));
    expect(received!.request).toMatchObject({
      destination: '+6591234567',
      text: 'Grüße 😀',
      source: 'MyBrand',
      clientIp: '203.0.113.7',
      track: 'Outcome',
    });
    expect(Date.parse(received!.request.scheduled as string)).toBe(Date.parse(scheduled));
    expect(Date.parse(received!.request.expiry as string)).toBe(Date.parse(expiry));
  });

  test('a 4xx from the bridge: On Error with its code, details and HTTP status stored', async () => {
    const result = await run('sendSMS', { destination: 'not a number', text: 'Hi' });
    expect(result.exitLabel).toBe('On Error');
    expect(result.value('context', 'sms8x8')).toMatchObject({
      ok: false,
      httpStatus: 400,
      error: { code: 'INVALID_DESTINATION', details: [expect.objectContaining({ path: 'destination' })] },
    });
  });

  test('a wrong API key: On Error with the gateway answer (403 FORBIDDEN)', async () => {
    const result = await runNode(extension, 'sendSMS', {
      connection: { ...connection, apiKey: 'not-the-key' },
      destination: freshNumber(),
      text: 'Hi',
    });
    expect(result.exitLabel).toBe('On Error');
    expect(result.value('context', 'sms8x8')).toMatchObject({
      httpStatus: 403,
      error: { code: 'FORBIDDEN' },
    });
  });

  test('the bridge slower than the node timeout: On Error with BRIDGE_TIMEOUT and no HTTP status', async () => {
    // 8x8 answers after 3 s and the bridge waits for it; the node gives up after 500 ms.
    sms.setFaults({ latencyMs: 3_000 });
    const clientMessageId = `ext-${randomUUID()}`;
    const result = await run('sendSMS', {
      destination: freshNumber(),
      text: 'Slow',
      clientMessageId,
      waitForUmidMs: 5000,
      timeoutMs: 500,
    });
    expect(result.exitLabel).toBe('On Error');
    expect(result.value('context', 'sms8x8')).toEqual({
      ok: false,
      httpStatus: null,
      error: { code: 'BRIDGE_TIMEOUT', message: 'The bridge did not answer within 500 ms' },
    });
    // The SMS itself was accepted all the same: a repeat with the same id is the same SMS.
    await waitFor('the slow 8x8 to take the SMS', () => sms.receivedFor(clientMessageId)[0], {
      timeoutMs: 15_000,
    });
  });

  test('the bridge is down (nothing listens on the port): On Error with BRIDGE_UNREACHABLE', async () => {
    const port = await deadPort();
    const result = await runNode(extension, 'sendSMS', {
      connection: { ...connection, baseUrl: `http://127.0.0.1:${port}` },
      destination: freshNumber(),
      text: 'Hi',
    });
    expect(result.exitLabel).toBe('On Error');
    expect(result.value('context', 'sms8x8')).toMatchObject({
      ok: false,
      httpStatus: null,
      error: { code: 'BRIDGE_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') },
    });
  });

  test('an empty connection: On Error with CONNECTION_INVALID, nothing sent', async () => {
    const result = await runNode(extension, 'sendSMS', {
      connection: {},
      destination: freshNumber(),
      text: 'Hi',
    });
    expect(result.exitLabel).toBe('On Error');
    expect(result.value('context', 'sms8x8')).toMatchObject({ error: { code: 'CONNECTION_INVALID' } });
  });

  test('"Send once per input": the node running twice for one input sends one SMS', async () => {
    const destination = freshNumber();
    const input = { inputId: randomUUID() };
    const first = await run(
      'sendSMS',
      { destination, text: 'Once', clientMessageIdFromInput: true },
      { input },
    );
    const second = await run(
      'sendSMS',
      { destination, text: 'Once', clientMessageIdFromInput: true },
      { input },
    );
    const a = first.value('context', 'sms8x8');
    expect(a.clientMessageId).toBe(`${input.inputId}:node-sendSMS`);
    expect(second.value('context', 'sms8x8').messageId).toBe(a.messageId);
    await waitFor('8x8 to receive it', () => sms.receivedFor(a.clientMessageId as string)[0]);
    expect(sms.sendCount(a.clientMessageId as string)).toBe(1);
  });

  test('injected receipts run the flow with input.data.sms; Relay To Agent leaves such an input alone', async () => {
    const session = newSession('receipts');
    const result = await run(
      'sendSMS',
      { destination: freshNumber(), text: 'Tell me when it arrives', injectReceipts: true },
      { input: userInput(session, 'send it') },
    );
    expect(result.exitLabel).toBe('On Success');
    const messageId = result.value('context', 'sms8x8').messageId;
    const injected = await waitFor('the delivered inject', () =>
      cognigy
        .callsFor(session.sessionId)
        .find((c) => (c.body.data as { sms?: { status?: string } }).sms?.status === 'DELIVERED'),
    );
    expect(injected.body.data).toMatchObject({ sms: { messageId }, bridgeEventId: expect.any(String) });

    const relay = await run(
      'relayToAgent',
      {},
      {
        input: injectedInput(injected),
        context: { handover: { conversationId: 'c-1', handover: { status: 'active' } } },
      },
    );
    expect(relay.exitLabel).toBe('Not Relayed');
    expect(relay.value('input', 'handoverRelay')).toEqual({ relayed: false, reason: 'bridgeEvent' });
    expect(relay.stopped).toBe(false);
  });
});

describe('Send SMS Batch and Get SMS Status', () => {
  test('destinations with one text: On Success with every item accepted', async () => {
    const destinations = [freshNumber(), freshNumber()];
    const result = await run('sendSMSBatch', {
      destinations,
      text: 'Appointment tomorrow at 10:00',
      source: 'Clinic',
    });
    expect(result.exitLabel).toBe('On Success');
    const stored = result.value<{
      acceptedCount: number;
      items: { destination: string; encoding: string }[];
    }>('context', 'smsBatch8x8');
    expect(stored.acceptedCount).toBe(2);
    expect(stored.items.map((i) => [i.destination, i.encoding])).toEqual(
      destinations.map((d) => [d, 'GSM7']),
    );
  });

  test('messages given as JSON text, each with its own fields', async () => {
    const messages = JSON.stringify([
      { destination: freshNumber(), text: 'One' },
      { destination: freshNumber(), text: 'Два' },
    ]);
    const result = await run('sendSMSBatch', { messages, storeLocation: 'input', inputKey: 'batch' });
    expect(result.exitLabel).toBe('On Success');
    expect(
      result.value<{ items: { encoding: string }[] }>('input', 'batch').items.map((i) => i.encoding),
    ).toEqual(['GSM7', 'UCS2']);
  });

  test('no valid item: On Error with 400 BATCH_REJECTED; no destinations at all: FIELD_MISSING without a call', async () => {
    const rejected = await run('sendSMSBatch', { destinations: ['12'], text: 'Hi' });
    expect(rejected.exitLabel).toBe('On Error');
    expect(rejected.value('context', 'smsBatch8x8')).toMatchObject({
      httpStatus: 400,
      error: { code: 'BATCH_REJECTED' },
    });

    const empty = await run('sendSMSBatch', { text: 'Hi' });
    expect(empty.exitLabel).toBe('On Error');
    expect(empty.value('context', 'smsBatch8x8')).toMatchObject({
      httpStatus: null,
      error: { code: 'FIELD_MISSING' },
    });
  });

  test('Get SMS Status: the record of a sent SMS; an unknown id is On Error with 404 MESSAGE_NOT_FOUND', async () => {
    const clientMessageId = `ext-${randomUUID()}`;
    const sent = await run('sendSMS', { destination: freshNumber(), text: 'Status?', clientMessageId });
    const messageId = sent.value('context', 'sms8x8').messageId as string;
    const delivered = await waitFor('the SMS to be delivered', async () => {
      const result = await run('getSMSStatus', { messageId });
      const stored = result.value<{ status: { code: string } }>('context', 'smsStatus8x8');
      return stored.status?.code === 'DELIVERED' ? result : undefined;
    });
    expect(delivered.exitLabel).toBe('On Success');
    expect(delivered.value('context', 'smsStatus8x8')).toMatchObject({
      messageId,
      clientMessageId,
      umid: sms.receivedFor(clientMessageId)[0]!.umid,
    });

    const unknown = await run('getSMSStatus', { messageId: randomUUID() });
    expect(unknown.exitLabel).toBe('On Error');
    expect(unknown.value('context', 'smsStatus8x8')).toMatchObject({
      httpStatus: 404,
      error: { code: 'MESSAGE_NOT_FOUND' },
    });
  });
});

// ---- Handover -------------------------------------------------------------------------------------------------

describe('Handover nodes', () => {
  const injectsOf = (session: Session, status: string) => () =>
    cognigy
      .callsFor(session.sessionId)
      .find(
        (c) =>
          c.mode === 'inject' &&
          (c.body.data as { handover?: { status?: string } }).handover?.status === status,
      );

  test('a whole handover: start with the session transcript, relay, agent events, end, look up', async () => {
    const session = newSession('extension');
    const transcript = [
      { source: 'user', text: 'My order is late' },
      { source: 'bot', text: 'Let me find an agent for you' },
      { source: 'user', text: '' },
    ];
    const start = await run(
      'startEightByEightHandover',
      {
        channelId: 'chat-api-channel',
        queueId: 'queue-42',
        customerName: 'Ada Lovelace',
        customerEmail: 'ada@example.com',
        customerLanguage: 'en-GB',
        properties: { plan: 'gold' },
      },
      { input: userInput(session, 'agent please'), context: { transcript } },
    );
    expect(start.exitLabel).toBe('On Success');
    const handover = start.value<{ conversationId: string; handover: { status: string } }>(
      'context',
      'handover',
    );
    expect(handover).toMatchObject({ ok: true, handover: { status: 'queue' } });
    const { conversationId } = handover;
    const c = chat.conversation(conversationId);
    expect(c).toMatchObject({ channelId: 'chat-api-channel', assignment: { type: 'queue', id: 'queue-42' } });
    expect(c.user).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', language: 'en' });
    expect(c.properties).toMatchObject({ plan: 'gold' });
    expect(c.history.map((m) => [m.authorType, m.text])).toEqual([
      ['user', 'My order is late'],
      ['bot', 'Let me find an agent for you'],
    ]);

    // The user writes: the text goes to the agent and the flow stops.
    let context = start.context;
    const relayed = await run(
      'relayToAgent',
      {},
      { input: userInput(session, 'Order 42, please hurry'), context },
    );
    expect(relayed.exitLabel).toBe('Relayed');
    expect(relayed.stopped).toBe(true);
    expect(relayed.value('input', 'handoverRelay')).toMatchObject({
      ok: true,
      relayed: true,
      conversationId,
    });
    await waitFor('8x8 to get the user text', () =>
      chat.conversation(conversationId).userMessages.find((m) => m.text === 'Order 42, please hurry'),
    );

    // The agent joins: the bridge injects `active`; Relay To Agent lets it through and records the status.
    await chat.agentJoin(conversationId, 'agent-ada');
    const active = await waitFor('the active inject', injectsOf(session, 'active'));
    const event = await run('relayToAgent', {}, { input: injectedInput(active), context });
    expect(event.exitLabel).toBe('Not Relayed');
    expect(event.value('input', 'handoverRelay')).toEqual({
      relayed: false,
      reason: 'bridgeEvent',
      status: 'active',
    });
    expect(event.context.handover).toMatchObject({ conversationId, handover: { status: 'active' } });
    context = event.context;

    // Get Handover: the stored conversation, as 8x8 and the bridge see it now.
    const got = await run('getEightByEightHandover', {}, { input: userInput(session, ''), context });
    expect(got.exitLabel).toBe('On Success');
    expect(got.value('context', 'handoverStatus8x8')).toMatchObject({
      conversationId,
      handover: { status: 'active' },
    });

    // The user cancels: End Handover; the stored status is `cancelled`, so relaying stops without a call.
    const ended = await run('endEightByEightHandover', {}, { input: userInput(session, 'cancel'), context });
    expect(ended.exitLabel).toBe('On Success');
    expect(ended.value('input', 'handoverEnd')).toMatchObject({
      ok: true,
      handover: { status: 'cancelled' },
    });
    expect(ended.context.handover).toMatchObject({ handover: { status: 'cancelled' } });
    const messages = chat.conversation(conversationId).userMessages.length;
    const after = await run(
      'relayToAgent',
      {},
      { input: userInput(session, 'hello?'), context: ended.context },
    );
    expect(after.exitLabel).toBe('Not Relayed');
    expect(after.value('input', 'handoverRelay')).toEqual({
      relayed: false,
      reason: 'handoverClosed',
      conversationId,
      status: 'cancelled',
    });
    expect(chat.conversation(conversationId).userMessages).toHaveLength(messages);
  });

  test('the transcript from the runtime (getTranscript, role/payload entries) is what the agent sees', async () => {
    const session = newSession('transcript');
    const getTranscript = async () => [
      { role: 'user', type: 'input', payload: { text: 'Where is my parcel?' } },
      { role: 'assistant', type: 'output', payload: { text: 'Connecting you to an agent' } },
      { role: 'system', payload: { text: 'ignored' } },
    ];
    const start = await run(
      'startEightByEightHandover',
      { channelId: 'chat-api-channel' },
      { input: userInput(session, 'agent'), api: { getTranscript } },
    );
    expect(start.exitLabel).toBe('On Success');
    const { conversationId } = start.value<{ conversationId: string }>('context', 'handover');
    expect(chat.conversation(conversationId).history.map((m) => [m.authorType, m.text])).toEqual([
      ['user', 'Where is my parcel?'],
      ['bot', 'Connecting you to an agent'],
    ]);
    await run('endEightByEightHandover', {}, { input: userInput(session, ''), context: start.context });
  });

  test('Start without a channel: FIELD_MISSING; without a Cognigy session: the bridge 400', async () => {
    const noChannel = await run('startEightByEightHandover', {}, { input: userInput(newSession('x'), '') });
    expect(noChannel.exitLabel).toBe('On Error');
    expect(noChannel.value('context', 'handover')).toMatchObject({ error: { code: 'FIELD_MISSING' } });

    const noSession = await run(
      'startEightByEightHandover',
      { channelId: 'chat-api-channel' },
      { input: {} },
    );
    expect(noSession.exitLabel).toBe('On Error');
    expect(noSession.value('context', 'handover')).toMatchObject({ ok: false, httpStatus: 400 });
  });

  test('Relay To Agent without a handover does nothing; after the agent left, the bridge says the chat is closed', async () => {
    const session = newSession('closed');
    const none = await run('relayToAgent', {}, { input: userInput(session, 'hi') });
    expect(none.exitLabel).toBe('Not Relayed');
    expect(none.value('input', 'handoverRelay')).toEqual({ relayed: false, reason: 'noHandover' });

    const start = await run(
      'startEightByEightHandover',
      { channelId: 'chat-api-channel' },
      { input: userInput(session, '') },
    );
    const { conversationId } = start.value<{ conversationId: string }>('context', 'handover');
    await chat.agentJoin(conversationId, 'agent-x');
    await waitFor('the active inject', injectsOf(session, 'active'));
    await chat.agentLeave(conversationId);
    await waitFor('the completed inject', injectsOf(session, 'completed'));
    // The flow has not seen the `completed` inject: its stored status is still `queue`.
    const closed = await run(
      'relayToAgent',
      {},
      { input: userInput(session, 'still there?'), context: start.context },
    );
    expect(closed.exitLabel).toBe('Not Relayed');
    expect(closed.value('input', 'handoverRelay')).toMatchObject({
      relayed: false,
      reason: 'handoverClosed',
      httpStatus: 409,
      error: { code: 'HANDOVER_CLOSED' },
    });
  });

  test('Relay To Agent for another session: On Error with 403 HANDOVER_SESSION_MISMATCH; bridge down: On Error', async () => {
    const owner = newSession('owner');
    const start = await run(
      'startEightByEightHandover',
      { channelId: 'chat-api-channel' },
      { input: userInput(owner, '') },
    );
    const context = start.context;
    const other = await run('relayToAgent', {}, { input: userInput(newSession('intruder'), 'hi'), context });
    expect(other.exitLabel).toBe('On Error');
    expect(other.value('input', 'handoverRelay')).toMatchObject({
      relayed: false,
      reason: 'error',
      httpStatus: 403,
      error: { code: 'HANDOVER_SESSION_MISMATCH' },
    });
    expect(other.stopped).toBe(false);

    const port = await deadPort();
    const down = await runNode(
      extension,
      'relayToAgent',
      { connection: { ...connection, baseUrl: `http://127.0.0.1:${port}` } },
      { input: userInput(owner, 'hi'), context },
    );
    expect(down.exitLabel).toBe('On Error');
    expect(down.value('input', 'handoverRelay')).toMatchObject({
      httpStatus: null,
      error: { code: 'BRIDGE_UNREACHABLE' },
    });
    await run('endEightByEightHandover', {}, { input: userInput(owner, ''), context });
  });

  test('Get Handover without a stored conversation finds the open one of the session, or answers 404', async () => {
    const session = newSession('lookup');
    const missing = await run('getEightByEightHandover', {}, { input: userInput(session, '') });
    expect(missing.exitLabel).toBe('On Error');
    expect(missing.value('context', 'handoverStatus8x8')).toMatchObject({
      httpStatus: 404,
      error: { code: 'HANDOVER_NOT_FOUND' },
    });

    const start = await run(
      'startEightByEightHandover',
      { channelId: 'chat-api-channel' },
      { input: userInput(session, '') },
    );
    const { conversationId } = start.value<{ conversationId: string }>('context', 'handover');
    const found = await run('getEightByEightHandover', {}, { input: userInput(session, '') });
    expect(found.exitLabel).toBe('On Success');
    expect(found.value('context', 'handoverStatus8x8')).toMatchObject({
      conversationId,
      handover: { status: 'queue' },
    });

    const timedOut = await run(
      'getEightByEightHandover',
      { timeoutMs: 1 },
      { input: userInput(session, '') },
    );
    expect(timedOut.exitLabel).toBe('On Error');
    expect(timedOut.value('context', 'handoverStatus8x8')).toMatchObject({
      error: { code: 'BRIDGE_TIMEOUT' },
    });
    await run('endEightByEightHandover', {}, { input: userInput(session, ''), context: start.context });
  });

  test('End Handover without a conversation: FIELD_MISSING; an unknown one: 404 HANDOVER_NOT_FOUND', async () => {
    const none = await run('endEightByEightHandover', {}, { input: userInput(newSession('end'), '') });
    expect(none.exitLabel).toBe('On Error');
    expect(none.value('input', 'handoverEnd')).toMatchObject({ error: { code: 'FIELD_MISSING' } });
    const unknown = await run(
      'endEightByEightHandover',
      { conversationId: 'no-such-conversation' },
      { input: userInput(newSession('end'), '') },
    );
    expect(unknown.exitLabel).toBe('On Error');
    expect(unknown.value('input', 'handoverEnd')).toMatchObject({
      httpStatus: 404,
      error: { code: 'HANDOVER_NOT_FOUND' },
    });
  });
});
