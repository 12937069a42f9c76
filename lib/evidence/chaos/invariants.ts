/**
 * What every party observed in a chaos run, and the invariant checks over it (pure, so a test can prove it flags a
 * constructed violation). The invariants are listed in run.ts.
 */
import { QUEUES, type QueueName } from '../../../functions/shared/catalogue';

export interface AcceptedSmsObservation {
  messageId: string;
  clientMessageId: string;
  /** Public status code from GET /sms/{messageId}; undefined when the record was not found. */
  status?: string;
  reason?: string;
  errorCode?: string | number;
}

export interface EightByEightAcceptance {
  clientMessageId: string | null;
  /** The answer reached the bridge (false: timed out or reset after 8x8 accepted). */
  answered: boolean;
  callSeq: number;
}

export interface AgentMessageObservation {
  text: string;
  /** Pushes of this message that Cognigy accepted but whose answer the bridge never got (it gave up first). */
  lostAnswers?: number;
  /** When 8x8's first successful delivery of the event started and ended (epoch ms); undefined if none did. */
  deliveredFrom?: number;
  deliveredUntil?: number;
}

export interface ChaosObservations {
  sms: {
    accepted: AcceptedSmsObservation[];
    eightByEight: EightByEightAcceptance[];
    /** Repeated POST /sms whose answer named another messageId than the first. */
    idempotencyMismatches: { clientMessageId: string; first: string; repeat: string }[];
  };
  agent: { conversationId: string; sent: AgentMessageObservation[]; received: string[] }[];
  user: { conversationId: string; sent: string[]; received: string[] }[];
  /** Answers of the bridge's API with status ≥ 500 (not counting the injected accept kills). */
  api5xx: { request: string; status: number }[];
  dlq: DlqEntry[];
  /**
   * The outbox under accept kills: the SMS whose accept died after the record write (their outcome is in
   * sms.accepted too), and every record of the messages table that is not in a terminal state at the end.
   */
  outbox?: {
    killed: { messageId: string; clientMessageId: string; retried: boolean }[];
    stranded: { messageId: string; status: string }[];
  };
  /**
   * The SMS whose sms-deliver invocation was killed between 8x8's QUEUED answer and the record update
   * (lib/evidence/worker-kill.ts): the record at the end and how many times 8x8 accepted the SMS.
   */
  workerKills?: {
    messageId: string;
    clientMessageId: string;
    status: string;
    attempts: number;
    ambiguousAttempts: number;
    acceptedBy8x8: number;
  }[];
  /** Inbound SMS (issue 14): handsets texting the bridge. */
  inbound?: InboundObservations;
}

/** One SMS a simulator handset texted the bridge, and what became of it. */
export interface InboundSmsObservation {
  umid: string;
  /** A reply within a flow SMS's reply window, a text to the SMS bot, or a keyword. */
  kind: 'reply' | 'bot' | 'stop' | 'start';
  from: string;
  /** Some POST of 8x8's webhook for this umid got a 2xx from the bridge (else 8x8 keeps the SMS). */
  acknowledged: boolean;
  /** 8x8's POSTs of this umid: first tries, retries and redeliveries; and those the bridge did not answer 2xx. */
  deliveries: number;
  refusedDeliveries: number;
  redelivered: boolean;
  /** reply: the flow's session, and the injects with `bridgeEventId` `sms:inbound:<umid>` in it and elsewhere. */
  sessionId?: string;
  injects?: number;
  injectsElsewhere?: number;
  /** bot: REST Endpoint calls for this umid (more than one: a repeat Cognigy saw, at least once). */
  restCalls?: number;
  /** bot: each answer SMS (`bot:<umid>:<n>`): copies at the handset, 8x8 acceptances whose answer was lost, record. */
  answers?: {
    clientMessageId: string;
    atHandset: number;
    lostAnswers: number;
    status?: string;
    reason?: string;
  }[];
}

