/**
 * Relay rules: how 8x8 Chat Gateway events become Cognigy inject/notify calls where 8x8's public material is
 * silent (shared/reference/8x8-apis.md §2.8 and §5). Set them with the JSON environment variable HANDOVER_RULES
 * (SETTINGS.handoverRules); every key is optional and unknown keys are refused so a typo cannot pass silently.
 *
 * Defaults and why:
 * - `endOn: ["agentLeft", "idle"]` — 8x8 does not say which event ends a chat. An agent leaving (MEMBERS_CHANGED
 *   agent left, unless a TRANSFER came just before) and CONVERSATION_UPDATE state "idle" are the two signals seen
 *   when an agent closes the chat; whichever comes first completes the handover, the other is then ignored.
 *   Add "userLeft" to end the handover (status cancelled) when 8x8 reports the user leaving without our own end
 *   request; it is off because our own end already closes the record and 8x8 then reports the user leaving too.
 * - `forwardEchoes: false` — `isEcho: true` marks the bridge's own posts coming back. Only agent messages are
 *   forwarded in any case; set true only if a tenant marks genuine agent messages as echoes.
 * - `typing: "ignore"` — typing indicators arrive often and would run the flow each time; "inject" sends
 *   `{status, event: "typing", typing: true|false}` (typing stops when 8x8 sends an empty user list).
 * - `agentMessageMode: "notify"` — agent text goes straight to the user with `source: "agent"` (the agent avatar
 *   in Webchat) without running the flow; "inject" runs the flow with the text instead, for flows that post-process.
 * - `injectQueueEvents: true` — QUEUED and TRANSFER are injected as `{status: "queue"}` so a flow can say "you are
 *   in the queue" (Cognigy's "Send Queue Event").
 * - `injectActiveEvent: true` — the agent joining is injected as `{status: "active"}` (Cognigy's "Send Active Event").
 * - `transferGraceMs: 600000` — after a TRANSFER, an agent leaving within this time is part of the transfer, not the
 *   end; a new agent joining clears the transfer at once. 0 means no limit.
 * - `unknownConversationRetryMs: 60000` — 8x8 may send the first events before POST /handover has stored the
 *   conversation; events for an unknown conversation are retried for this long after the webhook received them,
 *   then acknowledged and dropped (they belong to conversations this bridge did not start).
 */
import * as z from '../shared/zod';

export const END_SIGNALS = ['agentLeft', 'idle', 'userLeft'] as const;
export type EndSignal = (typeof END_SIGNALS)[number];

export interface HandoverRules {
  endOn: EndSignal[];
  forwardEchoes: boolean;
  typing: 'ignore' | 'inject';
  agentMessageMode: 'notify' | 'inject';
  injectQueueEvents: boolean;
  injectActiveEvent: boolean;
  transferGraceMs: number;
  unknownConversationRetryMs: number;
}

export const DEFAULT_HANDOVER_RULES: HandoverRules = Object.freeze<HandoverRules>({
  endOn: ['agentLeft', 'idle'],
  forwardEchoes: false,
  typing: 'ignore',
  agentMessageMode: 'notify',
  injectQueueEvents: true,
  injectActiveEvent: true,
  transferGraceMs: 600_000,
  unknownConversationRetryMs: 60_000,
});

let schema: z.ZodMiniType<HandoverRules> | undefined;

/**
 * The schema of HANDOVER_RULES, each key defaulting to DEFAULT_HANDOVER_RULES. Built on first use: every function
 * bundles the settings catalogue, which refers to it, and most never read the rules.
 */
export function handoverRulesSchema(): z.ZodMiniType<HandoverRules> {
  const d = DEFAULT_HANDOVER_RULES;
  return (schema ??= z.strictObject({
    endOn: z._default(z.array(z.enum(END_SIGNALS)), () => [...d.endOn]),
    forwardEchoes: z._default(z.boolean(), d.forwardEchoes),
    typing: z._default(z.enum(['ignore', 'inject']), d.typing),
    agentMessageMode: z._default(z.enum(['notify', 'inject']), d.agentMessageMode),
    injectQueueEvents: z._default(z.boolean(), d.injectQueueEvents),
    injectActiveEvent: z._default(z.boolean(), d.injectActiveEvent),
    transferGraceMs: z._default(z.number().check(z.int(), z.nonnegative()), d.transferGraceMs),
    unknownConversationRetryMs: z._default(
      z.number().check(z.int(), z.nonnegative()),
      d.unknownConversationRetryMs,
    ),
  }));
}

export class HandoverRulesError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`HANDOVER_RULES is invalid: ${message}`, options);
    this.name = 'HandoverRulesError';
  }
}

/** Parses HANDOVER_RULES (JSON); absent or blank means the defaults. A bad value is a deployment fault and throws. */
export function parseHandoverRules(json: string | undefined): HandoverRules {
  if (json === undefined || json.trim() === '') return DEFAULT_HANDOVER_RULES;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new HandoverRulesError('not JSON', { cause: error });
  }
  const parsed = handoverRulesSchema().safeParse(raw);
  if (!parsed.success) {
    throw new HandoverRulesError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}
