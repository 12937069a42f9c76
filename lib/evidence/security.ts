/**
 * The security run behind `npm run security` and test/security/security-run.test.ts (issue 10 Evidence): the local
 * stack, with the functions logging at DEBUG, gets hostile inputs on every catalogue route and CRC32-forged webhook
 * bodies carrying a captured signature; then it counts
 * - hostile inputs tried per route, and the answers ≥ 500 (must be 0);
 * - forged bodies that reached Cognigy (must be 0: the dedupe claim stores the body's SHA-256 with the event id);
 * - secrets and full E.164 numbers in the captured function logs (must be 0): everything the sandboxes write to
 *   stdout/stderr during the run is captured and scanned for the configured secret values and every number used.
 *
 * Everything random derives from `seed` (fast-check's sample), so a run can be replayed.
 */
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { ROUTES, routeKey, type RouteSpec } from '../../functions/shared/catalogue';
import { MAX_JSON_DEPTH } from '../../functions/shared/http';
import { startLocalStack, type LocalStack } from '../local/stack';
import { forgeCrc32 } from './crc32-forgery';
import { HOSTILE_CALLBACK_URLS } from './hostile-inputs';

export interface SecurityProfile {
  seed: number;
  /** Hostile requests per catalogue route. */
  perRoute: number;
  /** Genuine agent messages whose captured signature is reused on a forged body of the same CRC32. */
  forgeries: number;
}

export const DEFAULT_SECURITY_PROFILE: SecurityProfile = { seed: 1, perRoute: 60, forgeries: 20 };
export const SMALL_SECURITY_PROFILE: SecurityProfile = { seed: 1, perRoute: 6, forgeries: 2 };

export interface RouteTally {
  route: string;
  tried: number;
  /** Answers by status class, e.g. `{ '4xx': 50, '2xx': 10 }`. */
  answers: Record<string, number>;
  serverErrors: number;
  /** The first few 5xx answers, to see what failed. */
  examples: string[];
}

export interface SecurityReport {
  profile: SecurityProfile;
  routes: RouteTally[];
  serverErrors: number;
  forgeries: { tried: number; refused: number; reachedCognigy: number; genuineRelayed: number };
  logs: {
    /** Lines the functions wrote during the run (proves the capture saw something). */
    lines: number;
    secretsFound: number;
    phoneNumbersFound: number;
    /** What was found, with the secret or number masked. */
    findings: string[];
  };
  durationMs: number;
  ok: boolean;
}

/** E.164 numbers the run sends; the logs must show them masked only. */
export const PHONE_NUMBERS = ['+6591234567', '+14155550123', '+447700900123', '+61412345678'];

/** A string with a control character inside (issue 10 gap 6). */
const withControlCharacter = fc
  .tuple(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('\u0000', '\u0001', '\u0007', '\u000b', '\u001b', '\u007f', '\u0085', '\u009f'),
    fc.string({ maxLength: 12 }),
  )
  .map(([a, c, b]) => a + c + b);

/** Nesting past MAX_JSON_DEPTH that fits in `maxBytes`. */
const deepJson = (maxBytes: number) =>
  fc
    .tuple(
      fc.integer({
        min: MAX_JSON_DEPTH + 1,
        max: Math.max(MAX_JSON_DEPTH + 1, Math.floor((maxBytes - 10) / 8)),
      }),
      fc.constantFrom('[', '{"a":', '[{"a":'),
    )
    .map(([levels, open]) => {
      const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
      return open.repeat(levels) + (open === '[' ? '' : '1') + close.repeat(levels);
    });

/** A field value: any JSON, a secret, a full phone number, a control character, a hostile URL. */
const hostileValue = (secrets: string[]) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(...secrets),
    fc.constantFrom(...PHONE_NUMBERS),
    withControlCharacter,
    fc.constantFrom(...HOSTILE_CALLBACK_URLS),
    fc.constantFrom('', null, 'x'.repeat(5000), '../../etc/passwd', '${jndi:ldap://x}', '<script>'),
  );

