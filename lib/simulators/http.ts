/**
 * Small shared pieces for the simulators: a node:http server bound to 127.0.0.1 that can hold or drop sockets
 * (timeouts and resets are faults the simulators inject), a `{param}` router, body reading, JSON answers, a waiter
 * list for "resolve when a matching thing arrives", and a seeded PRNG so chaos runs can be replayed.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export type Request = IncomingMessage;
export type Response = ServerResponse;

/** Bodies above this are refused with 413 before parsing; a 10 000-message 8x8 batch is a few MB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/** Reads the whole request body as bytes. */
export function readBody(req: Request, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLargeError(maxBytes));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Marker for a body that is not JSON (distinct from a JSON `null`). */
export const NOT_JSON: unique symbol = Symbol('not-json');

export function parseJson(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return NOT_JSON;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

export function sendJson(
  res: Response,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Drops the connection without an answer: the client sees a socket reset ("other side closed"). */
export function resetSocket(res: Response): void {
  res.socket?.destroy();
}

/** Request headers as a plain object (first value of repeated headers), lower-case names. */
export function plainHeaders(req: Request, redact: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = redact.includes(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export interface RouteContext {
  req: Request;
  res: Response;
  url: URL;
  params: Record<string, string>;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: RouteHandler;
}

export type RouteMatch =
  | { kind: 'found'; handler: RouteHandler; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

/** Matches `METHOD /a/{param}/b` patterns; a parameter never spans a `/`. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((segment) => {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (param?.[1]) {
          names.push(param[1]);
          return '([^/]+)';
        }
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({ method: method.toUpperCase(), regex: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  match(method: string, pathname: string): RouteMatch {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(pathname);
      if (!m) continue;
      if (route.method !== method.toUpperCase()) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = safeDecode(m[i + 1] ?? '');
      });
      return { kind: 'found', handler: route.handler, params };
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A node:http server on 127.0.0.1 that tracks its sockets, so `stop()` also ends connections a simulator is
 * deliberately holding open (an injected timeout) and keep-alive sockets of clients.
 */
export class SimHttpServer {
  private server: http.Server | undefined;
  private baseUrl = '';

  constructor(
    private readonly name: string,
    private readonly handle: (req: Request, res: Response) => Promise<void>,
  ) {}

  get url(): string {
    if (!this.baseUrl) throw new Error(`${this.name} is not started`);
    return this.baseUrl;
  }

  get started(): boolean {
    return this.server !== undefined;
  }

  async start(port = 0): Promise<string> {
    if (this.server) return this.baseUrl;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A simulator bug, not an injected fault: answer plainly instead of hanging the client.
        sendJson(res, 500, {
          message: `${this.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        });
      });
    });
    // Injected timeouts hold requests open for as long as the client waits; Node's own timers must not end them.
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.baseUrl = '';
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Route dispatch with plain JSON 404/405 answers; `notFound` lets a simulator answer in its upstream's format. */
export async function dispatch(
  router: Router,
  req: Request,
  res: Response,
  notFound: (res: Response, status: 404 | 405) => void,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const match = router.match(req.method ?? 'GET', url.pathname);
  if (match.kind === 'not-found') {
    req.resume();
    notFound(res, 404);
    return;
  }
  if (match.kind === 'method-not-allowed') {
    req.resume();
    res.setHeader('allow', match.allowed.join(', '));
    notFound(res, 405);
    return;
  }
  await match.handler({ req, res, url, params: match.params });
}

interface Waiter<T> {
  predicate: (item: T) => boolean;
  resolve: (item: T) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Promises that resolve when an item matching a predicate is published (or is already among `existing`). */
export class Waiters<T> {
  private readonly waiting = new Set<Waiter<T>>();

  publish(item: T): void {
    for (const waiter of this.waiting) {
      if (!waiter.predicate(item)) continue;
      clearTimeout(waiter.timer);
      this.waiting.delete(waiter);
      waiter.resolve(item);
    }
  }

  wait(predicate: (item: T) => boolean, timeoutMs: number, existing: readonly T[], what: string): Promise<T> {
    const found = existing.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      this.waiting.add(waiter);
    });
  }

  /** Rejects every pending wait (the simulator is stopping). */
  cancelAll(reason: string): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(reason));
    }
    this.waiting.clear();
  }
}

/** mulberry32: a tiny seeded PRNG so a chaos run with the same seed injects the same faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads a JSON control body; an empty body is `{}`. Returns NOT_JSON for anything unparsable. */
export async function readControlJson(req: Request): Promise<unknown> {
  const body = await readBody(req, 1024 * 1024);
  if (body.length === 0) return {};
  return parseJson(body);
}

/** A `POST /__control/...` route: the body checked against `schema` (400 with zod's reasons), then `apply`'s answer. */
export async function handleControl<S extends z.ZodType>(
  ctx: RouteContext,
  schema: S,
  apply: (body: z.infer<S>) => unknown,
): Promise<void> {
  const raw = await readControlJson(ctx.req);
  if (raw === NOT_JSON) return sendJson(ctx.res, 400, { ok: false, error: 'Body is not JSON' });
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return sendJson(ctx.res, 400, { ok: false, error: z.prettifyError(parsed.error) });
  sendJson(ctx.res, 200, apply(parsed.data));
}
