/**
 * The chaos run's inbound SMS (issue 14): simulator handsets text the bridge's 8x8 number while the run's faults
 * are on — replies to flows' SMS within the reply window (→ inject into the flow's session), texts to the echo SMS
 * bot (→ REST Endpoint, answer SMS back to the handset), STOP and START — and 8x8 delivers some of them again with
 * the same umid. Then what each party saw: 8x8's webhook POSTs and the bridge's answers, Cognigy's injects and REST
 * Endpoint calls, the handsets' views, the answer SMS records and the opt-out list.
 */
import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../local/stack';
import { seededRandom } from '../../simulators/http';
import { sleep } from '../load';
import type { InboundObservations, InboundSmsObservation } from './invariants';
import { storedMessageId } from './observe';
import type { ChaosProfile } from './profile';
import type { ChaosApi } from './workload';

/** The 8x8 number the handsets text (and the flows' SMS come from, so replies find their window). */
export const CHAOS_BRIDGE_NUMBER = '+6580001234';

/** Longer than 8x8's scaled retries (about 6.5 s of delays plus each attempt's timeout). */
const DELIVERY_WAIT_MS = 45_000;

interface InboundText {
  umid: string;
  kind: InboundSmsObservation['kind'];
  from: string;
  sessionId?: string;
}

export interface InboundRun {
  texts: InboundText[];
  /** Per bot phone, its texts' umids in the order texted (each after the previous was acknowledged). */
  botSequences: { from: string; umids: string[] }[];
  optOuts: { number: string; expectOptedOut: boolean }[];
  redeliveries: number;
}

/** A handset number of the run: 659 + seven digits, apart from the outbound workload's +658… numbers. */
const phone = (seed: number, group: number, index: number) =>
  `+659${String(((seed % 100) * 10 + group) * 1000 + index).padStart(7, '0')}`;

export async function runInbound(
  profile: ChaosProfile,
  stack: LocalStack,
  api: ChaosApi,
  log: (line: string) => void,
): Promise<InboundRun> {
  const plan = profile.inbound;
  const run: InboundRun = { texts: [], botSequences: [], optOuts: [], redeliveries: 0 };
  if (!plan) return run;
  const sms = stack.sms!;
  // Its own PRNG: the outbound SMS and handover scripts draw the same numbers as before inbound SMS existed.
  const random = seededRandom(profile.seed * 61 + 13);
  const later: Promise<void>[] = [];

  /** A handset texts; resolves once 8x8's first delivery (with its retries) ended, acknowledged or not. */
  const text = async (from: string, body: string, kind: InboundText['kind'], sessionId?: string) => {
    const umid = sms.textFromHandset(from, CHAOS_BRIDGE_NUMBER, body);
    run.texts.push({ umid, kind, from, ...(sessionId ? { sessionId } : {}) });
    if (random() < plan.redeliverShare) {
      run.redeliveries++;
      if (random() < 0.5) sms.redeliverInbound(umid);
      else later.push(sleep(100 + Math.floor(random() * 400)).then(() => sms.redeliverInbound(umid)));
    }
    await sms
      .waitForInbound((d) => d.umid === umid && !d.redelivery && d.final, DELIVERY_WAIT_MS)
      .catch(() => log(`inbound SMS ${umid}: 8x8's delivery did not end within ${DELIVERY_WAIT_MS} ms`));
    return umid;
  };

  const replies = Array.from({ length: plan.replies }, async (_, i) => {
    const from = phone(profile.seed, 1, i);
    const session = {
      userId: `chaos-sms-user-${i}`,
      sessionId: `chaos-${profile.seed}-sms-session-${i}-${randomUUID().slice(0, 8)}`,
      URLToken: `chaos-sms-token-${i}`,
    };
    const clientMessageId = `chaos-${profile.seed}-ask-${i}-${randomUUID().slice(0, 8)}`;
    const body = {
      destination: from,
      source: CHAOS_BRIDGE_NUMBER,
      text: `Reply YES (${i})`,
      clientMessageId,
    };
    // An accept killed after its record write still opened the window (the record carries the replyKey).
    let asked = false;
    for (let attempt = 0; attempt < 4 && !asked; attempt++) {
      const answer = await api('POST', '/sms', { ...body, cognigy: session }, false);
      asked = answer.status === 202 || (await storedMessageId(stack, clientMessageId)) !== undefined;
    }
    if (!asked) {
      log(`the flow SMS ${clientMessageId} was never accepted; its reply is left out`);
      return;
    }
    await text(from, `YES ${i}`, 'reply', session.sessionId);
  });

  const bots = Array.from({ length: plan.botPhones }, async (_, p) => {
    const from = phone(profile.seed, 2, p);
    const sequence = { from, umids: [] as string[] };
    run.botSequences.push(sequence);
    for (let t = 0; t < plan.botTextsPerPhone; t++)
      sequence.umids.push(await text(from, `Hello bot ${p}.${t + 1}`, 'bot'));
  });

  const keywords = Array.from({ length: plan.stopPhones }, async (_, s) => {
    const from = phone(profile.seed, 3, s);
    const restart = s < plan.restartPhones;
    run.optOuts.push({ number: from, expectOptedOut: !restart });
    await text(from, s % 2 ? ' stop ' : 'STOP', 'stop');
    if (restart) await text(from, 'START', 'start');
  });

  await Promise.all([...replies, ...bots, ...keywords]);
  await Promise.all(later);
  return run;
}