/** Bodies shaped like each route's own, with hostile values in their fields. */
const shapedBody = (secrets: string[]) => {
  const v = hostileValue(secrets);
  const sms = fc.record(
    {
      destination: fc.oneof(fc.constantFrom(...PHONE_NUMBERS), v),
      text: v,
      clientMessageId: v,
      dlrCallbackUrl: fc.oneof(fc.constantFrom(...HOSTILE_CALLBACK_URLS), v),
      source: v,
      cognigy: fc.oneof(
        v,
        fc.record({ userId: v, sessionId: v, URLToken: v, endpointBaseUrl: v }, { requiredKeys: [] }),
      ),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    sms,
    fc.array(sms, { maxLength: 3 }).map((messages) => ({ messages })),
    fc.record({ destinations: fc.array(v, { maxLength: 3 }), template: sms }, { requiredKeys: [] }),
    fc.record(
      {
        cognigy: fc.record(
          { userId: v, sessionId: v, URLToken: v, endpointBaseUrl: v },
          { requiredKeys: [] },
        ),
        channelId: v,
        queueId: v,
        customer: v,
        text: v,
        replace: v,
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        namespace: fc.oneof(fc.constant('SMS'), v),
        eventType: fc.oneof(fc.constant('outbound_message_status_changed'), fc.constant('MESSAGE'), v),
        conversationId: v,
        payload: fc.record(
          { umid: v, clientMessageId: v, status: fc.record({ state: v }, { requiredKeys: [] }) },
          { requiredKeys: [] },
        ),
        data: fc.record({ text: v, sender: fc.record({ id: v, type: v }) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
  );
};

interface HostileRequest {
  path: string;
  /** Which credentials: the route's own valid ones, none, or a secret of another kind in their place. */
  credentials: 'valid' | 'none' | 'wrong';
  body: string | undefined;
  contentType: string | undefined;
}

/** Path parameter values: ids an attacker would try. */
const pathValue = fc.oneof(
  fc.uuid(),
  fc.constantFrom(
    '..',
    '%2E%2E',
    '%2F',
    '%00',
    'x'.repeat(300),
    '-abc',
    '_abc',
    '%E2%82%AC',
    '%ZZ',
    'active',
  ),
  fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent),
);

function hostileRequests(route: RouteSpec, secrets: string[], count: number, seed: number): HostileRequest[] {
  const withBody = route.method !== 'GET';
  const maxBytes = route.maxBodyBytes > 0 ? route.maxBodyBytes : 16_384;
  const body = withBody
    ? fc.oneof(
        { weight: 4, arbitrary: shapedBody(secrets).map((b) => JSON.stringify(b)) },
        { weight: 2, arbitrary: deepJson(maxBytes) },
        fc.constant('x'.repeat(maxBytes + 1)),
        fc.string({ maxLength: 200 }),
        fc.json({ maxDepth: 3 }),
        fc.constant(undefined),
      )
    : fc.constant(undefined);
  const request = fc.record({
    path: pathValue.map((value) => route.path.replace(/\{\w+\}/g, value)),
    credentials: fc.constantFrom<HostileRequest['credentials']>('valid', 'valid', 'valid', 'none', 'wrong'),
    body,
    contentType: fc.constantFrom(undefined, 'application/json', 'application/json', 'text/plain'),
  });
  return fc.sample(request, { seed: seed + route.path.length * 7 + route.method.length, numRuns: count });
}

/** Captures everything written to this process's stdout/stderr (the sandboxes' output is piped there). */
function captureOutput(): { lines: () => string[]; stop: () => void; say: (line: string) => void } {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      callback?.();
      return true;
    }) as typeof stream.write;
  });
  return {
    lines: () => chunks.join('').split('\n').filter(Boolean),
    stop: () => streams.forEach((stream, i) => (stream.write = originals[i]!)),
    // Progress lines go past the capture, so they are neither swallowed nor scanned.
    say: (line: string) => void originals[1]!(`${line}\n`),
  };
}

const mask = (value: string) => `${value.slice(0, 3)}…(${value.length} chars)`;

export function scanLogs(lines: string[], secrets: string[]): SecurityReport['logs'] {
  const findings: string[] = [];
  let secretsFound = 0;
  let phoneNumbersFound = 0;
  for (const line of lines) {
    for (const secret of secrets)
      if (line.includes(secret)) {
        secretsFound++;
        findings.push(`secret ${mask(secret)} in: ${line.replace(secret, '«secret»').slice(0, 200)}`);
      }
    for (const number of PHONE_NUMBERS)
      if (line.includes(number) || line.includes(number.slice(1))) {
        phoneNumbersFound++;
        findings.push(
          `number ${mask(number)} in: ${line.replaceAll(number.slice(1), '«number»').slice(0, 200)}`,
        );
      }
  }
  return { lines: lines.length, secretsFound, phoneNumbersFound, findings: findings.slice(0, 20) };
}

