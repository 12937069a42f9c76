/**
 * A small Secrets Manager stand-in speaking the service's JSON 1.1 protocol (POST /, `X-Amz-Target:
 * secretsmanager.<Operation>`), so the functions read secrets through Powertools Parameters and the real
 * SecretsManagerClient, reached via AWS_ENDPOINT_URL_SECRETS_MANAGER. Version stages follow the service:
 * a put moves AWSCURRENT to the new version and AWSPREVIOUS to the one it replaced.
 * Secret values are never logged or echoed in errors. With `grants` set, a function may only read the secrets the
 * catalogue grants it (lib/local/grants.ts); anything else is AccessDeniedException, as in AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './constants';
import { AccessDeniedError, accessKeyIdOf, type LocalGrants } from './grants';
import { closeServer, listenLocal } from './server';

interface SecretVersion {
  versionId: string;
  secretString: string;
  stages: Set<string>;
  createdDate: Date;
}

interface StoredSecret {
  name: string;
  arn: string;
  createdDate: Date;
  versions: SecretVersion[];
}

/** A protocol-level error: `__type` tells the SDK which exception class to raise. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

const notFound = () =>
  new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const MAX_REQUEST_BYTES = 1_048_576;

export interface PutResult {
  arn: string;
  name: string;
  versionId: string;
}

export class SecretsManagerStandIn {
  private readonly secrets = new Map<string, StoredSecret>();
  private server: Server | undefined;
  private baseUrl = '';
  /** The grants to enforce; unset, every caller may do everything (the stack's own writes come first). */
  grants: LocalGrants | undefined;

  constructor(
    private readonly region: string = LOCAL_REGION,
    private readonly accountId: string = LOCAL_ACCOUNT_ID,
  ) {}

  get url(): string {
    if (!this.baseUrl) throw new Error('The Secrets Manager stand-in is not started');
    return this.baseUrl;
  }

  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    const bound = await listenLocal(server, port);
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${bound}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }

  /** Creates the secret or adds a new AWSCURRENT version (in-process equivalent of Create/PutSecretValue). */
  setSecret(name: string, value: string | object): PutResult {
    const secretString = typeof value === 'string' ? value : JSON.stringify(value);
    const existing = this.secrets.get(name);
    if (existing) return this.putVersion(existing, secretString);
    return this.create(name, secretString);
  }

  /** The current value, for tests that check what the stack wrote. */
  getSecretString(nameOrArn: string): string | undefined {
    const secret = this.find(nameOrArn);
    return secret?.versions.find((v) => v.stages.has('AWSCURRENT'))?.secretString;
  }

  private create(name: string, secretString: string, versionId: string = randomUUID()): PutResult {
    // Real ARNs end in a dash and six random characters; code that builds ARNs from names would break here too.
    const arn = `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomBytes(3).toString('hex')}`;
    const now = new Date();
    this.secrets.set(name, {
      name,
      arn,
      createdDate: now,
      versions: [{ versionId, secretString, stages: new Set(['AWSCURRENT']), createdDate: now }],
    });
    return { arn, name, versionId };
  }

  private putVersion(
    secret: StoredSecret,
    secretString: string,
    versionId: string = randomUUID(),
  ): PutResult {
    const sameToken = secret.versions.find((v) => v.versionId === versionId);
    if (sameToken) {
      // ClientRequestToken makes the put idempotent; reusing it with another value is refused like the service.
      if (sameToken.secretString !== secretString) {
        throw new ServiceError(
          'ResourceExistsException',
          'A version with this ClientRequestToken already exists.',
        );
      }
      return { arn: secret.arn, name: secret.name, versionId };
    }
    for (const version of secret.versions) {
      version.stages.delete('AWSPREVIOUS');
      if (version.stages.delete('AWSCURRENT')) version.stages.add('AWSPREVIOUS');
    }
    secret.versions.push({
      versionId,
      secretString,
      stages: new Set(['AWSCURRENT']),
      createdDate: new Date(),
    });
    // Versions without a stage are deprecated; the service eventually removes them.
    secret.versions = secret.versions.filter((v) => v.stages.size > 0);
    return { arn: secret.arn, name: secret.name, versionId };
  }

  private find(secretId: string): StoredSecret | undefined {
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const secret of this.secrets.values()) if (secret.arn === secretId) return secret;
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST')
        throw new ServiceError('UnknownOperationException', 'Only POST is supported', 404);
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
      const input = await readJson(req);
      this.authorize(req, operation, input);
      send(res, 200, this.dispatch(operation, input));
    } catch (error) {
      const serviceError =
        error instanceof ServiceError
          ? error
          : new ServiceError('InternalServiceError', 'Internal error', 500);
      res.setHeader('x-amzn-errortype', serviceError.type);
      send(res, serviceError.status, { __type: serviceError.type, message: serviceError.message });
    }
  }

  /** IAM decides before the service looks the secret up, so an ungranted missing secret is also AccessDenied. */
  private authorize(req: IncomingMessage, operation: string, input: Record<string, unknown>): void {
    if (!this.grants) return;
    const id = optionalString(input, 'SecretId') ?? optionalString(input, 'Name');
    try {
      this.grants.check(accessKeyIdOf(req.headers.authorization), 'secretsmanager', [
        { action: operation, resource: id === undefined ? undefined : (this.find(id)?.name ?? id) },
      ]);
    } catch (error) {
      if (error instanceof AccessDeniedError) throw new ServiceError('AccessDeniedException', error.message);
      throw error;
    }
  }

  private dispatch(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (operation) {
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'CreateSecret':
        return this.createSecret(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      default:
        throw new ServiceError(
          'UnknownOperationException',
          `The operation ${operation || '(none)'} is not supported`,
        );
    }
  }

  private getSecretValue(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(requireString(input, 'SecretId'));
    if (!secret) throw notFound();
    const versionId = optionalString(input, 'VersionId');
    const stage = optionalString(input, 'VersionStage') ?? (versionId ? undefined : 'AWSCURRENT');
    const version = secret.versions.find(
      (v) => (!versionId || v.versionId === versionId) && (!stage || v.stages.has(stage)),
    );
    if (!version) {
      throw new ServiceError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret value for the requested version or staging label.",
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: version.secretString,
      VersionId: version.versionId,
      VersionStages: [...version.stages],
      CreatedDate: version.createdDate.getTime() / 1000,
    };
  }

  private putSecretValue(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(requireString(input, 'SecretId'));
    if (!secret) throw notFound();
    const result = this.putVersion(
      secret,
      requireString(input, 'SecretString'),
      optionalString(input, 'ClientRequestToken'),
    );
    const stages = [...(secret.versions.find((v) => v.versionId === result.versionId)?.stages ?? [])];
    return { ARN: result.arn, Name: result.name, VersionId: result.versionId, VersionStages: stages };
  }

  private createSecret(input: Record<string, unknown>): Record<string, unknown> {
    const name = requireString(input, 'Name');
    if (this.secrets.has(name)) {
      throw new ServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const secretString = optionalString(input, 'SecretString');
    if (secretString === undefined) {
      throw new ServiceError(
        'InvalidParameterException',
        'This stand-in needs SecretString on CreateSecret.',
      );
    }
    const result = this.create(name, secretString, optionalString(input, 'ClientRequestToken'));
    return { ARN: result.arn, Name: result.name, VersionId: result.versionId };
  }

  private describeSecret(input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(requireString(input, 'SecretId'));
    if (!secret) throw notFound();
    return {
      ARN: secret.arn,
      Name: secret.name,
      CreatedDate: secret.createdDate.getTime() / 1000,
      VersionIdsToStages: Object.fromEntries(secret.versions.map((v) => [v.versionId, [...v.stages]])),
    };
  }
}

function requireString(input: Record<string, unknown>, key: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value === '') {
    throw new ServiceError('InvalidParameterException', `${key} is required`);
  }
  return value;
}

function optionalString(input: Record<string, unknown>, key: string): string | undefined {
  const value = input[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) throw new ServiceError('InvalidRequestException', 'Request too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new ServiceError('SerializationException', 'The request body is not a JSON object');
  }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}