export interface InboundObservations {
  sms: InboundSmsObservation[];
  /** The numbers that texted STOP (and START after it, for some) and what GET /sms/opt-outs/{number} says. */
  optOuts: { number: string; expectOptedOut: boolean; optedOut?: boolean }[];
  /** Per bot phone: its texts in the order texted (each after 8x8's previous delivery ended) and reached the bot. */
  botOrder: { from: string; texted: string[]; reached: string[] }[];
  /** Texts 8x8 delivered again on purpose (same umid). */
  redeliveries: number;
  /** Calls for these texts (injects, REST Endpoint calls) Cognigy refused during its outages: retried, not lost. */
  cognigyRefused?: number;
}

export interface DlqEntry {
  queue: QueueName;
  /** What the message is about (messageId, conversation and event type, ...). */
  subject: string;
  /** Why it is there, from the record it concerns. */
  reason: string;
  /** For SMS: the record's public status (a DLQ'd SMS must show FAILED). */
  status?: string;
}

export interface InvariantResult {
  id: string;
  title: string;
  ok: boolean;
  /** Counts behind the verdict, for the report. */
  summary: string;
  violations: string[];
}

export const TERMINAL = new Set(['DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED']);

function invariant(id: string, title: string, summary: string, violations: string[]): InvariantResult {
  return { id, title, ok: violations.length === 0, summary, violations };
}

