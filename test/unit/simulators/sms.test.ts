/**
 * The 8x8 SMS simulator over real HTTP: validation answers like 8x8's, recording, delivery receipts to a local
 * receiver (with retries), fault injection and the HTTP controls.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  SmsSimulator,
  UnknownInboundSmsError,
  type SmsDeliveryReceipt,
  type SmsInboundEvent,
  type SmsSimulatorOptions,
} from '../../../lib/simulators/sms';
import { validateSmsBatchResponse, validateSmsResponse } from '../../../lib/simulators/contract/sms-schema';
import { waitFor } from '../../helpers/wait';

const API_KEY = 'test-api-key';
const SUB_ACCOUNT = 'SubAccount-1';
const WEBHOOK_AUTH = 'Basic dXNlcjpwYXNzd29yZA==';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EIGHT_BY_EIGHT_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$/;

/**
 * A tiny webhook: records receipts and inbound events and answers scripted statuses per clientMessageId (receipts)
 * or umid (inbound events), then 200.
 */
class Receiver {
  readonly requests: { headers: http.IncomingHttpHeaders; body: SmsDeliveryReceipt; path: string }[] = [];
  readonly inbound: { headers: http.IncomingHttpHeaders; body: SmsInboundEvent; path: string }[] = [];
  readonly statuses = new Map<string, number[]>();
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    req.on('end', () => {
      const parsed = JSON.parse(raw) as SmsDeliveryReceipt | SmsInboundEvent;
      let key: string;
      if (parsed.eventType === 'inbound_message_received') {
        this.inbound.push({ headers: req.headers, body: parsed, path: req.url ?? '' });
        key = parsed.payload.umid;
      } else {
        this.requests.push({ headers: req.headers, body: parsed, path: req.url ?? '' });
        key = parsed.payload.clientMessageId ?? '';
      }
      res.writeHead(this.statuses.get(key)?.shift() ?? 200);
      res.end();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const receiver = new Receiver();
let sim: SmsSimulator;
let base: string;

async function startSim(options: Partial<SmsSimulatorOptions> = {}): Promise<void> {
  sim = new SmsSimulator({
    apiKey: API_KEY,
    subAccountId: SUB_ACCOUNT,
    webhookUrl: `${receiver.url}/webhooks/8x8/sms`,
    webhookAuthorization: WEBHOOK_AUTH,
    receiptDelayMs: 5,
    receiptRetryScale: 0.001,
    ...options,
  });
  base = await sim.start(0);
}

function send(
  body: unknown,
  init: {
    key?: string | null;
    subAccount?: string;
    batch?: boolean;
    signal?: AbortSignal;
    raw?: string;
  } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers.authorization = `Bearer ${init.key ?? API_KEY}`;
  const url = `${base}/api/v1/subaccounts/${init.subAccount ?? SUB_ACCOUNT}/messages${init.batch ? '/batch' : ''}`;
  return fetch(url, {
    method: 'POST',
    headers,
    body: init.raw ?? JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

async function sendJson(body: unknown, init: Parameters<typeof send>[1] = {}) {
  const res = await send(body, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(() => receiver.start());
afterAll(() => receiver.stop());
beforeEach(async () => {
  receiver.requests.length = 0;
  receiver.inbound.length = 0;
  receiver.statuses.clear();
  await startSim();
});
afterEach(() => sim.stop());

describe('single send validation', () => {
  it('accepts a valid SMS with 200 QUEUED and an SmsResponse that matches the OAS', async () => {
    const res = await sendJson({
      destination: '+6512345678',
      text: 'Hello world!',
      source: 'AwesomeName',
      clientMessageId: '1234',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      umid: expect.stringMatching(UUID),
      clientMessageId: '1234',
      destination: '6512345678',
      encoding: 'GSM7',
      status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
    });
    expect(validateSmsResponse(res.body)).toEqual({ valid: true, errors: [] });
  });

  it('answers clientMessageId null when none was sent, detects UCS2, and can echo the + when configured', async () => {
    const res = await sendJson({ destination: '+6512345678', text: 'Привет ☺' });
    expect(res.body).toMatchObject({ clientMessageId: null, encoding: 'UCS2' });

    await sim.stop();
    await startSim({ echoDestinationWithPlus: true });
    expect((await sendJson({ destination: '6512345678', text: 'x' })).body.destination).toBe('+6512345678');
  });

  it("accepts the body Cognigy's 8x8 extension sends (country null, encoding AUTO)", async () => {
    const res = await sendJson({
      destination: '+6512345678',
      text: 'Hi',
      source: 'Cognigy',
      country: null,
      encoding: 'AUTO',
      clientMessageId: 'cx-1',
    });
    expect(res.status).toBe(200);
    expect(sim.received[0]?.request).not.toHaveProperty('country');
  });

  it('turns a national number with country into E.164', async () => {
    await sendJson({ destination: '2025550308', country: 'US', text: 'Hi', clientMessageId: 'nat-1' });
    expect(sim.receivedFor('nat-1')[0]?.destination).toBe('+12025550308');
  });

  const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
  it.each([
    [
      'a bad destination',
      1002,
      { destination: '0651234', text: 'x' },
      'Invalid MSISDN format (not E.164 international number)',
    ],
    ['a missing destination', 1002, { text: 'x' }, 'Invalid MSISDN format (not E.164 international number)'],
    ['a missing text', 1004, { destination: '+6512345678' }, 'Text value is missing'],
    ['an empty text', 1004, { destination: '+6512345678', text: '' }, 'Text value is missing'],
    [
      'an unknown encoding',
      1003,
      { destination: '+6512345678', text: 'x', encoding: 'UTF8' },
      'Invalid Encoding',
    ],
    [
      'a source over 16 characters',
      3011,
      { destination: '+6512345678', text: 'x', source: '12345678901234567' },
      'Invalid Source value. Reached max allowed limit',
    ],
    [
      'an alphanumeric source over 11',
      1005,
      { destination: '+6512345678', text: 'x', source: 'AwesomeBrand' },
      'Invalid Source value. Reached max allowed limit',
    ],
    [
      'a clientMessageId over 350',
      3009,
      { destination: '+6512345678', text: 'x', clientMessageId: 'c'.repeat(351) },
      'Too long ClientMessageId',
    ],
    [
      'a schedule more than 7 days ahead',
      1011,
      { destination: '+6512345678', text: 'x', scheduled: days(8) },
      'Invalid Schedule Time',
    ],
    [
      'an expiry in the past',
      1006,
      { destination: '+6512345678', text: 'x', expiry: days(-1) },
      'Expiry time already reached',
    ],
    [
      'an unknown country',
      1009,
      { destination: '+6512345678', text: 'x', country: 'XX' },
      'Invalid Country Code',
    ],
    [
      'a bad dlrCallbackUrl',
      3020,
      { destination: '+6512345678', text: 'x', dlrCallbackUrl: 'not a url' },
      'Invalid DR Callback URL',
    ],
  ])('refuses %s with 400 and 8x8 code %i', async (_name, code, body, message) => {
    const res = await sendJson(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      code,
      message,
      errorId: expect.stringMatching(UUID),
      timestamp: expect.stringMatching(EIGHT_BY_EIGHT_TIMESTAMP),
    });
    expect(sim.received).toHaveLength(0);
  });

  it('accepts the edges: 7-day schedule, 350-char clientMessageId, 16-digit numeric source, 15-digit number', async () => {
    const res = await sendJson({
      destination: '+123456789012345',
      text: 'x',
      scheduled: days(6.9),
      clientMessageId: 'c'.repeat(350),
      source: '+123456789012345',
    });
    expect(res.status).toBe(200);
  });

  it('refuses a missing or wrong API key with 401 code 1200', async () => {
    for (const key of [null, 'wrong-key']) {
      const res = await sendJson({ destination: '+6512345678', text: 'x' }, { key });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 1200, message: 'Request was not authenticated properly' });
    }
    expect(sim.received).toHaveLength(0);
  });

  it('refuses another sub-account with 400 code 1001', async () => {
    const res = await sendJson({ destination: '+6512345678', text: 'x' }, { subAccount: 'Other-Account' });
    expect(res).toMatchObject({
      status: 400,
      body: { code: 1001, message: "Provided subAccountId doesn't belongs to your account" },
    });
  });

  it('refuses a body that is not JSON with 400 code 1000', async () => {
    const res = await sendJson(undefined, { raw: '{"destination":' });
    expect(res).toMatchObject({ status: 400, body: { code: 1000 } });
  });

  it('can answer 200 REJECTED instead of 400 (singleSendRejection)', async () => {
    await sim.stop();
    await startSim({ singleSendRejection: 'rejected200' });
    const res = await sendJson({ destination: 'nope', text: 'x', clientMessageId: 'r-1' });
    expect(res).toMatchObject({
      status: 200,
      body: {
        clientMessageId: 'r-1',
        status: { code: 'REJECTED', description: 'Invalid MSISDN format (not E.164 international number)' },
      },
    });
    expect(sim.stats().rejectedMessages).toBe(1);
    expect(sim.received).toHaveLength(0);
  });
});

describe('batch send', () => {
  it('merges the template, rejects invalid messages individually and lists messages on request', async () => {
    const res = await sendJson(
      {
        clientBatchId: 'Demo#1001',
        template: { source: 'AwesomeName', text: 'Message to the world', encoding: 'AUTO' },
        messages: [
          { destination: '12025550288', clientMessageId: '1001' },
          { destination: '+12025550308', text: 'Custom text', clientMessageId: '1002' },
          { destination: '0651234567', clientMessageId: '1003' },
        ],
        includeMessagesInResponse: true,
      },
      { batch: true },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      batchId: expect.stringMatching(UUID),
      clientBatchId: 'Demo#1001',
      acceptedCount: 2,
      rejectedCount: 1,
    });
    expect(validateSmsBatchResponse(res.body).valid).toBe(true);
    const messages = res.body.messages as {
      clientMessageId: string;
      status: { code: string; description: string };
    }[];
    expect(messages.map((m) => [m.clientMessageId, m.status.code])).toEqual([
      ['1001', 'QUEUED'],
      ['1002', 'QUEUED'],
      ['1003', 'REJECTED'],
    ]);
    expect(messages[2]?.status.description).toBe('Invalid MSISDN format (not E.164 international number)');
    expect(sim.receivedFor('1001')[0]?.request).toMatchObject({
      text: 'Message to the world',
      source: 'AwesomeName',
    });
    expect(sim.receivedFor('1002')[0]?.request.text).toBe('Custom text');
    expect(sim.receivedFor('1001')[0]).toMatchObject({
      batchId: res.body.batchId,
      clientBatchId: 'Demo#1001',
      endpoint: 'batch',
    });
  });

  it('sends the template to every destination and leaves messages out unless asked', async () => {
    const res = await sendJson(
      { destinations: ['+6512345678', '6512345679'], template: { text: 'Shared' } },
      { batch: true },
    );
    expect(res.body).toEqual({ batchId: expect.stringMatching(UUID), acceptedCount: 2, rejectedCount: 0 });
    expect(sim.received.map((m) => m.destination)).toEqual(['+6512345678', '+6512345679']);
  });

  it('uses messages and discards destinations when both are given', async () => {
    await sendJson(
      {
        messages: [{ destination: '+6512345678', text: 'A' }],
        destinations: ['+6512345679'],
        template: { text: 'B' },
      },
      { batch: true },
    );
    expect(sim.received.map((m) => m.destination)).toEqual(['+6512345678']);
  });

  it.each([
    ['no messages nor destinations', 3012, { template: { text: 'x' } }],
    ['an empty messages list', 3012, { messages: [] }],
    [
      'more than 10 000 destinations',
      3013,
      {
        destinations: Array.from({ length: 10_001 }, (_, i) => `+6590${String(i).padStart(6, '0')}`),
        template: { text: 'x' },
      },
    ],
    [
      'a clientBatchId over 20 characters',
      3014,
      { clientBatchId: 'b'.repeat(21), messages: [{ destination: '+6512345678', text: 'x' }] },
    ],
    [
      'an invalid template',
      1007,
      { template: { text: 'x', encoding: 'EBCDIC' }, destinations: ['+6512345678'] },
    ],
  ])('refuses %s with 400 code %i', async (_name, code, body) => {
    const res = await sendJson(body, { batch: true });
    expect(res).toMatchObject({ status: 400, body: { code } });
    expect(sim.received).toHaveLength(0);
  });

  it('accepts exactly 10 000 destinations', async () => {
    const destinations = Array.from({ length: 10_000 }, (_, i) => `+6590${String(i).padStart(6, '0')}`);
    sim.setOutcome('+6590000000', 'none');
    sim.setReceiptBehaviour({ delayMs: 60_000 });
    const res = await sendJson({ destinations, template: { text: 'x' } }, { batch: true });
    expect(res.body).toMatchObject({ acceptedCount: 10_000, rejectedCount: 0 });
  });
});

describe('recording', () => {
  it('records bodies, redacted headers, attempts per clientMessageId and send counts', async () => {
    await sendJson({ destination: '+6512345678', text: 'one', clientMessageId: 'dup' });
    await sendJson({ destination: '+6512345678', text: 'one', clientMessageId: 'dup' });
    await sendJson({ destination: '+6598765432', text: 'two', clientMessageId: 'single' });
    await sendJson({ destination: 'bad', text: 'x' });

    expect(sim.callCount).toBe(4);
    expect(sim.sendCount('single')).toBe(1);
    expect(sim.sendCount('dup')).toBe(2);
    expect(sim.receivedFor('dup').map((m) => m.attempt)).toEqual([1, 2]);
    expect(sim.receivedFor('6598765432')).toHaveLength(1);
    expect(sim.receivedFor('+6598765432')).toHaveLength(1);
    expect(sim.stats()).toMatchObject({
      calls: 4,
      accepted: 3,
      duplicateSends: 1,
      answersByStatus: { '200': 3, '400': 1 },
    });
    const first = sim.received[0];
    expect(first?.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(sim.requests)).not.toContain(API_KEY);
    expect(first?.request).toEqual({ destination: '+6512345678', text: 'one', clientMessageId: 'dup' });
    expect(Date.parse(first?.receivedAt ?? '')).not.toBeNaN();

    sim.reset();
    expect(sim.callCount).toBe(0);
    expect(sim.received).toHaveLength(0);
    expect(sim.sendCount('dup')).toBe(0);
  });
});

describe('delivery receipts', () => {
  const sample = JSON.parse(
    readFileSync(path.join(process.cwd(), 'test/fixtures/8x8/sms-delivery-receipt.sample.json'), 'utf8'),
  ) as SmsDeliveryReceipt;

  it('posts sent then delivered to the webhook with the Authorization header, shaped like the documented sample', async () => {
    const res = await sendJson({
      destination: '+6512345678',
      text: 'Hello',
      source: 'ACME',
      clientMessageId: 'r-1',
    });
    const umid = res.body.umid as string;
    // Both receipts are acknowledged before reading the receiver: the two POSTs travel on their own connections, so
    // on a loaded machine the later-scheduled `delivered` can be answered first (8x8 does not promise order either),
    // and a try on a keep-alive connection the receiver just closed fails and is retried.
    await Promise.all([
      sim.waitForReceipt((r) => r.umid === umid && r.state === 'sent' && r.ok),
      sim.waitForReceipt((r) => r.umid === umid && r.state === 'delivered' && r.ok),
    ]);

    // Filtered by clientMessageId: a receipt of the previous test may still have been on the wire when it stopped.
    const mine = receiver.requests
      .filter((r) => r.body.payload.clientMessageId === 'r-1')
      .sort((a, b) => a.body.payload.status.timestamp.localeCompare(b.body.payload.status.timestamp));
    // `sent` is scheduled first, so its 8x8 timestamp is never later (a stable sort keeps a tie in arrival order).
    expect(mine.map((r) => r.body.payload.status.state).sort()).toEqual(['delivered', 'sent']);
    expect(
      mine.find((r) => r.body.payload.status.state === 'sent')!.body.payload.status.timestamp <=
        mine.find((r) => r.body.payload.status.state === 'delivered')!.body.payload.status.timestamp,
    ).toBe(true);
    for (const request of mine) {
      expect(request.headers.authorization).toBe(WEBHOOK_AUTH);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.path).toBe('/webhooks/8x8/sms');
    }
    const delivered = mine.find((r) => r.body.payload.status.state === 'delivered')?.body;
    expect(delivered).toEqual({
      namespace: sample.namespace,
      eventType: sample.eventType,
      description: sample.description,
      payload: {
        umid,
        clientMessageId: 'r-1',
        subAccountId: SUB_ACCOUNT,
        source: 'ACME',
        destination: '+6512345678',
        status: {
          state: 'delivered',
          detail: 'delivered_to_recipient',
          timestamp: expect.stringMatching(EIGHT_BY_EIGHT_TIMESTAMP),
        },
        price: { total: 0.0125, perSms: 0.0125, currency: 'USD' },
        smsCount: 1,
      },
    });
    // Every key we send is a documented one.
    const documented = new Set(Object.keys(sample.payload));
    for (const key of Object.keys(delivered?.payload ?? {})) expect(documented.has(key)).toBe(true);
  });

  it('spreads receipts by up to receiptSpreadMs (seeded), never a receipt before the one it follows', async () => {
    await sim.stop();
    await startSim({ receiptSpreadMs: 400 });
    const ids = Array.from({ length: 8 }, (_, i) => `spread-${i}`);
    await sendJson(
      {
        messages: ids.map((clientMessageId) => ({ destination: '+6512345678', text: 'x', clientMessageId })),
      },
      { batch: true },
    );
    const delivered = await Promise.all(
      ids.map((id) => sim.waitForReceipt((r) => r.clientMessageId === id && r.state === 'delivered')),
    );
    const sent = await Promise.all(
      ids.map((id) => sim.waitForReceipt((r) => r.clientMessageId === id && r.state === 'sent')),
    );
    ids.forEach((_, i) => {
      expect(sent[i]!.body.payload.status.timestamp <= delivered[i]!.body.payload.status.timestamp).toBe(
        true,
      );
    });
    // In step (no spread) all eight would be delivered within a few ms of each other.
    const times = delivered.map((r) => Date.parse(r.at));
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(100);
  });

  it('marks destinations ending in 0000 undelivered with errorCode 15 and no price', async () => {
    await sendJson({ destination: '+6512340000', text: 'x', clientMessageId: 'u-1' });
    const final = await sim.waitForReceipt((r) => r.clientMessageId === 'u-1' && r.state === 'undelivered');
    expect(final.body.payload.status).toEqual({
      state: 'undelivered',
      detail: 'rejected_by_operator',
      timestamp: expect.any(String),
      errorCode: 15,
      errorMessage: 'Invalid destination',
    });
    expect(final.body.payload).not.toHaveProperty('price');
  });

  it('follows setOutcome per destination (rejected: one receipt; none: no receipts)', async () => {
    sim.setOutcome('6511111111', 'rejected');
    sim.setOutcome('+6522222222', 'none');
    await sendJson({ destination: '+6522222222', text: 'x', clientMessageId: 'n-1' });
    await sendJson({ destination: '+6511111111', text: 'x', clientMessageId: 'rej-1' });
    const rejected = await sim.waitForReceipt((r) => r.clientMessageId === 'rej-1' && r.ok);
    expect(rejected.body.payload.status).toMatchObject({ state: 'rejected', errorCode: expect.any(Number) });
    await sendJson({ destination: '+6533333333', text: 'x', clientMessageId: 'after' });
    await sim.waitForReceipt((r) => r.clientMessageId === 'after' && r.state === 'delivered' && r.ok);
    expect(receiver.requests.filter((r) => r.body.payload.clientMessageId === 'rej-1')).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.body.payload.clientMessageId === 'n-1')).toHaveLength(0);
  });

  it('carries batchId and clientBatchId for batch sends', async () => {
    const res = await sendJson(
      { clientBatchId: 'B-7', messages: [{ destination: '+6512345678', text: 'x', clientMessageId: 'b-1' }] },
      { batch: true },
    );
    const receipt = await sim.waitForReceipt((r) => r.clientMessageId === 'b-1');
    expect(receipt.body.payload).toMatchObject({ batchId: res.body.batchId, clientBatchId: 'B-7' });
  });

  it("sends to the message's dlrCallbackUrl, without the account Authorization by default", async () => {
    await sendJson({
      destination: '+6512345678',
      text: 'x',
      clientMessageId: 'cb-1',
      dlrCallbackUrl: `${receiver.url}/own/callback?token=t1`,
    });
    await Promise.all(
      ['sent', 'delivered'].map((state) =>
        sim.waitForReceipt((r) => r.clientMessageId === 'cb-1' && r.state === state && r.ok),
      ),
    );
    const mine = receiver.requests.filter((r) => r.body.payload.clientMessageId === 'cb-1');
    expect(mine.map((r) => r.path)).toEqual(['/own/callback?token=t1', '/own/callback?token=t1']);
    expect(mine[0]?.headers.authorization).toBeUndefined();
  });

  it('retries a receipt the webhook did not acknowledge, at the scaled 1/10/30/90 s schedule', async () => {
    receiver.statuses.set('retry-1', [500, 503]);
    sim.setOutcome('+6512345678', 'sent');
    await sendJson({ destination: '+6512345678', text: 'x', clientMessageId: 'retry-1' });
    const acknowledged = await sim.waitForReceipt((r) => r.clientMessageId === 'retry-1' && r.ok);
    expect(acknowledged.attempt).toBe(2);
    expect(sim.receiptsSent.map((r) => [r.attempt, r.status, r.ok, r.final])).toEqual([
      [0, 500, false, false],
      [1, 503, false, false],
      [2, 200, true, true],
    ]);
    const mine = receiver.requests.filter((r) => r.body.payload.clientMessageId === 'retry-1');
    expect(mine).toHaveLength(3);
    expect(new Set(mine.map((r) => JSON.stringify(r.body))).size).toBe(1);
  });

  it('gives up after four retries', async () => {
    receiver.statuses.set('give-up', [500, 500, 500, 500, 500]);
    sim.setOutcome('+6512345678', 'sent');
    await sendJson({ destination: '+6512345678', text: 'x', clientMessageId: 'give-up' });
    const last = await sim.waitForReceipt((r) => r.clientMessageId === 'give-up' && r.final);
    expect(last).toMatchObject({ attempt: 4, ok: false });
    expect(sim.stats().receipts).toMatchObject({ attempts: 5, abandoned: 1 });
  });

  it('retries when the webhook cannot be reached', async () => {
    sim.setWebhook('http://127.0.0.1:9/unreachable', WEBHOOK_AUTH);
    sim.setOutcome('+6512345678', 'sent');
    await sendJson({ destination: '+6512345678', text: 'x', clientMessageId: 'down' });
    const first = await sim.waitForReceipt((r) => r.clientMessageId === 'down');
    expect(first).toMatchObject({ ok: false, final: false, error: expect.any(String) });
    expect(first.status).toBeUndefined();
  });

  it('can send receipts out of order and duplicated (chaos)', async () => {
    // Receipts 50 ms apart, so their 8x8 timestamps (centiseconds) tell the order they were sent in, whatever order
    // their POSTs, each on its own connection, reach the webhook on a loaded machine.
    await sim.stop();
    await startSim({ receiptDelayMs: 50 });
    sim.setReceiptBehaviour({ outOfOrder: true, duplicate: true });
    await sendJson({ destination: '+6512345678', text: 'x', clientMessageId: 'chaos-1' });
    const received = await waitFor('both receipts of chaos-1 twice at the webhook', () => {
      const mine = receiver.requests
        .filter((r) => r.body.payload.clientMessageId === 'chaos-1')
        .map((r) => r.body.payload.status);
      const copies = (state: string) => mine.filter((s) => s.state === state).length;
      return copies('delivered') >= 2 && copies('sent') >= 2 ? mine : undefined;
    });
    const timestamps = (state: string) => received.filter((s) => s.state === state).map((s) => s.timestamp);
    // Out of order: `delivered` went first.
    const sentFirstAt = timestamps('sent').sort()[0]!;
    for (const deliveredAt of timestamps('delivered')) expect(deliveredAt < sentFirstAt).toBe(true);
    // Each receipt was sent twice on purpose: a first try and its copy (the simulator records a try once answered).
    const firstTries = await Promise.all(
      ['delivered', 'sent'].flatMap((state) =>
        [false, true].map((copy) =>
          sim.waitForReceipt(
            (r) =>
              r.clientMessageId === 'chaos-1' && r.state === state && r.duplicate === copy && r.attempt === 0,
          ),
        ),
      ),
    );
    expect(new Set(firstTries).size).toBe(4);
  });
});

describe('fault injection', () => {
  const valid = { destination: '+6512345678', text: 'x' };

  it('answers a scripted 429 with Retry-After and the quota body, then recovers', async () => {
    sim.failNext([{ status: 429, retryAfter: 2 }]);
    const limited = await sendJson(valid);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body).toMatchObject({
      code: 429,
      message: 'Quota exceeded. Please try again in 2 second(s).',
    });
    expect((await sendJson(valid)).status).toBe(200);
    expect(sim.received).toHaveLength(1);
  });

  it('rate-limits above the configured requests per second', async () => {
    sim.setFaults({ rateLimit: { perSecond: 1 } });
    const answers = await Promise.all(Array.from({ length: 5 }, () => send(valid)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2);
    const limited = answers.find((a) => a.status === 429);
    expect(limited?.headers.get('retry-after')).toBe('1');
    expect(sim.stats().rateLimited).toBe(statuses.filter((s) => s === 429).length);
  });

  it('answers 5xx for the scripted count, then OK', async () => {
    sim.failNext([{ status: 500 }, { status: 503, count: 2 }]);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await sendJson(valid)).status);
    expect(statuses).toEqual([500, 503, 503, 200]);
    expect(sim.received).toHaveLength(1);
    expect(sim.requests[0]?.answer).toMatchObject({
      kind: 'answered',
      status: 500,
      body: { code: 2000, message: 'Internal server error' },
    });
  });

