/**
 * The SMS bot: an inbound SMS with no open reply window goes to the Cognigy REST Endpoint, and every text output of
 * the Flow's answer goes back to the sender as SMS through the normal queued path (issue 14 item 3).
 *
 * One turn: the answer saved for this umid (a redelivery) is sent again as it was, without asking Cognigy twice;
 * otherwise the session of the number (SmsSessionStore.sessionFor: one sessionId per phone number and 8x8 number,
 * renewed after SMS_BOT_SESSION_IDLE_MINUTES) gets the SMS as its input, the outputs become SMS texts
 * (bot-outputs.ts), the texts are saved under the umid, and then sent (OutboundSms, from the 8x8 number the person
 * texted, never bypassing the opt-out list) with deterministic clientMessageIds `bot:<umid>:<n>`, so a redelivery
 * after a partial send sends nothing twice.
 */
import {
  cognigyConversation,
  type CognigyConversation,
  type CognigyOutput,
  type CognigyRestRequest,
} from '../shared/cognigy-client';
import { loadSettings, tableName } from '../shared/config';
import { UpstreamError } from '../shared/errors';
import { maskPhone } from '../shared/mask';
import { outboundUrlMessage, outboundUrlProblem, type OutboundUrlPolicy } from '../shared/outbound-url';
import {
  powertoolsTelemetry,
  systemClock,
  uuidIds,
  type Clock,
  type Ids,
  type Telemetry,
} from '../shared/runtime';
import { loadSecret } from '../shared/secrets';
import { documentClient } from './base-wiring';
import { botSmsTexts, type BotOutputsMode } from './bot-outputs';
import { DynamoSmsSessionStore } from './dynamo-sms-session-store';
import type {
  InboundSmsData,
  OutboundSms,
  QueuedInboundSms,
  SmsBot,
  SmsBotSession,
  SmsSessionStore,
} from './inbound-ports';

export interface SmsBotSettings {
  /** SETTINGS.smsBotSessionIdleMinutes */
  sessionIdleMinutes: number;
  /** SETTINGS.smsBotOutputs */
  outputs: BotOutputsMode;
  /** SETTINGS.smsBotMaxParts */
  maxParts: number;
}

export interface SmsBotDeps {
  clock: Clock;
  ids: Ids;
  telemetry: Telemetry;
  settings: SmsBotSettings;
  /** The REST Endpoint URL (checked), or undefined when no bot is configured. Throws to be retried. */
  endpointUrl: () => Promise<string | undefined>;
  cognigy: CognigyConversation;
  sessions: SmsSessionStore;
  outbound: OutboundSms;
}

/** The readable Cognigy sessionId of a new SMS conversation. */
export const smsSessionId = (ids: Ids): string => `sms-${ids.uuid()}`;

/** The clientMessageId of the n-th SMS (from 1) of the bot's answer to one inbound SMS. */
export const botClientMessageId = (umid: string, n: number): string => `bot:${umid}:${n}`;

