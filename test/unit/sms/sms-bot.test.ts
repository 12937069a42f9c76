import '../../helpers/env';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import fc from 'fast-check';
import type {
  CognigyConversation,
  CognigyOutput,
  CognigyRestRequest,
} from '../../../functions/shared/cognigy-client';
import { UpstreamError } from '../../../functions/shared/errors';
import { CLOUD_URL_POLICY } from '../../../functions/shared/outbound-url';
import type { Telemetry } from '../../../functions/shared/runtime';
import { botSmsTexts, outputText, splitSms } from '../../../functions/sms/bot-outputs';
import { ANSWER_TTL_DAYS, DynamoSmsSessionStore } from '../../../functions/sms/dynamo-sms-session-store';
import type {
  OutboundSms,
  OutboundSmsItem,
  QueuedInboundSms,
  SmsBotSession,
  SmsSessionStore,
} from '../../../functions/sms/inbound-ports';
import {
  resolveSmsBotEndpointUrl,
  smsBot,
  SmsBotEndpointUrlError,
  smsBotFromEnvironment,
  type SmsBotSettings,
} from '../../../functions/sms/sms-bot';
import { measureText } from '../../../functions/sms/text';
import { FakeClock, SequenceIds } from './fakes';
import { json, ScriptedServer } from './http-server';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
// Printed so a failing run can be replayed with FC_SEED=<seed>.
console.log(`SMS bot property tests: fast-check seed ${SEED}`);

const ENDPOINT_URL = 'https://endpoint-app.cognigy.ai/0123456789abcdef-token';
const PHONE = '+6591234567';
const BOT_NUMBER = '+6560001111';

/** The SmsSessionStore contract in memory (the DynamoDB adapter is tested below against the SDK mock). */
class MemorySessionStore implements SmsSessionStore {
  readonly sessions = new Map<string, SmsBotSession>();
  readonly answers = new Map<string, string[]>();
  /** The order the turn's reads started and finished in. */
  readonly events: string[] = [];
  /** When set, savedAnswer waits for it. */
  savedAnswerGate?: Promise<void>;

  async currentSession(from: string, to: string): Promise<SmsBotSession | undefined> {
    this.events.push('session read');
    return this.sessions.get(`${from}#${to}`);
  }

  async sessionFor(
    from: string,
    to: string,
    now: Date,
    idleMs: number,
    newSessionId: () => string,
  ): Promise<SmsBotSession> {
    const id = `${from}#${to}`;
    const at = now.toISOString();
    const current = this.sessions.get(id);
    const session =
      current && now.getTime() - Date.parse(current.lastActivityAt) <= idleMs
        ? { ...current, lastActivityAt: at }
        : { id, userId: from, sessionId: newSessionId(), startedAt: at, lastActivityAt: at };
    this.sessions.set(id, session);
    return session;
  }

  async savedAnswer(umid: string): Promise<string[] | undefined> {
    this.events.push('saved answer read');
    await this.savedAnswerGate;
    this.events.push('saved answer read done');
    return this.answers.get(umid);
  }

  async saveAnswer(umid: string, texts: string[]): Promise<void> {
    if (!this.answers.has(umid)) this.answers.set(umid, [...texts]);
  }
}

class FakeCognigy implements CognigyConversation {
  readonly turns: { url: string; body: CognigyRestRequest }[] = [];
  /** Scripted answers (outputs) or errors, in order; empty: an echo bot. */
  readonly script: (CognigyOutput[] | Error)[] = [];

  async converse(url: string, body: CognigyRestRequest) {
    this.turns.push({ url, body: structuredClone(body) });
    const next = this.script.shift() ?? [{ text: `You said: ${body.text}` }];
    if (next instanceof Error) throw next;
    return { outputs: next };
  }
}

class RecordingOutbound implements OutboundSms {
  readonly sends: { items: OutboundSmsItem[]; options?: { bypassOptOut?: boolean } }[] = [];
  refuse: (item: OutboundSmsItem) => string | undefined = () => undefined;
  failure?: Error;