  it.each([
    [400, 1002],
    [401, 1200],
    [403, 1201],
    [404, 1300],
  ])('answers a permanent %i with 8x8 code %i on demand', async (status, code) => {
    sim.failNext([{ status }]);
    const res = await sendJson(valid);
    expect(res).toMatchObject({ status, body: { code, errorId: expect.stringMatching(UUID) } });
    expect(sim.received).toHaveLength(0);
  });

  it('resets the socket without accepting the message', async () => {
    sim.failNext([{ kind: 'reset' }]);
    await expect(send(valid)).rejects.toThrow();
    expect(sim.received).toHaveLength(0);
    expect(sim.stats().resets).toBe(1);
  });

  it('accepts then resets (accepted-but-unanswered)', async () => {
    sim.failNext([{ kind: 'acceptThenReset' }]);
    await expect(send({ ...valid, clientMessageId: 'atr' })).rejects.toThrow();
    expect(sim.receivedFor('atr')).toEqual([expect.objectContaining({ answer: 'reset' })]);
  });

  it('holds the socket on a timeout until the client gives up, and the message still gets receipts', async () => {
    sim.failNext([{ kind: 'timeout' }]);
    await expect(
      send({ ...valid, clientMessageId: 'held' }, { signal: AbortSignal.timeout(200) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sim.receivedFor('held')).toEqual([expect.objectContaining({ answer: 'unanswered' })]);
    expect(sim.stats()).toMatchObject({ unanswered: 1, acceptedUnanswered: 1 });
    await sim.waitForReceipt((r) => r.clientMessageId === 'held' && r.state === 'delivered');
    expect((await sendJson(valid)).status).toBe(200);
  });

  it('replays the same faults for the same profile seed', async () => {
    const run = async () => {
      sim.reset();
      sim.setFaults({ profile: { p429: 0.3, p5xx: 0.3, seed: 42 } });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i += 1) statuses.push((await send(valid)).status);
      return statuses;
    };
    const first = await run();
    expect(new Set(first).size).toBeGreaterThan(1);
    expect(await run()).toEqual(first);
    sim.clearFaults();
    expect((await send(valid)).status).toBe(200);
  });

  it('refuses an impossible profile', () => {
    expect(() => sim.setFaults({ profile: { p429: 0.7, p5xx: 0.7 } })).toThrow(/must not exceed 1/);
  });
});

