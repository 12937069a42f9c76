/**
 * Least privilege in local mode: each function signs its AWS calls with its own access key id
 * (`local-<function>`), and the DynamoDB, SQS and Secrets Manager stand-ins allow a call only when the catalogue
 * (functions/shared/catalogue.ts FUNCTIONS and QUEUES) grants it — the same grants lib/stack.ts gives each function's
 * role, with the same IAM actions the CDK grant methods use. A call outside them is refused with AWS's
 * AccessDenied error, so a missing grant fails locally as it would in AWS. Any other access key id is the
 * operator (the stack itself, its pollers, tests, the AWS CLI) and may do anything.
 */
import {
  FUNCTIONS,
  QUEUES,
  type FunctionName,
  type QueueName,
  type SecretName,
  type TableName,
} from '../../functions/shared/catalogue';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './constants';

/** `Table.grantReadData` (aws-cdk-lib/aws-dynamodb perms: READ_DATA_ACTIONS + DESCRIBE_TABLE). */
export const DYNAMODB_READ_ACTIONS = [
  'BatchGetItem',
  'Query',
  'GetItem',
  'Scan',
  'ConditionCheckItem',
  'GetRecords',
  'GetShardIterator',
  'DescribeTable',
] as const;
/** `Table.grantReadWriteData`: the read actions plus WRITE_DATA_ACTIONS. */
export const DYNAMODB_READ_WRITE_ACTIONS = [
  ...DYNAMODB_READ_ACTIONS,
  'BatchWriteItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
] as const;
/** `Queue.grantSendMessages`. */
export const SQS_SEND_ACTIONS = ['SendMessage', 'GetQueueAttributes', 'GetQueueUrl'] as const;
/** `Queue.grantConsumeMessages`, which the SQS event source gives the queue's consumer. */
export const SQS_CONSUME_ACTIONS = [
  'ReceiveMessage',
  'ChangeMessageVisibility',
  'GetQueueUrl',
  'DeleteMessage',
  'GetQueueAttributes',
] as const;
/** `Secret.grantRead`. */
export const SECRET_READ_ACTIONS = ['GetSecretValue', 'DescribeSecret'] as const;

/** IAM authorises the batch operations with the single-message action. */
const SQS_BATCH_ACTIONS = new Map([
  ['SendMessageBatch', 'SendMessage'],
  ['DeleteMessageBatch', 'DeleteMessage'],
  ['ChangeMessageVisibilityBatch', 'ChangeMessageVisibility'],
]);

export type LocalService = 'dynamodb' | 'sqs' | 'secretsmanager';

/** The access key id a function signs with locally. */
export function functionAccessKeyId(name: FunctionName): string {
  return `local-${name}`;
}

/** The function an access key id belongs to, or undefined for the operator. */
export function functionOfAccessKeyId(accessKeyId: string | undefined): FunctionName | undefined {
  if (!accessKeyId?.startsWith('local-')) return undefined;
  const name = accessKeyId.slice('local-'.length);
  return Object.hasOwn(FUNCTIONS, name) ? (name as FunctionName) : undefined;
}

/** The access key id of a SigV4 `Authorization` header (`... Credential=<key id>/<date>/...`). */
export function accessKeyIdOf(authorization: string | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
}

