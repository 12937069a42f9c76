/**
 * The SMS API's edges on the real local stack (issue #2): API-key enforcement, stable 4xx codes for bad input
 * (never a 5xx, never an echoed secret, nothing stored), bodies pasted from Cognigy's 8x8 extension, the receipt
 * webhook's authentication and input handling, per-message receipt callbacks (SMS_RECEIPT_MODE=perMessage), a
 * caller's own dlrCallbackUrl, and the OpenAPI document served at /openapi.json.
 *
 * Contract: every request the 8x8 simulator received during this file is checked against 8x8's official OAS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { localDynamoDbClient } from '../../lib/local/aws';
import type { LocalStack } from '../../lib/local/stack';
import { validateSmsBatchRequest, validateSmsRequest } from '../../lib/simulators/contract/sms-schema';
import { apiClient, startTestStack, type ApiAnswer, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

interface ErrorAnswer {
  ok: false;
  error: { code: string; message: string; details?: { path: string; code: string; message: string }[] };
}

const WEBHOOK_AUTHORIZATION = `Bearer receipts-${randomUUID()}`;

let stack: LocalStack;
let api: ApiClient;
let dynamo: DynamoDBClient;
/** Every secret value of the stack, none of which may appear in any answer. */
let secrets: string[];
const answers: ApiAnswer[] = [];

/** The functions' log lines (Powertools writes JSON to stdout), captured so the last tests can inspect them. */
const logLines: string[] = [];
let restoreStdout: (() => void) | undefined;

beforeAll(async () => {
  const write = process.stdout.write;
  process.stdout.write = ((chunk: unknown) => {
    logLines.push(
      ...String(chunk)
        .split('\n')
        .filter((line) => line.startsWith('{')),
    );
    return true;
  }) as typeof process.stdout.write;
  restoreStdout = () => {
    process.stdout.write = write;
  };
  stack = await startTestStack({
    // Everything the functions log, to check that none of it is personal data or a secret.
    env: { LOG_LEVEL: 'DEBUG' },
    smsWebhookAuthorization: WEBHOOK_AUTHORIZATION,
    settings: {
      SMS_RECEIPT_MODE: 'perMessage',
      UPSTREAM_TIMEOUT_MS: '2000',
      RETRY_BASE_DELAY_SECONDS: '1',
      RETRY_MAX_DELAY_SECONDS: '1',
    },
    maxReceiveCount: { sms: 3 },
    simulators: { sms: { receiptDelayMs: 20, receiptRetryScale: 0.01 } },
  });
  const client = apiClient(stack);
  api = {
    request: (method, path, body, headers) => remember(client.request(method, path, body, headers)),
    get: (path) => remember(client.get(path)),
    post: (path, body) => remember(client.post(path, body)),
  };
  dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  const secretValues = Object.values(stack.secretNames).flatMap((name) => {
    const value = JSON.parse(stack.secretsManager.getSecretString(name) ?? '{}') as Record<string, unknown>;
    return Object.entries(value)
      .filter(([key]) => !/url/i.test(key)) // base URLs are configuration, not secrets
      .map(([, v]) => String(v));
  });
  secrets = [...secretValues, WEBHOOK_AUTHORIZATION.replace(/^Bearer /, '')];
});

afterAll(async () => {
  dynamo?.destroy();
  await stack?.stop();
  restoreStdout?.();
});

// --- helpers -----------------------------------------------------------------------------------------------------

/** Every answer of this file is kept, so the last tests can check that none was a 5xx or leaked a secret. */
async function remember<T>(pending: Promise<ApiAnswer<T>>): Promise<ApiAnswer<T>> {
  const answer = await pending;
  answers.push(answer as ApiAnswer);
  return answer;
}

/** A request with exactly the given headers (no API key unless given), as 8x8 or a misconfigured flow sends it. */
function bare<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  return remember(
    (async () => {
      const response = await fetch(`${stack.urls.gateway}${path}`, {
        method,
        headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, body: json as T, text };
    })(),
  );
}

