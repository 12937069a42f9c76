/**
 * The local console's HTTP surface on the real local stack (lib/local/console/server.ts): what it serves, and what it
 * refuses — requests addressed to another host (DNS rebinding, a tunnel), actions without the page's token or from
 * another origin, bad bodies — with the error catalogue's codes. The browser tests (test/browser/) drive the page.
 */
import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalConsole } from '../../lib/local/console/server';
import { LocalGateway } from '../../lib/local/gateway';
import type { LocalStack } from '../../lib/local/stack';
import { startTestStack } from '../helpers/local';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { ok?: boolean; summary?: string; error?: { code: string; message: string } };
}

/** node:http, so the Host header can be anything (fetch always sends the URL's). */
function call(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: { ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = {};
          try {
            json = JSON.parse(text) as Answer['json'];
          } catch {
            // the page
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

let stack: LocalStack;
let token: string;

beforeAll(async () => {
  stack = await startTestStack();
  const page = await call(stack.urls.gateway, '/console');
  token = /<meta name="console-token" content="([^"]+)"/.exec(page.text)?.[1] ?? '';
});

afterAll(async () => {
  await stack?.stop();
});

const action = (name: string, body: unknown, headers: Record<string, string> = {}) =>
  call(stack.urls.gateway, `/console/actions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-console-token': token, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

test('/ leads to the console page, served with a nonce-only Content-Security-Policy and no secret in it', async () => {
  const root = await call(stack.urls.gateway, '/');
  expect([root.status, root.headers.location]).toEqual([302, '/console']);

  const page = await call(stack.urls.gateway, '/console');
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  const csp = String(page.headers['content-security-policy']);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(page.text).toContain(`<script nonce="${nonce}">`);
  expect(token).toMatch(/^[\w-]{32}$/);
  expect(page.text).not.toContain(stack.apiKey);
  expect(page.headers['x-frame-options']).toBe('DENY');
  expect(stack.urls.console).toBe(`${stack.urls.gateway}/console`);
});

test('the live stream sends the rendered sections as Server-Sent Events', async () => {
  const controller = new AbortController();
  const response = await fetch(`${stack.urls.console}/events`, { signal: controller.signal });
  expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('event: state\ndata: ')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  controller.abort();
  const data = JSON.parse(text.split('event: state\ndata: ')[1]!.split('\n')[0]!) as Record<string, unknown>;
  expect(Object.keys(data).sort()).toEqual(['conversations', 'handset', 'outbox', 'problems', 'webhooks']);
  expect(data.outbox).toContain('No SMS yet');
});

test.each(['/console', '/console/events', '/'])(
  '%s refuses a request addressed to another host (DNS rebinding, a tunnel)',
  async (path) => {
    const answer = await call(stack.urls.gateway, path, { headers: { host: 'attacker.example' } });
    expect([answer.status, answer.json.error?.code]).toEqual([403, 'CONSOLE_FORBIDDEN']);
  },
);

test('an action needs the page token, and a same-origin request when the browser names an origin', async () => {
  const sms = { destination: '+6591234567', text: 'hello' };
  const noToken = await action('sms', sms, { 'x-console-token': '' });
  expect([noToken.status, noToken.json.error?.code]).toEqual([403, 'CONSOLE_FORBIDDEN']);
  const otherOrigin = await action('sms', sms, { origin: 'https://attacker.example' });
  expect([otherOrigin.status, otherOrigin.json.error?.code]).toEqual([403, 'CONSOLE_FORBIDDEN']);
  const rebound = await action('sms', sms, {
    host: `localhost.attacker.example:${new URL(stack.urls.gateway).port}`,
  });
  expect([rebound.status, rebound.json.error?.code]).toEqual([403, 'CONSOLE_FORBIDDEN']);

  const own = await action('sms', sms, { origin: stack.urls.gateway });
  expect([own.status, own.json.ok]).toEqual([200, true]);
  expect(own.json.summary).toMatch(/^POST \/sms → 202 \(messageId [0-9a-f-]{36}\)$/);
});

test("a handset's SMS goes through the SMS simulator, which texts the bridge and shows it on the handset", async () => {
  const answer = await action('handset-text', {
    from: '6591239999',
    to: '+6568008888',
    text: 'From the console',
  });
  expect([answer.status, answer.json.ok]).toEqual([200, true]);
  expect(answer.json.summary).toMatch(/^\+6591239999 texts \+6568008888 → 200 \(umid [0-9a-f-]{36}\)$/);
  const umid = /umid ([0-9a-f-]{36})/.exec(answer.json.summary ?? '')?.[1] ?? '';
  expect(stack.sms!.handset('+6591239999')).toEqual([
    expect.objectContaining({
      direction: 'sent',
      umid,
      text: 'From the console',
      destination: '+6568008888',
    }),
  ]);
  const delivery = await stack.sms!.waitForInbound((d) => d.umid === umid, 15_000);
  expect(delivery.url).toBe(`${stack.urls.gateway}/webhooks/8x8/sms/inbound`);

  const opened = await action('handset-open', { number: '+6591239999' });
  expect([opened.status, opened.json.summary]).toEqual([200, 'Showing the handset +6591239999']);
});

test('bad console requests get a 4xx with a catalogued code, never a 5xx', async () => {
  const cases: [string, Promise<Answer>, number, string][] = [
    ['unknown action', action('launch-rockets', {}), 404, 'ROUTE_NOT_FOUND'],
    ['not JSON', action('sms', '{"destination":'), 400, 'MALFORMED_JSON'],
    ['missing text', action('sms', { destination: '+6591234567' }), 400, 'INVALID_BODY'],
    ['unknown field', action('agent-leave', { conversationId: 'c-1', admin: true }), 400, 'INVALID_BODY'],
    [
      'a handset that is no phone number',
      action('handset-text', { from: 'me', to: '+6568008888', text: 'hi' }),
      400,
      'INVALID_BODY',
    ],
    ['too large', action('sms', { destination: '+65', text: 'x'.repeat(70_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    [
      'a conversation whose session the console does not know',
      action('user-message', { conversationId: 'unknown-conversation', text: 'hi' }),
      409,
      'CONSOLE_UNKNOWN_SESSION',
    ],
    ['GET on an action', call(stack.urls.gateway, '/console/actions/sms'), 405, 'METHOD_NOT_ALLOWED'],
    ['POST on the page', call(stack.urls.gateway, '/console', { method: 'POST' }), 405, 'METHOD_NOT_ALLOWED'],
    ['unknown console path', call(stack.urls.gateway, '/console/admin'), 404, 'ROUTE_NOT_FOUND'],
  ];
  for (const [what, pending, status, code] of cases) {
    const answer = await pending;
    expect({ what, status: answer.status, code: answer.json.error?.code }).toEqual({ what, status, code });
  }
});

test('an agent action without the Chat Gateway simulator (real 8x8 configured) is refused with 503', async () => {
  const pages = new LocalConsole({ gateway: 'http://127.0.0.1:9', apiKey: 'unused' });
  const server: Server = createServer((req, res) => {
    void pages.handle(req, res, new URL(req.url ?? '/', 'http://local'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // The console only answers its own loopback host and port: here the fake gateway's port 9.
    const answer = await call(base, '/console/actions/agent-join', {
      method: 'POST',
      headers: { host: '127.0.0.1:9', 'x-console-token': pages.token, 'content-type': 'application/json' },
      body: JSON.stringify({ conversationId: 'c-1' }),
    });
    expect([answer.status, answer.json.error?.code]).toEqual([503, 'CONSOLE_UNAVAILABLE']);
  } finally {
    pages.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the console cannot be mounted over a catalogue route', () => {
  const gateway = new LocalGateway({ apiKey: 'k' });
  expect(() =>
    gateway.mount({ handles: (path) => path.startsWith('/sms'), handle: async () => 200 }),
  ).toThrow(/shadow POST \/sms/);
  expect(() => gateway.mount(new LocalConsole({ gateway: 'http://127.0.0.1:9', apiKey: 'k' }))).not.toThrow();
});
