/**
 * The local console (`npm start` → http://127.0.0.1:3000/console; `/` redirects there): one page to watch and drive
 * the whole local system. Mounted on the local gateway's port (lib/local/gateway.ts `mount`) under paths no catalogue
 * route uses:
 *
 *   GET  /console                    the page, rendered on the server
 *   GET  /console/events             Server-Sent Events: HTML fragments whenever what the page shows changes
 *   POST /console/actions/{action}   send an SMS, text the bridge from a handset, start a handover, type as the user
 *                                    or the agent, join/transfer/leave
 *
 * It reads and acts only over HTTP (lib/local/console/sources.ts, actions.ts). The page can send SMS and chat with
 * the local API key, so it answers only requests addressed to the loopback host (no DNS rebinding, not through a
 * PUBLIC_BASE_URL tunnel), and actions only with the page's own token in `x-console-token` (no cross-site posts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayPages } from '../gateway';
import { ConsoleActionError, ConsoleActions, isActionName } from './actions';
import { escapeHtml, renderFragments, renderPage, type ConsoleFragments } from './render';
import { ConsoleSources, type ConsoleTargets } from './sources';

export const CONSOLE_PATH = '/console';
const MAX_ACTION_BODY_BYTES = 64 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface LocalConsoleOptions {
  /** Pause between two reads of the sources while a page is open. Default 300 ms. */
  intervalMs?: number;
  /** `simulator` or `real` per upstream, shown in the page header. */
  services?: { sms: string; chatGateway: string; cognigy: string };
}

type Update = Partial<ConsoleFragments>;

