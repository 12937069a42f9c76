/**
 * A short chaos run in `npm test`: the same scenario as `npm run chaos` (lib/evidence/chaos/) with the small
 * profile — 8x8 faults, receipt and webhook duplicates/reordering, Chat Gateway API failures, Cognigy outages and
 * crashing queue workers — and every invariant must hold. The invariant checker itself is shown to flag violations
 * built by hand, so a passing run means something.
 */
import { checkInvariants, type ChaosObservations } from '../../lib/evidence/chaos/invariants';
import { SMALL_CHAOS_PROFILE } from '../../lib/evidence/chaos/profile';
import { chaosFigures, formatChaosReport, type ChaosReport } from '../../lib/evidence/chaos/report';
import { runChaos } from '../../lib/evidence/chaos/run';

/** A run in which everything went right: 3 SMS, one conversation with two agent and two user messages. */
function cleanObservations(): ChaosObservations {
  return {
    sms: {
      accepted: [
        { messageId: 'm1', clientMessageId: 'c1', status: 'DELIVERED' },
        {
          messageId: 'm2',
          clientMessageId: 'c2',
          status: 'UNDELIVERED',
          reason: 'Invalid destination',
          errorCode: 15,
        },
        {
          messageId: 'm3',
          clientMessageId: 'c3',
          status: 'FAILED',
          reason: 'No verdict from 8x8 after 4 attempts',
        },
      ],
      eightByEight: [
        { clientMessageId: 'c1', answered: false, callSeq: 1 },
        { clientMessageId: 'c1', answered: true, callSeq: 2 },
        { clientMessageId: 'c2', answered: true, callSeq: 2 },
      ],
      idempotencyMismatches: [],
    },
    agent: [
      {
        conversationId: 'conv-1',
        sent: [
          { text: 'A1', deliveredFrom: 100, deliveredUntil: 110 },
          { text: 'A2', deliveredFrom: 120, deliveredUntil: 130 },
        ],
        received: ['A1', 'A2'],
      },
    ],
    user: [{ conversationId: 'conv-1', sent: ['U1', 'U2'], received: ['U1', 'U2'] }],
    api5xx: [],
    dlq: [
      { queue: 'sms', subject: 'SMS m3', reason: 'No verdict from 8x8 after 4 attempts', status: 'FAILED' },
    ],
  };
}

const failing = (observations: ChaosObservations) =>
  checkInvariants(observations)
    .filter((i) => !i.ok)
    .map((i) => i.id);

