/**
 * The sms-inbound consumer core (issue 14 items 2 and 4): one inbound SMS from the smsInbound FIFO queue (verified
 * and queued once per umid by the inbound webhook), routed in this order:
 *
 *  1. opt-out / opt-in / HELP keywords (keywords.ts): the opt-out list changes and the optional confirmation or the
 *     HELP text is sent (bypassing the opt-out check, as carriers allow); nothing reaches a flow or the bot;
 *  2. the reply window: the most recent SMS a flow sent to this number from this 8x8 number within
 *     SMS_REPLY_WINDOW_HOURS, with its Cognigy session → `inject` into that session;
 *  3. the SMS bot (sms-bot.ts), or, with none configured, a log line and SmsInboundUnrouted.
 *
 * Redelivery is safe: the opt-out list is idempotent per umid, every SMS the bridge sends has a deterministic
 * clientMessageId (`kw:<umid>`), and the inject carries `bridgeEventId: sms:inbound:<umid>` so a flow can drop a
 * repeat. A transient failure (DynamoDB, SQS, a Cognigy 429/5xx/timeout) is thrown: SQS redelivers with backoff, so
 * a Cognigy outage loses nothing; Cognigy's permanent refusal (other 4xx) is logged, counted and dropped.
 */
import type { CognigyEndpoint, CognigyTarget } from '../shared/cognigy-client';
import { UpstreamError } from '../shared/errors';
import { maskPhone } from '../shared/mask';
import type { Clock, Telemetry } from '../shared/runtime';
import * as z from '../shared/zod';
import type {
  InboundSmsData,
  OptOutScope,
  OptOutStore,
  OutboundSms,
  QueuedInboundSms,
  ReplyLookup,
  ReplyTarget,
  SmsBot,
} from './inbound-ports';
import { classifyKeyword, type KeywordMatch, type KeywordSettings } from './keywords';

export interface InboundSettings extends KeywordSettings {
  /** SMS_REPLY_WINDOW_HOURS (0: replies never reach a flow). */
  replyWindowHours: number;
  helpText: string;
  /** Unset: no confirmation SMS. */
  optOutConfirmationText?: string;
  optInConfirmationText?: string;
  /** SMS_OPT_OUT_SCOPE: with `account`, START lifts the opt-outs from every sender, as STOP refuses them all. */
  optOutScope: OptOutScope;
}

export interface InboundDeps {
  optOuts: OptOutStore;
  replies: ReplyLookup;
  cognigy: CognigyEndpoint;
  outbound: OutboundSms;
  bot: SmsBot;
  clock: Clock;
  telemetry: Telemetry;
  settings: InboundSettings;
}

export type InboundOutcome =
  'invalid' | 'optOut' | 'optIn' | 'help' | 'injected' | 'injectRefused' | 'answered' | 'unrouted';

const nonEmpty = z.string().check(z.minLength(1));

/** What the inbound webhook queues (QueuedInboundSms); a body that does not fit can never succeed. */
export const queuedInboundSmsSchema = z.object({
  umid: nonEmpty,
  from: nonEmpty,
  to: nonEmpty,
  text: z.string(),
  receivedAt: nonEmpty,
  subAccountId: z.optional(z.string()),
  encoding: z.optional(z.string()),
  smsCount: z.optional(z.number()),
});

/** The deduplication id of an inbound SMS's inject (README recipe "Dropping a repeated push"). */
export function inboundBridgeEventId(umid: string): string {
  return `sms:inbound:${umid}`;
}

/** The clientMessageId of the one SMS a keyword answers with: the same on every redelivery, so it is sent once. */
export function keywordClientMessageId(umid: string): string {
  return `kw:${umid}`;
}

/** What `input.data.sms.inbound` carries (InboundSmsData). */
export function inboundData(sms: QueuedInboundSms, target?: ReplyTarget): InboundSmsData {
  return {
    from: sms.from,
    to: sms.to,
    text: sms.text,
    receivedAt: sms.receivedAt,
    umid: sms.umid,
    ...(target && {
      inReplyTo: {
        messageId: target.messageId,
        ...(target.clientMessageId !== undefined && { clientMessageId: target.clientMessageId }),
      },
    }),
  };
}

function parseQueued(body: unknown, telemetry: Telemetry): QueuedInboundSms | undefined {
  const parsed = queuedInboundSmsSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  // Field paths only: the body holds a phone number and a text.
  telemetry.log.error('Unreadable inbound SMS queue message; dropped', {
    issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
  });
  telemetry.count('SmsInboundInvalid');
  return undefined;
}

const logFields = (sms: QueuedInboundSms) => ({
  umid: sms.umid,
  from: maskPhone(sms.from),
  to: sms.to,
});

/** Handles one queued inbound SMS. Throws what is worth retrying (SQS redelivers with backoff). */
export async function handleInboundSms(
  body: unknown,
  deps: InboundDeps,
  ctx: { receiveCount?: number } = {},
): Promise<InboundOutcome> {
  const sms = parseQueued(body, deps.telemetry);
  if (!sms) return 'invalid';
  const keyword = classifyKeyword(sms.text, deps.settings);
  if (keyword) return handleKeyword(sms, keyword, deps);
  // The bot's endpoint (the cognigy secret, which a reply's inject may need too) is read while the reply window is:
  // a cold instance then waits for one of the two instead of both in turn.
  deps.bot.prepare();
  const target = await replyTarget(sms, deps);
  if (target) return injectReply(sms, target, deps, (ctx.receiveCount ?? 1) > 1);
  const answer = await deps.bot.answer(sms);
  if (answer === 'answered') return 'answered';
  deps.telemetry.count('SmsInboundUnrouted');
  deps.telemetry.log.info('Inbound SMS with no reply window and no SMS bot; not routed', logFields(sms));
  return 'unrouted';
}

