import { UpstreamError } from './errors';
import { callUpstream } from './upstream';
import * as z from './zod';

/**
 * Body of Cognigy's Endpoint-service inject/notify routes. `data.bridgeEventId` is the push's dedupe id: the same on
 * every retry of one push (an SMS status change, a relayed 8x8 event), so a flow can drop a repeat (README recipe
 * "Dropping a repeated push"). An HTTP push that times out may have arrived, so pushes are at least once.
 */
export interface CognigyPush {
  userId: string;
  sessionId: string;
  text: string;
  data: Record<string, unknown> & { bridgeEventId: string };
  /** Webchat shows `agent` messages with the agent avatar (notify only). */
  source?: 'agent' | 'bot';
}

export interface CognigyTarget {
  /** Endpoint base URL, e.g. https://endpoint-app.cognigy.ai (no trailing slash needed). */
  endpointBaseUrl: string;
  /** The Endpoint's URL token; it is the credential of these routes, so it is never logged. */
  urlToken: string;
}

/**
 * Pushes into a running Cognigy session through the Endpoint service: `inject` runs the Flow with the
 * input, `notify` shows the text to the user without running the Flow. Failures are UpstreamErrors
 * (429/5xx/timeouts transient, other 4xx permanent).
 */
export async function pushToCognigy(
  mode: 'inject' | 'notify',
  target: CognigyTarget,
  push: CognigyPush,
  timeoutMs: number,
): Promise<void> {
  const base = target.endpointBaseUrl.replace(/\/+$/, '');
  await callUpstream('cognigy', `${base}/${mode}/${encodeURIComponent(target.urlToken)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(push),
    timeoutMs,
  });
}

export interface PushOptions {
  /**
   * A retry of a push that may already have arrived (the earlier try timed out, or its outcome is unknown): it gets
   * the longer retry timeout, so a Cognigy that is merely slow is not sent the same push a third time.
   */
  retry?: boolean;
}

/**
 * The one Cognigy Endpoint client of the bridge (SMS receipt injections and the handover relay both use it): push
 * with a fixed timeout (a longer one for retries), and the default Endpoint base URL from the `cognigy` secret for
 * requests that named none.
 */
export interface CognigyEndpoint {
  push(
    mode: 'inject' | 'notify',
    target: CognigyTarget,
    push: CognigyPush,
    options?: PushOptions,
  ): Promise<void>;
  /** Default Endpoint base URL from the `cognigy` secret, if configured. */
  defaultEndpointBaseUrl(): Promise<string | undefined>;
}

/**
 * The same client's REST Endpoint side (the SMS bot, functions/sms/sms-bot.ts), a port of its own so the pushing
 * cores (and their fakes) need not know it.
 */
export interface CognigyConversation {
  /** One turn with a Cognigy REST Endpoint: the Flow's outputs, in order. Same timeouts as push. */
  converse(endpointUrl: string, body: CognigyRestRequest, options?: PushOptions): Promise<CognigyRestAnswer>;
}

export interface CognigyEndpointOptions {
  timeoutMs: number;
  /** Timeout of retries (PushOptions.retry); absent: timeoutMs. Never shorter than timeoutMs. */
  retryTimeoutMs?: number;
  /** Reads the `cognigy` secret's endpointBaseUrl (only when a request named no base URL). */
  defaultEndpointBaseUrl: () => Promise<string | undefined>;
  /** Replaces the HTTP push (tests). */
  push?: typeof pushToCognigy;
  /** Replaces the REST Endpoint call (tests). */
  converse?: typeof converseWithCognigy;
}

/** The timeout of a call: the longer retry timeout (never shorter than the first one) for a retry. */
function callTimeout(
  options: Pick<CognigyEndpointOptions, 'timeoutMs' | 'retryTimeoutMs'>,
): (callOptions: PushOptions) => number {
  const retryTimeoutMs = Math.max(options.timeoutMs, options.retryTimeoutMs ?? options.timeoutMs);
  return (callOptions) => (callOptions.retry ? retryTimeoutMs : options.timeoutMs);
}

export function cognigyEndpoint(options: CognigyEndpointOptions): CognigyEndpoint {
  const send = options.push ?? pushToCognigy;
  const timeout = callTimeout(options);
  return {
    push: (mode, target, body, pushOptions = {}) => send(mode, target, body, timeout(pushOptions)),
    defaultEndpointBaseUrl: options.defaultEndpointBaseUrl,
  };
}

/**
 * The REST Endpoint side of the same client, with the same timeouts. A factory of its own so the functions that only
 * push (every webhook and worker but sms-inbound) neither bundle nor load the REST answer's schema (issue 13).
 */
export function cognigyConversation(
  options: Omit<CognigyEndpointOptions, 'defaultEndpointBaseUrl' | 'push'>,
): CognigyConversation {
  const converse = options.converse ?? converseWithCognigy;
  const timeout = callTimeout(options);
  return {
    converse: (endpointUrl, body, callOptions = {}) => converse(endpointUrl, body, timeout(callOptions)),
  };
}

/**
 * What Cognigy's REST Endpoint takes (POST to the Endpoint URL `{endpointBase}/{URLToken}`): the user's input. The
 * Endpoint runs the Flow with it in the session `sessionId` of `userId` and answers with what the Flow said.
 */
export interface CognigyRestRequest {
  userId: string;
  sessionId: string;
  text: string;
  data: Record<string, unknown>;
}

/** One output of the Flow (a Say node's text and data); either may be absent. */
export interface CognigyOutput {
  text?: string;
  data?: unknown;
}

export interface CognigyRestAnswer {
  /** The Flow's outputs in order: `outputStack`, or the answer's top-level text/data when it has no outputStack. */
  outputs: CognigyOutput[];
}

/**
 * The REST Endpoint's answer, read leniently: `{text, data, outputStack: [{text, data, traceId, source}], userId,
 * sessionId}`. A field of an unexpected type is treated as absent rather than failing the whole turn, because the
 * Flow has already run when the answer arrives.
 */
const lenientText = /* @__PURE__ */ z.catch(
  /* @__PURE__ */ z.optional(/* @__PURE__ */ z.nullable(/* @__PURE__ */ z.string())),
  undefined,
);
const restOutputSchema = /* @__PURE__ */ z.looseObject({
  text: lenientText,
  data: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.unknown()),
});
const restAnswerSchema = /* @__PURE__ */ z.looseObject({
  text: lenientText,
  data: /* @__PURE__ */ z.optional(/* @__PURE__ */ z.unknown()),
  outputStack: /* @__PURE__ */ z.catch(
    /* @__PURE__ */ z.optional(
      /* @__PURE__ */ z.array(/* @__PURE__ */ z.catch(/* @__PURE__ */ z.nullable(restOutputSchema), null)),
    ),
    undefined,
  ),
});

/** What a non-JSON or non-object REST answer is reported as (UpstreamError.upstreamCode). */
export const COGNIGY_INVALID_ANSWER = 'INVALID_ANSWER';

function output(text: string | null | undefined, data: unknown): CognigyOutput {
  return { ...(typeof text === 'string' && { text }), ...(data !== undefined && data !== null && { data }) };
}

/**
 * One turn with a Cognigy REST Endpoint. The URL carries the Endpoint's URL token, its credential, so neither it nor
 * anything derived from it is logged or put in an error message. Failures are UpstreamErrors (429/5xx/timeouts
 * transient, other 4xx permanent); a 2xx whose body is not a JSON object is a permanent `INVALID_ANSWER` (the Flow
 * ran; asking again would run it twice).
 */
export async function converseWithCognigy(
  endpointUrl: string,
  body: CognigyRestRequest,
  timeoutMs: number,
): Promise<CognigyRestAnswer> {
  const response = await callUpstream('cognigy', endpointUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    timeoutMs,
  });
  const parsed = restAnswerSchema.safeParse(response.json);
  if (!parsed.success)
    throw new UpstreamError(
      'cognigy',
      'permanent',
      `cognigy's REST Endpoint answered ${response.status} without a JSON object`,
      response.status,
      COGNIGY_INVALID_ANSWER,
    );
  const answer = parsed.data;
  if (answer.outputStack === undefined) {
    const single = output(answer.text, answer.data);
    return { outputs: single.text === undefined && single.data === undefined ? [] : [single] };
  }
  return {
    outputs: answer.outputStack.flatMap((entry) => (entry === null ? [] : [output(entry.text, entry.data)])),
  };
}

/** The dedupe id of an SMS status push: one per SMS and status (and receipt detail, e.g. delivered to operator). */
export function smsBridgeEventId(messageId: string, status: string, detail?: string): string {
  return ['sms', messageId, status, ...(detail ? [detail] : [])].join(':');
}

/** The dedupe id of a relayed 8x8 Chat Gateway event: 8x8's own event id (x-8x8-event-id), the same on its retries. */
export function chatBridgeEventId(eventId: string): string {
  return `8x8-chat:${eventId}`;
}

/**
 * What every push of the bridge carries in `input.data.bridgeEventId` (the two forms above): the marker by which a
 * flow, and POST /handover/{id}/messages, tell the bridge's own injects from what the user typed.
 */
export const BRIDGE_EVENT_ID_PATTERN = /^(?:sms|8x8-chat):\S/;