function headersFor(
  stack: LocalStack,
  route: RouteSpec,
  request: HostileRequest,
  smsAuthorization: string,
  wrongSecret: string,
): Record<string, string> {
  const headers: Record<string, string> = request.contentType ? { 'content-type': request.contentType } : {};
  if (request.credentials === 'none') return headers;
  if (route.function === 'handover-webhook') {
    // A genuine signature over the body: the function itself has to cope with it.
    return request.credentials === 'valid'
      ? { ...stack.chatGateway!.signedHeaders(request.body ?? ''), ...headers }
      : { ...headers, 'x-8x8-signature': wrongSecret, 'x-8x8-event-id': randomUUID() };
  }
  if (route.function === 'sms-receipt')
    return { ...headers, authorization: request.credentials === 'valid' ? smsAuthorization : wrongSecret };
  return { ...headers, 'x-api-key': request.credentials === 'valid' ? stack.apiKey : wrongSecret };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * CRC32 forgeries on the handover webhook: for each genuine agent MESSAGE (signed as 8x8 signs it), the attacker
 * reuses the captured headers on a body of their own crafted to the same CRC32, after the genuine delivery.
 */
async function forge(stack: LocalStack, count: number): Promise<SecurityReport['forgeries']> {
  const chat = stack.chatGateway!;
  const cognigy = stack.cognigy!;
  const webhook = `${stack.urls.gateway}/handover/eightByEight`;
  const session = { userId: 'user-sec', sessionId: `session-sec-${randomUUID()}`, URLToken: 't-sec' };
  const started = await fetch(`${stack.urls.gateway}/handover`, {
    method: 'POST',
    headers: { 'x-api-key': stack.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ cognigy: session, channelId: 'chat-api-channel' }),
  });
  const { conversationId } = (await started.json()) as { conversationId: string };
  await chat.agentJoin(conversationId, 'agent-sec');
  await waitUntil(() => cognigy.callsFor(session.sessionId).some((c) => c.mode === 'inject'), 15_000);

  let refused = 0;
  for (let i = 0; i < count; i++) {
    const event = (text: string) =>
      `{"eventType":"MESSAGE","conversationId":${JSON.stringify(conversationId)},"timestamp":${Date.now()},` +
      `"data":{"isEcho":false,"sender":{"id":"agent-sec","type":"agent"},"text":${JSON.stringify(text).slice(0, -1)} `;
    const genuine = `${event(`genuine ${i}: your order ships Monday`)}"}}`;
    const captured = chat.signedHeaders(genuine);
    await fetch(webhook, { method: 'POST', headers: captured, body: genuine });
    const forged = forgeCrc32(
      event(`forged ${i}: pay at evil.example`),
      '"}}',
      crc32(Buffer.from(genuine)) >>> 0,
    );
    const answer = await fetch(webhook, { method: 'POST', headers: captured, body: forged });
    if (answer.status >= 400 && answer.status < 500) refused++;
  }
  const texts = () =>
    cognigy.callsFor(session.sessionId).map((c) => String((c.body as { text?: unknown }).text ?? ''));
  await waitUntil(() => texts().filter((t) => t.startsWith('genuine')).length >= count, 30_000);
  return {
    tried: count,
    refused,
    reachedCognigy: texts().filter((t) => t.startsWith('forged')).length,
    genuineRelayed: new Set(texts().filter((t) => t.startsWith('genuine'))).size,
  };
}

