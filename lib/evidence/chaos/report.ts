/** A chaos run's report: the faults that happened, the invariants' results, and the text `npm run chaos` prints. */
import type { QueueName } from '../../../functions/shared/catalogue';
import { TERMINAL, type ChaosObservations, type InvariantResult } from './invariants';
import type { ChaosProfile } from './profile';

export interface ChaosFaultCounts {
  eightByEightCalls: number;
  eightByEightAnswers: Record<string, number>;
  eightByEightUnanswered: number;
  eightByEightResets: number;
  receiptAttempts: number;
  receiptDuplicates: number;
  webhookDeliveries: number;
  webhookDuplicates: number;
  webhookFailedAttempts: number;
  /** The bridge's answers to the deliveries it did not acknowledge, by status (8x8 retries those). */
  webhookRefusals: Record<string, number>;
  chatGatewayApiFaults: number;
  cognigyRefused: number;
  /** Pushes Cognigy received again (same data.bridgeEventId in a session): what a flow without dedupe would see. */
  cognigyDuplicates: number;
  /** Of those, the ones the README's flow-side dedupe (bounded list of seen ids) would let through. */
  cognigyDuplicatesAfterFlowDedupe: number;
  workerCrashes: Partial<Record<QueueName, number>>;
  /** sms-accept invocations killed between the record write and the enqueue. */
  acceptKills?: number;
  /** sms-deliver invocations killed between 8x8's QUEUED answer and the record update. */
  workerKills?: number;
  /** Cognigy pushes answered later than the push timeout (the push had arrived). */
  cognigySlowAnswers?: number;
  /** SMS in all 8x8 send calls (single: 1, batch: its messages), whatever 8x8 answered. */
  eightByEightSmsRequests?: number;
}

/** The headline figures of a run (BENCHMARKS.md "Chaos (issue 9)"). */
export interface ChaosFigures {
  accepted: number;
  delivered: number;
  recordedFailed: number;
  /** Records not in a terminal state at the end (must be 0). */
  stranded: number;
  eightByEightRequestsPerSms: number;
  eightByEightAcceptancesPerSms: number;
  cognigyDuplicates: number;
  cognigyDuplicatesAfterFlowDedupe: number;
  /** Agent messages that reached Cognigy out of 8x8's delivery order (must be 0 without handover DLQ events). */
  reorderings: number;
  handoverDlqEvents: number;
  /** Inbound SMS (issue 14), when the profile has them. */
  inbound?: InboundFigures;
}

export interface InboundFigures {
  texted: number;
  /** Texts 8x8 sent again on purpose (same umid), and webhook POSTs the bridge did not answer 2xx (8x8 retried). */
  redelivered: number;
  webhookRefused: number;
  /** Acknowledged by the bridge with a 2xx (the others stay with 8x8). */
  acknowledged: number;
  /** Acknowledged but never processed (must be 0). */
  lost: number;
  injected: number;
  botAnswered: number;
  /** Answer SMS at a handset more often than 8x8's lost answers explain (must be 0). */
  doubledAnswers: number;
  /** Repeats Cognigy saw (at least once): injects with the same bridgeEventId, REST Endpoint calls of one umid. */
  cognigyInjectRepeats: number;
  cognigyRestRepeats: number;
  /** Inbound calls Cognigy refused during its outages (retried by SQS; none lost). */
  cognigyRefused: number;
  optedOut: number;
  optedIn: number;
}

export function inboundFigures(obs: ChaosObservations): InboundFigures | undefined {
  const inbound = obs.inbound;
  if (!inbound) return undefined;
  const acked = inbound.sms.filter((s) => s.acknowledged);
  const replies = acked.filter((s) => s.kind === 'reply');
  const bots = acked.filter((s) => s.kind === 'bot');
  const answered = (s: (typeof bots)[number]) =>
    (s.answers ?? []).length > 0 &&
    (s.answers ?? []).every((a) => a.atHandset > 0 || (a.status !== undefined && TERMINAL.has(a.status)));
  return {
    texted: inbound.sms.length,
    redelivered: inbound.redeliveries,
    webhookRefused: inbound.sms.reduce((n, s) => n + s.refusedDeliveries, 0),
    acknowledged: acked.length,
    lost: replies.filter((s) => !s.injects).length + bots.filter((s) => !s.restCalls || !answered(s)).length,
    injected: replies.filter((s) => (s.injects ?? 0) > 0).length,
    botAnswered: bots.filter(answered).length,
    doubledAnswers: bots.flatMap((s) => s.answers ?? []).filter((a) => a.atHandset > 1 + a.lostAnswers)
      .length,
    cognigyInjectRepeats: replies.reduce((n, s) => n + Math.max(0, (s.injects ?? 0) - 1), 0),
    cognigyRestRepeats: bots.reduce((n, s) => n + Math.max(0, (s.restCalls ?? 0) - 1), 0),
    cognigyRefused: inbound.cognigyRefused ?? 0,
    optedOut: inbound.optOuts.filter((o) => o.optedOut === true).length,
    optedIn: inbound.optOuts.filter((o) => o.optedOut === false).length,
  };
}