async function handleKeyword(
  sms: QueuedInboundSms,
  match: KeywordMatch,
  deps: InboundDeps,
): Promise<InboundOutcome> {
  const log = { ...logFields(sms), keyword: match.keyword };
  const { settings, telemetry } = deps;
  // `metric` literals: test/unit/ops/metrics.test.ts finds the names docs/operations.md must list.
  let done: { metric: string; reply: string | undefined; lifted?: number };
  if (match.kind === 'optOut') {
    await deps.optOuts.optOut(sms.from, {
      sender: sms.to,
      optedOutAt: sms.receivedAt,
      keyword: match.keyword,
      umid: sms.umid,
    });
    done = { metric: 'SmsOptOutRecorded', reply: settings.optOutConfirmationText };
  } else if (match.kind === 'optIn') {
    const sender = settings.optOutScope === 'account' ? undefined : sms.to;
    const lifted = await deps.optOuts.optIn(sms.from, sender, sms.receivedAt, match.keyword, sms.umid);
    done = { metric: 'SmsOptInRecorded', reply: settings.optInConfirmationText, lifted: lifted.length };
  } else {
    done = { metric: 'SmsHelpAnswered', reply: settings.helpText };
  }
  const { reply } = done;
  if (reply) {
    const sent = await deps.outbound.send(
      [
        {
          destination: sms.from,
          source: sms.to,
          text: reply,
          clientMessageId: keywordClientMessageId(sms.umid),
        },
      ],
      { bypassOptOut: true },
    );
    if (sent.refused.length > 0) {
      telemetry.log.warn('The answer to a keyword was refused', {
        ...log,
        codes: sent.refused.map((r) => r.code),
      });
    }
  }
  // Counted once done: a redelivery after a failure above counts it then (and sends nothing twice).
  telemetry.count(done.metric);
  telemetry.log.info('Inbound keyword handled', {
    ...log,
    kind: match.kind,
    replied: reply !== undefined,
    ...(done.lifted !== undefined && { lifted: done.lifted }),
  });
  return match.kind;
}

async function replyTarget(sms: QueuedInboundSms, deps: InboundDeps): Promise<ReplyTarget | undefined> {
  const hours = deps.settings.replyWindowHours;
  if (hours <= 0) return undefined;
  const since = new Date(deps.clock.now().getTime() - hours * 3_600_000).toISOString();
  return deps.replies.latestSessionSms(sms.from, sms.to, since);
}

async function injectReply(
  sms: QueuedInboundSms,
  target: ReplyTarget,
  deps: InboundDeps,
  retry: boolean,
): Promise<InboundOutcome> {
  const { telemetry } = deps;
  const log = { ...logFields(sms), inReplyTo: target.messageId, sessionId: target.cognigy.sessionId };
  // A secret read that fails is thrown (retried); a base URL configured nowhere never comes by retrying.
  const endpointBaseUrl = target.cognigy.endpointBaseUrl ?? (await deps.cognigy.defaultEndpointBaseUrl());
  if (!endpointBaseUrl) {
    telemetry.count('SmsInboundInjectRefused');
    telemetry.log.error(
      'Cannot inject an SMS reply: no cognigy.endpointBaseUrl on the flow SMS or in the cognigy secret; dropped',
      log,
    );
    return 'injectRefused';
  }
  const cognigyTarget: CognigyTarget = { endpointBaseUrl, urlToken: target.cognigy.URLToken };
  try {
    await deps.cognigy.push(
      'inject',
      cognigyTarget,
      {
        userId: target.cognigy.userId,
        sessionId: target.cognigy.sessionId,
        text: sms.text,
        data: { sms: { inbound: inboundData(sms, target) }, bridgeEventId: inboundBridgeEventId(sms.umid) },
      },
      { retry },
    );
  } catch (error) {
    const permanent = error instanceof UpstreamError && !error.retryable;
    const fields = {
      ...log,
      httpStatus: error instanceof UpstreamError ? error.httpStatus : undefined,
      error: (error as Error).message,
    };
    if (!permanent) {
      telemetry.log.warn('Injecting an SMS reply into Cognigy failed; retried', fields);
      throw error;
    }
    telemetry.count('SmsInboundInjectRefused');
    telemetry.log.error('Cognigy refused an SMS reply for good; dropped', fields);
    return 'injectRefused';
  }
  telemetry.count('SmsInboundInjected');
  telemetry.log.info('SMS reply injected into the flow session', log);
  return 'injected';
}

/** The last receive failed too: the message goes to the DLQ (a redrive handles it again, once per umid). */
export function inboundExhausted(body: unknown, error: unknown, deps: Pick<InboundDeps, 'telemetry'>): void {
  const parsed = queuedInboundSmsSchema.safeParse(body);
  deps.telemetry.count('SmsInboundExhausted');
  deps.telemetry.log.error('Inbound SMS failed on every receive; it waits in the DLQ', {
    ...(parsed.success ? logFields(parsed.data) : {}),
    error: (error as Error)?.message,
  });
}
