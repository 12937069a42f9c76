/**
 * Every route of the real local stack, over HTTP, with arbitrary methods, paths, headers and bodies: the bridge
 * never answers 5xx and never echoes a secret (the API key, the SMS webhook Authorization value and callback-token
 * key, the simulators' 8x8 API keys), whatever the request holds — secrets included.
 */
import fc from 'fast-check';
import { matchRoute } from '../../lib/local/gateway';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { ROUTES, routeKey } from '../../functions/shared/catalogue';
import { MAX_JSON_DEPTH } from '../../functions/shared/http';
import { HOSTILE_CALLBACK_URLS } from '../../lib/evidence/hostile-inputs';
import { OpenApiValidator, formatViolations } from '../helpers/openapi-validator';

let stack: LocalStack;
let secrets: string[];
let smsAuthorization: string;

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    quiet: true,
    // Simulators only; the functions' own logs would only drown the test output.
    env: { LOG_LEVEL: 'SILENT' },
    apiKey: 'property-api-key-0123456789',
    smsWebhookAuthorization: 'Bearer property-receipts-9876543210',
  });
  const read = (name: keyof LocalStack['secretNames']) =>
    JSON.parse(stack.secretsManager.getSecretString(stack.secretNames[name]) ?? '{}') as Record<
      string,
      string
    >;
  const receipts = read('smsWebhookAuth');
  smsAuthorization = receipts.authorization!;
  secrets = [
    stack.apiKey,
    smsAuthorization,
    receipts.callbackTokenKey,
    read('smsCredentials').apiKey,
    read('chatGatewayCredentials').apiKey,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  expect(secrets).toHaveLength(5);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** The parts of a secret that would betray it too (the token after "Bearer "). */
const secretNeedles = () => secrets.flatMap((s) => [s, s.replace(/^Bearer\s+/i, '')]);

/**
 * Path segments. Secrets are not put here: a 404 names the id the caller asked for ("No handover with conversation
 * id …"), which is the caller's own identifier; secrets go into bodies and header values instead.
 */
const segment = fc.oneof(
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom('active', 'eightByEight', '..', '%2F', '%00', 'x'.repeat(200), '%E2%82%AC', '%ZZ'),
);

const routePath = fc.oneof(
  // A catalogue route with its {params} filled in, sometimes with a trailing slash or a query.
  fc
    .tuple(
      fc.constantFrom(...ROUTES),
      segment,
      fc.boolean(),
      fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 3 })),
    )
    .map(([route, value, slash, query]) => {
      const path = route.path.replace(/\{\w+\}/g, value) + (slash ? '/' : '');
      return query ? `${path}?${new URLSearchParams(query).toString()}` : path;
    }),
  // Anything else.
  fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
  fc.constantFrom(
    '/',
    '/openapi.json',
    '//sms',
    '/sms/batch/extra',
    '/handover/a/messages/b',
    '/webhooks/8x8',
  ),
);

const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const headerValue = fc.string({ maxLength: 60, unit: fc.constantFrom(...'abcXYZ019 -_.:/=+,;"'.split('')) });
/** Header values, sometimes a secret in the wrong header. */
const headerValueOrSecret = () => fc.oneof(headerValue, fc.constantFrom(...secretNeedles()));

/** A string with NUL or another control character somewhere in it (issue 10 gap 6). */
const withControlCharacter = () =>
  fc
    .tuple(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('\u0000', '\u0001', '\u0007', '\u000b', '\u001b', '\u007f', '\u0085', '\u009f'),
      fc.string({ maxLength: 20 }),
    )
    .map(([a, c, b]) => a + c + b);

/** URLs naming private, link-local, metadata or non-https targets, in assorted spellings (issue 10 gap 4). */
const hostileUrl = () =>
  fc.oneof(
    fc.constantFrom(
      ...HOSTILE_CALLBACK_URLS.filter((url) => !/127\.|localhost|\[::1\]|0x7f|0177|2130706433/.test(url)),
    ),
    fc.tuple(fc.constantFrom(10, 169, 172, 192), fc.nat(255), fc.nat(255)).map(([a, c, d]) => {
      const b = a === 169 ? 254 : a === 172 ? 16 : a === 192 ? 168 : 0;
      return `https://${((a << 24) >>> 0) + (b << 16) + (c << 8) + d}/dlr`;
    }),
  );