/** A refused call, described as IAM describes it. */
export class AccessDeniedError extends Error {
  constructor(
    readonly functionName: FunctionName,
    readonly action: string,
    readonly resource: string,
  ) {
    super(
      `User: arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${functionName}/${functionName} is not authorized to ` +
        `perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    );
    this.name = 'AccessDeniedError';
  }
}

/** Local names of the resources, as the stack created them. */
export interface LocalResourceNames {
  tables: Record<TableName, string>;
  queueUrls: Record<QueueName, string>;
  secrets: Record<SecretName, string>;
}

/** One call's action on one resource (a batch or transaction touches several). */
export interface ResourceAccess {
  action: string;
  /** Table name, queue URL or secret name; undefined for an action on no resource (e.g. ListTables). */
  resource: string | undefined;
}

/** The catalogue's grants over the local resource names; `check` answers one call. */
export class LocalGrants {
  private readonly allowed = new Map<FunctionName, Map<string, Set<string>>>();

  constructor(names: LocalResourceNames) {
    for (const [name, spec] of Object.entries(FUNCTIONS) as [
      FunctionName,
      (typeof FUNCTIONS)[FunctionName],
    ][]) {
      const grants = new Map<string, Set<string>>();
      const add = (service: LocalService, resource: string, actions: readonly string[]) => {
        const key = `${service} ${resource}`;
        const set = grants.get(key) ?? new Set<string>();
        for (const action of actions) set.add(action);
        grants.set(key, set);
      };
      for (const [table, mode] of Object.entries(spec.tables) as [TableName, 'r' | 'rw'][]) {
        add(
          'dynamodb',
          names.tables[table],
          mode === 'rw' ? DYNAMODB_READ_WRITE_ACTIONS : DYNAMODB_READ_ACTIONS,
        );
      }
      for (const queue of spec.sendsTo) add('sqs', queueNameOf(names.queueUrls[queue]), SQS_SEND_ACTIONS);
      for (const queue of Object.keys(QUEUES) as QueueName[]) {
        if (QUEUES[queue].consumer === name)
          add('sqs', queueNameOf(names.queueUrls[queue]), SQS_CONSUME_ACTIONS);
      }
      for (const secret of spec.secrets) add('secretsmanager', names.secrets[secret], SECRET_READ_ACTIONS);
      this.allowed.set(name, grants);
    }
  }

  /** Throws AccessDeniedError when the caller is a function and any of the accesses is not granted to it. */
  check(accessKeyId: string | undefined, service: LocalService, accesses: readonly ResourceAccess[]): void {
    const functionName = functionOfAccessKeyId(accessKeyId);
    if (!functionName) return;
    const grants = this.allowed.get(functionName)!;
    for (const { action: operation, resource } of accesses) {
      const action = service === 'sqs' ? (SQS_BATCH_ACTIONS.get(operation) ?? operation) : operation;
      const key =
        resource === undefined
          ? undefined
          : `${service} ${service === 'sqs' ? queueNameOf(resource) : resource}`;
      if (key !== undefined && grants.get(key)?.has(action)) continue;
      throw new AccessDeniedError(functionName, `${service}:${action}`, this.arnOf(service, resource));
    }
  }

  private arnOf(service: LocalService, resource: string | undefined): string {
    if (resource === undefined) return '*';
    const prefix = `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}`;
    if (resource.startsWith('arn:')) return resource;
    if (service === 'dynamodb') return `${prefix}:table/${resource}`;
    if (service === 'sqs') return `${prefix}:${queueNameOf(resource)}`;
    return `${prefix}:secret:${resource}`;
  }
}

/** The queue name of a queue URL (`.../<account>/<name>`) or ARN (`...:<name>`); a bare name as it is. */
function queueNameOf(urlOrArn: string): string {
  const parts = urlOrArn.split(/[/:]/);
  return parts[parts.length - 1] ?? urlOrArn;
}

/** A table name or table/index ARN reduced to the table name. */
function tableNameOf(nameOrArn: string): string {
  const match = /^arn:[^:]*:dynamodb:[^:]*:[^:]*:table\/([^/]+)/.exec(nameOrArn);
  return match?.[1] ?? nameOrArn;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};

const TRANSACT_WRITE_ACTIONS = new Map([
  ['Put', 'PutItem'],
  ['Update', 'UpdateItem'],
  ['Delete', 'DeleteItem'],
  ['ConditionCheck', 'ConditionCheckItem'],
]);

/** The accesses of a DynamoDB JSON 1.0 call (`X-Amz-Target: DynamoDB_20120810.<Operation>`). */
export function dynamoDbAccesses(target: string | undefined, body: unknown): ResourceAccess[] {
  const operation = (target ?? '').replace(/^DynamoDB_\d+\./, '');
  const request = asObject(body);
  const tableAccess = (action: string, name: unknown): ResourceAccess => ({
    action,
    resource: typeof name === 'string' ? tableNameOf(name) : undefined,
  });
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(asObject(request.RequestItems)).map((name) => tableAccess(operation, name));
    case 'TransactGetItems':
      return asArray(request.TransactItems).map((item) =>
        tableAccess('GetItem', asObject(asObject(item).Get).TableName),
      );
    case 'TransactWriteItems':
      return asArray(request.TransactItems).flatMap((item) =>
        Object.entries(asObject(item)).map(([kind, spec]) =>
          tableAccess(TRANSACT_WRITE_ACTIONS.get(kind) ?? kind, asObject(spec).TableName),
        ),
      );
    default:
      return [tableAccess(operation, request.TableName ?? request.ResourceArn)];
  }
}

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The access of an SQS call, in the JSON protocol (`X-Amz-Target: AmazonSQS.<Action>`) or the query protocol. */
export function sqsAccesses(
  target: string | undefined,
  contentType: string | undefined,
  raw: string,
): ResourceAccess[] {
  if (target) {
    let body: Json = {};
    try {
      body = asObject(JSON.parse(raw || '{}'));
    } catch {
      // The stand-in answers a malformed body itself.
    }
    const queue = body.QueueUrl ?? body.QueueName;
    return [
      { action: target.replace(/^AmazonSQS\./, ''), resource: typeof queue === 'string' ? queue : undefined },
    ];
  }
  if (contentType?.includes('x-www-form-urlencoded')) {
    const form = new URLSearchParams(raw);
    return [
      {
        action: form.get('Action') ?? '',
        resource: form.get('QueueUrl') ?? form.get('QueueName') ?? undefined,
      },
    ];
  }
  return [{ action: '', resource: undefined }];
}