describe('the invariant checker', () => {
  test('passes a run in which everything went right (a resend after a lost answer is allowed)', () => {
    expect(failing(cleanObservations())).toEqual([]);
  });

  test('flags each kind of violation', () => {
    const o = cleanObservations();
    o.sms.accepted[0]!.status = 'SENT'; // not terminal
    delete o.sms.accepted[1]!.status; // lost: no record
    o.sms.eightByEight.push({ clientMessageId: 'c2', answered: true, callSeq: 3 }); // sent again after QUEUED
    o.sms.idempotencyMismatches.push({ clientMessageId: 'c4', first: 'm4', repeat: 'm5' });
    o.agent[0]!.received = ['A2', 'A1', 'A1']; // A1 twice, and after A2 although 8x8 delivered it first
    o.user[0]!.received = ['U2']; // U1 lost, so the order is wrong too
    o.api5xx.push({ request: 'POST /sms', status: 502 });
    o.dlq.push({ queue: 'handoverInbound', subject: 'MESSAGE of conv-1', reason: 'EXHAUSTED' });
    expect(failing(o).sort()).toEqual(
      [
        'sms-terminal',
        'sms-sent-once',
        'accept-idempotent',
        'agent-once',
        'agent-order',
        'user-once-in-order',
        'api-no-5xx',
        'dlq-explained',
      ].sort(),
    );
    const terminal = checkInvariants(o).find((i) => i.id === 'sms-terminal')!;
    expect(terminal.violations).toEqual(['m1 (c1): still SENT', 'm2 (c2): no record']);
  });

  test('a terminal failure without a reason, and an SMS in the DLQ not shown as failed, are violations', () => {
    const o = cleanObservations();
    delete o.sms.accepted[2]!.reason;
    o.dlq[0]!.status = 'SENT';
    expect(failing(o).sort()).toEqual(['dlq-explained', 'sms-terminal']);
  });

  test('an SMS left unfinished after a killed accept is stranded, and reported as such', () => {
    const o = cleanObservations();
    o.outbox = {
      killed: [
        { messageId: 'm1', clientMessageId: 'c1', retried: true },
        { messageId: 'm3', clientMessageId: 'c3', retried: false },
      ],
      stranded: [{ messageId: 'm9', status: 'QUEUED' }],
    };
    const result = checkInvariants(o).find((i) => i.id === 'sms-not-stranded')!;
    expect(result).toMatchObject({ ok: false, violations: ['m9: still QUEUED'] });
    expect(result.summary).toBe(
      '2 accepts killed after the record write (1 repeated by the flow): 1 delivered, 1 recorded failed; stranded (must be 0): 1',
    );
    o.outbox.stranded = [];
    expect(failing(o)).toEqual([]);
  });

  test('a resend after 8x8 answered is explained only by a worker killed before the record update', () => {
    const o = cleanObservations();
    o.sms.eightByEight.push({ clientMessageId: 'c2', answered: true, callSeq: 3 }); // c2 accepted twice
    expect(failing(o)).toEqual(['sms-sent-once']);
    o.workerKills = [
      {
        messageId: 'm2',
        clientMessageId: 'c2',
        status: 'UNDELIVERED',
        attempts: 2,
        ambiguousAttempts: 1,
        acceptedBy8x8: 2,
      },
    ];
    const results = checkInvariants(o);
    expect(results.filter((i) => !i.ok)).toEqual([]);
    expect(results.find((i) => i.id === 'sms-sent-once')!.summary).toMatch(
      /1 after a worker killed between 8x8's answer and the record update$/,
    );
    // One killed worker explains one extra acceptance, not two.
    o.sms.eightByEight.push({ clientMessageId: 'c2', answered: true, callSeq: 4 });
    expect(failing(o)).toEqual(['sms-sent-once']);
  });

  test('an agent message 8x8 itself delivered out of order is not blamed on the bridge', () => {
    const o = cleanObservations();
    // 8x8 delivered A2 before A1 (the reorder fault); Cognigy got them in that delivery order.
    o.agent[0]!.sent = [
      { text: 'A1', deliveredFrom: 200, deliveredUntil: 210 },
      { text: 'A2', deliveredFrom: 100, deliveredUntil: 110 },
    ];
    o.agent[0]!.received = ['A2', 'A1'];
    const results = checkInvariants(o);
    expect(results.filter((i) => !i.ok)).toEqual([]);
    expect(results.find((i) => i.id === 'agent-order')!.summary).toMatch(
      /^1 message pairs delivered by 8x8 out/,
    );
  });
});

/** Inbound SMS in which everything went right: a reply, a bot text (8x8 lost one answer: two copies), STOP, STOP+START. */
function inboundObservations(): NonNullable<ChaosObservations['inbound']> {
  const base = { acknowledged: true, deliveries: 1, refusedDeliveries: 0, redelivered: false };
  return {
    sms: [
      {
        ...base,
        umid: 'u1',
        kind: 'reply',
        from: '+6591000001',
        sessionId: 's1',
        injects: 2,
        injectsElsewhere: 0,
      },
      {
        ...base,
        umid: 'u2',
        kind: 'bot',
        from: '+6591000002',
        restCalls: 1,
        answers: [{ clientMessageId: 'bot:u2:1', atHandset: 2, lostAnswers: 1, status: 'DELIVERED' }],
      },
      {
        ...base,
        umid: 'u3',
        kind: 'bot',
        from: '+6591000002',
        restCalls: 1,
        answers: [
          {
            clientMessageId: 'bot:u3:1',
            atHandset: 0,
            lostAnswers: 0,
            status: 'FAILED',
            reason: 'RETRIES_EXHAUSTED',
          },
        ],
      },
      { ...base, umid: 'u4', kind: 'stop', from: '+6591000003', deliveries: 3, refusedDeliveries: 1 },
      // 8x8 never got a 2xx for this one: it stays with 8x8, not the bridge's to process.
      {
        ...base,
        umid: 'u5',
        kind: 'bot',
        from: '+6591000004',
        acknowledged: false,
        restCalls: 0,
        answers: [],
      },
    ],
    optOuts: [
      { number: '+6591000003', expectOptedOut: true, optedOut: true },
      { number: '+6591000005', expectOptedOut: false, optedOut: false },
    ],
    botOrder: [{ from: '+6591000002', texted: ['u2', 'u3'], reached: ['u2', 'u3'] }],
    redeliveries: 1,
    cognigyRefused: 2,
  };
}