  async send(items: OutboundSmsItem[], options?: { bypassOptOut?: boolean }) {
    if (this.failure) throw this.failure;
    this.sends.push({ items: structuredClone(items), ...(options && { options }) });
    const refused = items.flatMap((item) => {
      const code = this.refuse(item);
      return code ? [{ code, clientMessageId: item.clientMessageId }] : [];
    });
    return { accepted: items.length - refused.length, refused };
  }
}

function recordingTelemetry() {
  const counts = new Map<string, number>();
  const logs: { level: string; message: string; extra: unknown }[] = [];
  const record =
    (level: string) =>
    (message: string, ...extra: unknown[]): void => {
      logs.push({ level, message, extra });
    };
  const telemetry: Telemetry = {
    log: {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    } as Telemetry['log'],
    count: (metric, value = 1) => counts.set(metric, (counts.get(metric) ?? 0) + value),
    milliseconds: () => undefined,
  };
  return { telemetry, counts, logs };
}

function setup(settings: Partial<SmsBotSettings> = {}, endpointUrl: string | null = ENDPOINT_URL) {
  const clock = new FakeClock();
  const sessions = new MemorySessionStore();
  const cognigy = new FakeCognigy();
  const outbound = new RecordingOutbound();
  const { telemetry, counts, logs } = recordingTelemetry();
  const bot = smsBot({
    clock,
    ids: new SequenceIds(),
    telemetry,
    settings: { sessionIdleMinutes: 60, outputs: 'join', maxParts: 3, ...settings },
    endpointUrl: async () => endpointUrl ?? undefined,
    cognigy,
    sessions,
    outbound,
  });
  return { bot, clock, sessions, cognigy, outbound, counts, logs };
}

let umids = 0;
function inbound(text: string, overrides: Partial<QueuedInboundSms> = {}): QueuedInboundSms {
  umids++;
  return {
    umid: `umid-${umids}`,
    from: PHONE,
    to: BOT_NUMBER,
    text,
    receivedAt: '2026-03-02T10:00:00.000Z',
    ...overrides,
  };
}