export function chaosFigures(report: ChaosReport): ChaosFigures {
  const obs = report.observations;
  const statusOf = new Map(obs.sms.accepted.map((a) => [a.messageId, a.status]));
  const statuses = [...statusOf.values()];
  const accepted = statusOf.size;
  const per = (n: number) => (accepted ? Math.round((n / accepted) * 100) / 100 : 0);
  return {
    accepted,
    delivered: statuses.filter((s) => s === 'DELIVERED').length,
    recordedFailed: statuses.filter((s) => s !== undefined && s !== 'DELIVERED' && TERMINAL.has(s)).length,
    stranded: obs.outbox?.stranded.length ?? 0,
    eightByEightRequestsPerSms: per(report.faults.eightByEightSmsRequests ?? 0),
    eightByEightAcceptancesPerSms: per(obs.sms.eightByEight.length),
    cognigyDuplicates: report.faults.cognigyDuplicates,
    cognigyDuplicatesAfterFlowDedupe: report.faults.cognigyDuplicatesAfterFlowDedupe,
    reorderings: report.invariants.find((i) => i.id === 'agent-order')?.violations.length ?? 0,
    handoverDlqEvents: obs.dlq.filter((e) => e.queue !== 'sms' && e.queue !== 'smsInbound').length,
    ...(obs.inbound ? { inbound: inboundFigures(obs) } : {}),
  };
}

export interface ChaosReport {
  profile: ChaosProfile;
  observations: ChaosObservations;
  invariants: InvariantResult[];
  faults: ChaosFaultCounts;
  /** Whether everything settled before settleTimeoutMs. */
  settled: boolean;
  /**
   * Event-loop delay of the process over the run (the whole stack shares that thread). Beyond the upstream timeout
   * the machine itself, not an injected fault, makes calls time out — and a timed-out push may be resent.
   */
  eventLoopDelayMs: { p99: number; max: number };
  durationMs: number;
  ok: boolean;
}