let numberSeq = 0;
function freshNumber(): string {
  numberSeq += 1;
  return `+659${String(numberSeq).padStart(7, '0')}`;
}

async function itemCount(table: string): Promise<number> {
  const { Count = 0 } = await dynamo.send(new ScanCommand({ TableName: table, Select: 'COUNT' }));
  return Count;
}

/** What the stack holds: SMS records, idempotency keys, and calls to 8x8. */
async function footprint() {
  return {
    messages: await itemCount(stack.tables.messages),
    idempotency: await itemCount(stack.tables.idempotency),
    eightByEightCalls: stack.sms!.callCount,
  };
}

const FINAL = ['DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED'];

/** Polls GET /sms/{id} until the status is `code`; a different final status fails at once with the record. */
async function waitForStatus(messageId: string, code: string) {
  const answer = await waitFor(
    `SMS ${messageId} to reach ${code}`,
    async () => {
      const current = await api.get<{ status: { code: string }; history: unknown[] }>(`/sms/${messageId}`);
      const reached = current.body?.status?.code;
      return reached === code || FINAL.includes(reached) ? current.body : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  expect({ messageId, status: answer.status.code, record: answer }).toMatchObject({ status: code });
  return answer;
}

/** Webhooks authenticate themselves: 8x8 sends no API key. */
function postReceipt(body: unknown, headers: Record<string, string> = {}, query = '') {
  return bare('POST', `/webhooks/8x8/sms${query}`, body, headers);
}

function receipt(payload: Record<string, unknown>, eventType = 'outbound_message_status_changed') {
  return {
    namespace: 'SMS',
    eventType,
    description: 'SMS outbound message delivery receipt',
    payload: {
      subAccountId: 'local-subaccount',
      source: '8x8',
      destination: '+6590000001',
      smsCount: 1,
      ...payload,
    },
  };
}

// --- API key -------------------------------------------------------------------------------------------------------

describe('API key', () => {
  const body = () => ({
    destination: freshNumber(),
    text: 'Needs a key',
    clientMessageId: `key-${randomUUID()}`,
  });

  test.each([
    ['missing', {}],
    ['wrong', { 'x-api-key': 'not-the-key' }],
    ['empty', { 'x-api-key': '' }],
  ])(
    '%s x-api-key → 403 on every Cognigy-facing route, and nothing is stored or sent',
    async (_label, headers) => {
      const before = await footprint();
      const calls = [
        await bare('POST', '/sms', body(), headers),
        await bare('POST', '/sms/batch', { messages: [body()] }, headers),
        await bare('GET', `/sms/${randomUUID()}`, undefined, headers),
      ];
      for (const answer of calls) {
        expect(answer.status).toBe(403);
        expect(answer.body).toEqual({ ok: false, error: { code: 'FORBIDDEN', message: expect.any(String) } });
        expect(answer.text).not.toContain('not-the-key');
      }
      expect(await footprint()).toEqual(before);
    },
  );
});

// --- bad input -----------------------------------------------------------------------------------------------------

describe('bad input gets a stable 4xx code, and nothing is stored', () => {
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
  const good = () => ({ destination: freshNumber(), text: 'Hello' });

  interface BadInput {
    label: string;
    body: () => unknown;
    status: number;
    code: string;
    /** The field `error.details` must name. */
    path?: string;
  }
  const row = (
    label: string,
    body: () => unknown,
    status: number,
    code: string,
    path?: string,
  ): BadInput => ({
    label,
    body,
    status,
    code,
    ...(path !== undefined && { path }),
  });
  const cases: BadInput[] = [
    row('malformed JSON', () => '{"destination": "+6591234567", "text": ', 400, 'MALFORMED_JSON'),
    row('a JSON array', () => '[]', 400, 'INVALID_BODY'),
    row('a JSON string', () => '"hello"', 400, 'INVALID_BODY'),
    row('an empty object', () => ({}), 400, 'DESTINATION_MISSING', 'destination'),
    row(
      'destination as a number',
      () => ({ ...good(), destination: 6591234567 }),
      400,
      'INVALID_TYPE',
      'destination',
    ),
    row('text as a number', () => ({ ...good(), text: 42 }), 400, 'INVALID_TYPE', 'text'),
    row('cognigy as a string', () => ({ ...good(), cognigy: 'session-1' }), 400, 'INVALID_TYPE', 'cognigy'),
    row('an unknown field', () => ({ ...good(), priority: 'high' }), 400, 'UNKNOWN_FIELD', 'priority'),
    row(
      'an unknown field inside cognigy',
      () => ({ ...good(), cognigy: { sessionId: 's', channel: 'webchat' } }),
      400,
      'UNKNOWN_FIELD',
      'cognigy.channel',
    ),
    row(
      'a body over the route limit',
      () => ({ ...good(), text: 'x'.repeat(20_000) }),
      413,
      'PAYLOAD_TOO_LARGE',
    ),
    row(
      'letters in the destination',
      () => ({ ...good(), destination: 'call-me' }),
      400,
      'INVALID_DESTINATION',
      'destination',
    ),
    row(
      'a destination starting with 0',
      () => ({ ...good(), destination: '+0123456789' }),
      400,
      'INVALID_DESTINATION',
      'destination',
    ),
    row(
      'a destination that is too short',
      () => ({ ...good(), destination: '+12345' }),
      400,
      'INVALID_DESTINATION',
      'destination',
    ),
    row(
      'a national number invalid for its country',
      () => ({ ...good(), destination: '123', country: 'SG' }),
      400,
      'INVALID_DESTINATION',
      'destination',
    ),
    row('an unknown country', () => ({ ...good(), country: 'XX' }), 400, 'INVALID_COUNTRY', 'country'),
    row(
      'a schedule more than 7 days ahead',
      () => ({ ...good(), scheduled: inDays(8) }),
      400,
      'SCHEDULE_TOO_FAR',
      'scheduled',
    ),
    row(
      'a schedule without a time zone',
      () => ({ ...good(), scheduled: '2030-01-01T10:00:00' }),
      400,
      'INVALID_SCHEDULE',
      'scheduled',
    ),
    row('an expiry in the past', () => ({ ...good(), expiry: inDays(-1) }), 400, 'EXPIRY_IN_PAST', 'expiry'),
    row(
      'an expiry before the schedule',
      () => ({ ...good(), scheduled: inDays(2), expiry: inDays(1) }),
      400,
      'EXPIRY_BEFORE_SCHEDULE',
      'expiry',
    ),
    row('an unknown encoding', () => ({ ...good(), encoding: 'UTF8' }), 400, 'INVALID_ENCODING', 'encoding'),
    row(
      'a sender id of 12 letters',
      () => ({ ...good(), source: 'TwelveLetter' }),
      400,
      'INVALID_SOURCE',
      'source',
    ),
    row('blank text', () => ({ ...good(), text: '   ' }), 400, 'TEXT_MISSING', 'text'),
    row(
      'text longer than 10 GSM7 parts',
      () => ({ ...good(), text: 'a'.repeat(1531) }),
      400,
      'TEXT_TOO_LONG',
      'text',
    ),
    row(
      'text longer than 10 UCS2 parts',
      () => ({ ...good(), text: 'ü€你'.repeat(224) }),
      400,
      'TEXT_TOO_LONG',
      'text',
    ),
    row(
      'a clientMessageId over 350 characters',
      () => ({ ...good(), clientMessageId: 'c'.repeat(351) }),
      400,
      'INVALID_CLIENT_MESSAGE_ID',
      'clientMessageId',
    ),
    row(
      'a clientIp that is not an IP',
      () => ({ ...good(), clientIp: 'localhost' }),
      400,
      'INVALID_CLIENT_IP',
      'clientIp',
    ),
    row(
      'a relative dlrCallbackUrl',
      () => ({ ...good(), dlrCallbackUrl: '/receipts' }),
      400,
      'INVALID_CALLBACK_URL',
      'dlrCallbackUrl',
    ),
    row('an unknown track value', () => ({ ...good(), track: 'Everything' }), 400, 'INVALID_TRACK', 'track'),
    row(
      'receipt injection without a session',
      () => ({ ...good(), cognigy: { injectReceipts: true } }),
      400,
      'INVALID_COGNIGY',
      'cognigy.userId',
    ),
  ];

  test.each(cases)('POST /sms with $label → $status $code', async ({ body, status, code, path }) => {
    const before = await footprint();
    const answer = await api.post<ErrorAnswer>('/sms', body());
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
    if (path) expect(answer.body.error.details).toContainEqual({ path, code, message: expect.any(String) });
    expect(answer.text).not.toMatch(/at .+\.(ts|js):\d+/); // no stack trace
    expect(await footprint()).toEqual(before);
  });

  test('every problem of a request is listed in error.details, each with its own code', async () => {
    const answer = await api.post<ErrorAnswer>('/sms', {
      destination: 'abc',
      text: 7,
      encoding: 'UTF8',
      scheduled: inDays(30),
      extra: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details?.map((d) => [d.path, d.code]).sort()).toEqual(
      [
        ['destination', 'INVALID_DESTINATION'],
        ['encoding', 'INVALID_ENCODING'],
        ['extra', 'UNKNOWN_FIELD'],
        ['scheduled', 'SCHEDULE_TOO_FAR'],
        ['text', 'INVALID_TYPE'],
      ].sort(),
    );
  });

  test.each([
    ['an empty messages list', () => ({ messages: [] }), 400, 'BATCH_EMPTY'],
    ['neither messages nor destinations', () => ({ template: { text: 'Hi' } }), 400, 'BATCH_EMPTY'],
    [
      'more than 500 messages',
      () => ({
        destinations: Array.from({ length: 501 }, (_, i) => `+6591${String(i).padStart(6, '0')}`),
        template: { text: 'Hi' },
      }),
      400,
      'BATCH_TOO_LARGE',
    ],
    ['an unknown top-level field', () => ({ messages: [good()], priority: 1 }), 400, 'UNKNOWN_FIELD'],
    [
      'a clientBatchId over 20 characters',
      () => ({ messages: [good()], clientBatchId: 'b'.repeat(21) }),
      400,
      'INVALID_CLIENT_BATCH_ID',
    ],
    ['malformed JSON', () => '{"messages": [', 400, 'MALFORMED_JSON'],
    [
      'only invalid items',
      () => ({ messages: [{ destination: 'x', text: 'a' }, { destination: freshNumber() }] }),
      400,
      'BATCH_REJECTED',
    ],
  ] as [string, () => unknown, number, string][])(
    'POST /sms/batch with %s → %i %s',
    async (_label, makeBody, status, code) => {
      const before = await footprint();
      const answer = await api.post<ErrorAnswer>('/sms/batch', makeBody());
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ ok: false, error: { code } });
      expect(await footprint()).toEqual(before);
    },
  );

  test('a batch rejected item by item says why for each', async () => {
    const answer = await api.post<{ items: { index: number; ok: boolean; error?: { code: string } }[] }>(
      '/sms/batch',
      {
        messages: [{ destination: 'x', text: 'a' }, { destination: freshNumber() }],
      },
    );
    expect(answer.body.items.map((i) => [i.index, i.ok, i.error?.code])).toEqual([
      [0, false, 'INVALID_DESTINATION'],
      [1, false, 'TEXT_MISSING'],
    ]);
  });

  test('GET /sms/{id}: a malformed id is 400 INVALID_MESSAGE_ID, an unknown one 404 MESSAGE_NOT_FOUND', async () => {
    const malformed = await api.get<ErrorAnswer>('/sms/not-a-message-id');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('INVALID_MESSAGE_ID');
    const unknown = await api.get<ErrorAnswer>(`/sms/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('MESSAGE_NOT_FOUND');
  });
});

// --- Cognigy's 8x8 extension -------------------------------------------------------------------------------------

describe('bodies from Cognigy flows', () => {
  test('the 8x8 extension’s body (country: null, encoding AUTO, empty optional fields) is accepted and delivered', async () => {
    const answer = await api.post<{
      messageId: string;
      clientMessageId: string | null;
      destination: string;
      status: { code: string };
    }>('/sms', {
      destination: '6591230001',
      text: 'Sent from a Cognigy flow',
      encoding: 'AUTO',
      source: '',
      country: null,
      clientMessageId: '',
      scheduled: '',
      expiry: '',
      dlrCallbackUrl: '',
      clientIp: '',
      track: '',
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      ok: true,
      messageId: expect.any(String),
      clientMessageId: null,
      destination: '+6591230001',
      encoding: 'GSM7',
      smsCount: 1,
      umid: null,
      status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
    });
    await waitForStatus(answer.body.messageId, 'DELIVERED');
    const [sent] = stack.sms!.receivedFor(answer.body.messageId);
    // Empty fields are not forwarded to 8x8 as empty strings.
    expect(Object.keys(sent!.request).sort()).toEqual(
      ['clientMessageId', 'destination', 'dlrCallbackUrl', 'encoding', 'text'].sort(),
    );
    expect(sent!.request).toMatchObject({ destination: '+6591230001', encoding: 'AUTO' });
  });

  test('a national number with its country is sent to 8x8 in E.164', async () => {
    const answer = await api.post<{ messageId: string; destination: string }>('/sms', {
      destination: '(9123) 0002',
      country: 'sg',
      text: 'National number',
    });
    expect(answer.status).toBe(202);
    expect(answer.body.destination).toBe('+6591230002');
    await waitForStatus(answer.body.messageId, 'DELIVERED');
    expect(stack.sms!.receivedFor(answer.body.messageId)[0]!.request.destination).toBe('+6591230002');
  });
});

// --- receipts ----------------------------------------------------------------------------------------------------

describe('receipt webhook', () => {
  test('perMessage mode: 8x8 gets a per-message callback URL and its receipts authenticate by token', async () => {
    const answer = await api.post<{ messageId: string }>('/sms', {
      destination: freshNumber(),
      text: 'Per-message receipts',
    });
    expect(answer.status).toBe(202);
    await waitForStatus(answer.body.messageId, 'DELIVERED');
    const [sent] = stack.sms!.receivedFor(answer.body.messageId);
    const callback = new URL(String(sent!.request.dlrCallbackUrl));
    expect(`${callback.origin}${callback.pathname}`).toBe(`${stack.urls.gateway}/webhooks/8x8/sms`);
    expect(callback.searchParams.get('messageId')).toBe(answer.body.messageId);
    expect(callback.searchParams.get('token')).toMatch(/^[\w-]{40,}$/);
    // The record can turn DELIVERED before the simulator logs the answer to the `sent` receipt (seen in a full run).
    const receipts = await waitFor('both receipts answered', () => {
      const logged = stack.sms!.receiptsSent.filter((r) => r.umid === sent!.umid);
      return logged.length >= 2 && logged;
    });
    // Logged when each answer arrives, so in either order.
    expect(receipts.map((r) => [r.state, r.status]).sort()).toEqual([
      ['delivered', 200],
      ['sent', 200],
    ]);
    // 8x8 sends no Authorization header to a per-message URL; the token alone authenticated these receipts.
    expect(receipts.every((r) => r.url === callback.toString())).toBe(true);
  });

  test('a per-message callback with a forged token or another message’s token is refused', async () => {
    const answer = await api.post<{ messageId: string }>('/sms', {
      destination: freshNumber(),
      text: 'Token check',
    });
    await waitForStatus(answer.body.messageId, 'DELIVERED');
    const [sent] = stack.sms!.receivedFor(answer.body.messageId);
    const token = new URL(String(sent!.request.dlrCallbackUrl)).searchParams.get('token')!;
    const body = receipt({
      umid: sent!.umid,
      clientMessageId: answer.body.messageId,
      status: { state: 'undelivered' },
    });

    const forged = await postReceipt(
      body,
      {},
      `?messageId=${answer.body.messageId}&token=${token.slice(0, -2)}xx`,
    );
    expect(forged.status).toBe(401);
    const otherMessage = await postReceipt(body, {}, `?messageId=${randomUUID()}&token=${token}`);
    expect(otherMessage.status).toBe(401);
    expect(
      (await api.get<{ status: { code: string } }>(`/sms/${answer.body.messageId}`)).body.status.code,
    ).toBe('DELIVERED');
  });

  test('a wrong or missing Authorization is 401 and the value is never echoed', async () => {
    const body = receipt({ umid: randomUUID(), status: { state: 'delivered' } });
    const wrong = await postReceipt(body, { authorization: 'Bearer guessed-value' });
    const missing = await postReceipt(body);
    const almost = await postReceipt(body, { authorization: `${WEBHOOK_AUTHORIZATION}x` });
    for (const answer of [wrong, missing, almost]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({
        ok: false,
        error: { code: 'UNAUTHORIZED', message: expect.any(String) },
      });
      expect(answer.text).not.toContain('guessed-value');
      expect(answer.text).not.toContain(WEBHOOK_AUTHORIZATION);
    }
    // Authentication comes before parsing: an unauthenticated caller cannot probe what the body must look like.
    const garbage = await postReceipt('not json', { authorization: 'Bearer guessed-value' });
    expect(garbage.status).toBe(401);
  });

  test.each([
    ['not JSON', 'this is not json'],
    ['an empty body', ''],
    ['a JSON array', [1, 2]],
    [
      'an envelope without payload fields',
      { namespace: 'SMS', eventType: 'outbound_message_status_changed', payload: {} },
    ],
    ['a receipt without umid', receipt({ umid: undefined, status: { state: 'delivered' } })],
    ['a receipt without status.state', receipt({ umid: randomUUID(), status: {} })],
    ['a receipt whose state is a number', receipt({ umid: randomUUID(), status: { state: 3 } })],
  ])('an authenticated receipt with %s is 400 INVALID_RECEIPT', async (_label, body) => {
    const answer = await postReceipt(body, { authorization: WEBHOOK_AUTHORIZATION });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ ok: false, error: { code: 'INVALID_RECEIPT' } });
  });

  test('a receipt for an unknown umid is acknowledged (200) so 8x8 does not retry it', async () => {
    const answer = await postReceipt(
      receipt({
        umid: randomUUID(),
        clientMessageId: `unknown-${randomUUID()}`,
        status: { state: 'delivered' },
      }),
      { authorization: WEBHOOK_AUTHORIZATION },
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true, matched: false });
  });

  // Inbound SMS (inbound_message_received) on this URL are queued: test/integration/sms-inbound-webhook.test.ts.
  test('other 8x8 events (e.g. an SMS Engage survey answer) are acknowledged and ignored', async () => {
    const answer = await postReceipt(receipt({ umid: randomUUID() }, 'survey_response_received'), {
      authorization: WEBHOOK_AUTHORIZATION,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ok: true, ignored: true });
  });

  test('a late `sent` receipt after `delivered` does not move the record backwards', async () => {
    const accepted = await api.post<{ messageId: string }>('/sms', {
      destination: freshNumber(),
      text: 'Late receipt',
    });
    const delivered = await waitForStatus(accepted.body.messageId, 'DELIVERED');
    const [sent] = stack.sms!.receivedFor(accepted.body.messageId);
    const late = await postReceipt(
      receipt({
        umid: sent!.umid,
        clientMessageId: accepted.body.messageId,
        status: { state: 'sent', timestamp: new Date().toISOString() },
      }),
      { authorization: WEBHOOK_AUTHORIZATION },
    );
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ ok: true, status: 'DELIVERED', changed: false });
    const after = await api.get<{ status: { code: string }; history: unknown[] }>(
      `/sms/${accepted.body.messageId}`,
    );
    expect(after.body.status.code).toBe('DELIVERED');
    expect(after.body.history).toEqual(delivered.history);
  });

  test('a caller’s own dlrCallbackUrl is passed to 8x8 unchanged and receipts go there', async () => {
    const received: { url: string; body: unknown }[] = [];
    const receiver: Server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const own = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/my/receipts?flow=otp`;
      const answer = await api.post<{ messageId: string }>('/sms', {
        destination: freshNumber(),
        text: 'Receipts to the caller',
        dlrCallbackUrl: own,
      });
      expect(answer.status).toBe(202);
      await waitFor('two receipts at the caller’s URL', () => received.length >= 2);
      const [sent] = stack.sms!.receivedFor(answer.body.messageId);
      expect(sent!.request.dlrCallbackUrl).toBe(own);
      expect(received.map((r) => r.url)).toEqual(['/my/receipts?flow=otp', '/my/receipts?flow=otp']);
      // The bridge heard only 8x8's answer: its record stays at sent (the README says so). The simulator may send
      // the receipts before the worker has recorded that answer, so wait for the record to leave QUEUED first.
      const status = await waitFor('the record past QUEUED', async () => {
        const record = await api.get<{ status: { code: string }; umid: string }>(
          `/sms/${answer.body.messageId}`,
        );
        return record.body.status.code !== 'QUEUED' && record.body;
      });
      expect(status).toMatchObject({ status: { code: 'SENT' }, umid: sent!.umid });
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});

// --- OpenAPI -------------------------------------------------------------------------------------------------------

describe('OpenAPI document', () => {
  type Doc = {
    openapi: string;
    paths: Record<
      string,
      Record<string, { security: unknown[]; requestBody?: { content: Record<string, { schema: unknown }> } }>
    >;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    'x-error-codes': Record<string, { status: number }>;
  };
  let doc: Doc;
  let ajv: Ajv2020;

  beforeAll(async () => {
    const response = await fetch(stack.urls.openapi); // no API key: the document is public
    expect(response.status).toBe(200);
    doc = (await response.json()) as Doc;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ components: doc.components }, 'openapi');
  });

  const requestValidator = (path: string) => {
    const schema = doc.paths[path]!.post!.requestBody!.content['application/json']!.schema as Record<
      string,
      unknown
    >;
    const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
    return ajv.compile(ref ? { $ref: `openapi${ref}` } : schema);
  };

  test('is served at /openapi.json as OpenAPI 3.1 with the API key scheme on Cognigy-facing routes only', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.api_key).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-api-key',
    });
    expect(doc.paths['/sms']!.post!.security).toEqual([{ api_key: [] }]);
    expect(doc.paths['/sms/batch']!.post!.security).toEqual([{ api_key: [] }]);
    expect(doc.paths['/sms/{messageId}']!.get!.security).toEqual([{ api_key: [] }]);
    expect(doc.paths['/webhooks/8x8/sms']!.post!.security).toEqual([]);
  });

  test('the /sms request schema has every field of 8x8’s single send plus cognigy and waitForUmidMs, and validates shapes', () => {
    const validate = requestValidator('/sms');
    const schema = (validate.schema as { $ref?: string }).$ref
      ? (doc.components.schemas[
          String((validate.schema as { $ref: string }).$ref)
            .split('/')
            .pop()!
        ] as {
          properties: Record<string, unknown>;
          required?: string[];
        })
      : (validate.schema as { properties: Record<string, unknown>; required?: string[] });
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'destination',
        'text',
        'source',
        'country',
        'clientMessageId',
        'encoding',
        'scheduled',
        'expiry',
        'track',
        'clientIp',
        'dlrCallbackUrl',
        'cognigy',
        'waitForUmidMs',
      ].sort(),
    );
    expect(schema.required?.sort()).toEqual(['destination', 'text']);

    const extensionBody = {
      destination: '6591234567',
      text: 'Hi',
      country: null,
      encoding: 'AUTO',
      source: '',
    };
    expect(validate(extensionBody)).toBe(true);
    expect(
      validate({
        ...extensionBody,
        cognigy: { userId: 'u', sessionId: 's', URLToken: 't', injectReceipts: true },
      }),
    ).toBe(true);
    expect(validate({ ...extensionBody, priority: 'high' })).toBe(false);
    expect(validate({ ...extensionBody, text: 42 })).toBe(false);
    expect(validate({ ...extensionBody, encoding: 'UTF8' })).toBe(false);
    expect(validate({ text: 'no destination' })).toBe(false);
  });

  test('the /sms/batch request schema validates both batch forms', () => {
    const validate = requestValidator('/sms/batch');
    expect(validate({ messages: [{ destination: '+6591234567', text: 'Hi' }] })).toBe(true);
    expect(validate({ destinations: ['+6591234567'], template: { text: 'Hi' }, clientBatchId: 'b1' })).toBe(
      true,
    );
    expect(validate({ messages: [] })).toBe(false);
    expect(validate({ messages: [{ destination: '+6591234567', text: 'Hi', foo: 1 }] })).toBe(false);
  });

  test('every error code this file saw is documented with its HTTP status', () => {
    const seen = new Map<string, number>();
    for (const answer of answers) {
      const code = (answer.body as Partial<ErrorAnswer> | undefined)?.error?.code;
      if (code && answer.status !== 403) seen.set(code, answer.status);
    }
    expect(seen.size).toBeGreaterThan(20);
    for (const [code, status] of seen)
      expect([code, doc['x-error-codes'][code]?.status]).toEqual([code, status]);
  });
});

