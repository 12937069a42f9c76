/**
 * callUpstream (functions/shared/upstream.ts) over real HTTP: a node:http server on 127.0.0.1 scripted per test.
 * The deadline is total (connect, headers and the whole body), resets are NETWORK failures, statuses classified.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { UpstreamError } from '../../../functions/shared/errors';
import { callUpstream, parseRetryAfterMs } from '../../../functions/shared/upstream';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base = '';
let handle: Handler = (_req, res) => res.end();
const connections = new Set<Socket>();
let connectionCount = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (socket: Socket) => {
    connectionCount += 1;
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(async () => {
  // Each test starts without pooled connections (and counts its own); the client needs a moment to see the close.
  for (const socket of connections) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 50));
  connectionCount = 0;
});

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UpstreamError) return error;
    throw error;
  }
  throw new Error('expected an UpstreamError');
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
};

describe('callUpstream', () => {
  test('sends method, headers, body, path, query and port; answers status, JSON, text and headers', async () => {
    let seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    handle = (req, res, body) => {
      seen = { method: req.method, url: req.url, headers: req.headers, body };
      json(201, { id: 'x-1', note: 'é' }, { 'X-Request-Id': 'abc', 'Retry-After': '3' })(req, res, body);
    };
    const payload = JSON.stringify({ text: 'héllo' });
    const response = await callUpstream('cognigy', `${base}/a/b%2Fc?x=1&y=a+b%20c&z=%C3%A9`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-8x8-Tenant': 'T' },
      body: payload,
      timeoutMs: 2000,
    });
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/a/b%2Fc?x=1&y=a+b%20c&z=%C3%A9');
    expect(seen.body).toBe(payload);
    expect(seen.headers).toMatchObject({
      host: base.slice('http://'.length),
      'content-type': 'application/json',
      'x-8x8-tenant': 'T',
      'content-length': String(Buffer.byteLength(payload)),
      accept: '*/*',
    });
    expect(seen.headers?.['user-agent']).toBeTruthy();
    expect(response.status).toBe(201);
    expect(response.json).toEqual({ id: 'x-1', note: 'é' });
    expect(response.text).toBe(JSON.stringify({ id: 'x-1', note: 'é' }));
    expect(response.headers.get('x-request-id')).toBe('abc');
    expect(response.headers.get('X-REQUEST-ID')).toBe('abc');
    expect(response.headers.get('absent')).toBeNull();
  });

  test('an empty or non-JSON body gives json undefined and the text as sent', async () => {
    handle = (_req, res) => res.writeHead(204).end();
    await expect(
      callUpstream('jwk', `${base}/empty`, { method: 'GET', timeoutMs: 2000 }),
    ).resolves.toMatchObject({
      status: 204,
      json: undefined,
      text: '',
    });
    handle = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('\ufeffplain words');
    await expect(
      callUpstream('jwk', `${base}/text`, { method: 'GET', timeoutMs: 2000 }),
    ).resolves.toMatchObject({
      json: undefined,
      text: 'plain words',
    });
  });

  test('a gzip-encoded answer is decoded', async () => {
    handle = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
        .end(gzipSync(JSON.stringify({ ok: true })));
    await expect(
      callUpstream('jwk', `${base}/gz`, { method: 'GET', timeoutMs: 2000 }),
    ).resolves.toMatchObject({
      json: { ok: true },
    });
  });

  test('keeps the connection alive between calls', async () => {
    handle = json(200, {});
    for (let i = 0; i < 3; i += 1)
      await callUpstream('cognigy', `${base}/k`, { method: 'GET', timeoutMs: 2000 });
    expect(connectionCount).toBe(1);
  });

  test('a server that never answers is a TIMEOUT at the deadline', async () => {
    handle = () => undefined;
    const started = Date.now();
    const error = await failure(
      callUpstream('8x8-sms', `${base}/hang`, { method: 'POST', body: '{}', timeoutMs: 300 }),
    );
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ kind: 'transient', upstreamCode: 'TIMEOUT', httpStatus: undefined });
    expect(error.message).toBe('8x8-sms did not answer within 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
  });

  test('the deadline is total: a body that keeps trickling is cut at the deadline', async () => {
    let timer: NodeJS.Timeout | undefined;
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      // A byte every 50 ms: no single gap is long, but the whole body would take seconds.
      timer = setInterval(() => res.write('0,'), 50);
      res.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const error = await failure(
      callUpstream('8x8-chat-gateway', `${base}/slow`, { method: 'GET', timeoutMs: 400 }),
    );
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(error).toMatchObject({ kind: 'transient', upstreamCode: 'TIMEOUT' });
    expect(error.message).toBe('8x8-chat-gateway did not answer within 400 ms');
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1500);
  });

  test('headers sent late still count against the same deadline', async () => {
    handle = (_req, res) => {
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"a":');
      }, 200);
    };
    const started = Date.now();
    const error = await failure(callUpstream('cognigy', `${base}/late`, { method: 'GET', timeoutMs: 350 }));
    expect(error.upstreamCode).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1200);
  });

  test('a connection closed mid-body is a NETWORK failure "mid-answer" with the status', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 30);
    };
    const error = await failure(
      callUpstream('8x8-sms', `${base}/cut`, { method: 'POST', body: '{}', timeoutMs: 2000 }),
    );
    expect(error).toMatchObject({ kind: 'transient', upstreamCode: 'NETWORK', httpStatus: 200 });
    expect(error.message).toBe('8x8-sms closed the connection mid-answer');
  });

  test('a chunked body cut short is a NETWORK failure too', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 30);
    };
    const error = await failure(
      callUpstream('cognigy', `${base}/cut-chunked`, { method: 'GET', timeoutMs: 2000 }),
    );
    expect(error).toMatchObject({ upstreamCode: 'NETWORK', httpStatus: 200 });
  });

  test('a reset before any answer is a NETWORK failure "could not be reached"', async () => {
    handle = (req) => req.socket.destroy();
    const error = await failure(callUpstream('jwk', `${base}/reset`, { method: 'GET', timeoutMs: 2000 }));
    expect(error).toMatchObject({ kind: 'transient', upstreamCode: 'NETWORK', httpStatus: undefined });
    expect(error.message).toBe('jwk could not be reached');
  });

  test('a refused connection and an unusable URL are NETWORK failures', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await failure(
      callUpstream('cognigy', `http://127.0.0.1:${port}/x`, { method: 'GET', timeoutMs: 2000 }),
    );
    expect(refused).toMatchObject({ kind: 'transient', upstreamCode: 'NETWORK' });
    for (const url of ['not a url', 'ftp://127.0.0.1/x']) {
      await expect(
        failure(callUpstream('cognigy', url, { method: 'GET', timeoutMs: 2000 })),
      ).resolves.toMatchObject({
        upstreamCode: 'NETWORK',
      });
    }
  });

  test('429 is rate limited with Retry-After in seconds or as a date, 1 s without one', async () => {
    handle = json(429, { message: 'Too many' }, { 'Retry-After': '7' });
    await expect(
      failure(callUpstream('8x8-sms', `${base}/r`, { method: 'POST', body: '{}', timeoutMs: 2000 })),
    ).resolves.toMatchObject({ kind: 'rateLimited', httpStatus: 429, retryAfterMs: 7000 });

    const at = new Date(Date.now() + 30_000).toUTCString();
    handle = json(429, {}, { 'retry-after': at });
    const dated = await failure(
      callUpstream('8x8-sms', `${base}/r`, { method: 'POST', body: '{}', timeoutMs: 2000 }),
    );
    expect(dated.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);

    handle = json(429, {});
    await expect(
      failure(callUpstream('8x8-sms', `${base}/r`, { method: 'POST', body: '{}', timeoutMs: 2000 })),
    ).resolves.toMatchObject({ kind: 'rateLimited', retryAfterMs: 1000 });
  });

  test('5xx, 408 and 425 are transient with the status and message', async () => {
    handle = json(503, { message: 'Down for maintenance' });
    const error = await failure(callUpstream('cognigy', `${base}/5`, { method: 'GET', timeoutMs: 2000 }));
    expect(error).toMatchObject({ kind: 'transient', httpStatus: 503, retryAfterMs: undefined });
    expect(error.message).toBe('cognigy answered 503: Down for maintenance');
    for (const status of [408, 425, 500]) {
      handle = (_req, res) => res.writeHead(status).end('oops');
      await expect(
        failure(callUpstream('cognigy', `${base}/t`, { method: 'GET', timeoutMs: 2000 })),
      ).resolves.toMatchObject({
        kind: 'transient',
        httpStatus: status,
        message: `cognigy answered ${status}: HTTP ${status}`,
      });
    }
  });

  test("4xx is permanent and carries 8x8's error code", async () => {
    handle = json(400, { code: 1001, message: 'Invalid destination', errorId: 'e-1' });
    const error = await failure(
      callUpstream('8x8-sms', `${base}/4`, { method: 'POST', body: '{}', timeoutMs: 2000 }),
    );
    expect(error).toMatchObject({ kind: 'permanent', httpStatus: 400, upstreamCode: 1001 });
    expect(error.message).toBe('8x8-sms answered 400: Invalid destination');

    handle = json(422, { problem: { reason: 'x', code: 'CG-7' } });
    const custom = await failure(
      callUpstream(
        '8x8-chat-gateway',
        `${base}/4`,
        { method: 'POST', body: '{}', timeoutMs: 2000 },
        (body) => (body as { problem?: { code?: string } }).problem?.code,
      ),
    );
    expect(custom).toMatchObject({ kind: 'permanent', httpStatus: 422, upstreamCode: 'CG-7' });
  });

  test('a pooled keep-alive connection does not hold the process open', async () => {
    // The server keeps idle connections for a minute, so only an unref'd client socket lets the child exit.
    server.keepAliveTimeout = 60_000;
    handle = json(200, { ok: true });
    const script = `
      const { callUpstream } = await import(${JSON.stringify(path.resolve(__dirname, '../../../functions/shared/upstream.ts'))});
      const r = await callUpstream('cognigy', ${JSON.stringify(`${base}/child`)}, { method: 'GET', timeoutMs: 5000 });
      process.stdout.write(JSON.stringify({ status: r.status, at: Date.now() }));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exitedAt = await new Promise<number>((resolve) => child.on('exit', () => resolve(Date.now())));
    const done = JSON.parse(out) as { status: number; at: number };
    expect(done.status).toBe(200);
    // Well under the agent's 4 s idle timeout and the server's minute: nothing kept the event loop alive.
    expect(exitedAt - done.at).toBeLessThan(1500);
    expect(connectionCount).toBe(1);
  }, 20_000);
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-10-21T07:27:57.000Z');
  it('measures an HTTP-date from the time it is given, not the system clock', () => {
    expect(parseRetryAfterMs('Wed, 21 Oct 2026 07:28:00 GMT', now)).toBe(3000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
  });
  it('takes seconds as they are and caps both forms', () => {
    expect(parseRetryAfterMs('2', now)).toBe(2000);
    expect(parseRetryAfterMs('86400', now)).toBe(900_000);
    expect(parseRetryAfterMs('Thu, 22 Oct 2026 07:28:00 GMT', now, 60_000)).toBe(60_000);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });
});
