/**
 * GET /sms/opt-outs/{number} and DELETE /sms/opt-outs/{number} (issue 14 item 4): support staff read and lift the
 * opt-out list that STOP/START keep (functions/sms/inbound.ts) and that POST /sms honours (accept.ts).
 *
 * Opt-outs belong to the account, not to an API key: a person who texted STOP must receive nothing from any
 * Cognigy project sending through this bridge, so every key sees and may lift every number's opt-out (unlike SMS
 * records, functions/shared/tenancy.ts). The key that lifted one is recorded in the history (`api:<apiKeyId>`).
 */
import type { ApiResponse } from '../shared/http';
import { maskPhone } from '../shared/mask';
import type { Clock, Telemetry } from '../shared/runtime';
import type { Tenancy } from '../shared/tenancy';
import { SmsError } from './error-codes';
import type { SmsOptOutAnswer, SmsOptOutLiftAnswer } from './answer-schemas';
import type { OptOutStore } from './inbound-ports';
import { checkSource, normaliseDestination } from './normalise';

export interface OptOutRouteDeps {
  store: OptOutStore;
  clock: Clock;
  telemetry: Telemetry;
}

/** The path's number in E.164 with `+` (8x8's pattern, as POST /sms checks destinations), or 400 INVALID_DESTINATION. */
function e164Of(raw: string | undefined): string {
  const result = normaliseDestination(raw ?? '');
  if (!result.ok) {
    throw new SmsError(
      'INVALID_DESTINATION',
      'number must be a phone number in E.164: + (sent as %2B, or left out) and 7 to 15 digits, not starting with 0',
    );
  }
  return result.e164;
}

/** `?sender=`: an 8x8 sender as POST /sms's `source` takes it, or 400 INVALID_SOURCE. */
function senderOf(query: Record<string, string>): string | undefined {
  if (!Object.hasOwn(query, 'sender')) return undefined;
  const sender = (query.sender ?? '').trim();
  const issue = checkSource(sender);
  if (issue) throw new SmsError('INVALID_SOURCE', issue.message.replace(/^source/, 'sender'));
  return sender;
}

export async function getOptOut(rawNumber: string | undefined, deps: OptOutRouteDeps): Promise<ApiResponse> {
  const number = e164Of(rawNumber);
  const record = await deps.store.get(number);
  const answer: SmsOptOutAnswer = {
    ok: true,
    number,
    optedOut: (record?.senders.length ?? 0) > 0,
    senders: record?.senders ?? [],
    history: record?.history ?? [],
  };
  return { statusCode: 200, body: { ...answer } };
}

export async function deleteOptOut(
  rawNumber: string | undefined,
  query: Record<string, string>,
  deps: OptOutRouteDeps,
  tenancy: Tenancy = {},
): Promise<ApiResponse> {
  const number = e164Of(rawNumber);
  const sender = senderOf(query);
  const via = tenancy.callerId === undefined ? 'api' : `api:${tenancy.callerId}`;
  const lifted = await deps.store.optIn(number, sender, deps.clock.now().toISOString(), via);
  // Lifting every sender leaves none; lifting one may leave others.
  const optedOut = sender === undefined ? false : ((await deps.store.get(number))?.senders.length ?? 0) > 0;
  if (lifted.length > 0) {
    deps.telemetry.count('SmsOptOutLifted', lifted.length);
    deps.telemetry.log.info('Opt-out lifted through the API', {
      number: maskPhone(number),
      lifted,
      via,
      optedOut,
    });
  } else {
    deps.telemetry.log.info('Opt-out lift asked, nothing to lift', {
      number: maskPhone(number),
      sender,
      via,
    });
  }
  const answer: SmsOptOutLiftAnswer = { ok: true, number, lifted, optedOut };
  return { statusCode: 200, body: { ...answer } };
}