describe('smsBot', () => {
  it('keeps one Cognigy session over three turns and answers each from the 8x8 number that was texted', async () => {
    const { bot, clock, cognigy, outbound, counts } = setup();
    const turns = [inbound('Hi'), inbound('I need a table'), inbound('For two')];
    for (const sms of turns) {
      expect(await bot.answer(sms)).toBe('answered');
      clock.advance(5 * 60_000);
    }
    const sessionIds = new Set(cognigy.turns.map((turn) => turn.body.sessionId));
    expect(sessionIds.size).toBe(1);
    expect([...sessionIds][0]).toMatch(/^sms-[0-9a-f-]{36}$/);
    expect(cognigy.turns.map((turn) => turn.url)).toEqual([ENDPOINT_URL, ENDPOINT_URL, ENDPOINT_URL]);
    expect(cognigy.turns[1]?.body).toEqual({
      userId: PHONE,
      sessionId: [...sessionIds][0],
      text: 'I need a table',
      data: {
        sms: {
          inbound: {
            from: PHONE,
            to: BOT_NUMBER,
            text: 'I need a table',
            receivedAt: '2026-03-02T10:00:00.000Z',
            umid: turns[1]?.umid,
          },
        },
      },
    });
    expect(outbound.sends.map((send) => send.items)).toEqual(
      turns.map((sms) => [
        {
          destination: PHONE,
          source: BOT_NUMBER,
          text: `You said: ${sms.text}`,
          clientMessageId: `bot:${sms.umid}:1`,
        },
      ]),
    );
    // Bot answers never bypass the opt-out list.
    expect(outbound.sends.every((send) => send.options?.bypassOptOut !== true)).toBe(true);
    expect(counts.get('SmsBotAnswered')).toBe(3);
    expect(counts.get('SmsBotSmsSent')).toBe(3);
  });

  it('starts a new session after SMS_BOT_SESSION_IDLE_MINUTES without a message, and one per 8x8 number', async () => {
    const { bot, clock, cognigy } = setup({ sessionIdleMinutes: 30 });
    await bot.answer(inbound('first'));
    clock.advance(30 * 60_000);
    await bot.answer(inbound('still the same conversation'));
    clock.advance(30 * 60_000 + 1);
    await bot.answer(inbound('after a long pause'));
    await bot.answer(inbound('to another number', { to: '+6560002222' }));
    const [a, b, c, d] = cognigy.turns.map((turn) => turn.body.sessionId);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(d).not.toBe(c);
    expect(new Set(cognigy.turns.map((turn) => turn.body.userId))).toEqual(new Set([PHONE]));
  });

  it('does not ask Cognigy twice for a redelivered SMS and sends the same SMS with the same clientMessageIds', async () => {
    const { bot, cognigy, outbound, counts } = setup();
    cognigy.script.push([{ text: 'One' }, { text: 'Two' }]);
    const sms = inbound('hello');
    outbound.failure = new Error('SQS unavailable');
    await expect(bot.answer(sms)).rejects.toThrow('SQS unavailable');
    outbound.failure = undefined;
    expect(await bot.answer(sms)).toBe('answered');
    expect(await bot.answer(sms)).toBe('answered');
    expect(cognigy.turns).toHaveLength(1);
    expect(outbound.sends).toHaveLength(2);
    expect(outbound.sends[1]?.items).toEqual(outbound.sends[0]?.items);
    expect(outbound.sends[0]?.items.map((item) => [item.clientMessageId, item.text])).toEqual([
      [`bot:${sms.umid}:1`, 'One\n\nTwo'],
    ]);
    expect(counts.get('SmsBotAnswered')).toBe(1);
  });

  it.each([
    ['a timeout', new UpstreamError('cognigy', 'transient', 'timeout', undefined, 'TIMEOUT')],
    ['a 503', new UpstreamError('cognigy', 'transient', 'cognigy answered 503', 503)],
    ['a 429', new UpstreamError('cognigy', 'rateLimited', 'cognigy answered 429', 429, undefined, 1000)],
  ])('throws on %s (SQS retries) and answers once Cognigy is back', async (_name, failure) => {
    const { bot, cognigy, outbound, sessions } = setup();
    cognigy.script.push(failure);
    const sms = inbound('are you there?');
    await expect(bot.answer(sms)).rejects.toBe(failure);
    expect(outbound.sends).toHaveLength(0);
    expect(sessions.answers.size).toBe(0);
    expect(await bot.answer(sms)).toBe('answered');
    expect(outbound.sends.map((send) => send.items.map((item) => item.text))).toEqual([
      ['You said: are you there?'],
    ]);
  });

  it('reads the session while the saved answer is still being read, not after it', async () => {
    const { bot, sessions, cognigy } = setup();
    let open!: () => void;
    sessions.savedAnswerGate = new Promise<void>((resolve) => (open = resolve));
    const turn = bot.answer(inbound('Hi'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sessions.events).toEqual(['session read', 'saved answer read']);
    open();
    expect(await turn).toBe('answered');
    expect(sessions.events).toEqual(['session read', 'saved answer read', 'saved answer read done']);
    expect(cognigy.turns).toHaveLength(1);
  });

  it('logs and counts a permanent refusal (4xx), answers nothing and does not throw', async () => {
    const { bot, cognigy, outbound, counts, logs } = setup();
    cognigy.script.push(new UpstreamError('cognigy', 'permanent', 'cognigy answered 404: not found', 404));
    expect(await bot.answer(inbound('hello?'))).toBe('answered');
    expect(outbound.sends).toHaveLength(0);
    expect(counts.get('SmsBotRefused')).toBe(1);
    expect(counts.get('SmsBotAnswered')).toBeUndefined();
    const logged = JSON.stringify(logs);
    expect(logged).toContain('404');
    expect(logged).not.toContain('token');
    expect(logged).not.toContain(PHONE);
  });

  it('answers noBot when no REST Endpoint is configured, and neither asks nor sends', async () => {
    const { bot, cognigy, outbound, sessions } = setup({}, null);
    expect(await bot.answer(inbound('anyone?'))).toBe('noBot');
    expect(cognigy.turns).toHaveLength(0);
    expect(outbound.sends).toHaveLength(0);
    expect(sessions.sessions.size).toBe(0);
  });

  it('sends one SMS per output with SMS_BOT_OUTPUTS=separate and counts outputs without text', async () => {
    const { bot, cognigy, outbound, counts } = setup({ outputs: 'separate' });
    cognigy.script.push([
      { text: 'Welcome!' },
      { data: { _cognigy: { _webchat: { message: { attachment: { type: 'image' } } } } } },
      { text: '' },
      {
        text: 'Which size?',
        data: {
          _cognigy: {
            _default: {
              _quickReplies: {
                type: 'quick_replies',
                text: 'Which size?',
                quickReplies: [{ title: 'Small' }, { title: 'Large' }],
              },
            },
          },
        },
      },
    ]);
    const sms = inbound('menu');
    await bot.answer(sms);
    expect(outbound.sends[0]?.items.map((item) => [item.clientMessageId, item.text])).toEqual([
      [`bot:${sms.umid}:1`, 'Welcome!'],
      [`bot:${sms.umid}:2`, 'Which size?\n1. Small\n2. Large'],
    ]);
    expect(counts.get('SmsBotOutputSkipped')).toBe(1);
    expect(counts.get('SmsBotSmsSent')).toBe(2);
  });

  it('sends nothing for an answer without text, and counts what the opt-out list refused as not sent', async () => {
    const { bot, cognigy, outbound, counts, logs } = setup();
    cognigy.script.push([]);
    expect(await bot.answer(inbound('silence'))).toBe('answered');
    expect(outbound.sends).toHaveLength(0);
    outbound.refuse = () => 'RECIPIENT_OPTED_OUT';
    expect(await bot.answer(inbound('hello'))).toBe('answered');
    expect(outbound.sends).toHaveLength(1);
    expect(counts.get('SmsBotSmsSent')).toBe(0);
    expect(JSON.stringify(logs.filter((entry) => entry.level === 'warn'))).toContain('RECIPIENT_OPTED_OUT');
  });

  it('splits an answer longer than SMS_BOT_MAX_PARTS into numbered SMS', async () => {
    const { bot, cognigy, outbound } = setup({ maxParts: 1 });
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    cognigy.script.push([{ text: long }]);
    const sms = inbound('tell me more');
    await bot.answer(sms);
    const items = outbound.sends[0]?.items ?? [];
    expect(items.length).toBeGreaterThan(1);
    expect(items.map((item) => item.clientMessageId)).toEqual(
      items.map((_, index) => `bot:${sms.umid}:${index + 1}`),
    );
    expect(items.every((item) => measureText(item.text, 'AUTO').parts === 1)).toBe(true);
    expect(items.map((item) => item.text).join(' ')).toBe(long);
  });
});

describe('resolveSmsBotEndpointUrl', () => {
  const setting = 'https://endpoint-app.cognigy.ai/setting-token';

  it('prefers the cognigy secret, else the setting, else no bot', () => {
    expect(resolveSmsBotEndpointUrl(ENDPOINT_URL, setting, CLOUD_URL_POLICY)).toBe(ENDPOINT_URL);
    expect(resolveSmsBotEndpointUrl(undefined, setting, CLOUD_URL_POLICY)).toBe(setting);
    expect(resolveSmsBotEndpointUrl('', setting, CLOUD_URL_POLICY)).toBe(setting);
    expect(resolveSmsBotEndpointUrl(undefined, undefined, CLOUD_URL_POLICY)).toBeUndefined();
  });

  it('refuses private addresses and plain http in the cloud without quoting the URL, allows loopback locally', () => {
    const refused = (url: string) => () => resolveSmsBotEndpointUrl(url, undefined, CLOUD_URL_POLICY);
    expect(refused('http://169.254.169.254/secret-token')).toThrow(SmsBotEndpointUrlError);
    expect(refused('http://endpoint-app.cognigy.ai/secret-token')).toThrow(/must use https/);
    expect(refused('http://127.0.0.1:4000/secret-token')).toThrow(/^(?!.*secret-token)/);
    expect(() => resolveSmsBotEndpointUrl(undefined, 'http://10.0.0.1/t', CLOUD_URL_POLICY)).toThrow(
      /SMS_BOT_ENDPOINT_URL/,
    );
    expect(resolveSmsBotEndpointUrl('http://127.0.0.1:4000/t', undefined, { allowLoopback: true })).toBe(
      'http://127.0.0.1:4000/t',
    );
  });
});

const quickReplies = (text: string, titles: string[]) => ({
  _cognigy: {
    _default: {
      _quickReplies: { type: 'quick_replies', text, quickReplies: titles.map((title) => ({ title })) },
    },
  },
});

describe('the output → SMS text rule', () => {
  it('keeps text, and writes quick replies and buttons as the prompt and numbered options', () => {
    expect(outputText({ text: '  Hello there  ' })).toBe('Hello there');
    // The prompt is not repeated when it is the output's text too.
    expect(outputText({ text: 'Pick one', data: quickReplies('Pick one', ['Yes', 'No', '']) })).toBe(
      'Pick one\n1. Yes\n2. No',
    );
    expect(outputText({ data: quickReplies('Pick one', ['Yes']) })).toBe('Pick one\n1. Yes');
    expect(
      outputText({
        data: {
          _cognigy: {
            _default: {
              _buttons: {
                text: 'How can we help?',
                buttons: [
                  { type: 'postback', title: 'Opening hours', payload: 'hours' },
                  { type: 'web_url', title: 'Our website', url: 'https://example.com' },
                  { type: 'phone_number', title: 'Call us', payload: '+6560001111' },
                ],
              },
            },
          },
        },
      }),
    ).toBe(
      'How can we help?\n1. Opening hours\n2. Our website: https://example.com\n3. Call us: +6560001111',
    );
  });

  it('writes galleries and lists as numbered titles with subtitles', () => {
    const gallery = {
      _cognigy: {
        _default: {
          _gallery: {
            items: [
              { title: 'Sea view', subtitle: 'From 120 EUR', buttons: [{ title: 'Book' }] },
              { title: 'Garden view', buttons: [] },
            ],
          },
        },
      },
    };
    expect(outputText({ text: 'Our rooms:', data: gallery })).toBe(
      'Our rooms:\n1. Sea view - From 120 EUR\n2. Garden view',
    );
    const list = {
      _cognigy: { _default: { _list: { items: [{ title: 'Pizza', subtitle: 'Margherita' }] } } },
    };
    expect(outputText({ data: list })).toBe('1. Pizza - Margherita');
  });

  it('adds nothing that turns a GSM text into UCS-2, and removes control characters SMS cannot carry', () => {
    const text = outputText({ text: 'Choose\r\nplease\u0007', data: quickReplies('Now', ['A', 'B']) });
    expect(text).toBe('Choose\nplease\nNow\n1. A\n2. B');
    expect(measureText(text, 'AUTO').encoding).toBe('GSM7');
  });

  it('skips empty outputs silently and counts outputs with only other data', () => {
    const outputs: CognigyOutput[] = [
      { text: 'A' },
      { text: '   ' },
      { data: {} },
      { data: { _cognigy: { _webchat: { adaptiveCard: {} } } } },
      { data: { custom: true } },
      { text: 'B' },
    ];
    expect(botSmsTexts(outputs, { outputs: 'join', maxParts: 3 })).toEqual({
      texts: ['A\n\nB'],
      skippedOutputs: 2,
    });
    expect(botSmsTexts(outputs, { outputs: 'separate', maxParts: 3 })).toEqual({
      texts: ['A', 'B'],
      skippedOutputs: 2,
    });
    expect(botSmsTexts([{ text: '' }], { outputs: 'join', maxParts: 3 })).toEqual({
      texts: [],
      skippedOutputs: 0,
    });
  });

  it('ignores inherited keys in the Flow data', () => {
    const data = JSON.parse('{"_cognigy":{"__proto__":{"_default":{"_list":{"items":[{"title":"x"}]}}}}}');
    expect(outputText({ text: 'only me', data })).toBe('only me');
  });
});

describe('splitSms', () => {
  it('counts as 8x8 does: 160 GSM characters fit one part, 161 need two; extension characters count two', () => {
    expect(splitSms('a'.repeat(160), 1)).toEqual(['a'.repeat(160)]);
    expect(splitSms(`${'a'.repeat(80)} ${'b'.repeat(80)}`, 1)).toEqual(['a'.repeat(80), 'b'.repeat(80)]);
    // 80 euro signs are 160 septets: one part; 81 need two.
    expect(splitSms('€'.repeat(80), 1)).toEqual(['€'.repeat(80)]);
    expect(splitSms('€'.repeat(81), 1)).toEqual(['€'.repeat(80), '€']);
    // UCS-2: 70 per single part, 67 per part when concatenated.
    expect(splitSms('ж'.repeat(140), 2)).toEqual(['ж'.repeat(134), 'ж'.repeat(6)]);
  });

  it('splits at word boundaries, and inside a word only when the word alone is too long', () => {
    const words = 'lorem ipsum dolor sit amet '.repeat(20).trim();
    const pieces = splitSms(words, 1);
    expect(pieces.every((piece) => !/^\s|\s$/.test(piece) && piece.length <= 160)).toBe(true);
    expect(pieces.join(' ')).toBe(words);
    expect(pieces.every((piece) => /^(lorem|ipsum|dolor|sit|amet)\b/.test(piece))).toBe(true);
    expect(splitSms(`hi ${'x'.repeat(400)}`, 1)).toEqual([
      'hi',
      'x'.repeat(160),
      'x'.repeat(160),
      'x'.repeat(80),
    ]);
    // No surrogate pair is cut.
    const emoji = '😀'.repeat(40);
    expect(splitSms(emoji, 1)).toEqual(['😀'.repeat(35), '😀'.repeat(5)]);
  });

  it('property: every piece fits the limit and the pieces are the input, cut only at whitespace or inside words', () => {
    const character = fc.constantFrom(
      'a',
      'b',
      'Z',
      '1',
      '.',
      '€',
      '{',
      '^',
      'é',
      'ж',
      '😀',
      '中',
      ' ',
      ' ',
      ' ',
      '\n',
      '\t',
      '\u00a0',
    );
    fc.assert(
      fc.property(
        fc.array(character, { maxLength: 2500, size: 'max' }).map((chars) => chars.join('')),
        fc.integer({ min: 1, max: 10 }),
        (text, maxParts) => {
          const pieces = splitSms(text, maxParts);
          for (const piece of pieces) {
            expect(piece).not.toBe('');
            expect(piece).toBe(piece.trim());
            expect(measureText(piece, 'AUTO').parts).toBeLessThanOrEqual(maxParts);
          }
          // The input is the pieces in order with only whitespace (or nothing) between them.
          let rest = text.trim();
          for (const [index, piece] of pieces.entries()) {
            if (index > 0) rest = rest.trimStart();
            expect(rest.startsWith(piece)).toBe(true);
            rest = rest.slice(piece.length);
            // Cut inside a word only when the piece is that one word (no whitespace it could have been cut at).
            if (rest !== '' && !/^\s/.test(rest)) expect(piece).not.toMatch(/\s/);
          }
          expect(rest).toBe('');
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});

const doc = mockClient(DynamoDBDocumentClient);
const secretsManager = mockClient(SecretsManagerClient);

describe('DynamoSmsSessionStore', () => {
  const store = new DynamoSmsSessionStore({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    tableName: 'smsSessions',
    recordTtlDays: 30,
  });
  const now = new Date('2026-03-02T10:00:00.000Z');
  const idleMs = 60 * 60_000;
  const id = `${PHONE}#${BOT_NUMBER}`;
  const item = (sessionId: string, lastActivityAt: string) => ({
    id,
    userId: PHONE,
    sessionId,
    startedAt: '2026-03-02T08:00:00.000Z',
    lastActivityAt,
    to: BOT_NUMBER,
    expiresAt: 1,
  });
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  beforeEach(() => doc.reset());

  it('creates the first session only if none exists, with the TTL after idle time plus RECORD_TTL_DAYS', async () => {
    doc.on(GetCommand).resolves({});
    doc.on(PutCommand).resolves({});
    const session = await store.sessionFor(PHONE, BOT_NUMBER, now, idleMs, () => 'sms-new');
    expect(session).toEqual({
      id,
      userId: PHONE,
      sessionId: 'sms-new',
      startedAt: now.toISOString(),
      lastActivityAt: now.toISOString(),
    });
    expect(doc).toHaveReceivedCommandWith(GetCommand, { Key: { id }, ConsistentRead: true });
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(id)',
      Item: expect.objectContaining({
        sessionId: 'sms-new',
        expiresAt: (now.getTime() + idleMs + 30 * 86_400_000) / 1000,
      }),
    });
  });

  it('keeps an active session and moves its last activity on, conditional on the same sessionId', async () => {
    doc.on(GetCommand).resolves({ Item: item('sms-old', '2026-03-02T09:30:00.000Z') });
    doc.on(UpdateCommand).resolves({});
    const session = await store.sessionFor(PHONE, BOT_NUMBER, now, idleMs, () => 'sms-unused');
    expect(session.sessionId).toBe('sms-old');
    expect(session.lastActivityAt).toBe(now.toISOString());
    expect(doc).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({
        ':sessionId': 'sms-old',
        ':at': now.toISOString(),
      }),
    });
    expect(doc).not.toHaveReceivedCommand(PutCommand);
  });

  it('renews an idle session, replacing only the session it read', async () => {
    doc.on(GetCommand).resolves({ Item: item('sms-old', '2026-03-02T08:59:59.999Z') });
    doc.on(PutCommand).resolves({});
    const session = await store.sessionFor(PHONE, BOT_NUMBER, now, idleMs, () => 'sms-new');
    expect(session.sessionId).toBe('sms-new');
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: '#sessionId = :sessionId',
      ExpressionAttributeValues: { ':sessionId': 'sms-old' },
    });
  });

  it('joins the session another SMS created at the same moment instead of making a second one', async () => {
    doc
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: item('sms-winner', now.toISOString()) });
    doc.on(PutCommand).rejects(conditionFailed());
    let created = 0;
    const session = await store.sessionFor(PHONE, BOT_NUMBER, now, idleMs, () => `sms-loser-${++created}`);
    expect(session.sessionId).toBe('sms-winner');
    expect(doc).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(doc).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('uses a read already under way for its first attempt, and reads again after a conflict', async () => {
    const read = Promise.resolve({
      id,
      userId: PHONE,
      sessionId: 'sms-old',
      startedAt: '2026-03-02T08:00:00.000Z',
      lastActivityAt: '2026-03-02T09:30:00.000Z',
    });
    doc.on(UpdateCommand).resolves({});
    const session = await store.sessionFor(PHONE, BOT_NUMBER, now, idleMs, () => 'sms-unused', read);
    expect(session.sessionId).toBe('sms-old');
    expect(doc).not.toHaveReceivedCommand(GetCommand);

    doc.reset();
    doc.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
    doc.on(GetCommand).resolves({ Item: item('sms-newer', '2026-03-02T09:45:00.000Z') });
    const retried = await store.sessionFor(PHONE, BOT_NUMBER, now, idleMs, () => 'sms-unused', read);
    expect(retried.sessionId).toBe('sms-newer');
    expect(doc).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('reads the current session consistently, without touching it', async () => {
    doc.on(GetCommand).resolves({ Item: item('sms-old', '2026-03-02T09:30:00.000Z') });
    expect((await store.currentSession(PHONE, BOT_NUMBER))?.sessionId).toBe('sms-old');
    expect(doc).toHaveReceivedCommandWith(GetCommand, { Key: { id }, ConsistentRead: true });
    expect(doc).not.toHaveReceivedCommand(UpdateCommand);
    expect(doc).not.toHaveReceivedCommand(PutCommand);
  });

  it('saves an answer once under answer#<umid> with a TTL of ANSWER_TTL_DAYS and reads it back', async () => {
    doc.on(PutCommand).resolvesOnce({}).rejects(conditionFailed());
    await store.saveAnswer('u-1', ['One', 'Two'], now);
    await store.saveAnswer('u-1', ['Other'], now);
    expect(doc.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: 'smsSessions',
      Item: {
        id: 'answer#u-1',
        texts: ['One', 'Two'],
        answeredAt: now.toISOString(),
        expiresAt: (now.getTime() + ANSWER_TTL_DAYS * 86_400_000) / 1000,
      },
      ConditionExpression: 'attribute_not_exists(id)',
    });
    doc
      .on(GetCommand, { Key: { id: 'answer#u-1' } })
      .resolves({ Item: { id: 'answer#u-1', texts: ['One', 'Two'] } });
    doc.on(GetCommand, { Key: { id: 'answer#u-2' } }).resolves({});
    expect(await store.savedAnswer('u-1')).toEqual(['One', 'Two']);
    expect(await store.savedAnswer('u-2')).toBeUndefined();
  });
});

describe('smsBotFromEnvironment', () => {
  const server = new ScriptedServer();
  const saved = { ...process.env };
  let secrets = 0;

  beforeAll(() => server.start());
  afterAll(() => server.stop());
  beforeEach(() => {
    server.reset();
    doc.reset();
    secretsManager.reset();
    doc.on(GetCommand).resolves({});
    doc.on(PutCommand).resolves({});
    // Powertools caches a secret by name: a new name per test.
    process.env.COGNIGY_SECRET = `cognigy-${++secrets}`;
    process.env.SMS_SESSIONS_TABLE = 'sms-sessions';
    process.env.ALLOW_LOOPBACK_URLS = 'true';
    process.env.SMS_BOT_ENDPOINT_URL = `${server.url}/setting-token`;
  });
  afterEach(() => {
    for (const key of ['COGNIGY_SECRET', 'SMS_SESSIONS_TABLE', 'ALLOW_LOOPBACK_URLS', 'SMS_BOT_ENDPOINT_URL'])
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
  });

  it('talks to SMS_BOT_ENDPOINT_URL when the cognigy secret names no bot, and sends the answer', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    server.replies.push(json(200, { outputStack: [{ text: 'Hello from the flow', source: 'bot' }] }));
    const outbound = new RecordingOutbound();
    const sms = inbound('Hi');
    expect(await smsBotFromEnvironment(outbound).answer(sms)).toBe('answered');
    expect(server.received.map((request) => request.url)).toEqual(['/setting-token']);
    expect(server.received[0]?.body).toMatchObject({
      userId: PHONE,
      text: 'Hi',
      sessionId: expect.stringMatching(/^sms-/),
    });
    expect(outbound.sends[0]?.items).toEqual([
      {
        destination: PHONE,
        source: BOT_NUMBER,
        text: 'Hello from the flow',
        clientMessageId: `bot:${sms.umid}:1`,
      },
    ]);
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'sms-sessions',
      Item: expect.objectContaining({ id: `answer#${sms.umid}`, texts: ['Hello from the flow'] }),
    });
  });

  it("prefers the cognigy secret's smsBotEndpointUrl", async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ smsBotEndpointUrl: `${server.url}/secret-token` }) });
    await smsBotFromEnvironment(new RecordingOutbound()).answer(inbound('Hi'));
    expect(server.received.map((request) => request.url)).toEqual(['/secret-token']);
  });

  it('answers noBot with neither configured', async () => {
    delete process.env.SMS_BOT_ENDPOINT_URL;
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    expect(await smsBotFromEnvironment(new RecordingOutbound()).answer(inbound('Hi'))).toBe('noBot');
    expect(server.received).toHaveLength(0);
  });
});