export function formatChaosReport(report: ChaosReport, maxViolations = 10): string {
  const f = report.faults;
  const lines: string[] = [];
  const p = report.profile;
  lines.push(
    `Chaos run, seed ${p.seed}: ${p.sms.count} SMS, ${p.handover.conversations} handovers × ` +
      `${p.handover.agentMessagesPerConversation} agent / ${p.handover.userMessagesPerConversation} user messages; ` +
      (p.inbound
        ? `${p.inbound.replies + p.inbound.botPhones * p.inbound.botTextsPerPhone + p.inbound.stopPhones + p.inbound.restartPhones} inbound SMS; `
        : '') +
      `${Math.round(report.durationMs / 1000)} s${report.settled ? '' : ' (did NOT settle)'}`,
  );
  const lag = report.eventLoopDelayMs;
  lines.push(
    `Event-loop delay p99 ${Math.round(lag.p99)} ms, max ${Math.round(lag.max)} ms` +
      (lag.max > p.stack.upstreamTimeoutMs
        ? ` — beyond the ${p.stack.upstreamTimeoutMs} ms upstream timeout: the machine is overloaded`
        : ''),
  );
  lines.push('');
  lines.push('Faults injected');
  const answers = Object.entries(f.eightByEightAnswers)
    .sort()
    .map(([s, n]) => `${n}×${s}`)
    .join(' ');
  lines.push(
    `  8x8 SMS API   ${f.eightByEightCalls} calls: ${answers}; ${f.eightByEightUnanswered} unanswered (timeout), ${f.eightByEightResets} resets`,
  );
  lines.push(
    `  SMS receipts  ${f.receiptAttempts} POSTs, ${f.receiptDuplicates} duplicates, out of order, delayed`,
  );
  lines.push(
    `  Chat webhook  ${f.webhookDeliveries} deliveries, ${f.webhookDuplicates} duplicates, ${f.webhookFailedAttempts} not acknowledged` +
      `${
        f.webhookFailedAttempts
          ? ` (${Object.entries(f.webhookRefusals)
              .map(([st, n]) => `${n}×${st}`)
              .join(' ')}, retried by 8x8)`
          : ''
      }; reordered and delayed`,
  );
  lines.push(`  Chat API      ${f.chatGatewayApiFaults} failing calls (429, 5xx, no answer)`);
  lines.push(
    `  Cognigy       ${f.cognigyRefused} calls refused during outages; ${f.cognigyDuplicates} duplicates seen ` +
      `(same bridgeEventId), ${f.cognigyDuplicatesAfterFlowDedupe} with the flow-side dedupe`,
  );
  lines.push(
    `  Worker crash  ${Object.entries(f.workerCrashes)
      .map(([q, n]) => `${q} ${n}`)
      .join(', ')}`,
  );
  if (f.acceptKills !== undefined)
    lines.push(
      `  Accept kill   ${f.acceptKills} sms-accept invocations killed between record write and enqueue`,
    );
  if (f.workerKills !== undefined) {
    const kills = report.observations.workerKills ?? [];
    const resent = kills.filter((k) => k.acceptedBy8x8 > 1).length;
    const ends = Object.entries(
      kills.reduce<Record<string, number>>(
        (acc, k) => ({ ...acc, [k.status]: (acc[k.status] ?? 0) + 1 }),
        {},
      ),
    )
      .map(([st, n]) => `${n} ${st.toLowerCase()}`)
      .join(', ');
    lines.push(
      `  Worker kill   ${f.workerKills} sms-deliver invocations killed between 8x8's answer and the record update; ` +
        `ended ${ends || 'none'}; ${resent} sent to 8x8 again after the lease expired (ambiguous attempt)`,
    );
  }
  if (f.cognigySlowAnswers !== undefined)
    lines.push(`  Cognigy slow  ${f.cognigySlowAnswers} pushes answered after the push timeout`);
  const g = chaosFigures(report);
  lines.push('');
  lines.push('Figures');
  lines.push(
    `  SMS           ${g.accepted} accepted: ${g.delivered} delivered, ${g.recordedFailed} recorded failed, ` +
      `${g.stranded} stranded (must be 0)`,
  );
  lines.push(
    `  8x8           ${g.eightByEightRequestsPerSms} requests and ${g.eightByEightAcceptancesPerSms} acceptances per accepted SMS`,
  );
  lines.push(
    `  Cognigy       ${g.cognigyDuplicates} duplicates seen without the flow-side dedupe, ` +
      `${g.cognigyDuplicatesAfterFlowDedupe} with it (must be 0)`,
  );
  lines.push(
    `  Order         ${g.reorderings} reorderings (must be 0 without DLQ events; handover DLQ events: ${g.handoverDlqEvents})`,
  );
  if (g.inbound) {
    const i = g.inbound;
    lines.push(
      `  Inbound SMS   ${i.texted} texted by handsets (${i.redelivered} redelivered by 8x8, ${i.webhookRefused} webhook POSTs ` +
        `not answered 2xx and retried): ${i.acknowledged} acknowledged, ${i.lost} lost (must be 0); ` +
        `${i.injected} replies injected, ${i.botAnswered} bot texts answered, ${i.doubledAnswers} doubled answers (must be 0); ` +
        `${i.optedOut} opted out, ${i.optedIn} opted in again`,
    );
    lines.push(
      `  Inbound → Cognigy  ${i.cognigyRefused} calls refused during outages (retried), ${i.cognigyInjectRepeats} repeated injects (same bridgeEventId, dropped by the flow-side dedupe), ` +
        `${i.cognigyRestRepeats} repeated REST Endpoint calls (at least once)`,
    );
  }
  lines.push('');
  lines.push('Invariants');
  for (const inv of report.invariants) {
    lines.push(`  ${inv.ok ? 'PASS' : 'FAIL'}  ${inv.title}`);
    lines.push(`        ${inv.summary}`);
    for (const v of inv.violations.slice(0, maxViolations)) lines.push(`        ✗ ${v}`);
    if (inv.violations.length > maxViolations)
      lines.push(`        … and ${inv.violations.length - maxViolations} more`);
  }
  lines.push('');
  lines.push('DLQ contents');
  if (report.observations.dlq.length === 0) lines.push('  (all empty)');
  for (const e of report.observations.dlq)
    lines.push(`  ${e.queue}: ${e.subject}${e.status ? ` [${e.status}]` : ''} — ${e.reason}`);
  lines.push('');
  lines.push(report.ok ? 'All invariants hold.' : 'INVARIANTS BROKEN.');
  return lines.join('\n');
}