export function checkInvariants(obs: ChaosObservations): InvariantResult[] {
  const results: InvariantResult[] = [];

  // 1. Every accepted SMS ends in a terminal state with its reason.
  {
    const violations: string[] = [];
    const byStatus: Record<string, number> = {};
    for (const sms of obs.sms.accepted) {
      const status = sms.status ?? 'LOST';
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (sms.status === undefined) violations.push(`${sms.messageId} (${sms.clientMessageId}): no record`);
      else if (!TERMINAL.has(sms.status))
        violations.push(`${sms.messageId} (${sms.clientMessageId}): still ${sms.status}`);
      else if (sms.status !== 'DELIVERED' && !sms.reason && sms.errorCode === undefined)
        violations.push(`${sms.messageId} (${sms.clientMessageId}): ${sms.status} without a reason`);
    }
    const counts = Object.entries(byStatus)
      .sort()
      .map(([s, n]) => `${n} ${s.toLowerCase()}`)
      .join(', ');
    results.push(
      invariant(
        'sms-terminal',
        'Every accepted SMS ends delivered or in a terminal state with its reason; none lost',
        `${obs.sms.accepted.length} accepted: ${counts || 'none'}`,
        violations,
      ),
    );
  }

  // 2. No SMS reaches 8x8 twice, except after an acceptance whose answer was lost.
  {
    const violations: string[] = [];
    let explained = 0;
    const byClientId = new Map<string, EightByEightAcceptance[]>();
    for (const a of obs.sms.eightByEight) {
      if (a.clientMessageId === null) continue;
      const list = byClientId.get(a.clientMessageId) ?? [];
      list.push(a);
      byClientId.set(a.clientMessageId, list);
    }
    // A worker killed after 8x8's answer lost that answer with it: the redelivery cannot know 8x8 has the SMS.
    const lostWorker = new Set((obs.workerKills ?? []).map((k) => k.clientMessageId));
    let afterLostWorker = 0;
    for (const [clientMessageId, list] of byClientId) {
      const ordered = [...list].sort((a, b) => a.callSeq - b.callSeq);
      let workerLossLeft = lostWorker.has(clientMessageId) ? 1 : 0;
      // Every acceptance but the last must have lost its answer: otherwise the bridge knew and sent again.
      for (const earlier of ordered.slice(0, -1)) {
        if (!earlier.answered) explained++;
        else if (workerLossLeft > 0) {
          workerLossLeft--;
          afterLostWorker++;
        } else violations.push(`${clientMessageId}: sent again after 8x8 answered QUEUED`);
      }
    }
    results.push(
      invariant(
        'sms-sent-once',
        'No SMS sent twice to 8x8, apart from sends whose answer was lost after 8x8 accepted them',
        `${byClientId.size} SMS at 8x8; ${explained} resent after a lost answer (timeout or reset after acceptance), ` +
          `${afterLostWorker} after a worker killed between 8x8's answer and the record update`,
        violations,
      ),
    );
  }

  // 3. and 4. Agent messages: exactly once, in delivery order.
  {
    const once: string[] = [];
    const order: string[] = [];
    let total = 0;
    let resent = 0;
    let reorderedBy8x8 = 0;
    for (const c of obs.agent) {
      total += c.sent.length;
      const counts = new Map<string, number>();
      for (const text of c.received) counts.set(text, (counts.get(text) ?? 0) + 1);
      for (const m of c.sent) {
        const n = counts.get(m.text) ?? 0;
        // Cognigy's Endpoint has no idempotency key: a push whose answer was lost can only be sent again.
        const allowed = 1 + (m.lostAnswers ?? 0);
        if (n === 0 || n > allowed) once.push(`${c.conversationId}: "${m.text}" reached Cognigy ${n} times`);
        else resent += n - 1;
      }
      const byText = new Map(c.sent.map((m) => [m.text, m]));
      for (let i = 0; i < c.sent.length; i++)
        for (let j = i + 1; j < c.sent.length; j++) {
          const a = c.sent[i]!;
          const b = c.sent[j]!;
          if (
            a.deliveredFrom !== undefined &&
            b.deliveredUntil !== undefined &&
            b.deliveredUntil < a.deliveredFrom
          )
            reorderedBy8x8++;
        }
      // Each pair Cognigy got as (x before y) must not have been delivered by 8x8 as (y, then x) without overlap.
      const firstSeen = [...new Set(c.received)].filter((t) => byText.has(t));
      for (let i = 0; i < firstSeen.length; i++)
        for (let j = i + 1; j < firstSeen.length; j++) {
          const x = byText.get(firstSeen[i]!)!;
          const y = byText.get(firstSeen[j]!)!;
          if (
            x.deliveredFrom !== undefined &&
            y.deliveredUntil !== undefined &&
            y.deliveredUntil < x.deliveredFrom
          )
            order.push(
              `${c.conversationId}: "${x.text}" reached Cognigy before "${y.text}", which 8x8 delivered first`,
            );
        }
    }
    results.push(
      invariant(
        'agent-once',
        'Every agent message reaches Cognigy exactly once, apart from pushes whose answer was lost after Cognigy accepted them',
        `${total} agent messages in ${obs.agent.length} conversations; ${resent} resent after a lost answer (timeout after acceptance)`,
        once,
      ),
    );
    results.push(
      invariant(
        'agent-order',
        'Agent messages reach Cognigy in the order 8x8 delivered them, per conversation',
        `${reorderedBy8x8} message pairs delivered by 8x8 out of writing order (reorder fault)`,
        order,
      ),
    );
  }

  // 5. User messages: exactly once, in order.
  {
    const violations: string[] = [];
    let total = 0;
    for (const c of obs.user) {
      total += c.sent.length;
      if (JSON.stringify(c.sent) !== JSON.stringify(c.received))
        violations.push(
          `${c.conversationId}: sent [${c.sent.join(' | ')}], the agent got [${c.received.join(' | ')}]`,
        );
    }
    results.push(
      invariant(
        'user-once-in-order',
        'Every user message reaches the 8x8 agent exactly once and in order',
        `${total} user messages in ${obs.user.length} conversations`,
        violations,
      ),
    );
  }

  // 6. Idempotent accept; 7. no 5xx.
  results.push(
    invariant(
      'accept-idempotent',
      'A repeated POST /sms with the same clientMessageId answers the first messageId',
      `${obs.sms.idempotencyMismatches.length} mismatches`,
      obs.sms.idempotencyMismatches.map((m) => `${m.clientMessageId}: ${m.first} then ${m.repeat}`),
    ),
  );
  results.push(
    invariant(
      'api-no-5xx',
      'The API always answers, never with 5xx',
      `${obs.api5xx.length} answers ≥ 500 or missing`,
      obs.api5xx.map((a) => `${a.request} → ${a.status === 0 ? 'no answer' : a.status}`),
    ),
  );

  // 7b. No accepted SMS stranded: every record of the table ends terminal, the killed accepts included.
  {
    const killed = obs.outbox?.killed ?? [];
    const status = new Map(obs.sms.accepted.map((a) => [a.messageId, a.status]));
    const of = (wanted: (s: string | undefined) => boolean) =>
      killed.filter((k) => wanted(status.get(k.messageId))).length;
    const stranded = obs.outbox?.stranded ?? [];
    results.push(
      invariant(
        'sms-not-stranded',
        'No accepted SMS is stranded: an accept killed between record write and enqueue is still sent (outbox)',
        `${killed.length} accepts killed after the record write (${killed.filter((k) => k.retried).length} repeated by the flow): ` +
          `${of((s) => s === 'DELIVERED')} delivered, ${of((s) => s !== undefined && s !== 'DELIVERED' && TERMINAL.has(s))} recorded failed; ` +
          `stranded (must be 0): ${stranded.length}`,
        stranded.map((r) => `${r.messageId}: still ${r.status}`),
      ),
    );
  }

  if (obs.inbound) results.push(...inboundInvariants(obs.inbound));

  // 8. DLQs.
  {
    const violations: string[] = [];
    for (const entry of obs.dlq) {
      if (entry.queue === 'sms') {
        // FAILED with its reason, or a redundant copy of an SMS that reached its end through another delivery.
        if (!entry.status || !TERMINAL.has(entry.status))
          violations.push(
            `sms DLQ: ${entry.subject} shows ${entry.status ?? 'no record'}, not a terminal state`,
          );
      } else {
        violations.push(`${entry.queue} DLQ: ${entry.subject} was never delivered (${entry.reason})`);
      }
    }
    const perQueue = (Object.keys(QUEUES) as QueueName[])
      .map((q) => `${q} ${obs.dlq.filter((e) => e.queue === q).length}`)
      .join(', ');
    results.push(
      invariant(
        'dlq-explained',
        'Every DLQ message is explained: an SMS in a terminal state (failed with its reason); no handover item left',
        `DLQ depth: ${perQueue}`,
        violations,
      ),
    );
  }
  return results;
}

