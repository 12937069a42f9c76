/**
 * A recording HTTP proxy for integration tests: put it between a simulator and the stack (e.g. as the Chat
 * Gateway simulator's webhook URL) to capture exact deliveries (headers and raw body) for replay, and to lose
 * answers on the way back — the request reaches the stack and is processed, but the sender sees a dropped
 * connection, as when a network hop fails after the receiver acted.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  method: string;
  /** Lower-case header names, as received (hop-by-hop headers included). */
  headers: Record<string, string>;
  /** The raw body, byte for byte. */
  body: string;
  /** The target's answer, or undefined if forwarding failed. */
  status?: number;
  responseBody?: string;
  /** The target's Content-Type header, if any. */
  responseContentType?: string;
  /** Whether the answer was withheld from the sender (connection dropped instead). */
  answerDropped: boolean;
}

export interface RecordingProxyOptions {
  /** Where requests are forwarded (full URL; the proxy's own path is ignored). */
  target: string;
  /**
   * Decides, after the target answered, whether the sender gets the answer or a dropped connection. Default: always
   * answer.
   */
  dropAnswer?: (request: CapturedRequest) => boolean;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class RecordingProxy {
  readonly captured: CapturedRequest[] = [];
  dropAnswer: (request: CapturedRequest) => boolean;
  private server: Server | undefined;
  private baseUrl = '';

  constructor(private readonly options: RecordingProxyOptions) {
    this.dropAnswer = options.dropAnswer ?? (() => false);
  }

  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void (async () => {
        const body = await readAll(req);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const captured: CapturedRequest = {
          method: req.method ?? 'POST',
          headers,
          body,
          answerDropped: false,
        };
        this.captured.push(captured);
        try {
          const response = await fetch(this.options.target, {
            method: captured.method,
            headers: Object.fromEntries(Object.entries(headers).filter(([n]) => !HOP_BY_HOP.has(n))),
            ...(captured.method === 'GET' || captured.method === 'HEAD' ? {} : { body }),
          });
          captured.status = response.status;
          captured.responseContentType = response.headers.get('content-type') ?? undefined;
          captured.responseBody = await response.text();
        } catch {
          res.socket?.destroy();
          return;
        }
        if (this.dropAnswer(captured)) {
          captured.answerDropped = true;
          res.socket?.destroy();
          return;
        }
        res.writeHead(captured.status, {
          'content-type': captured.responseContentType ?? 'application/json',
        });
        res.end(captured.responseBody);
      })().catch(() => res.socket?.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Sends a captured request again, optionally with changed headers or body (replays and forgeries). */
export async function replay(
  url: string,
  request: CapturedRequest,
  changes: { headers?: Record<string, string | undefined>; body?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...request.headers, ...changes.headers })) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const response = await fetch(url, { method: request.method, headers, body: changes.body ?? request.body });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body };
}
