/** A chaos run's report: the faults that happened, the invariants' results, and the text `npm run chaos` prints. */
import type { QueueName } from '../../../functions/shared/catalogue';
import type { ChaosObservations, InvariantResult } from './invariants';
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
