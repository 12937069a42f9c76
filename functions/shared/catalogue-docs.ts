/**
 * The catalogue's words for people: what each route, function, queue, secret (and its JSON keys), path parameter
 * and request header of catalogue.ts is for. Read by lib/ (CDK descriptions, the OpenAPI document, the local
 * banner) and tests, never by a function: every function bundles catalogue.ts, so these strings live apart from
 * it (issue 13, bundles no larger than today). The Record types make a function, queue or secret without an entry
 * a type error; routes, path parameters and headers are checked by test/unit/shared/catalogue-docs.test.ts.
 */
import type { FunctionName, QueueName, RouteSpec, SecretName } from './catalogue';
import { routeKey } from './catalogue';

/** What each route does, keyed by routeKey ("METHOD /path"): the OpenAPI summary and the local banner. */
export const ROUTE_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  ['POST /sms', 'Accept one SMS for queued delivery through 8x8'],
  ['POST /sms/batch', 'Accept many SMS (messages or destinations with a shared template)'],
  ['GET /sms/{messageId}', 'An SMS record and its status history'],
  [
    'DELETE /sms/{messageId}',
    'Cancel an SMS that is still queued in the bridge, or scheduled at 8x8 for a later time (8x8 cancel-scheduled-message)',
  ],
  [
    'DELETE /sms/{messageId}/pii',
    "Erase an SMS's destination and text, leaving a tombstone, and ask 8x8 to remove its PII for the umid (8x8 delete-pii)",
  ],
  [
    'POST /webhooks/8x8/sms',
    '8x8 delivery receipts (outbound_message_status_changed); inbound SMS (inbound_message_received) sent here are handled as on /webhooks/8x8/sms/inbound',
  ],
  [
    'POST /webhooks/8x8/sms/inbound',
    '8x8 inbound SMS (inbound_message_received): queued once per umid for the flow, the SMS bot or the opt-out list',
  ],
  [
    'GET /sms/opt-outs/{number}',
    'Whether a phone number opted out (STOP) of SMS, per 8x8 sender, with when and how',
  ],
  [
    'DELETE /sms/opt-outs/{number}',
    "Lift a phone number's opt-out (support staff, on the person's request); ?sender= lifts one sender only",
  ],
  ['POST /handover', 'Start a handover: create the 8x8 Chat Gateway conversation'],
  ['POST /handover/{conversationId}/messages', "Relay the user's text to the 8x8 agent, in order"],
  ['POST /handover/{conversationId}/end', "End the chat from the user's side"],
  [
    'GET /handover/{conversationId}',
    'State, agent and timestamps of a handover (conversationId "active" with ?sessionId= finds it)',
  ],
  ['POST /handover/eightByEight', '8x8 Chat Gateway v1.0 webhook events (JWS-signed)'],
]);

/** A route's description; a route without one is a mistake in this file (the unit test names it). */
export function routeDescription(route: Pick<RouteSpec, 'method' | 'path'>): string {
  const description = ROUTE_DESCRIPTIONS.get(routeKey(route));
  if (description === undefined)
    throw new Error(`No description for route ${routeKey(route)} in catalogue-docs.ts`);
  return description;
}

/** Each function's Lambda description (the CDK stack; the scheduled ones also name their EventBridge rule). */
export const FUNCTION_DESCRIPTIONS: Readonly<Record<FunctionName, string>> = {
  'sms-accept': 'POST /sms',
  'sms-batch': 'POST /sms/batch',
  'sms-status': 'GET /sms/{messageId}',
  'sms-cancel': 'DELETE /sms/{messageId}',
  'sms-erase': 'DELETE /sms/{messageId}/pii',
  'sms-receipt': 'POST /webhooks/8x8/sms',
  'sms-inbound-webhook': 'POST /webhooks/8x8/sms/inbound',
  'sms-inbound': 'Inbound SMS FIFO consumer: opt-outs, replies into the flow, the SMS bot',
  'sms-opt-out-get': 'GET /sms/opt-outs/{number}',
  'sms-opt-out-delete': 'DELETE /sms/opt-outs/{number}',
  'sms-deliver': 'SMS queue consumer: sends to 8x8',
  'sms-sweeper': 'Every minute: enqueues accepted SMS that never reached the SMS queue (outbox sweeper)',
  'handover-start': 'POST /handover',
  'handover-message': 'POST /handover/{conversationId}/messages',
  'handover-end': 'POST /handover/{conversationId}/end',
  'handover-status': 'GET /handover/{conversationId}',
  'handover-webhook': 'POST /handover/eightByEight',
  'handover-outbound': 'Outbound FIFO consumer: user messages/end → 8x8 Chat Gateway',
  'handover-relay': 'Inbound FIFO consumer: 8x8 events → Cognigy inject/notify',
};