export function smsBot(deps: SmsBotDeps): SmsBot {
  const { telemetry } = deps;
  const log = telemetry.log;

  /** Asks the REST Endpoint; the SMS texts of its answer, or undefined when Cognigy refused the turn for good. */
  async function ask(
    endpointUrl: string,
    inbound: QueuedInboundSms,
    sessionRead: Promise<SmsBotSession | undefined>,
  ): Promise<string[] | undefined> {
    const now = deps.clock.now();
    const session = await deps.sessions.sessionFor(
      inbound.from,
      inbound.to,
      now,
      deps.settings.sessionIdleMinutes * 60_000,
      () => smsSessionId(deps.ids),
      sessionRead,
    );
    const sms: InboundSmsData = {
      from: inbound.from,
      to: inbound.to,
      text: inbound.text,
      receivedAt: inbound.receivedAt,
      umid: inbound.umid,
    };
    const body: CognigyRestRequest = {
      userId: session.userId,
      sessionId: session.sessionId,
      text: inbound.text,
      data: { sms: { inbound: sms } },
    };
    let outputs: CognigyOutput[];
    try {
      ({ outputs } = await deps.cognigy.converse(endpointUrl, body));
    } catch (error) {
      // Timeouts, 5xx and 429 are thrown on: the SQS record comes back later, so a Cognigy outage loses nothing.
      if (!(error instanceof UpstreamError) || error.retryable) throw error;
      log.error('The Cognigy REST Endpoint refused an SMS bot turn; nothing is answered', {
        umid: inbound.umid,
        from: maskPhone(inbound.from),
        sessionId: session.sessionId,
        httpStatus: error.httpStatus,
        upstreamCode: error.upstreamCode,
        error: error.message,
      });
      telemetry.count('SmsBotRefused');
      return undefined;
    }
    const { texts, skippedOutputs } = botSmsTexts(outputs, deps.settings);
    if (skippedOutputs > 0) {
      telemetry.count('SmsBotOutputSkipped', skippedOutputs);
      log.info('SMS bot outputs without text were skipped', { umid: inbound.umid, skippedOutputs });
    }
    // Saved before sending: a redelivery (the send failed, the function timed out) sends these, not a new turn.
    await deps.sessions.saveAnswer(inbound.umid, texts, deps.clock.now());
    telemetry.count('SmsBotAnswered');
    return texts;
  }

  return {
    prepare() {
      deps.endpointUrl().catch(() => undefined);
    },
    async answer(inbound) {
      const endpointUrl = await deps.endpointUrl();
      if (endpointUrl === undefined) return 'noBot';
      // The session is read beside the saved answer: nearly every turn is a first delivery that needs both, and a
      // redelivery with a saved answer wastes one read.
      const sessionRead = deps.sessions.currentSession(inbound.from, inbound.to);
      sessionRead.catch(() => undefined); // Unused when an answer is saved; otherwise ask() sees its failure.
      const saved = await deps.sessions.savedAnswer(inbound.umid);
      if (saved !== undefined)
        log.info('SMS bot answer already saved for this inbound SMS; sending it again', {
          umid: inbound.umid,
        });
      const texts = saved ?? (await ask(endpointUrl, inbound, sessionRead));
      if (texts === undefined || texts.length === 0) return 'answered';
      const { accepted, refused } = await deps.outbound.send(
        texts.map((text, index) => ({
          destination: inbound.from,
          source: inbound.to,
          text,
          clientMessageId: botClientMessageId(inbound.umid, index + 1),
        })),
      );
      telemetry.count('SmsBotSmsSent', accepted);
      if (refused.length > 0)
        // E.g. RECIPIENT_OPTED_OUT: the number texted STOP to this 8x8 number; the bot's answer is not sent.
        log.warn('SMS bot answers were refused', {
          umid: inbound.umid,
          to: maskPhone(inbound.from),
          refused,
        });
      return 'answered';
    },
  };
}

/** A REST Endpoint URL the outbound-URL policy refuses: a deployment fault, retried until the URL is fixed. */
export class SmsBotEndpointUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmsBotEndpointUrlError';
  }
}

/**
 * The bot's REST Endpoint URL: the `cognigy` secret's smsBotEndpointUrl, else SMS_BOT_ENDPOINT_URL; undefined when
 * neither is set (an empty secret value counts as unset). The URL is checked against the outbound-URL policy
 * (https to a public host; loopback only in local mode), and is never logged or quoted: its last segment is the
 * Endpoint's token.
 */
export function resolveSmsBotEndpointUrl(
  secretUrl: string | undefined,
  settingUrl: string | undefined,
  policy: OutboundUrlPolicy,
): string | undefined {
  const [url, field] =
    secretUrl !== undefined && secretUrl !== ''
      ? [secretUrl, 'The cognigy secret smsBotEndpointUrl']
      : [settingUrl, 'SMS_BOT_ENDPOINT_URL'];
  if (url === undefined) return undefined;
  const problem = outboundUrlProblem(url, policy);
  if (problem) throw new SmsBotEndpointUrlError(outboundUrlMessage(field, problem));
  return url;
}

/** The REST Endpoint turn runs inside sms-inbound's 60 s timeout, with room for the sends around it. */
const CONVERSE_TIMEOUT_CAP_MS = 20_000;

/** Production wiring: the bot over the smsSessions table, the `cognigy` secret and the one Cognigy client. */
export function smsBotFromEnvironment(outbound: OutboundSms): SmsBot {
  const settings = loadSettings();
  return smsBot({
    clock: systemClock,
    ids: uuidIds,
    telemetry: powertoolsTelemetry,
    settings: {
      sessionIdleMinutes: settings.smsBotSessionIdleMinutes,
      outputs: settings.smsBotOutputs,
      maxParts: settings.smsBotMaxParts,
    },
    endpointUrl: async () =>
      resolveSmsBotEndpointUrl((await loadSecret('cognigy')).smsBotEndpointUrl, settings.smsBotEndpointUrl, {
        allowLoopback: settings.allowLoopbackUrls,
      }),
    cognigy: cognigyConversation({
      timeoutMs: Math.min(settings.upstreamTimeoutMs, CONVERSE_TIMEOUT_CAP_MS),
      retryTimeoutMs: Math.min(settings.cognigyRetryTimeoutMs, CONVERSE_TIMEOUT_CAP_MS),
    }),
    sessions: new DynamoSmsSessionStore({
      client: documentClient(),
      tableName: tableName('smsSessions'),
      recordTtlDays: settings.recordTtlDays,
    }),
    outbound,
  });
}
