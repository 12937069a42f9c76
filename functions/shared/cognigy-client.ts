import { callUpstream } from './upstream';

/** Body of Cognigy's Endpoint-service inject/notify routes. */
export interface CognigyPush {
  userId: string;
  sessionId: string;
  text: string;
  data: Record<string, unknown>;
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

/**
 * The one Cognigy Endpoint client of the bridge (SMS receipt injections and the handover relay both use it): push
 * with a fixed timeout, and the default Endpoint base URL from the `cognigy` secret for requests that named none.
 */
export interface CognigyEndpoint {
  push(mode: 'inject' | 'notify', target: CognigyTarget, push: CognigyPush): Promise<void>;
  /** Default Endpoint base URL from the `cognigy` secret, if configured. */
  defaultEndpointBaseUrl(): Promise<string | undefined>;
}

export interface CognigyEndpointOptions {
  timeoutMs: number;
  /** Reads the `cognigy` secret's endpointBaseUrl (only when a request named no base URL). */
  defaultEndpointBaseUrl: () => Promise<string | undefined>;
  /** Replaces the HTTP push (tests). */
  push?: typeof pushToCognigy;
}

export function cognigyEndpoint(options: CognigyEndpointOptions): CognigyEndpoint {
  const send = options.push ?? pushToCognigy;
  return {
    push: (mode, target, body) => send(mode, target, body, options.timeoutMs),
    defaultEndpointBaseUrl: options.defaultEndpointBaseUrl,
  };
}
