/**
 * Two-way SMS (issue 14, "Done means") end to end on the real local stack over HTTP: a flow's SMS question gets the
 * handset's reply injected into the same Cognigy session (the most recent sending session wins, an erased SMS
 * opens no reply window); an SMS to the bot number runs a Cognigy REST Endpoint conversation over three turns whose
 * answers reach the handset in order under one sessionId; STOP then POST /sms → 422 RECIPIENT_OPTED_OUT, START →
 * sent and delivered; 8x8's retry of an inbound SMS (same umid) is processed once; a Cognigy outage while an
 * inbound SMS is handled loses nothing. Cancel and erase of outbound SMS: test/integration/sms-cancel-erase.test.ts.
 */
import type { InboundSmsData } from '../../functions/sms/inbound-ports';
import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../lib/local/stack';
import type { CognigyCall, CognigySimulator } from '../../lib/simulators/cognigy';
import type { HandsetMessage, SmsSimulator } from '../../lib/simulators/sms';
import { newSession, type Session } from '../helpers/cognigy-session';
import { apiClient, startTestStack, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const WEBHOOK_AUTHORIZATION = `Bearer inbound-${randomUUID()}`;
/** The bridge's 8x8 number in these tests: the `source` of the flows' SMS, the number the handsets text. */
const BRIDGE_NUMBER = '+6580001234';

let stack: LocalStack;
let api: ApiClient;
let sms: SmsSimulator;
let cognigy: CognigySimulator;

beforeAll(async () => {
  stack = await startTestStack({
    smsWebhookAuthorization: WEBHOOK_AUTHORIZATION,
    settings: { RETRY_BASE_DELAY_SECONDS: '1', RETRY_MAX_DELAY_SECONDS: '1' },
    simulators: { sms: { receiptDelayMs: 20, receiptRetryScale: 0.01 } },
  });
  api = apiClient(stack);
  sms = stack.sms as SmsSimulator;
  cognigy = stack.cognigy as CognigySimulator;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

let numberSeq = 0;
/** A phone number no other test of this file uses. */
function freshPhone(): string {
  numberSeq += 1;
  return `+6586${String(Date.now() % 10_000).padStart(4, '0')}${String(numberSeq).padStart(3, '0')}`;
}

const inboundOf = (call: CognigyCall) =>
  (call.body.data as { sms?: { inbound?: InboundSmsData } } | undefined)?.sms?.inbound;

/** 8x8's inbound SMS webhook body for a handset's SMS. */
function inboundEvent(from: string, to: string, body: string, umid: string = randomUUID()) {
  return {
    namespace: 'SMS',
    eventType: 'inbound_message_received',
    description: 'SMS inbound message',
    payload: {
      umid,
      subAccountId: 'local',
      timestamp: new Date().toISOString(),
      // 8x8 sends numbers without `+`.
      source: from.replace(/^\+/, ''),
      destination: to.replace(/^\+/, ''),
      body,
      encoding: 'GSM7',
      smsCount: 1,
    },
  };
}

/** POSTs 8x8's inbound webhook to the bridge as 8x8 does (one attempt); the bridge's answer. */
async function postInbound(event: ReturnType<typeof inboundEvent>, path = '/webhooks/8x8/sms/inbound') {
  const response = await fetch(`${stack.urls.gateway}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: WEBHOOK_AUTHORIZATION },
    body: JSON.stringify(event),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * A handset of the 8x8 simulator texts the bridge: 8x8 posts the inbound webhook (with its retries). Resolves with
 * the SMS's umid once the bridge answered 8x8 with a 2xx.
 */
async function handsetTexts(from: string, body: string, to = BRIDGE_NUMBER): Promise<string> {
  const umid = sms.textFromHandset(from, to, body);
  const delivery = await sms.waitForInbound((d) => d.umid === umid && d.final, 15_000);
  expect({ status: delivery.status, ok: delivery.ok }).toEqual({ status: 200, ok: true });
  return umid;
}

/** What the handset received through 8x8, in order. */
const handsetInbox = (phone: string): HandsetMessage[] =>
  sms.handset(phone).filter((m) => m.direction === 'received');
const textOf = (m: HandsetMessage) => m.text;

/** A flow's SMS question, with its Cognigy session (so it opens a reply window). */
async function askBySms(session: Session, phone: string, text: string) {
  const answer = await api.post<{ messageId: string; clientMessageId: string }>('/sms', {
    destination: phone,
    source: BRIDGE_NUMBER,
    text,
    clientMessageId: `${session.sessionId}-question`,
    cognigy: session,
  });
  expect(answer.status).toBe(202);
  await waitFor(`the question at ${phone}`, () => handsetInbox(phone).some((m) => textOf(m) === text));
  return answer.body;
}

/** The injects of one inbound SMS (by umid) Cognigy received. */
const injectsOf = (umid: string) => cognigy.calls.filter((c) => inboundOf(c)?.umid === umid);

describe('replies to a flow', () => {
  test("the handset's reply to a flow's SMS is injected into that session, with inReplyTo", async () => {
    const session = newSession('reply');
    const phone = freshPhone();
    const question = await askBySms(session, phone, 'Reply YES to confirm your appointment');

    const umid = await handsetTexts(phone, 'Yes ');
    const inject = await cognigy.waitFor((c) => inboundOf(c)?.umid === umid, 15_000);
    expect(inject.mode).toBe('inject');
    expect(inject.urlToken).toBe(session.URLToken);
    expect(inject.body).toMatchObject({
      userId: session.userId,
      sessionId: session.sessionId,
      text: 'Yes ',
      data: {
        bridgeEventId: `sms:inbound:${umid}`,
        sms: {
          inbound: {
            from: phone,
            to: BRIDGE_NUMBER,
            text: 'Yes ',
            umid,
            inReplyTo: { messageId: question.messageId, clientMessageId: question.clientMessageId },
          },
        },
      },
    });
    expect(Number.isNaN(Date.parse(inboundOf(inject)?.receivedAt ?? ''))).toBe(false);
  }, 30_000);

  test('the most recent sending session wins; an erased SMS opens no reply window', async () => {
    const phone = freshPhone();
    const first = newSession('reply-first');
    const second = newSession('reply-second');
    await askBySms(first, phone, 'First question');
    const latest = await askBySms(second, phone, 'Second question');

    const umid = await handsetTexts(phone, 'NO');
    const inject = await cognigy.waitFor((c) => inboundOf(c)?.umid === umid, 15_000);
    expect([inject.body.sessionId, inboundOf(inject)?.inReplyTo?.messageId]).toEqual([
      second.sessionId,
      latest.messageId,
    ]);

    // Erasing the second session's SMS takes it out of the window: the next reply goes to the first session.
    expect((await api.request('DELETE', `/sms/${latest.messageId}/pii`)).status).toBe(200);
    const later = await handsetTexts(phone, 'Actually yes');
    const next = await cognigy.waitFor((c) => inboundOf(c)?.umid === later, 15_000);
    expect(next.body.sessionId).toBe(first.sessionId);
    expect(injectsOf(umid)).toHaveLength(1);
  }, 40_000);
});

describe('the SMS bot (Cognigy REST Endpoint)', () => {
  test('three turns: each answer reaches the handset in order, one sessionId, userId = the phone', async () => {
    const phone = freshPhone();
    const turns = ['Hi', 'I want to change my booking', 'Thanks, bye'];
    for (const [i, text] of turns.entries()) {
      await handsetTexts(phone, text);
      // The echo bot of the Cognigy simulator answers each turn; wait for this turn's answer before the next.
      await sms.waitForHandset(phone, (m) => m.filter((x) => x.direction === 'received').length > i, 20_000);
    }
    const inbox = handsetInbox(phone);
    expect(inbox).toHaveLength(3);
    // In order, each the echo of its own turn of one session ("You said: <text> (turn n)"), from the number texted.
    expect(inbox.map(textOf)).toEqual(turns.map((text, i) => `You said: ${text} (turn ${i + 1})`));
    expect(inbox.map((m) => m.source.replace(/^\+/, ''))).toEqual(
      turns.map(() => BRIDGE_NUMBER.replace(/^\+/, '')),
    );
    expect(inbox.map((m) => m.clientMessageId)).toEqual(turns.map(() => expect.stringMatching(/^bot:/)));

    const rest = restCallsFrom(phone);
    expect(rest.map((c) => c.text)).toEqual(turns);
    expect(new Set(rest.map((c) => c.sessionId)).size).toBe(1);
    expect(rest.map((c) => c.userId)).toEqual(turns.map(() => phone));
    // Nothing of the bot's conversation was injected into a flow's session.
    expect(cognigy.calls.filter((c) => inboundOf(c)?.from === phone)).toEqual([]);
  }, 60_000);
});

describe('opt-out', () => {
  test('STOP → POST /sms 422 RECIPIENT_OPTED_OUT (batch items too); START → sent and delivered', async () => {
    const phone = freshPhone();
    const stop = await handsetTexts(phone, ' stop ');
    const optedOut = await waitFor('the opt-out recorded', async () => {
      const answer = await api.get<{ optedOut: boolean; senders: { sender: string; umid?: string }[] }>(
        `/sms/opt-outs/${encodeURIComponent(phone)}`,
      );
      return answer.status === 200 && answer.body.optedOut ? answer.body : undefined;
    });
    expect(optedOut.senders).toEqual([expect.objectContaining({ umid: stop })]);

    const before = handsetInbox(phone).length;
    const refused = await api.post('/sms', { destination: phone, source: BRIDGE_NUMBER, text: 'Offer!' });
    expect([refused.status, refused.body]).toEqual([
      422,
      expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'RECIPIENT_OPTED_OUT' }) }),
    ]);
    const other = freshPhone();
    const batch = await api.post<{
      acceptedCount: number;
      items: { ok: boolean; error?: { code: string } }[];
    }>('/sms/batch', { destinations: [phone, other], template: { text: 'Offer!', source: BRIDGE_NUMBER } });
    expect(batch.status).toBe(202);
    expect(batch.body.items.map((i) => i.error?.code ?? 'ok')).toEqual(['RECIPIENT_OPTED_OUT', 'ok']);
    // The STOP itself went to no flow and no bot.
    expect(restCallsFrom(phone)).toEqual([]);

    await handsetTexts(phone, 'START');
    await waitFor('the opt-out lifted', async () => {
      const answer = await api.get<{ optedOut: boolean }>(`/sms/opt-outs/${encodeURIComponent(phone)}`);
      return answer.status === 200 && !answer.body.optedOut;
    });
    const sent = await api.post<{ messageId: string }>('/sms', {
      destination: phone,
      source: BRIDGE_NUMBER,
      text: 'Welcome back',
    });
    expect(sent.status).toBe(202);
    await waitFor('the SMS delivered', async () => {
      const status = await api.get<{ status: { code: string } }>(`/sms/${sent.body.messageId}`);
      return status.body.status.code === 'DELIVERED';
    });
    // Nothing of the refused SMS reached the handset: only the last SMS.
    await sms.waitForHandset(phone, (m) => m.some((x) => x.text === 'Welcome back'), 15_000);
    expect(handsetInbox(phone).slice(before).map(textOf)).toEqual(['Welcome back']);
  }, 40_000);
});

describe('once per umid, and nothing lost', () => {
  test("8x8's retry of an inbound SMS (same umid) is processed once", async () => {
    const session = newSession('retry');
    const phone = freshPhone();
    await askBySms(session, phone, 'Reply with your postcode');
    const event = inboundEvent(phone, BRIDGE_NUMBER, '018956');
    const umid = event.payload.umid;
    const first = await postInbound(event);
    expect(first).toEqual({ status: 200, body: expect.objectContaining({ ok: true }) });
    // 8x8 retries (its 200 was lost): at once, once more on the receipt URL, and twice at the same moment.
    const repeats = [
      await postInbound(event),
      await postInbound(event, '/webhooks/8x8/sms'),
      ...(await Promise.all([postInbound(event), postInbound(event)])),
    ];
    for (const repeat of repeats) {
      expect(repeat).toEqual({ status: 200, body: expect.objectContaining({ ok: true, duplicate: true }) });
    }
    await cognigy.waitFor((c) => inboundOf(c)?.umid === umid, 15_000);
    // A later SMS of the same phone is injected after it (FIFO): then the retries had their chance to show up.
    const next = await handsetTexts(phone, 'Sorry: 018957');
    await cognigy.waitFor((c) => inboundOf(c)?.umid === next, 15_000);
    expect(injectsOf(umid)).toHaveLength(1);

    // The SMS bot: 8x8 repeats a delivered event (the simulator's redelivery, same umid): asked and answered once.
    const botPhone = freshPhone();
    const hello = await handsetTexts(botPhone, 'Hello');
    await sms.waitForHandset(botPhone, (m) => m.some((x) => x.direction === 'received'), 20_000);
    sms.redeliverInbound(hello);
    const repeat = await sms.waitForInbound((d) => d.umid === hello && d.redelivery && d.final, 15_000);
    expect([repeat.status, JSON.parse(repeat.response ?? '{}')]).toEqual([
      200,
      expect.objectContaining({ duplicate: true }),
    ]);
    await handsetTexts(botPhone, 'Still there?');
    await sms.waitForHandset(
      botPhone,
      (m) => m.filter((x) => x.direction === 'received').length >= 2,
      20_000,
    );
    expect(restCallsFrom(botPhone).map((c) => c.text)).toEqual(['Hello', 'Still there?']);
    expect(handsetInbox(botPhone).map(textOf)).toEqual([
      'You said: Hello (turn 1)',
      'You said: Still there? (turn 2)',
    ]);
  }, 45_000);

  test('a Cognigy outage while an inbound SMS is handled loses nothing: it is injected after recovery', async () => {
    const session = newSession('outage');
    const phone = freshPhone();
    await askBySms(session, phone, 'Are you still interested? Reply YES or NO');
    cognigy.setOutage({ status: 503 });
    let umid: string;
    try {
      umid = await handsetTexts(phone, 'YES');
      // The consumer tried and was refused (at least twice: SQS retried it) while Cognigy was down.
      await waitFor('refused injects during the outage', () => {
        const refused = cognigy.rejected.filter(
          (r) => (r.body as { sessionId?: string } | undefined)?.sessionId === session.sessionId,
        );
        return refused.length >= 2;
      });
      expect(injectsOf(umid)).toEqual([]);
    } finally {
      cognigy.clearOutage();
    }
    const inject = await cognigy.waitFor((c) => inboundOf(c)?.umid === umid, 30_000);
    expect(inject.body).toMatchObject({ sessionId: session.sessionId, text: 'YES' });
    expect(injectsOf(umid)).toHaveLength(1);
  }, 60_000);
});

/** The Cognigy simulator's REST Endpoint calls of the SMS bot from one phone (userId = the phone). */
const restCallsFrom = (phone: string) =>
  cognigy.restCalls.map((c) => c.body).filter((body) => body.userId === phone);