// --- across the file ------------------------------------------------------------------------------------------------

test('the functions’ logs never carry message text, a full phone number or a secret', () => {
  expect(logLines.some((line) => line.includes('"SMS accepted"'))).toBe(true);
  expect(logLines.some((line) => line.includes('"Receipt recorded"'))).toBe(true);
  const leaks = (needle: string | RegExp) =>
    logLines.filter((line) => (typeof needle === 'string' ? line.includes(needle) : needle.test(line)));
  expect(leaks('"text"')).toEqual([]);
  for (const text of [
    'Sent from a Cognigy flow',
    'Per-message receipts',
    'Receipts to the caller',
    'Late receipt',
  ])
    expect(leaks(text)).toEqual([]);
  // Destinations appear masked (+65******01); an unmasked Singapore number would be +65 and eight digits.
  expect(leaks(/(?<![\w-])\+?65\d{8}(?![\w-])/)).toEqual([]);
  expect(logLines.some((line) => /"destination":"\+65\*+\d\d"/.test(line))).toBe(true);
  for (const secret of [...secrets, stack.apiKey, 'guessed-value']) expect(leaks(secret)).toEqual([]);
});

test('no answer of this file was a 5xx or carried a secret value', () => {
  expect(answers.length).toBeGreaterThan(50);
  expect(answers.filter((a) => a.status >= 500).map((a) => [a.status, a.text])).toEqual([]);
  expect(secrets.length).toBeGreaterThanOrEqual(4);
  for (const answer of answers) for (const secret of secrets) expect(answer.text).not.toContain(secret);
});

test('contract: every request the 8x8 simulator received in this file matches 8x8’s official OAS', () => {
  const requests = stack.sms!.requests;
  expect(requests.length).toBeGreaterThanOrEqual(5);
  const invalid = requests
    .map((call) => ({
      seq: call.seq,
      result: call.endpoint === 'batch' ? validateSmsBatchRequest(call.body) : validateSmsRequest(call.body),
    }))
    .filter((r) => !r.result.valid);
  expect(invalid).toEqual([]);
});
