/** node:http helpers shared by the local stand-ins: loopback-only listening and a close that does not hang. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 (port 0 = a free one) and resolves with the bound port. */
export function listenLocal(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops accepting connections and closes idle keep-alive sockets at once; requests in progress get a short
 * grace period to finish before their sockets are closed too, so stop() never waits on a client.
 */
export function closeServer(server: Server, graceMs = 1_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const grace = setTimeout(() => server.closeAllConnections(), graceMs);
    grace.unref();
    server.close((error) => {
      clearTimeout(grace);
      if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

export interface LocalHttpServerOptions {
  /** Node's default is 5 s. */
  keepAliveTimeoutMs?: number;
  /** 0: no limit (a simulator holding a request open for an injected timeout). */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** How long requests in progress may finish on stop() (closeServer); 0 cuts them at once. */
  closeGraceMs?: number;
}

/**
 * An HTTP server on 127.0.0.1 for the local stand-ins, the simulators and the evidence proxies: started on a port
 * (0 = a free one), its URL, stopped without hanging.
 */
export class LocalHttpServer {
  private server: Server | undefined;
  private baseUrl = '';

  constructor(
    /** Names it in "… is not started". */
    private readonly name: string,
    private readonly listener: RequestListener,
    private readonly options: LocalHttpServerOptions = {},
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
    const server = createServer(this.listener);
    const { keepAliveTimeoutMs, requestTimeoutMs, headersTimeoutMs } = this.options;
    if (keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = keepAliveTimeoutMs;
    if (requestTimeoutMs !== undefined) server.requestTimeout = requestTimeoutMs;
    if (headersTimeoutMs !== undefined) server.headersTimeout = headersTimeoutMs;
    const bound = await listenLocal(server, port);
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${bound}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.baseUrl = '';
    if (server) await closeServer(server, this.options.closeGraceMs);
  }
}