describe('the inbound SMS invariants', () => {
  const inboundFailing = (inbound: NonNullable<ChaosObservations['inbound']>) =>
    failing({ ...cleanObservations(), inbound });

  test('pass when every acknowledged text is processed, counting the repeats Cognigy saw', () => {
    const results = checkInvariants({ ...cleanObservations(), inbound: inboundObservations() });
    expect(results.filter((i) => !i.ok)).toEqual([]);
    expect(results.find((i) => i.id === 'inbound-processed')!.summary).toBe(
      '5 texted (1 redelivered by 8x8, same umid): 4 acknowledged (1 replies, 2 bot texts, 1 keywords), 1 left with 8x8; ' +
        '7 webhook POSTs, 1 not answered 2xx (retried by 8x8); 2 Cognigy calls refused during outages (retried); 1 bot answers recorded failed by 8x8',
    );
    expect(results.find((i) => i.id === 'inbound-once')!.summary).toMatch(
      /^1 replies: 1 repeated injects seen by Cognigy .*2 answer SMS, 0 repeated REST Endpoint calls seen by Cognigy, 1 answers doubled after 8x8's answer was lost$/,
    );
  });

  test('flag a lost reply, a lost bot text, a doubled answer, a broken STOP and an order the bot did not keep', () => {
    const o = inboundObservations();
    o.sms[0]!.injects = 0; // the reply never reached its session
    o.sms[1]!.answers![0]!.atHandset = 3; // one more copy than 8x8's lost answer explains
    o.sms[2]!.answers![0]! = { clientMessageId: 'bot:u3:1', atHandset: 0, lostAnswers: 0, status: 'SENT' };
    o.optOuts[0]!.optedOut = false;
    o.botOrder[0]!.reached = ['u3', 'u2'];
    expect(inboundFailing(o).sort()).toEqual(
      ['inbound-once', 'inbound-opt-out', 'inbound-order', 'inbound-processed'].sort(),
    );
    const processed = checkInvariants({ ...cleanObservations(), inbound: o }).find(
      (i) => i.id === 'inbound-processed',
    )!;
    expect(processed.violations).toEqual([
      'reply u1: never injected into s1 (lost)',
      'bot:u3:1: not at the handset, record SENT',
    ]);
  });

  test('a reply injected into another session, or a bot text that never reached the bot, is a violation', () => {
    const o = inboundObservations();
    o.sms[0]!.injectsElsewhere = 1;
    o.sms[1]!.restCalls = 0;
    expect(inboundFailing(o)).toEqual(['inbound-processed']);
  });
});

