import { callUpstream } from './upstream';

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

export interface CognigyEndpointOptions {
  timeoutMs: number;
  /** Timeout of retries (PushOptions.retry); absent: timeoutMs. Never shorter than timeoutMs. */
  retryTimeoutMs?: number;
  /** Reads the `cognigy` secret's endpointBaseUrl (only when a request named no base URL). */
  defaultEndpointBaseUrl: () => Promise<string | undefined>;
  /** Replaces the HTTP push (tests). */
  push?: typeof pushToCognigy;
}

export function cognigyEndpoint(options: CognigyEndpointOptions): CognigyEndpoint {
  const send = options.push ?? pushToCognigy;
  const retryTimeoutMs = Math.max(options.timeoutMs, options.retryTimeoutMs ?? options.timeoutMs);
  return {
    push: (mode, target, body, pushOptions = {}) =>
      send(mode, target, body, pushOptions.retry ? retryTimeoutMs : options.timeoutMs),
    defaultEndpointBaseUrl: options.defaultEndpointBaseUrl,
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