describe('HTTP controls', () => {
  const post = (route: string, body: unknown) =>
    fetch(`${base}/__control/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = async (route: string) =>
    (await fetch(`${base}/__control/${route}`)).json() as Promise<Record<string, unknown>>;

  it('sets faults, outcomes and reset over HTTP and reports received messages and stats', async () => {
    expect((await post('faults', { next: [{ status: 500 }] })).status).toBe(200);
    expect((await send({ destination: '+6512345678', text: 'x' })).status).toBe(500);
    expect((await post('outcome', { destination: '+6512345678', outcome: 'undelivered' })).status).toBe(200);
    await send({ destination: '+6512345678', text: 'x', clientMessageId: 'ctl-1' });
    await sim.waitForReceipt((r) => r.clientMessageId === 'ctl-1' && r.state === 'undelivered');

    expect(await get('received?clientMessageId=ctl-1')).toMatchObject({
      count: 1,
      received: [{ clientMessageId: 'ctl-1' }],
    });
    expect(await get('stats')).toMatchObject({
      calls: 2,
      accepted: 1,
      answersByStatus: { '200': 1, '500': 1 },
    });
    expect(await get('receipts')).toMatchObject({ count: 2 });

    expect((await post('reset', {})).status).toBe(200);
    expect(await get('stats')).toMatchObject({ calls: 0, accepted: 0 });
  });

  it('refuses invalid control bodies with 400', async () => {
    expect((await post('faults', { next: [{ status: 200 }] })).status).toBe(400);
    expect((await post('outcome', { destination: '+65', outcome: 'lost' })).status).toBe(400);
    const notJson = await fetch(`${base}/__control/faults`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
  });

  it('answers unknown paths like 8x8 (404 code 1300)', async () => {
    const res = await fetch(`${base}/api/v2/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 1300 });
  });
});