describe('a short chaos run against the local stack', () => {
  let report: ChaosReport;

  beforeAll(async () => {
    report = await runChaos(SMALL_CHAOS_PROFILE);
  }, 120_000);

  test('every invariant holds', () => {
    const broken = report.invariants.filter((i) => !i.ok);
    // On failure the whole report is the message: faults, counts, violations and DLQ contents.
    expect(broken.length === 0 ? 'ok' : formatChaosReport(report)).toBe('ok');
    expect(report.settled).toBe(true);
  });

  test('the faults really happened', () => {
    const f = report.faults;
    const refused = Object.entries(f.eightByEightAnswers)
      .filter(([status]) => status !== '200')
      .reduce((sum, [, n]) => sum + n, 0);
    expect(refused + f.eightByEightResets + f.eightByEightUnanswered).toBeGreaterThan(0);
    expect(f.receiptDuplicates).toBeGreaterThan(0);
    expect(f.webhookDuplicates).toBeGreaterThan(0);
    expect(f.chatGatewayApiFaults).toBe(SMALL_CHAOS_PROFILE.faults.chatGatewayApiFailures);
    expect(f.cognigyRefused).toBeGreaterThan(0);
    expect(f.workerCrashes).toEqual({ sms: 1, smsInbound: 1, handoverOutbound: 1, handoverInbound: 1 });
    // Accepts killed between the record write and the enqueue: none of their SMS is stranded.
    expect(f.acceptKills).toBeGreaterThan(0);
    expect(report.observations.outbox?.killed.length).toBeGreaterThan(0);
    expect(report.observations.outbox?.stranded).toEqual([]);
    const stranded = report.invariants.find((i) => i.id === 'sms-not-stranded');
    expect(stranded).toMatchObject({
      ok: true,
      summary: expect.stringMatching(/stranded \(must be 0\): 0$/),
    });
    // Workers killed between 8x8's answer and the record update: each SMS still ends terminal.
    expect(f.workerKills).toBeGreaterThan(0);
    for (const kill of report.observations.workerKills ?? [])
      expect(['DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED']).toContain(kill.status);
    // Cognigy answered some pushes past the push timeout, so it saw repeats; the flow-side dedupe drops them all.
    expect(f.cognigySlowAnswers).toBeGreaterThan(0);
    const figures = chaosFigures(report);
    expect(figures).toMatchObject({ stranded: 0, cognigyDuplicatesAfterFlowDedupe: 0, reorderings: 0 });
    expect(figures.delivered + figures.recordedFailed).toBe(figures.accepted);
    // The workload itself: every SMS accepted, every message counted.
    expect(report.observations.sms.accepted).toHaveLength(SMALL_CHAOS_PROFILE.sms.count);
    const agentMessages = report.observations.agent.reduce((n, c) => n + c.sent.length, 0);
    const { conversations, agentMessagesPerConversation } = SMALL_CHAOS_PROFILE.handover;
    expect(agentMessages).toBe(conversations * agentMessagesPerConversation);
  });

  test('inbound SMS: every text the bridge acknowledged is processed once, under redeliveries and faults', () => {
    const plan = SMALL_CHAOS_PROFILE.inbound!;
    const inbound = report.observations.inbound!;
    const texted =
      plan.replies + plan.botPhones * plan.botTextsPerPhone + plan.stopPhones + plan.restartPhones;
    expect(inbound.sms).toHaveLength(texted);
    // 8x8 sent some again with the same umid, and the bridge refused some POSTs (503 in progress) that 8x8 retried.
    expect(inbound.redeliveries).toBeGreaterThan(0);
    expect(inbound.sms.filter((s) => s.redelivered).length).toBe(inbound.redeliveries);
    const ids = report.invariants.map((i) => i.id);
    expect(ids).toEqual(
      expect.arrayContaining(['inbound-processed', 'inbound-once', 'inbound-opt-out', 'inbound-order']),
    );
    const figures = chaosFigures(report).inbound!;
    expect(figures).toMatchObject({
      texted,
      acknowledged: texted,
      lost: 0,
      doubledAnswers: 0,
      injected: plan.replies,
      botAnswered: plan.botPhones * plan.botTextsPerPhone,
      optedOut: plan.stopPhones - plan.restartPhones,
      optedIn: plan.restartPhones,
    });
    // Each reply reached its own session; each bot text reached the REST Endpoint and got its answer SMS.
    for (const s of inbound.sms.filter((x) => x.kind === 'reply'))
      expect({ injects: s.injects! >= 1, elsewhere: s.injectsElsewhere }).toEqual({
        injects: true,
        elsewhere: 0,
      });
    for (const s of inbound.sms.filter((x) => x.kind === 'bot')) {
      expect(s.restCalls).toBeGreaterThanOrEqual(1);
      expect(s.answers?.map((a) => a.clientMessageId)).toEqual([`bot:${s.umid}:1`]);
    }
    expect(formatChaosReport(report)).toMatch(/Inbound SMS +\d+ texted by handsets/);
  });
});
