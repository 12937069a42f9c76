/**
 * A recording HTTP proxy for the chaos run, put between the bridge and a simulator. It records, per request, what
 * the upstream answered and whether that answer reached the caller: a caller that gave up first (its timeout) saw
 * no answer, even though the upstream acted on the request. That is the one case in which a retry duplicates a
 * side effect without any fault of the retrying side, so the invariants need to know it.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { LocalHttpServer } from '../local/server';

export interface ProxiedCall {
  method: string;
  path: string;
  /** Request body as text. */
  body: string;
  /** The upstream's status, or undefined when it did not answer. */
  status?: number;
  /** The caller received the whole answer. */
  answered: boolean;
  startedAt: number;
  endedAt?: number;
}

export class RecordingProxy {
  readonly calls: ProxiedCall[] = [];
  // No grace on stop: a call still in flight is cut, as the network would.
  private readonly http = new LocalHttpServer('The recording proxy', (req, res) => this.forward(req, res), {
    closeGraceMs: 0,
  });
  private readonly target: URL;

  constructor(target: string) {
    this.target = new URL(target);
  }

  get url(): string {
    return this.http.url;
  }

  start(): Promise<string> {
    return this.http.start();
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = this.target;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const call: ProxiedCall = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        body: body.toString('utf8'),
        answered: false,
        startedAt: Date.now(),
      };
      this.calls.push(call);
      res.on('close', () => {
        call.answered = res.writableFinished;
        call.endedAt = Date.now();
      });
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (answer: IncomingMessage) => {
          call.status = answer.statusCode;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      // The caller gave up: so does the proxy, as the real network would drop the connection.
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  }
}
