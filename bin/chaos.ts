/**
 * `npm run chaos`: the local stack under a seeded fault profile (lib/evidence/chaos/), then the invariants;
 * exits 1 when one breaks. Flags (or environment variables):
 *
 *   --seed N            (CHAOS_SEED)           replay a run; default 1
 *   --sms N             (CHAOS_SMS)            SMS to send; default 200
 *   --conversations N   (CHAOS_CONVERSATIONS)  handovers; default 6
 *   --agent-messages N  (CHAOS_AGENT_MESSAGES) agent messages per handover; default 15
 *   --user-messages N   (CHAOS_USER_MESSAGES)  user messages per handover; default 6
 *   --settle-ms N       (CHAOS_SETTLE_MS)      how long to wait for everything to settle; default 90000
 *   --accept-kill-percent N (CHAOS_ACCEPT_KILL_PERCENT) POST /sms calls whose accept dies between record write and
 *                                              enqueue; default 10 (25 with --small); 0 turns the fault off
 *   --worker-kill-percent N (CHAOS_WORKER_KILL_PERCENT) SMS whose sms-deliver invocation dies between 8x8's
 *                                              answer and the record update; default 5 (10 with --small); 0: off
 *   --small                                    the short profile `npm test` runs
 *   --verbose                                  the functions' WARN logs and the local stack's reports too
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CHAOS_PROFILE, SMALL_CHAOS_PROFILE, type ChaosProfile } from '../lib/evidence/chaos/profile';
import { formatChaosReport } from '../lib/evidence/chaos/report';
import { runChaos } from '../lib/evidence/chaos/run';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    sms: { type: 'string' },
    conversations: { type: 'string' },
    'agent-messages': { type: 'string' },
    'user-messages': { type: 'string' },
    'settle-ms': { type: 'string' },
    'accept-kill-percent': { type: 'string' },
    'worker-kill-percent': { type: 'string' },
    small: { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
  strict: true,
});

/** A flag, else its environment variable, as a whole number ≥ min. */
function whole(flag: string | undefined, envName: string, fallback: number, min = 0): number {
  const raw = flag ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(
      `${envName
        .toLowerCase()
        .replace(/^chaos_/, '--')
        .replace(/_/g, '-')} must be a whole number ≥ ${min}`,
    );
    process.exit(2);
  }
  return n;
}

const base = values.small ? SMALL_CHAOS_PROFILE : DEFAULT_CHAOS_PROFILE;
const profile: ChaosProfile = {
  ...base,
  seed: whole(values.seed, 'CHAOS_SEED', base.seed),
  sms: { ...base.sms, count: whole(values.sms, 'CHAOS_SMS', base.sms.count) },
  handover: {
    ...base.handover,
    conversations: whole(values.conversations, 'CHAOS_CONVERSATIONS', base.handover.conversations),
    agentMessagesPerConversation: whole(
      values['agent-messages'],
      'CHAOS_AGENT_MESSAGES',
      base.handover.agentMessagesPerConversation,
    ),
    userMessagesPerConversation: whole(
      values['user-messages'],
      'CHAOS_USER_MESSAGES',
      base.handover.userMessagesPerConversation,
    ),
  },
  settleTimeoutMs: whole(values['settle-ms'], 'CHAOS_SETTLE_MS', base.settleTimeoutMs, 1000),
};
const killPercent = whole(
  values['accept-kill-percent'],
  'CHAOS_ACCEPT_KILL_PERCENT',
  Math.round((base.faults.acceptKills?.share ?? 0) * 100),
);
const workerKillPercent = whole(
  values['worker-kill-percent'],
  'CHAOS_WORKER_KILL_PERCENT',
  Math.round((base.faults.workerKills?.share ?? 0) * 100),
);
if (killPercent > 100 || workerKillPercent > 100) {
  console.error('--accept-kill-percent and --worker-kill-percent must be at most 100');
  process.exit(2);
}
profile.faults = {
  ...base.faults,
  acceptKills: { retriedShare: base.faults.acceptKills?.retriedShare ?? 0.5, share: killPercent / 100 },
  workerKills: { share: workerKillPercent / 100 },
};

runChaos(profile, {
  log: (line) => console.log(`[chaos] ${line}`),
  logLevel: values.verbose ? 'WARN' : 'SILENT',
  stackLogs: values.verbose ?? false,
})
  .then((report) => {
    console.log('');
    console.log(formatChaosReport(report));
    process.exit(report.ok ? 0 : 1);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
