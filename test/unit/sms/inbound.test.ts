/**
 * The sms-inbound consumer core (functions/sms/inbound.ts): keywords, the reply window's inject, the SMS bot, and the
 * bridge's own SMS through POST /sms/batch's real core (functions/sms/outbound-sms.ts over the in-memory store and
 * queue, with derived messageIds as inbound-wiring.ts wires it), so a redelivered inbound SMS is shown to send
 * nothing twice. Also: acceptSms records the
 * reply window's key (erase removes it: reply-window-store.test.ts).
 */
import '../../helpers/env';
import { REPEAT_REQUEUE_AGE_MS, acceptSms, type AcceptDeps } from '../../../functions/sms/accept';
import { MESSAGE_ID_PATTERN } from '../../../functions/sms/status';
import type {
  CognigyEndpoint,
  CognigyPush,
  CognigyTarget,
  PushOptions,
} from '../../../functions/shared/cognigy-client';
import { UpstreamError } from '../../../functions/shared/errors';
import type { Telemetry } from '../../../functions/shared/runtime';
import {
  handleInboundSms,
  inboundExhausted,
  type InboundDeps,
  type InboundSettings,
} from '../../../functions/sms/inbound';
import {
  replyKey,
  type OutboundSms,
  type QueuedInboundSms,
  type ReplyLookup,
  type ReplyTarget,
  type SmsBot,
} from '../../../functions/sms/inbound-ports';
import {
  OutboundSmsNotAcceptedError,
  acceptOutboundSms,
  ownSmsMessageId,
  withoutOptOutCheck,
} from '../../../functions/sms/outbound-sms';
import { FakeClock, FakeQueue, InMemoryMessageStore, SequenceIds } from './fakes';
import { InMemoryOptOutStore } from './fake-opt-out-store';

/** Records metrics and log lines (the log line's fields too, to check that numbers are masked). */
class RecordingTelemetry implements Telemetry {
  readonly counts = new Map<string, number>();
  readonly lines: { level: string; message: string; fields: unknown }[] = [];
  readonly log = {
    debug: (message: string, fields?: unknown) => this.lines.push({ level: 'debug', message, fields }),
    info: (message: string, fields?: unknown) => this.lines.push({ level: 'info', message, fields }),
    warn: (message: string, fields?: unknown) => this.lines.push({ level: 'warn', message, fields }),
    error: (message: string, fields?: unknown) => this.lines.push({ level: 'error', message, fields }),
  } as unknown as Telemetry['log'];
  count(metric: string, value = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
  }
  milliseconds(): void {}
}

class FakeReplies implements ReplyLookup {
  readonly calls: { from: string; to: string; since: string }[] = [];
  /** Candidate flow SMS per `from|to`, any age: the fake applies `since` and picks the newest, as the index does. */
  readonly targets: (ReplyTarget & { from: string; to: string })[] = [];
  async latestSessionSms(from: string, to: string, since: string) {
    this.calls.push({ from, to, since });
    const matching = this.targets
      .filter((t) => t.from === from && t.to === to && t.createdAt >= since)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const [newest] = matching;
    if (!newest) return undefined;
    const { from: _from, to: _to, ...target } = newest;
    return target;
  }
}