/** What each queue holds. */
export const QUEUE_DESCRIPTIONS: Readonly<Record<QueueName, string>> = {
  sms: 'SMS accepted by the API, waiting for delivery to 8x8',
  smsInbound:
    '8x8 inbound SMS (verified, once per umid), waiting for the opt-out list, the flow or the SMS bot',
  handoverOutbound: 'User messages and end requests for 8x8 Chat Gateway, grouped by conversation',
  handoverInbound: 'Verified 8x8 Chat Gateway events for Cognigy, grouped by conversation',
};

export interface SecretDoc {
  description: string;
  /** Documented JSON shape of the secret value; keys with their meaning. */
  shape: Record<string, string>;
}

/** What each secret is and the keys of its JSON value (the Secrets Manager description and stack outputs). */
export const SECRET_DOCS: Readonly<Record<SecretName, SecretDoc>> = {
  smsCredentials: {
    description: '8x8 Connect SMS API credentials',
    shape: {
      apiKey: '8x8 Connect API key (connect.8x8.com → API Keys), sent as Authorization: Bearer',
      subAccountId: '8x8 sub-account id',
      baseUrl:
        'SMS API base URL of the account region, e.g. https://sms.8x8.com (APAC), https://sms.us.8x8.com',
    },
  },
  smsWebhookAuth: {
    description: 'The Authorization header value 8x8 sends with delivery receipts (httpAuthorization)',
    shape: {
      authorization:
        'Exact Authorization header value configured on the 8x8 webhook, e.g. "Bearer 9QQhlsEb8VY"',
      callbackTokenKey: 'HMAC key for per-message receipt callback URLs (optional)',
    },
  },
  chatGatewayCredentials: {
    description: '8x8 Contact Center Chat Gateway credentials',
    shape: {
      apiKey: 'Admin Console API key with the Chat Gateway product, sent as x-api-key',
      tenant: 'Contact Center tenant, sent as X-8x8-Tenant',
      baseUrl: 'Chat Gateway base URL, e.g. https://api.8x8.com',
      jwkUrl: 'JWK URL template with {kid}, e.g. https://api.8x8.com/chat-gateway/v1/jwk/{kid}/public',
    },
  },
  cognigy: {
    description: 'Cognigy Endpoint service settings',
    shape: {
      endpointBaseUrl: 'Default Endpoint base URL, e.g. https://endpoint-app.cognigy.ai',
      copilotBaseUrl: 'Agent Copilot base URL (optional); when set the Copilot link is given to the agent',
      smsBotEndpointUrl:
        'Cognigy REST Endpoint URL of the SMS bot (optional; it carries the Endpoint token), e.g. https://endpoint-app.cognigy.ai/<URLToken>; wins over SMS_BOT_ENDPOINT_URL',
    },
  },
};

/** What each PATH_PARAMETERS placeholder is, for the OpenAPI document. */
export const PATH_PARAMETER_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  [
    'conversationId',
    '8x8 Chat Gateway conversation id, as POST /handover answered it (opaque; 1 to 256 characters)',
  ],
  ['number', 'A phone number in E.164 form, e.g. +6591234567 (send the + as %2B, or leave it out)'],
  ['messageId', 'The messageId POST /sms answered with (a UUID)'],
]);

/** What each HEADER_PARAMETERS header does, keyed by its lower-case name, for the OpenAPI document. */
export const HEADER_PARAMETER_DESCRIPTIONS: ReadonlyMap<string, string> = new Map([
  [
    'x-bridge-errors',
    '`body`: answer business errors (4xx codes of `x-error-codes`) with 200 and the same `{ok:false, error}` body, the original status in the `x-bridge-status` answer header, so a Cognigy flow can branch on `error.code`. 5xx, and what the gateway itself refuses (403 key, 429 throttling), keep their status. `status` (the default): errors keep their HTTP status.',
  ],
]);