/** Inbound SMS: processed once each (8x8 retries and redeliveries), none lost, the bot answers once, STOP holds. */
function inboundInvariants(inbound: InboundObservations): InvariantResult[] {
  const results: InvariantResult[] = [];
  const acked = inbound.sms.filter((s) => s.acknowledged);
  const unacked = inbound.sms.length - acked.length;
  const refused = inbound.sms.reduce((n, s) => n + s.refusedDeliveries, 0);
  const deliveries = inbound.sms.reduce((n, s) => n + s.deliveries, 0);
  const replies = acked.filter((s) => s.kind === 'reply');
  const bots = acked.filter((s) => s.kind === 'bot');
  const keywords = acked.filter((s) => s.kind === 'stop' || s.kind === 'start');

  // Processed: a reply reaches its session, a bot text gets its answer (at the handset, or failed with a reason).
  {
    const violations: string[] = [];
    let answersFailed = 0;
    for (const s of replies) {
      if (!s.injects) violations.push(`reply ${s.umid}: never injected into ${s.sessionId ?? '?'} (lost)`);
      if (s.injectsElsewhere)
        violations.push(`reply ${s.umid}: injected into ${s.injectsElsewhere} other sessions`);
    }
    for (const s of bots) {
      const answers = s.answers ?? [];
      if (!s.restCalls) violations.push(`bot text ${s.umid}: never reached the REST Endpoint (lost)`);
      else if (answers.length === 0) violations.push(`bot text ${s.umid}: no answer SMS (lost)`);
      for (const a of answers) {
        if (a.atHandset > 0) continue;
        if (a.status && TERMINAL.has(a.status) && a.status !== 'DELIVERED' && a.reason) answersFailed++;
        else violations.push(`${a.clientMessageId}: not at the handset, record ${a.status ?? 'missing'}`);
      }
    }
    results.push(
      invariant(
        'inbound-processed',
        'Every inbound SMS the bridge acknowledged is processed: a reply reaches its session, a bot text gets its answer; none lost',
        `${inbound.sms.length} texted (${inbound.redeliveries} redelivered by 8x8, same umid): ${acked.length} acknowledged ` +
          `(${replies.length} replies, ${bots.length} bot texts, ${keywords.length} keywords), ${unacked} left with 8x8; ` +
          `${deliveries} webhook POSTs, ${refused} not answered 2xx (retried by 8x8); ` +
          `${inbound.cognigyRefused ?? 0} Cognigy calls refused during outages (retried); ` +
          `${answersFailed} bot answers recorded failed by 8x8`,
        violations,
      ),
    );
  }

  // Once: no reply injected twice past the flow-side dedupe, no bot answer doubled at the handset.
  {
    const violations: string[] = [];
    let injectRepeats = 0;
    let restRepeats = 0;
    let resentAfterLostAnswer = 0;
    let answers = 0;
    for (const s of replies) injectRepeats += Math.max(0, (s.injects ?? 0) - 1);
    for (const s of bots) {
      restRepeats += Math.max(0, (s.restCalls ?? 0) - 1);
      for (const a of s.answers ?? []) {
        answers++;
        // 8x8 took a send whose answer was lost: the resend may double it (the sms-sent-once exception).
        if (a.atHandset > 1 + a.lostAnswers)
          violations.push(`${a.clientMessageId}: ${a.atHandset} copies at the handset`);
        else resentAfterLostAnswer += Math.max(0, a.atHandset - 1);
      }
    }
    results.push(
      invariant(
        'inbound-once',
        'Each inbound SMS is handled once per umid: one inject after the flow-side dedupe, one answer SMS per bot output',
        `${replies.length} replies: ${injectRepeats} repeated injects seen by Cognigy (same bridgeEventId; 0 after the flow-side dedupe); ` +
          `${bots.length} bot texts: ${answers} answer SMS, ${restRepeats} repeated REST Endpoint calls seen by Cognigy, ` +
          `${resentAfterLostAnswer} answers doubled after 8x8's answer was lost`,
        violations,
      ),
    );
  }

  // STOP holds; START lifts it.
  {
    const violations = inbound.optOuts
      .filter((o) => o.optedOut !== o.expectOptedOut)
      .map(
        (o) =>
          `${o.number}: ${o.optedOut === undefined ? 'no opt-out answer' : o.optedOut ? 'opted out' : 'not opted out'}, ` +
          `expected ${o.expectOptedOut ? 'opted out' : 'opted in again'}`,
      );
    const stops = inbound.optOuts.filter((o) => o.expectOptedOut).length;
    results.push(
      invariant(
        'inbound-opt-out',
        'A STOP leaves the number opted out; a START after it lifts the opt-out',
        `${stops} numbers sent STOP, ${inbound.optOuts.length - stops} STOP then START`,
        violations,
      ),
    );
  }

  // Order: a phone's texts reach the bot in the order texted.
  {
    const violations = inbound.botOrder
      .filter((b) => {
        const expected = b.texted.filter((u) => b.reached.includes(u));
        return JSON.stringify(expected) !== JSON.stringify(b.reached);
      })
      .map((b) => `${b.from}: texted [${b.texted.join(', ')}], the bot got [${b.reached.join(', ')}]`);
    results.push(
      invariant(
        'inbound-order',
        "A phone's SMS reach the bot in the order sent",
        `${inbound.botOrder.length} phones × ${Math.max(0, ...inbound.botOrder.map((b) => b.texted.length))} texts`,
        violations,
      ),
    );
  }
  return results;
}