export async function runSecurity(
  profile: SecurityProfile,
  /** progress: print a line per route on stderr (past the log capture). */
  options: { progress?: boolean } = {},
): Promise<SecurityReport> {
  const began = Date.now();
  const capture = captureOutput();
  const log = options.progress ? capture.say : () => undefined;
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      port: 0,
      quiet: true,
      // Everything the functions can log, so a leak at any level is seen.
      env: { LOG_LEVEL: 'DEBUG' },
    });
    const read = (name: keyof LocalStack['secretNames']) =>
      JSON.parse(stack!.secretsManager.getSecretString(stack!.secretNames[name]) ?? '{}') as Record<
        string,
        string
      >;
    const receipts = read('smsWebhookAuth');
    const smsAuthorization = receipts.authorization ?? '';
    const secrets = [
      stack.apiKey,
      smsAuthorization.replace(/^Bearer\s+/i, ''),
      receipts.callbackTokenKey,
      read('smsCredentials').apiKey,
      read('chatGatewayCredentials').apiKey,
    ].filter((s): s is string => typeof s === 'string' && s.length >= 8);
    await stack.warmUp();

    const routes: RouteTally[] = [];
    for (const route of ROUTES) {
      const tally: RouteTally = {
        route: routeKey(route),
        tried: 0,
        answers: {},
        serverErrors: 0,
        examples: [],
      };
      for (const request of hostileRequests(route, secrets, profile.perRoute, profile.seed)) {
        const wrong = secrets[(tally.tried + 1) % secrets.length]!;
        const headers = headersFor(stack, route, request, smsAuthorization, wrong);
        let status: number;
        try {
          const response = await fetch(`${stack.urls.gateway}${request.path}`, {
            method: route.method,
            headers,
            ...(request.body !== undefined && route.method !== 'GET' ? { body: request.body } : {}),
            signal: AbortSignal.timeout(30_000),
          });
          await response.arrayBuffer();
          status = response.status;
        } catch {
          status = 599; // no answer at all counts as a server error
        }
        tally.tried++;
        const kind = `${Math.floor(status / 100)}xx`;
        tally.answers[kind] = (tally.answers[kind] ?? 0) + 1;
        if (status >= 500) {
          tally.serverErrors++;
          if (tally.examples.length < 3)
            tally.examples.push(
              `${status} ${route.method} ${request.path.slice(0, 80)} ${String(request.body).slice(0, 80)}`,
            );
        }
      }
      routes.push(tally);
      log(`[security] ${tally.route}: ${tally.tried} hostile inputs, ${tally.serverErrors} 5xx`);
    }

    const forgeries = await forge(stack, profile.forgeries);
    log(`[security] forgeries: ${forgeries.tried} tried, ${forgeries.reachedCognigy} reached Cognigy`);
    await stack.stop();
    stack = undefined;
    capture.stop();
    const logs = scanLogs(capture.lines(), secrets);
    const serverErrors = routes.reduce((n, r) => n + r.serverErrors, 0);
    return {
      profile,
      routes,
      serverErrors,
      forgeries,
      logs,
      durationMs: Date.now() - began,
      ok:
        serverErrors === 0 &&
        forgeries.reachedCognigy === 0 &&
        logs.secretsFound === 0 &&
        logs.phoneNumbersFound === 0,
    };
  } finally {
    capture.stop();
    await stack?.stop();
  }
}

export function formatSecurityReport(report: SecurityReport): string {
  const lines: string[] = [];
  const p = report.profile;
  lines.push(
    `Security run, seed ${p.seed}: ${p.perRoute} hostile inputs per route, ${p.forgeries} CRC32 forgeries; ` +
      `${Math.round(report.durationMs / 1000)} s`,
  );
  lines.push('');
  lines.push('Hostile inputs per route');
  for (const r of report.routes) {
    const answers = Object.entries(r.answers)
      .sort()
      .map(([k, n]) => `${n}×${k}`)
      .join(' ');
    lines.push(
      `  ${r.route.padEnd(42)} ${String(r.tried).padStart(4)} tried: ${answers}; ${r.serverErrors} 5xx`,
    );
    for (const example of r.examples) lines.push(`      ✗ ${example}`);
  }
  const tried = report.routes.reduce((n, r) => n + r.tried, 0);
  lines.push(
    `  total ${tried} hostile inputs on ${report.routes.length} routes; 5xx seen (must be 0): ${report.serverErrors}`,
  );
  lines.push('');
  const f = report.forgeries;
  lines.push(
    `Forged bodies   ${f.tried} CRC32-colliding bodies with a captured signature: ${f.refused} refused, ` +
      `${f.reachedCognigy} reached Cognigy (must be 0); ${f.genuineRelayed} genuine messages relayed`,
  );
  const l = report.logs;
  lines.push(
    `Function logs   ${l.lines} lines captured at DEBUG: ${l.secretsFound} secrets, ${l.phoneNumbersFound} full phone numbers (must be 0)`,
  );
  for (const finding of l.findings) lines.push(`      ✗ ${finding}`);
  lines.push('');
  lines.push(report.ok ? 'All security checks hold.' : 'SECURITY CHECKS BROKEN.');
  return lines.join('\n');
}