class FakeCognigy implements CognigyEndpoint {
  readonly pushes: { mode: string; target: CognigyTarget; push: CognigyPush; options?: PushOptions }[] = [];
  /** Errors thrown by the next pushes, in order. */
  readonly failures: Error[] = [];
  defaultBaseUrl: string | undefined = 'https://endpoint-default.example.com';
  async push(mode: 'inject' | 'notify', target: CognigyTarget, push: CognigyPush, options?: PushOptions) {
    this.pushes.push({ mode, target, push: structuredClone(push), options });
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
  async defaultEndpointBaseUrl() {
    return this.defaultBaseUrl;
  }
}

class FakeBot implements SmsBot {
  readonly asked: QueuedInboundSms[] = [];
  verdict: 'answered' | 'noBot' = 'answered';
  /** How many reply-window lookups had started at each prepare(). */
  readonly prepared: number[] = [];
  constructor(private readonly replies?: FakeReplies) {}
  prepare() {
    this.prepared.push(this.replies?.calls.length ?? -1);
  }
  async answer(inbound: QueuedInboundSms) {
    this.asked.push(inbound);
    return this.verdict;
  }
}

const PHONE = '+6591234567';
const OUR_NUMBER = '+6580001111';
const NOW = '2026-03-02T10:00:00.000Z';

const inbound = (overrides: Partial<QueuedInboundSms> = {}): QueuedInboundSms => ({
  umid: '6b2f0a4c-1111-4c55-9e61-000000000001',
  from: PHONE,
  to: OUR_NUMBER,
  text: 'Yes',
  receivedAt: '2026-03-02T09:59:58.000Z',
  ...overrides,
});

function setup(settings: Partial<InboundSettings> = {}) {
  const clock = new FakeClock(new Date(NOW));
  const telemetry = new RecordingTelemetry();
  const optOuts = new InMemoryOptOutStore();
  // The accept core checks the same opt-out list the keywords change (as accept-wiring.ts and inbound-wiring.ts do).
  const accept = {
    store: new InMemoryMessageStore(),
    queue: new FakeQueue(),
    derivedMessageId: ownSmsMessageId,
    clock,
    ids: new SequenceIds(),
    settings: { recordTtlDays: 30 },
    optOuts: { store: optOuts, scope: settings.optOutScope ?? 'sender' },
  } satisfies AcceptDeps;
  const outbound = acceptOutboundSms(accept, telemetry);
  const sent: Parameters<OutboundSms['send']>[] = [];
  const recordingOutbound: OutboundSms = {
    send: (items, options) => {
      sent.push([structuredClone(items), options]);
      return outbound.send(items, options);
    },
  };
  const replies = new FakeReplies();
  const bot = new FakeBot(replies);
  const deps = {
    optOuts,
    replies,
    cognigy: new FakeCognigy(),
    outbound: recordingOutbound,
    bot,
    clock,
    telemetry,
    settings: {
      optOutKeywords: ['STOP', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'],
      optInKeywords: ['START', 'UNSTOP'],
      helpKeywords: ['HELP'],
      helpText: 'Reply STOP to stop receiving messages, START to receive them again.',
      replyWindowHours: 24,
      optOutScope: 'sender' as const,
      ...settings,
    },
  } satisfies InboundDeps;
  return {
    deps,
    accept,
    sent,
    bot,
    telemetry,
    optOuts: deps.optOuts,
    replies: deps.replies,
    cognigy: deps.cognigy,
  };
}

/** The SMS the bridge stored for sending (records of the in-memory store), oldest first. */
const storedSms = (accept: { store: InMemoryMessageStore }) =>
  [...accept.store.records.values()].map((r) => ({
    destination: r.destination,
    source: r.request.source,
    text: r.request.text,
    clientMessageId: r.clientMessageId,
  }));

const flowSms = (overrides: Partial<ReplyTarget> = {}): ReplyTarget & { from: string; to: string } => ({
  from: PHONE,
  to: OUR_NUMBER,
  messageId: 'msg-flow-1',
  clientMessageId: 'confirm-appointment-42',
  createdAt: '2026-03-02T08:00:00.000Z',
  cognigy: {
    userId: 'user-1',
    sessionId: 'session-1',
    URLToken: 'token-1',
    endpointBaseUrl: 'https://endpoint-trial.cognigy.ai',
  },
  ...overrides,
});

describe('keywords', () => {
  test('STOP records an opt-out from the texted number and sends the confirmation once, bypassing the opt-out check', async () => {
    const t = setup({ optOutConfirmationText: 'You will get no more SMS from us. Reply START to undo.' });
    t.replies.targets.push(flowSms());
    await expect(handleInboundSms(inbound({ text: ' Stop. ' }), t.deps)).resolves.toBe('optOut');

    expect(t.optOuts.records.get(PHONE)?.senders).toEqual([
      { sender: OUR_NUMBER, optedOutAt: '2026-03-02T09:59:58.000Z', keyword: 'STOP', umid: inbound().umid },
    ]);
    expect(t.sent).toEqual([
      [
        [
          {
            destination: PHONE,
            source: OUR_NUMBER,
            text: 'You will get no more SMS from us. Reply START to undo.',
            clientMessageId: `kw:${inbound().umid}`,
          },
        ],
        { bypassOptOut: true },
      ],
    ]);
    expect(storedSms(t.accept)).toHaveLength(1);
    expect(t.accept.queue.enqueued).toHaveLength(1);
    // A keyword never reaches the flow or the bot.
    expect(t.cognigy.pushes).toEqual([]);
    expect(t.bot.asked).toEqual([]);
    expect(t.telemetry.counts.get('SmsOptOutRecorded')).toBe(1);
  });

  test('a redelivered STOP records nothing new and sends no second confirmation', async () => {
    const t = setup({ optOutConfirmationText: 'Stopped.' });
    await handleInboundSms(inbound({ text: 'STOP' }), t.deps);
    await handleInboundSms(inbound({ text: 'STOP' }), t.deps, { receiveCount: 2 });

    expect(t.optOuts.records.get(PHONE)?.history).toHaveLength(1);
    expect(storedSms(t.accept)).toEqual([
      { destination: PHONE, source: OUR_NUMBER, text: 'Stopped.', clientMessageId: `kw:${inbound().umid}` },
    ]);
    expect(t.accept.queue.enqueued).toHaveLength(1);
  });

  test('without a confirmation text STOP sends nothing', async () => {
    const t = setup();
    await expect(handleInboundSms(inbound({ text: 'unsubscribe' }), t.deps)).resolves.toBe('optOut');
    expect(t.optOuts.records.get(PHONE)?.senders.map((s) => s.keyword)).toEqual(['UNSUBSCRIBE']);
    expect(t.sent).toEqual([]);
  });

  test('START lifts the opt-out from the texted number only (sender scope) and confirms', async () => {
    const t = setup({ optInConfirmationText: 'Welcome back.' });
    await t.optOuts.optOut(PHONE, { sender: OUR_NUMBER, optedOutAt: NOW, keyword: 'STOP', umid: 'u-0' });
    await t.optOuts.optOut(PHONE, { sender: 'MyBank', optedOutAt: NOW, keyword: 'STOP', umid: 'u-00' });

    await expect(handleInboundSms(inbound({ text: 'start!' }), t.deps)).resolves.toBe('optIn');

    expect(t.optOuts.records.get(PHONE)?.senders.map((s) => s.sender)).toEqual(['MyBank']);
    expect(t.optOuts.records.get(PHONE)?.history.at(-1)).toEqual({
      action: 'optIn',
      sender: OUR_NUMBER,
      at: inbound().receivedAt,
      via: 'START',
      umid: inbound().umid,
    });
    expect(storedSms(t.accept)).toEqual([
      {
        destination: PHONE,
        source: OUR_NUMBER,
        text: 'Welcome back.',
        clientMessageId: `kw:${inbound().umid}`,
      },
    ]);
    expect(t.telemetry.counts.get('SmsOptInRecorded')).toBe(1);
  });

  test('with SMS_OPT_OUT_SCOPE=account, START lifts every sender', async () => {
    const t = setup({ optOutScope: 'account' });
    await t.optOuts.optOut(PHONE, { sender: OUR_NUMBER, optedOutAt: NOW, keyword: 'STOP', umid: 'u-0' });
    await t.optOuts.optOut(PHONE, { sender: 'MyBank', optedOutAt: NOW, keyword: 'STOP', umid: 'u-00' });
    await handleInboundSms(inbound({ text: 'UNSTOP' }), t.deps);
    expect(t.optOuts.records.get(PHONE)?.senders).toEqual([]);
  });

  test('HELP answers SMS_HELP_TEXT from the texted number, once per umid', async () => {
    const t = setup({ helpText: 'Acme: reply STOP to opt out. Help: acme.example/sms' });
    await expect(handleInboundSms(inbound({ text: 'help' }), t.deps)).resolves.toBe('help');
    await handleInboundSms(inbound({ text: 'help' }), t.deps, { receiveCount: 2 });
    expect(storedSms(t.accept)).toEqual([
      {
        destination: PHONE,
        source: OUR_NUMBER,
        text: 'Acme: reply STOP to opt out. Help: acme.example/sms',
        clientMessageId: `kw:${inbound().umid}`,
      },
    ]);
    expect(t.sent.every(([, options]) => options?.bypassOptOut === true)).toBe(true);
    expect(t.optOuts.records.size).toBe(0);
  });

  test('"stop please" is ordinary text: it goes on to the reply window', async () => {
    const t = setup();
    t.replies.targets.push(flowSms());
    await expect(handleInboundSms(inbound({ text: 'stop please' }), t.deps)).resolves.toBe('injected');
    expect(t.optOuts.records.size).toBe(0);
    expect(t.cognigy.pushes[0]?.push.text).toBe('stop please');
  });

  test('a store failure is thrown (retried) before anything is sent', async () => {
    const t = setup({ optOutConfirmationText: 'Stopped.' });
    t.optOuts.optOut = async () => {
      throw new Error('DynamoDB is unavailable');
    };
    await expect(handleInboundSms(inbound({ text: 'STOP' }), t.deps)).rejects.toThrow(
      'DynamoDB is unavailable',
    );
    expect(t.sent).toEqual([]);
    expect(t.telemetry.counts.get('SmsOptOutRecorded')).toBeUndefined();
  });
});

describe('reply window', () => {
  test('a reply is injected into the most recent flow session that texted the number, with data.sms.inbound', async () => {
    const t = setup();
    t.replies.targets.push(
      flowSms({ messageId: 'older', createdAt: '2026-03-02T07:00:00.000Z' }),
      flowSms(),
      // Another 8x8 number's flow SMS to the same phone is not this conversation.
      { ...flowSms({ messageId: 'other-number', createdAt: '2026-03-02T09:00:00.000Z' }), to: '+6580002222' },
    );
    await expect(handleInboundSms(inbound({ text: 'Yes, 3pm works' }), t.deps)).resolves.toBe('injected');

    expect(t.replies.calls).toEqual([{ from: PHONE, to: OUR_NUMBER, since: '2026-03-01T10:00:00.000Z' }]);
    expect(t.cognigy.pushes).toEqual([
      {
        mode: 'inject',
        target: { endpointBaseUrl: 'https://endpoint-trial.cognigy.ai', urlToken: 'token-1' },
        push: {
          userId: 'user-1',
          sessionId: 'session-1',
          text: 'Yes, 3pm works',
          data: {
            sms: {
              inbound: {
                from: PHONE,
                to: OUR_NUMBER,
                text: 'Yes, 3pm works',
                receivedAt: '2026-03-02T09:59:58.000Z',
                umid: inbound().umid,
                inReplyTo: { messageId: 'msg-flow-1', clientMessageId: 'confirm-appointment-42' },
              },
            },
            bridgeEventId: `sms:inbound:${inbound().umid}`,
          },
        },
        options: { retry: false },
      },
    ]);
    expect(t.bot.asked).toEqual([]);
    expect(t.telemetry.counts.get('SmsInboundInjected')).toBe(1);
    // Phone numbers are masked in logs.
    expect(JSON.stringify(t.telemetry.lines)).not.toContain(PHONE);
  });

  test("a flow SMS without endpointBaseUrl is reached through the cognigy secret's default", async () => {
    const t = setup();
    const target = flowSms();
    delete target.cognigy.endpointBaseUrl;
    delete target.clientMessageId;
    t.replies.targets.push(target);
    await handleInboundSms(inbound(), t.deps);
    expect(t.cognigy.pushes[0]?.target.endpointBaseUrl).toBe('https://endpoint-default.example.com');
    expect((t.cognigy.pushes[0]?.push.data.sms as { inbound: unknown }).inbound).toMatchObject({
      inReplyTo: { messageId: 'msg-flow-1' },
    });
  });

  test('with no base URL anywhere the reply is dropped with SmsInboundInjectRefused (retrying cannot help)', async () => {
    const t = setup();
    const target = flowSms();
    delete target.cognigy.endpointBaseUrl;
    t.replies.targets.push(target);
    t.cognigy.defaultBaseUrl = undefined;
    await expect(handleInboundSms(inbound(), t.deps)).resolves.toBe('injectRefused');
    expect(t.cognigy.pushes).toEqual([]);
    expect(t.telemetry.counts.get('SmsInboundInjectRefused')).toBe(1);
  });

  test('a window that has expired sends the SMS to the bot', async () => {
    const t = setup({ replyWindowHours: 1 });
    t.replies.targets.push(flowSms({ createdAt: '2026-03-02T08:59:59.999Z' }));
    await expect(handleInboundSms(inbound(), t.deps)).resolves.toBe('answered');
    expect(t.replies.calls[0]?.since).toBe('2026-03-02T09:00:00.000Z');
    expect(t.cognigy.pushes).toEqual([]);
    expect(t.bot.asked).toEqual([inbound()]);
  });

  test('SMS_REPLY_WINDOW_HOURS=0 turns replies to flows off', async () => {
    const t = setup({ replyWindowHours: 0 });
    t.replies.targets.push(flowSms());
    await handleInboundSms(inbound(), t.deps);
    expect(t.replies.calls).toEqual([]);
    expect(t.bot.asked).toHaveLength(1);
  });

  test.each([
    ['a 503', new UpstreamError('cognigy', 'transient', 'Cognigy answered 503', 503)],
    ['a 429', new UpstreamError('cognigy', 'rateLimited', 'Cognigy answered 429', 429)],
    ['a timeout', new UpstreamError('cognigy', 'transient', 'Cognigy did not answer in time')],
    ['a network error', new TypeError('fetch failed')],
  ])(
    'Cognigy failing with %s is thrown (SQS retries); the redelivery pushes again as a retry',
    async (_name, error) => {
      const t = setup();
      t.replies.targets.push(flowSms());
      t.cognigy.failures.push(error);
      await expect(handleInboundSms(inbound(), t.deps)).rejects.toBe(error);
      expect(t.telemetry.counts.get('SmsInboundInjected')).toBeUndefined();

      await expect(handleInboundSms(inbound(), t.deps, { receiveCount: 2 })).resolves.toBe('injected');
      expect(t.cognigy.pushes.map((p) => p.options)).toEqual([{ retry: false }, { retry: true }]);
      expect(t.cognigy.pushes[1]?.push).toEqual(t.cognigy.pushes[0]?.push);
      expect(t.bot.asked).toEqual([]);
    },
  );

  test("Cognigy's permanent refusal (404 unknown URLToken) is logged, counted and dropped", async () => {
    const t = setup();
    t.replies.targets.push(flowSms());
    t.cognigy.failures.push(new UpstreamError('cognigy', 'permanent', 'Cognigy answered 404', 404));
    await expect(handleInboundSms(inbound(), t.deps)).resolves.toBe('injectRefused');
    expect(t.telemetry.counts.get('SmsInboundInjectRefused')).toBe(1);
    expect(t.telemetry.lines.some((l) => l.level === 'error' && /refused/.test(l.message))).toBe(true);
    expect(t.bot.asked).toEqual([]);
  });
});

describe('SMS bot and the rest', () => {
  test('no reply window: the bot answers', async () => {
    const t = setup();
    await expect(handleInboundSms(inbound({ text: 'What are your opening hours?' }), t.deps)).resolves.toBe(
      'answered',
    );
    expect(t.bot.asked).toEqual([inbound({ text: 'What are your opening hours?' })]);
    expect(t.telemetry.counts.get('SmsInboundUnrouted')).toBeUndefined();
  });

  test("the bot's endpoint is read before the reply window is looked up, not after it; keywords need neither", async () => {
    const t = setup();
    await handleInboundSms(inbound({ text: 'Hello' }), t.deps);
    expect(t.bot.prepared).toEqual([0]);
    expect(t.deps.replies.calls).toHaveLength(1);
    await handleInboundSms(inbound({ text: 'STOP' }), t.deps);
    expect(t.bot.prepared).toEqual([0]);
  });

  test('no bot configured: counted as SmsInboundUnrouted, nothing sent', async () => {
    const t = setup();
    t.bot.verdict = 'noBot';
    await expect(handleInboundSms(inbound(), t.deps)).resolves.toBe('unrouted');
    expect(t.telemetry.counts.get('SmsInboundUnrouted')).toBe(1);
    expect(t.sent).toEqual([]);
    expect(JSON.stringify(t.telemetry.lines)).not.toContain(PHONE);
  });

  test('an unreadable queue message is logged and dropped, never retried', async () => {
    const t = setup();
    await expect(handleInboundSms({ umid: 'u-1', from: PHONE }, t.deps)).resolves.toBe('invalid');
    await expect(handleInboundSms('not an object', t.deps)).resolves.toBe('invalid');
    expect(t.telemetry.counts.get('SmsInboundInvalid')).toBe(2);
    expect(t.bot.asked).toEqual([]);
    expect(JSON.stringify(t.telemetry.lines)).not.toContain(PHONE);
  });

  test('the last failed receive is logged with a masked number and counted', () => {
    const t = setup();
    inboundExhausted(inbound(), new Error('Cognigy answered 503'), t.deps);
    expect(t.telemetry.counts.get('SmsInboundExhausted')).toBe(1);
    expect(t.telemetry.lines).toEqual([
      expect.objectContaining({
        level: 'error',
        fields: expect.objectContaining({ umid: inbound().umid, error: 'Cognigy answered 503' }),
      }),
    ]);
    expect(JSON.stringify(t.telemetry.lines)).not.toContain(PHONE);
  });
});

describe('OutboundSms over the accept core', () => {
  test('items become one batch in order; invalid ones are reported as refused, the rest accepted', async () => {
    const t = setup();
    const outbound = acceptOutboundSms(t.accept, t.telemetry);
    const result = await outbound.send([
      { destination: PHONE, source: OUR_NUMBER, text: 'first', clientMessageId: 'bot:u:0' },
      { destination: 'not a number', source: OUR_NUMBER, text: 'second', clientMessageId: 'bot:u:1' },
      { destination: PHONE, source: OUR_NUMBER, text: 'third', clientMessageId: 'bot:u:2' },
    ]);
    expect(result).toEqual({
      accepted: 2,
      refused: [{ code: 'INVALID_DESTINATION', clientMessageId: 'bot:u:1' }],
    });
    expect(storedSms(t.accept).map((s) => s.text)).toEqual(['first', 'third']);
  });

  test('a storage outage is thrown so the inbound SMS is retried; the retry sends each SMS once', async () => {
    const t = setup();
    const outbound = acceptOutboundSms(t.accept, t.telemetry);
    const items = [{ destination: PHONE, source: OUR_NUMBER, text: 'hi', clientMessageId: 'kw:u-9' }];
    t.accept.store.failCreate = true;
    await expect(outbound.send(items)).rejects.toBeInstanceOf(OutboundSmsNotAcceptedError);
    t.accept.store.failCreate = false;
    await expect(outbound.send(items)).resolves.toEqual({ accepted: 1, refused: [] });
    await expect(outbound.send(items)).resolves.toEqual({ accepted: 1, refused: [] });
    expect(storedSms(t.accept)).toHaveLength(1);
  });

  test("the bridge's own SMS are stored under name-based UUIDs of their clientMessageIds, the same on every delivery", async () => {
    // Pinned: a redelivery handled by the next version must derive the same messageId as this one did.
    expect(ownSmsMessageId('kw:u-1')).toBe('edf407e1-c60e-5624-96d3-0e43b5bb6d12');
    expect(ownSmsMessageId('kw:u-1')).toMatch(MESSAGE_ID_PATTERN);
    expect(ownSmsMessageId('kw:u-1')[14]).toBe('5');
    expect(ownSmsMessageId('kw:u-2')).not.toBe(ownSmsMessageId('kw:u-1'));

    const t = setup();
    const outbound = acceptOutboundSms(t.accept, t.telemetry);
    const items = [{ destination: PHONE, source: OUR_NUMBER, text: 'hi', clientMessageId: 'kw:u-1' }];
    // Two deliveries at once (a visibility timeout passed while the first was still running) and one after.
    await Promise.all([outbound.send(items), outbound.send(items)]);
    await outbound.send(items);
    expect([...t.accept.store.records.keys()]).toEqual([ownSmsMessageId('kw:u-1')]);
    expect(t.accept.queue.enqueued).toEqual([ownSmsMessageId('kw:u-1')]);
  });

  test('a repeat queues an own SMS that never reached SQS again, once it is 2 s old (younger, its first is still queueing it)', async () => {
    const t = setup();
    const outbound = acceptOutboundSms(t.accept, t.telemetry);
    const items = [{ destination: PHONE, source: OUR_NUMBER, text: 'hi', clientMessageId: 'bot:u-4:1' }];
    t.accept.queue.refuseAll = true;
    await expect(outbound.send(items)).resolves.toEqual({ accepted: 1, refused: [] });
    t.accept.queue.refuseAll = false;
    await outbound.send(items);
    expect(t.accept.queue.enqueued).toEqual([]);
    t.accept.clock.advance(REPEAT_REQUEUE_AGE_MS);
    await outbound.send(items);
    expect(t.accept.queue.enqueued).toEqual([ownSmsMessageId('bot:u-4:1')]);
    expect(t.accept.store.records.size).toBe(1);
  });

  test('to an opted-out number only bypassOptOut SMS are accepted; others are refused RECIPIENT_OPTED_OUT, not retried', async () => {
    const t = setup();
    await handleInboundSms(inbound({ text: 'STOP' }), t.deps);
    const outbound = acceptOutboundSms(t.accept, t.telemetry);
    const answer = { destination: PHONE, source: OUR_NUMBER, text: 'Our answer' };

    await expect(outbound.send([{ ...answer, clientMessageId: 'bot:u-2:0' }])).resolves.toEqual({
      accepted: 0,
      refused: [{ code: 'RECIPIENT_OPTED_OUT', clientMessageId: 'bot:u-2:0' }],
    });
    await expect(
      outbound.send([{ ...answer, clientMessageId: 'kw:u-3' }], { bypassOptOut: true }),
    ).resolves.toEqual({ accepted: 1, refused: [] });
    expect(storedSms(t.accept).map((s) => s.clientMessageId)).toEqual(['kw:u-3']);
    // The deps it was built with keep their opt-out list.
    expect(t.accept.optOuts.store).toBe(t.optOuts);
    expect('optOuts' in withoutOptOutCheck(t.accept)).toBe(false);
  });

  test('after STOP the opt-out confirmation still reaches the number (carriers allow it)', async () => {
    const t = setup({ optOutConfirmationText: 'Stopped.' });
    await handleInboundSms(inbound({ text: 'STOP' }), t.deps);
    expect(storedSms(t.accept)).toEqual([
      { destination: PHONE, source: OUR_NUMBER, text: 'Stopped.', clientMessageId: `kw:${inbound().umid}` },
    ]);
  });
});

describe('reply window records', () => {
  const cognigy = { userId: 'user-1', sessionId: 'session-1', URLToken: 'token-1' };

  test('POST /sms with an injectable Cognigy session stores replyKey(destination, source)', async () => {
    const t = setup();
    await acceptSms(
      { destination: PHONE, source: OUR_NUMBER, text: 'Reply YES to confirm', cognigy },
      t.accept,
    );
    await acceptSms({ destination: PHONE, text: 'No sender', cognigy }, t.accept);
    const keys = [...t.accept.store.records.values()].map((r) => r.replyKey);
    expect(keys).toEqual([replyKey(PHONE, OUR_NUMBER), replyKey(PHONE, undefined)]);
    expect(keys).toEqual(['6591234567|6580001111', '6591234567|']);
  });

  test.each([
    ['no cognigy', undefined],
    ['no URLToken', { userId: 'user-1', sessionId: 'session-1' }],
    ['no sessionId', { userId: 'user-1', URLToken: 'token-1' }],
    ['no userId', { sessionId: 'session-1', URLToken: 'token-1' }],
  ])('an SMS with %s gets no replyKey (the index stays sparse)', async (_name, ref) => {
    const t = setup();
    await acceptSms({ destination: PHONE, text: 'Hi', ...(ref && { cognigy: ref }) }, t.accept);
    expect([...t.accept.store.records.values()][0]).not.toHaveProperty('replyKey');
  });
});