describe('handsets: inbound SMS', () => {
  const PHONE = '+6591234567';
  const BRIDGE_NUMBER = '+6568008888';

  it('posts 8x8 inbound_message_received to the receipt webhook by default, with its Authorization', async () => {
    const umid = sim.textFromHandset(PHONE, BRIDGE_NUMBER, 'Hello there');
    expect(umid).toMatch(UUID);
    const delivery = await sim.waitForInbound((d) => d.umid === umid && d.ok);
    expect(delivery).toMatchObject({ attempt: 0, final: true, status: 200, from: PHONE, to: BRIDGE_NUMBER });

    const mine = receiver.inbound.filter((r) => r.body.payload.umid === umid);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.path).toBe('/webhooks/8x8/sms');
    expect(mine[0]?.headers.authorization).toBe(WEBHOOK_AUTH);
    expect(mine[0]?.headers['content-type']).toBe('application/json');
    expect(mine[0]?.body).toEqual({
      namespace: 'SMS',
      eventType: 'inbound_message_received',
      description: 'SMS inbound message',
      payload: {
        umid,
        subAccountId: SUB_ACCOUNT,
        timestamp: expect.stringMatching(EIGHT_BY_EIGHT_TIMESTAMP),
        source: PHONE,
        destination: BRIDGE_NUMBER,
        body: 'Hello there',
        encoding: 'GSM7',
        smsCount: 1,
        price: { total: 0.0025, perSms: 0.0025, currency: 'USD' },
      },
    });
  });

  it('goes to its own inbound URL when one is set, computes UCS2 and parts as 8x8 does, and adds the + to numbers', async () => {
    await sim.stop();
    await startSim({ inboundWebhookUrl: `${receiver.url}/webhooks/8x8/sms/inbound`, inboundPrice: null });
    const text = 'Привет! '.repeat(10); // 80 UCS2 code units: two parts of 67
    const umid = sim.textFromHandset('6591234567', '6568008888', text);
    await sim.waitForInbound((d) => d.umid === umid && d.final);
    const [request] = receiver.inbound.filter((r) => r.body.payload.umid === umid);
    expect(request?.path).toBe('/webhooks/8x8/sms/inbound');
    expect(request?.headers.authorization).toBe(WEBHOOK_AUTH);
    expect(request?.body.payload).toMatchObject({
      source: PHONE,
      destination: BRIDGE_NUMBER,
      encoding: 'UCS2',
      smsCount: 2,
    });
    expect(request?.body.payload).not.toHaveProperty('price');
  });

  it('retries an inbound event the webhook did not acknowledge at the scaled 1/10/30/90 s schedule, unchanged', async () => {
    const umid = '5f3c1d2e-0000-4000-8000-000000000001';
    receiver.statuses.set(umid, [503, 500]);
    sim.textFromHandset(PHONE, BRIDGE_NUMBER, 'Retry me', { umid });
    await sim.waitForInbound((d) => d.umid === umid && d.ok);
    expect(sim.inboundSent.map((d) => [d.attempt, d.status, d.ok, d.final])).toEqual([
      [0, 503, false, false],
      [1, 500, false, false],
      [2, 200, true, true],
    ]);
    const mine = receiver.inbound.filter((r) => r.body.payload.umid === umid);
    expect(mine).toHaveLength(3);
    expect(new Set(mine.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(sim.stats().inbound).toEqual({ texted: 1, attempts: 3, acknowledged: 1, abandoned: 0 });
  });

  it('gives up after four retries, and retries an unreachable webhook', async () => {
    const umid = '5f3c1d2e-0000-4000-8000-000000000002';
    receiver.statuses.set(umid, [500, 500, 500, 500, 500]);
    sim.textFromHandset(PHONE, BRIDGE_NUMBER, 'Never taken', { umid });
    const last = await sim.waitForInbound((d) => d.umid === umid && d.final);
    expect(last).toMatchObject({ attempt: 4, ok: false });

    sim.setInboundWebhook('http://127.0.0.1:9/unreachable');
    const down = sim.textFromHandset(PHONE, BRIDGE_NUMBER, 'Nobody listens');
    const first = await sim.waitForInbound((d) => d.umid === down);
    expect(first).toMatchObject({ ok: false, final: false, error: expect.any(String) });
  });

  it('redelivers an inbound event unchanged (8x8 repeating it: the same umid), and refuses an unknown umid', async () => {
    const umid = sim.textFromHandset(PHONE, BRIDGE_NUMBER, 'Once');
    await sim.waitForInbound((d) => d.umid === umid && d.ok && !d.redelivery);
    sim.redeliverInbound(umid);
    await sim.waitForInbound((d) => d.umid === umid && d.ok && d.redelivery);
    const mine = receiver.inbound.filter((r) => r.body.payload.umid === umid);
    expect(mine).toHaveLength(2);
    expect(mine[0]?.body).toEqual(mine[1]?.body);
    expect(() => sim.redeliverInbound('no-such-umid')).toThrow(UnknownInboundSmsError);
  });

  it('refuses what a phone could not text', () => {
    expect(() => sim.textFromHandset('not-a-number', BRIDGE_NUMBER, 'x')).toThrow();
    expect(() => sim.textFromHandset(PHONE, BRIDGE_NUMBER, '')).toThrow();
    expect(sim.inboundSent).toHaveLength(0);
  });

  it("shows a handset's SMS in order: received from the bridge and texted to it, without other numbers' SMS", async () => {
    sim.setOutcome('+6590000001', 'undelivered');
    const first = await sendJson({ destination: PHONE, text: 'Reply YES to confirm', source: BRIDGE_NUMBER });
    await sendJson({ destination: '+6590000001', text: 'Never arrives' });
    await sendJson({ destination: '+6599999999', text: 'Someone else' });
    const reply = sim.textFromHandset(PHONE, BRIDGE_NUMBER, 'YES');
    await sendJson({ destination: PHONE.slice(1), text: 'Thanks, confirmed', source: BRIDGE_NUMBER });
    await sendJson({
      destination: PHONE,
      text: 'Scheduled for tomorrow',
      scheduled: new Date(Date.now() + 86_400_000).toISOString(),
    });

    const view = await sim.waitForHandset(PHONE, (m) => m.length >= 3);
    expect(view.map((m) => [m.direction, m.text])).toEqual([
      ['received', 'Reply YES to confirm'],
      ['sent', 'YES'],
      ['received', 'Thanks, confirmed'],
    ]);
    expect(view[0]).toEqual({
      direction: 'received',
      umid: first.body.umid,
      number: PHONE,
      source: BRIDGE_NUMBER,
      destination: PHONE,
      text: 'Reply YES to confirm',
      at: expect.any(String),
      clientMessageId: null,
    });
    expect(view[1]).toMatchObject({ umid: reply, source: PHONE, destination: BRIDGE_NUMBER });
    // An undelivered SMS never reaches its handset.
    expect(sim.handset('+6590000001')).toEqual([]);
    expect(
      sim
        .handsets()
        .map((h) => h.number)
        .sort(),
    ).toEqual(['+6590000001', '+6591234567', '+6599999999']);
  });

  it('waitForHandset waits for SMS still to come, and rejects after its timeout', async () => {
    const waiting = sim.waitForHandset(
      '+6591112222',
      (m) => m.filter((x) => x.direction === 'received').length >= 2,
    );
    await sendJson({ destination: '+6591112222', text: 'one' });
    await sendJson({ destination: '+6591112222', text: 'two' });
    expect((await waiting).map((m) => m.text)).toEqual(['one', 'two']);
    await expect(sim.waitForHandset('+6591112222', (m) => m.length > 5, 20)).rejects.toThrow(/Timed out/);
  });

  it('is driven over HTTP: text from a handset, read its view and the deliveries, redeliver, reset', async () => {
    const post = (route: string, body: unknown) =>
      fetch(`${base}/__control/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const texted = await post(`handsets/${encodeURIComponent(PHONE)}/messages`, {
      to: BRIDGE_NUMBER,
      text: 'Hi over HTTP',
    });
    expect(texted.status).toBe(200);
    const { umid } = (await texted.json()) as { umid: string };
    await sim.waitForInbound((d) => d.umid === umid && d.ok);

    const view = (await (await fetch(`${base}/__control/handsets/${PHONE}`)).json()) as Record<
      string,
      unknown
    >;
    expect(view).toEqual({
      number: PHONE,
      messages: [expect.objectContaining({ direction: 'sent', umid, text: 'Hi over HTTP' })],
    });
    expect(await (await fetch(`${base}/__control/inbound`)).json()).toMatchObject({
      count: 1,
      url: `${receiver.url}/webhooks/8x8/sms`,
      inbound: [{ umid, ok: true }],
    });
    expect((await post(`inbound/${umid}/redeliver`, {})).status).toBe(200);
    await sim.waitForInbound((d) => d.umid === umid && d.redelivery);
    expect((await post('inbound/unknown/redeliver', {})).status).toBe(404);

    expect((await post(`handsets/${PHONE}/messages`, { to: BRIDGE_NUMBER })).status).toBe(400);
    expect((await post('handsets/abc/messages', { to: BRIDGE_NUMBER, text: 'x' })).status).toBe(400);
    expect((await post('inbound-webhook', { url: `${receiver.url}/elsewhere` })).status).toBe(200);
    expect(
      (await (await fetch(`${base}/__control/inbound`)).json()) as Record<string, unknown>,
    ).toMatchObject({
      url: `${receiver.url}/elsewhere`,
    });

    expect((await post('reset', {})).status).toBe(200);
    expect(sim.handset(PHONE)).toEqual([]);
    expect(sim.inboundSent).toHaveLength(0);
  });
});