export class LocalConsole implements GatewayPages {
  /** Proves a POST comes from the console's own page (which a page of another site cannot read). */
  readonly token = randomBytes(24).toString('base64url');
  private readonly sources: ConsoleSources;
  private readonly actions: ConsoleActions;
  private readonly intervalMs: number;
  private readonly clients = new Set<ServerResponse>();
  private latest: ConsoleFragments | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    readonly targets: ConsoleTargets,
    private readonly options: LocalConsoleOptions = {},
  ) {
    this.sources = new ConsoleSources(targets);
    this.actions = new ConsoleActions(this.sources);
    this.intervalMs = options.intervalMs ?? 300;
  }

  handles(pathname: string): boolean {
    return pathname === '/' || pathname === CONSOLE_PATH || pathname.startsWith(`${CONSOLE_PATH}/`);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (!this.loopbackHost(req.headers.host)) {
      req.resume();
      return sendError(
        res,
        403,
        'CONSOLE_FORBIDDEN',
        'The console answers only on the loopback address it listens on',
      );
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/' || path === CONSOLE_PATH) {
      if (method !== 'GET') return notAllowed(req, res, 'GET');
      if (path === '/') {
        res.writeHead(302, { location: CONSOLE_PATH, 'content-length': '0' });
        res.end();
        return 302;
      }
      return this.page(res);
    }
    if (path === `${CONSOLE_PATH}/events`) {
      if (method !== 'GET') return notAllowed(req, res, 'GET');
      return this.stream(req, res);
    }
    const action = /^\/console\/actions\/([^/]+)$/.exec(path)?.[1];
    if (action !== undefined) {
      if (method !== 'POST') return notAllowed(req, res, 'POST');
      return this.act(req, res, decodeURIComponent(action));
    }
    req.resume();
    return sendError(res, 404, 'ROUTE_NOT_FOUND', `No console page ${url.pathname}`);
  }

  /** Ends the live streams and stops reading (the stack is stopping). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private loopbackHost(host: string | undefined): boolean {
    if (!host) return false;
    const port = new URL(this.targets.gateway).port;
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
    return !!match && LOOPBACK_HOSTS.has(match[1] as string) && (match[2] ?? '80') === port;
  }

  private async page(res: ServerResponse): Promise<number> {
    const nonce = randomBytes(16).toString('base64');
    const snapshot = await this.sources.read();
    const body = renderPage({
      token: this.token,
      nonce,
      snapshot,
      services: this.options.services ?? {
        sms: this.targets.sms ? 'simulator' : 'real',
        chatGateway: this.targets.chatGateway ? 'simulator' : 'real',
        cognigy: this.targets.cognigy ? 'simulator' : 'real',
      },
    });
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...securityHeaders(),
      'content-security-policy': [
        "default-src 'none'",
        `script-src 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "connect-src 'self'",
        // data: for the empty favicon, so the browser does not ask the gateway for /favicon.ico.
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    });
    res.end(body);
    return 200;
  }

  private stream(req: IncomingMessage, res: ServerResponse): number {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      ...securityHeaders(),
    });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    req.on('close', () => {
      this.clients.delete(res);
    });
    if (this.latest) send(res, this.latest);
    this.refreshSoon(0);
    return 200;
  }

  private async act(req: IncomingMessage, res: ServerResponse, action: string): Promise<number> {
    const origin = req.headers.origin;
    const tokenOk = req.headers['x-console-token'] === this.token;
    if (!tokenOk || (origin !== undefined && !this.loopbackOrigin(origin))) {
      req.resume();
      return sendError(
        res,
        403,
        'CONSOLE_FORBIDDEN',
        "Console actions need the console page's token (x-console-token)",
      );
    }
    if (!isActionName(action)) {
      req.resume();
      return sendError(res, 404, 'ROUTE_NOT_FOUND', `No console action ${action}`);
    }
    const bytes = await readLimited(req, MAX_ACTION_BODY_BYTES);
    if (!bytes)
      return sendError(
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `The body is larger than ${MAX_ACTION_BODY_BYTES} bytes`,
      );
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch {
      return sendError(res, 400, 'MALFORMED_JSON', 'The body is not valid JSON');
    }
    try {
      const answer = await this.actions.run(action, raw);
      this.refreshSoon(0);
      return sendJson(res, 200, answer);
    } catch (error) {
      if (error instanceof ConsoleActionError) return sendError(res, error.status, error.code, error.message);
      throw error;
    }
  }

  private loopbackOrigin(origin: string): boolean {
    try {
      return this.loopbackHost(new URL(origin).host);
    } catch {
      return false;
    }
  }

  /** Reads the sources after `delayMs` (while a page listens) and sends each page what changed. */
  private refreshSoon(delayMs = this.intervalMs): void {
    if (this.closed || this.clients.size === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reading = this.refresh().finally(() => {
        this.reading = undefined;
        const again = this.again;
        this.again = false;
        this.refreshSoon(again ? 0 : this.intervalMs);
      });
    }, delayMs);
  }

  private async refresh(): Promise<void> {
    let next: ConsoleFragments;
    try {
      next = renderFragments(await this.sources.read());
    } catch (error) {
      next = {
        ...(this.latest ?? emptyFragments()),
        problems: `<li>console: ${escapeHtml(error instanceof Error ? error.message : error)}</li>`,
      };
    }
    const previous = this.latest;
    this.latest = next;
    const update: Update = {};
    for (const key of ['outbox', 'webhooks', 'problems'] as const) {
      if (previous?.[key] !== next[key]) update[key] = next[key];
    }
    if (JSON.stringify(previous?.handset) !== JSON.stringify(next.handset)) update.handset = next.handset;
    if (JSON.stringify(previous?.conversations) !== JSON.stringify(next.conversations))
      update.conversations = next.conversations;
    if (Object.keys(update).length === 0) return;
    for (const client of this.clients) send(client, update);
  }
}

function emptyFragments(): ConsoleFragments {
  return {
    outbox: '',
    handset: { number: '', log: '', numbers: '' },
    webhooks: '',
    problems: '',
    conversations: [],
  };
}

function send(res: ServerResponse, update: Update): void {
  res.write(`event: state\ndata: ${JSON.stringify(update)}\n\n`);
}

function securityHeaders(): Record<string, string> {
  return {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...securityHeaders(),
  });
  res.end(text);
  return status;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): number {
  return sendJson(res, status, { ok: false, error: { code, message } });
}

function notAllowed(req: IncomingMessage, res: ServerResponse, allow: string): number {
  req.resume();
  res.setHeader('allow', allow);
  return sendError(res, 405, 'METHOD_NOT_ALLOWED', `Use ${allow}`);
}

/** The body, or undefined when it is larger than `maxBytes` (the rest is read and dropped). */
async function readLimited(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  return size > maxBytes ? undefined : Buffer.concat(chunks);
}