/** Nesting past MAX_JSON_DEPTH (issue 10 gap 6) that still fits in `maxBytes` (every route's limit by default). */
const deepJson = (
  maxBytes = Math.min(...ROUTES.filter((r) => r.maxBodyBytes > 0).map((r) => r.maxBodyBytes)),
) =>
  fc
    .tuple(
      // At most 8 bytes per level (`[{"a":` and `}]`), so the body stays under the limit.
      fc.integer({ min: MAX_JSON_DEPTH + 1, max: Math.min(10_000, Math.floor((maxBytes - 10) / 8)) }),
      fc.constantFrom('[', '{"a":', '[{"a":'),
    )
    .map(([levels, open]) => {
      const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
      return open.repeat(levels) + (open === '[' ? '' : '1') + close.repeat(levels);
    });

/** A JSON value that may hold secrets, so echoing input would be caught too, or a hostile string. */
const payloadValue = () =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(...secretNeedles()),
    fc.constantFrom('+6591234567', '6591234567', '', null, 'Bearer x'),
    withControlCharacter(),
    hostileUrl(),
  );

const smsBody = () =>
  fc.record(
    {
      destination: payloadValue(),
      text: payloadValue(),
      source: payloadValue(),
      country: payloadValue(),
      clientMessageId: payloadValue(),
      encoding: payloadValue(),
      scheduled: payloadValue(),
      expiry: payloadValue(),
      dlrCallbackUrl: payloadValue(),
      cognigy: fc.oneof(
        payloadValue(),
        fc.record(
          { userId: payloadValue(), sessionId: payloadValue(), URLToken: payloadValue() },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  );

const handoverBody = () =>
  fc.record(
    {
      cognigy: fc.oneof(
        payloadValue(),
        fc.record(
          {
            userId: payloadValue(),
            sessionId: payloadValue(),
            URLToken: payloadValue(),
            endpointBaseUrl: payloadValue(),
          },
          { requiredKeys: [] },
        ),
      ),
      channelId: payloadValue(),
      queueId: payloadValue(),
      customer: payloadValue(),
      properties: payloadValue(),
      transcript: payloadValue(),
      text: payloadValue(),
    },
    { requiredKeys: [] },
  );

const receiptBody = () =>
  fc.record(
    {
      namespace: fc.oneof(fc.constant('SMS'), payloadValue()),
      eventType: fc.oneof(fc.constant('outbound_message_status_changed'), payloadValue()),
      payload: fc.oneof(
        payloadValue(),
        fc.record(
          {
            umid: payloadValue(),
            clientMessageId: payloadValue(),
            status: fc.oneof(payloadValue(), fc.record({ state: payloadValue() }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  );

const body = () =>
  fc.oneof(
    fc.constant(undefined),
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 200 }),
    smsBody().map((b) => JSON.stringify(b)),
    fc.array(smsBody(), { maxLength: 3 }).map((messages) => JSON.stringify({ messages })),
    handoverBody().map((b) => JSON.stringify(b)),
    receiptBody().map((b) => JSON.stringify(b)),
    deepJson(),
  );

const extraHeaders = () =>
  fc.dictionary(
    fc.oneof(
      headerName,
      fc.constantFrom(
        'x-8x8-signature',
        'x-8x8-event-id',
        'x-8x8-transmission-time',
        'x-8x8-retry',
        'x-8x8-tenant-id',
        'x-8x8-customer-id',
      ),
    ),
    headerValueOrSecret(),
    { maxKeys: 4 },
  );

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'text/plain',
  'application/json; charset=latin1',
);

/** Aimed at one catalogue route: its method and mostly the right credentials, so the function itself runs. */
const targeted = () =>
  fc
    .tuple(
      fc.constantFrom(...ROUTES),
      segment,
      fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 3 })),
    )
    .chain(([route, value, query]) =>
      fc.record({
        method: fc.constant(route.method),
        path: fc.constant(
          route.path.replace(/\{\w+\}/g, value) + (query ? `?${new URLSearchParams(query).toString()}` : ''),
        ),
        apiKey: fc.oneof(
          { weight: 4, arbitrary: fc.constant('valid') },
          fc.constant(undefined),
          headerValueOrSecret(),
        ),
        authorization: fc.oneof(
          { weight: 3, arbitrary: fc.constant('valid') },
          fc.constant(undefined),
          headerValueOrSecret(),
        ),
        contentType,
        extra: extraHeaders(),
        body: body(),
      }),
    );

/** Anything at all. */
const untargeted = () =>
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
    path: routePath,
    apiKey: fc.oneof(fc.constant('valid'), fc.constant(undefined), headerValueOrSecret()),
    authorization: fc.oneof(fc.constant('valid'), fc.constant(undefined), headerValueOrSecret()),
    contentType,
    extra: extraHeaders(),
    body: body(),
  });

const request = () => fc.oneof({ weight: 3, arbitrary: targeted() }, untargeted());

const openapi = new OpenApiValidator();

test('no route answers 5xx, echoes a secret or answers what its OpenAPI operation does not document, whatever the request', async () => {
  /** Routes whose function answered at least once (not the gateway's own 403/404/405), so no route is untested. */
  const reached = new Set<string>();
  await fc.assert(
    fc.asyncProperty(request(), async (r) => {
      const headers: Record<string, string> = { ...r.extra };
      if (r.apiKey !== undefined) headers['x-api-key'] = r.apiKey === 'valid' ? stack.apiKey : r.apiKey;
      if (r.authorization !== undefined)
        headers.authorization = r.authorization === 'valid' ? smsAuthorization : r.authorization;
      if (r.contentType) headers['content-type'] = r.contentType;
      const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
      const response = await fetch(`${stack.urls.gateway}${r.path}`, {
        method: r.method,
        headers,
        ...(withBody ? { body: r.body } : {}),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      const answer = `${response.status} ${r.method} ${r.path}: ${text.slice(0, 300)}`;
      expect({ status: response.status < 500, answer }).toEqual({ status: true, answer });
      const shown = `${text}\n${[...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}`;
      for (const needle of secretNeedles()) expect(shown.includes(needle) ? answer : '').toBe('');
      const pathname = new URL(r.path, 'http://x').pathname;
      if ((r.method === 'GET' || r.method === 'POST') && openapi.operationFor(r.method, pathname)) {
        let json: unknown = text;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          // left as text: the validator reports it
        }
        const violations = openapi.checkAnswer({
          method: r.method,
          path: pathname,
          status: response.status,
          contentType: response.headers.get('content-type'),
          body: json,
        });
        expect({ answer, violations: formatViolations(violations) }).toEqual({ answer, violations: '' });
      }
      const match = matchRoute(ROUTES, r.method, pathname);
      // The gateway marks its own refusals with x-amzn-errortype; a function's answers never carry it.
      if (match.kind === 'match' && !response.headers.has('x-amzn-errortype'))
        reached.add(routeKey(match.match.route));
    }),
    { numRuns: 300 },
  );
  expect([...reached].sort()).toEqual(ROUTES.map(routeKey).sort());
}, 120_000);

/** Event-like bodies: 8x8's event types with arbitrary data, and arbitrary JSON and text. */
const signedBody = fc.oneof(
  fc
    .record({
      eventType: fc.oneof(
        fc.constantFrom(
          'MESSAGE',
          'QUEUED',
          'MEMBERS_CHANGED',
          'CONVERSATION_UPDATE',
          'TRANSFER',
          'TYPING',
          'WEB_HOOK_VERIFY',
        ),
        fc.string(),
      ),
      conversationId: fc.oneof(fc.uuid(), fc.string(), fc.constant(undefined)),
      timestamp: fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)),
      data: fc.oneof(fc.jsonValue(), fc.constant(undefined)),
    })
    .map((event) => JSON.stringify(event)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
);

test('a correctly signed webhook delivery of any body is never a 5xx, echoes no secret and agrees with the OpenAPI document', async () => {
  const chat = stack.chatGateway!;
  await fc.assert(
    fc.asyncProperty(signedBody, async (body) => {
      const response = await fetch(`${stack.urls.gateway}/handover/eightByEight`, {
        method: 'POST',
        headers: chat.signedHeaders(body),
        body,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      const answer = `${response.status} for ${body.slice(0, 200)}: ${text.slice(0, 300)}`;
      expect({ status: response.status < 500, answer }).toEqual({ status: true, answer });
      for (const needle of secretNeedles()) expect(text.includes(needle) ? answer : '').toBe('');
      // The answer is one the document gives, and a body the bridge accepted is one the document describes.
      const path = '/handover/eightByEight';
      const violations = openapi.checkAnswer({
        method: 'POST',
        path,
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: JSON.parse(text) as unknown,
      });
      if (response.status === 200) {
        violations.push(
          ...openapi.checkRequest({
            method: 'POST',
            path,
            contentType: 'application/json',
            body: JSON.parse(body),
          }),
        );
      }
      expect({ answer, violations: formatViolations(violations) }).toEqual({ answer, violations: '' });
    }),
    { numRuns: 150 },
  );
  // The signature itself was right: a known event type with a valid shape is accepted.
  const verify = JSON.stringify({ eventType: 'WEB_HOOK_VERIFY' });
  const accepted = await fetch(`${stack.urls.gateway}/handover/eightByEight`, {
    method: 'POST',
    headers: chat.signedHeaders(verify),
    body: verify,
  });
  expect(accepted.status).toBe(200);
}, 120_000);

/** Hostile inputs per route that must get one stable 4xx code (issue 10 gaps 4 and 6), counted for the report. */
interface HostileCase {
  route: (typeof ROUTES)[number];
  body: string;
  expected: 'JSON_TOO_DEEP' | 'CONTROL_CHARACTER' | 'INVALID_CALLBACK_URL';
}

const routeOf = (path: string) => ROUTES.find((r) => r.path === path && r.method === 'POST')!;
const sms = { destination: '+6591234567', text: 'x' };
const session = { userId: 'u-1', sessionId: 's-1', URLToken: 't-1' };

const hostileCase: fc.Arbitrary<HostileCase> = fc.oneof(
  {
    // Deep nesting reaches every POST route, the two webhooks included, so it is drawn most often.
    weight: 6,
    arbitrary: fc
      .constantFrom(...ROUTES.filter((r) => r.method === 'POST'))
      .chain((route) =>
        deepJson(route.maxBodyBytes).map((body): HostileCase => ({ route, body, expected: 'JSON_TOO_DEEP' })),
      ),
  },
  fc
    .tuple(fc.constantFrom('text', 'clientMessageId'), withControlCharacter())
    .map(([field, value]): HostileCase => ({
      route: routeOf('/sms'),
      body: JSON.stringify({ ...sms, [field]: value }),
      expected: 'CONTROL_CHARACTER',
    })),
  fc
    .tuple(fc.constantFrom('clientMessageId', 'text'), withControlCharacter())
    .map(([field, value]): HostileCase => ({
      route: routeOf('/sms/batch'),
      body: JSON.stringify({ messages: [{ ...sms, [field]: value }] }),
      expected: 'CONTROL_CHARACTER',
    })),
  fc
    .tuple(fc.constantFrom('userId', 'sessionId', 'URLToken'), withControlCharacter())
    .map(([field, value]): HostileCase => ({
      route: routeOf('/handover'),
      body: JSON.stringify({ cognigy: { ...session, [field]: value }, channelId: 'c', queueId: 'q' }),
      expected: 'CONTROL_CHARACTER',
    })),
  withControlCharacter().map((text): HostileCase => ({
    route: routeOf('/handover/{conversationId}/messages'),
    body: JSON.stringify({ text }),
    expected: 'CONTROL_CHARACTER',
  })),
  hostileUrl().map((url): HostileCase => ({
    route: routeOf('/sms'),
    body: JSON.stringify({ ...sms, dlrCallbackUrl: url }),
    expected: 'INVALID_CALLBACK_URL',
  })),
  hostileUrl().map((url): HostileCase => ({
    route: routeOf('/sms/batch'),
    body: JSON.stringify({ destinations: ['+6591234567'], template: { text: 'x', dlrCallbackUrl: url } }),
    expected: 'INVALID_CALLBACK_URL',
  })),
);

test('hostile inputs get their stable 400 code on every route, never a 5xx', async () => {
  const tally = new Map<string, { tried: number; serverErrors: number }>();
  await fc.assert(
    fc.asyncProperty(hostileCase, async ({ route, body, expected }) => {
      const path = route.path.replace('{conversationId}', 'conv-1');
      const headers: Record<string, string> =
        route.function === 'handover-webhook'
          ? stack.chatGateway!.signedHeaders(body)
          : route.function === 'sms-receipt'
            ? { authorization: smsAuthorization, 'content-type': 'application/json' }
            : { 'x-api-key': stack.apiKey, 'content-type': 'application/json' };
      const response = await fetch(`${stack.urls.gateway}${path}`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(20_000),
      });
      const text = await response.text();
      const count = tally.get(routeKey(route)) ?? { tried: 0, serverErrors: 0 };
      count.tried++;
      if (response.status >= 500) count.serverErrors++;
      tally.set(routeKey(route), count);
      const json = JSON.parse(text) as {
        error?: { code: string };
        items?: { error?: { code: string } }[];
      };
      // A batch answers per item when the item itself is refused (400 BATCH_REJECTED, items[0] has the code).
      const code = json.items?.[0]?.error?.code ?? json.error?.code;
      const answer = `${response.status} ${code} for ${route.path} ${body.slice(0, 120)}`;
      expect(answer).toBe(`400 ${expected} for ${route.path} ${body.slice(0, 120)}`);
    }),
    { numRuns: 500 },
  );
  // The figures README "Security model" and the report quote: hostile inputs per route and 5xx seen.
  console.info(
    [...tally.entries()]
      .sort()
      .map(([route, c]) => `${route}: ${c.tried} hostile inputs, ${c.serverErrors} 5xx`)
      .join('\n'),
  );
  expect([...tally.values()].reduce((n, c) => n + c.serverErrors, 0)).toBe(0);
}, 180_000);