/** What became of each inbound SMS, read once the run settled. */
export async function observeInbound(
  stack: LocalStack,
  run: InboundRun,
  api: ChaosApi,
): Promise<InboundObservations> {
  const sms = stack.sms!;
  const cognigy = stack.cognigy!;
  const sent = sms.received;
  const observations: InboundSmsObservation[] = [];
  for (const t of run.texts) {
    const deliveries = sms.inboundSent.filter((d) => d.umid === t.umid);
    const base: InboundSmsObservation = {
      umid: t.umid,
      kind: t.kind,
      from: t.from,
      acknowledged: deliveries.some((d) => d.ok),
      deliveries: deliveries.length,
      refusedDeliveries: deliveries.filter((d) => !d.ok).length,
      redelivered: deliveries.some((d) => d.redelivery),
    };
    if (t.kind === 'reply') {
      const bridgeEventId = `sms:inbound:${t.umid}`;
      const injects = cognigy.calls.filter(
        (c) =>
          c.mode === 'inject' &&
          (c.body.data as { bridgeEventId?: unknown } | undefined)?.bridgeEventId === bridgeEventId,
      );
      base.sessionId = t.sessionId;
      base.injects = injects.filter((c) => c.body.sessionId === t.sessionId).length;
      base.injectsElsewhere = injects.length - base.injects;
    }
    if (t.kind === 'bot') {
      base.restCalls = cognigy.restCalls.filter(
        (c) =>
          (c.body.data as { sms?: { inbound?: { umid?: string } } } | undefined)?.sms?.inbound?.umid ===
          t.umid,
      ).length;
      const atHandset = sms
        .handset(t.from)
        .filter((m) => m.direction === 'received' && m.clientMessageId?.startsWith(`bot:${t.umid}:`));
      base.answers = [];
      // The answer's records, by their deterministic clientMessageIds (the echo bot answers with one SMS).
      for (let n = 1; n <= 10; n++) {
        const clientMessageId = `bot:${t.umid}:${n}`;
        const messageId = await storedMessageId(stack, clientMessageId);
        if (!messageId) break;
        const record = await api('GET', `/sms/${encodeURIComponent(messageId)}`);
        const status = (record.body as { status?: { code?: string }; reason?: string } | undefined) ?? {};
        base.answers.push({
          clientMessageId,
          atHandset: atHandset.filter((m) => m.clientMessageId === clientMessageId).length,
          lostAnswers: sent.filter((m) => m.clientMessageId === clientMessageId && m.answer !== 'answered')
            .length,
          ...(status.status?.code ? { status: status.status.code } : {}),
          ...(status.reason ? { reason: status.reason } : {}),
        });
      }
      // Answers at the handset without a record would be a bug too: counted as an answer with no status.
      for (const m of atHandset)
        if (!base.answers.some((a) => a.clientMessageId === m.clientMessageId))
          base.answers.push({ clientMessageId: m.clientMessageId ?? '?', atHandset: 1, lostAnswers: 0 });
    }
    observations.push(base);
  }

  const optOuts: InboundObservations['optOuts'] = [];
  for (const o of run.optOuts) {
    const answer = await api('GET', `/sms/opt-outs/${encodeURIComponent(o.number)}`);
    const optedOut = (answer.body as { optedOut?: boolean } | undefined)?.optedOut;
    optOuts.push({ ...o, ...(optedOut !== undefined ? { optedOut } : {}) });
  }

  // The order in which the bot (REST Endpoint) first saw each phone's texts.
  const firstCall = new Map<string, number>();
  for (const c of cognigy.restCalls) {
    const umid = (c.body.data as { sms?: { inbound?: { umid?: string } } } | undefined)?.sms?.inbound?.umid;
    if (umid && !firstCall.has(umid)) firstCall.set(umid, c.seq);
  }
  const botOrder = run.botSequences.map((s) => ({
    from: s.from,
    texted: s.umids,
    reached: s.umids.filter((u) => firstCall.has(u)).sort((a, b) => firstCall.get(a)! - firstCall.get(b)!),
  }));

  const umids = new Set(run.texts.map((t) => t.umid));
  const cognigyRefused = cognigy.rejected.filter((c) => {
    const data = (c.body as { data?: { sms?: { inbound?: { umid?: string } } } } | undefined)?.data;
    return umids.has(data?.sms?.inbound?.umid ?? '');
  }).length;
  return { sms: observations, optOuts, botOrder, redeliveries: run.redeliveries, cognigyRefused };
}
