/**
 * OutboundSms over POST /sms/batch's own core (accept.ts acceptSmsBatch): the SMS the bridge itself sends (keyword
 * answers, the SMS bot's answers) take the normal queued path — validation, a record, the SMS queue, 8x8's limits.
 * Their clientMessageIds are deterministic (`kw:<umid>`, `bot:<umid>:<n>`) and so are their messageIds
 * (ownSmsMessageId), so the record's conditional write makes a redelivered inbound SMS send nothing twice.
 */
import { v5 as uuidV5 } from 'uuid';
import type { Telemetry } from '../shared/runtime';
import type { AcceptDeps } from './accept';
import { acceptSmsBatch } from './accept';
import { SMS_ERROR_CODES, type SmsErrorCode } from './error-codes';
import type { OutboundSms, OutboundSmsItem } from './inbound-ports';

/** The UUID namespace of the bridge's own messageIds (fixed: a redelivery must derive the same id). */
const OWN_SMS_NAMESPACE = 'cfc2a110-6139-4c4e-801c-d34f64d9fba5';

/**
 * The messageId of the bridge's own SMS with this clientMessageId: a name-based UUID (version 5, RFC 9562), so a
 * redelivered inbound SMS derives the same one, and never one of the random (version 4) ids of POST /sms.
 */
export function ownSmsMessageId(clientMessageId: string): string {
  return uuidV5(clientMessageId, OWN_SMS_NAMESPACE);
}

/** The batch (or some of its items) could not be accepted for a passing reason (storage, queue): retried. */
export class OutboundSmsNotAcceptedError extends Error {
  constructor(readonly codes: string[]) {
    super(`The bridge could not accept its own SMS now (${codes.join(', ')}); the inbound SMS is retried`);
    this.name = 'OutboundSmsNotAcceptedError';
  }
}

/** An item of acceptSmsBatch's answer (SmsBatchItem); refused items carry only their index. */
interface BatchItemAnswer {
  index: number;
  ok: boolean;
  error?: { code: string };
}

/** Refusals worth retrying: infrastructure (5xx) and a first request of the same clientMessageId still running. */
function isPassing(code: string): boolean {
  if (code === 'IDEMPOTENCY_IN_PROGRESS') return true;
  const spec = Object.hasOwn(SMS_ERROR_CODES, code) ? SMS_ERROR_CODES[code as SmsErrorCode] : undefined;
  return (spec?.status ?? 500) >= 500;
}

/** AcceptDeps without the opt-out check (HELP and opt-out confirmations may reach an opted-out number). */
export function withoutOptOutCheck(deps: AcceptDeps): AcceptDeps {
  const copy = { ...deps };
  delete copy.optOuts;
  return copy;
}

export function acceptOutboundSms(deps: AcceptDeps, telemetry: Telemetry): OutboundSms {
  return {
    async send(items: OutboundSmsItem[], options = {}) {
      if (items.length === 0) return { accepted: 0, refused: [] };
      const body = {
        messages: items.map((item) => ({
          destination: item.destination,
          text: item.text,
          ...(item.source !== undefined && { source: item.source }),
          clientMessageId: item.clientMessageId,
        })),
      };
      const response = await acceptSmsBatch(body, options.bypassOptOut ? withoutOptOutCheck(deps) : deps);
      const answers = (response.body as { items?: BatchItemAnswer[] }).items ?? [];
      const refused = answers.flatMap((answer) =>
        answer.ok
          ? []
          : [
              {
                code: answer.error?.code ?? 'NOT_ACCEPTED',
                clientMessageId: items[answer.index]?.clientMessageId ?? '',
              },
            ],
      );
      const passing = refused.filter((r) => isPassing(r.code));
      if (response.statusCode >= 500 || passing.length > 0) {
        throw new OutboundSmsNotAcceptedError(
          passing.length > 0 ? passing.map((r) => r.code) : ['NOT_ACCEPTED'],
        );
      }
      if (refused.length > 0) {
        telemetry.log.warn('The bridge refused some of its own SMS', { codes: refused.map((r) => r.code) });
      }
      return { accepted: answers.length - refused.length, refused };
    },
  };
}
