/**
 * The door in front of a wire-protocol stand-in (dynalite for DynamoDB, fauxqs for SQS): it reads each request's
 * signing access key id and target resources, refuses what the caller's catalogue grants do not allow
 * (lib/local/grants.ts) with the error AWS sends, and passes everything else through unchanged — Host header
 * included, so fauxqs names queues after this door's port and every SQS client reaches them through it.
 */
import {
  createServer,
  request as httpRequest,
  Agent,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  AccessDeniedError,
  accessKeyIdOf,
  dynamoDbAccesses,
  sqsAccesses,
  type LocalGrants,
  type ResourceAccess,
} from './grants';
import { closeServer, listenLocal } from './server';

export interface AccessFront {
  readonly url: string;
  readonly port: number;
  /** The grants to enforce; until set (while the stack creates its tables and queues) every call passes. */
  grants: LocalGrants | undefined;
  /**
   * Test hook for chaos runs: a call it answers true for is neither forwarded nor answered, as when the caller's
   * sandbox died with the call on the wire (lib/evidence/accept-kill.ts). Held calls are dropped at stop.
   */
  hold?: HoldHook;
  stop(): Promise<void>;
}

export type HoldHook = (call: {
  accessKeyId: string | undefined;
  accesses: ResourceAccess[];
  body: string;
}) => boolean;

type FrontedService = 'dynamodb' | 'sqs';

function accessesOf(service: FrontedService, req: IncomingMessage, body: Buffer): ResourceAccess[] {
  const target = req.headers['x-amz-target'] as string | undefined;
  const text = body.toString('utf8');
  if (service === 'sqs') return sqsAccesses(target, req.headers['content-type'], text);
  let parsed: unknown = {};
  try {
    parsed = JSON.parse(text || '{}');
  } catch {
    // dynalite answers a malformed body itself.
  }
  return dynamoDbAccesses(target, parsed);
}

/** AWS's AccessDenied in each service's JSON protocol (SQS adds its query-compatible error code header). */
function writeDenied(service: FrontedService, res: ServerResponse, error: AccessDeniedError): void {
  const body =
    service === 'dynamodb'
      ? { __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', message: error.message }
      : { __type: 'com.amazon.coral.service#AccessDeniedException', message: error.message };
  const payload = JSON.stringify(body);
  res.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(service === 'sqs' ? { 'x-amzn-query-error': 'AccessDenied;Sender' } : {}),
  });
  res.end(payload);
}

export async function startAccessFront(
  service: FrontedService,
  targetPort: number,
  port = 0,
): Promise<AccessFront> {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => void forward(req, res));
  const held = new Set<ServerResponse>();
  const front: AccessFront = {
    url: '',
    port: 0,
    grants: undefined,
    stop: async () => {
      for (const res of held) res.destroy();
      await closeServer(server);
      agent.destroy();
    },
  };

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // The client went away.
    }
    const body = Buffer.concat(chunks);
    const accessKeyId = accessKeyIdOf(req.headers.authorization);
    const accesses = accessesOf(service, req, body);
    try {
      front.grants?.check(accessKeyId, service, accesses);
    } catch (error) {
      if (error instanceof AccessDeniedError) return writeDenied(service, res, error);
      throw error;
    }
    if (front.hold?.({ accessKeyId, accesses, body: body.toString('utf8') })) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // A long poll the client gave up on (or a stop) ends the stand-in's side too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  }

  const bound = await listenLocal(server, port);
  return Object.assign(front, { url: `http://127.0.0.1:${bound}`, port: bound });
}
