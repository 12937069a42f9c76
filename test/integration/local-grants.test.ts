/**
 * Local = cloud for least privilege: on the real local stack each function runs in its own sandbox with only the
 * environment the catalogue gives it, signs as `local-<function>`, and the DynamoDB, SQS and Secrets Manager
 * stand-ins refuse what its catalogue grants do not allow with AWS's AccessDenied error.
 */
import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  BatchGetItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  FUNCTIONS,
  QUEUES,
  SECRETS,
  TABLES,
  type FunctionName,
  type QueueName,
  type SecretName,
  type TableName,
} from '../../functions/shared/catalogue';
import { LOCAL_REGION } from '../../lib/local/constants';
import { functionAccessKeyId } from '../../lib/local/grants';
import { UnknownSettingError, type LocalStack } from '../../lib/local/stack';
import { startTestStack } from '../helpers/local';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

/** SDK clients signing as the function would (its access key id), straight to the stand-ins. */
function credentialsOf(fn: FunctionName | 'operator') {
  return {
    region: LOCAL_REGION,
    credentials: {
      accessKeyId: fn === 'operator' ? 'local' : functionAccessKeyId(fn),
      secretAccessKey: 'local',
    },
    maxAttempts: 1,
  };
}
const dynamoAs = (fn: FunctionName) =>
  new DynamoDBClient({ ...credentialsOf(fn), endpoint: stack.urls.dynamodb });
const sqsAs = (fn: FunctionName) =>
  new SQSClient({ ...credentialsOf(fn), endpoint: stack.urls.sqs, useQueueUrlAsEndpoint: false });
const secretsAs = (fn: FunctionName) =>
  new SecretsManagerClient({ ...credentialsOf(fn), endpoint: stack.urls.secretsManager });

/** The names of the resource variables a function must have: exactly its catalogue grants. */
function grantedVariables(fn: FunctionName): Set<string> {
  const spec = FUNCTIONS[fn];
  const names = new Set<string>();
  for (const table of Object.keys(spec.tables) as TableName[]) names.add(TABLES[table].nameEnv);
  for (const queue of spec.sendsTo) names.add(QUEUES[queue].urlEnv);
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    if (QUEUES[queue].consumer === fn) names.add(QUEUES[queue].urlEnv);
  }
  for (const secret of spec.secrets) names.add(SECRETS[secret].nameEnv);
  return names;
}

const resourceVariables = [
  ...Object.values(TABLES).map((t) => t.nameEnv),
  ...Object.values(QUEUES).map((q) => q.urlEnv),
  ...Object.values(SECRETS).map((s) => s.nameEnv),
];

async function refusal(call: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  const outcome = await call.then(
    () => undefined,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: error.name,
      status: error.$metadata?.httpStatusCode,
      message: error.message,
    }),
  );
  if (!outcome) throw new Error('The call was allowed');
  return outcome;
}

describe('each function runs with only its own environment', () => {
  test.each(Object.keys(FUNCTIONS) as FunctionName[])(
    '%s sees exactly its granted tables, queues and secrets, and its own identity',
    async (fn) => {
      const seen = await stack.sandboxEnvironment(fn);
      const granted = grantedVariables(fn);
      expect(resourceVariables.filter((name) => Object.hasOwn(seen, name)).sort()).toEqual(
        [...granted].sort(),
      );
      // Nothing more than what the stack gives it, and nothing of this (test) process's environment; Powertools
      // sets its user-agent marker itself when the function loads, in the function's own copy.
      const { AWS_SDK_UA_APP_ID: _setByPowertools, ...given } = seen;
      expect(given).toEqual(stack.functionEnvironment(fn));
      expect(seen.AWS_ACCESS_KEY_ID).toBe(`local-${fn}`);
      expect(seen.AWS_LAMBDA_FUNCTION_NAME).toBe(fn);
      expect(seen.POWERTOOLS_SERVICE_NAME).toBe(fn);
      expect(seen.JEST_WORKER_ID).toBeUndefined();
    },
  );

  test('sms-status has its table and nothing else: no queue URL, no secret names', async () => {
    const seen = await stack.sandboxEnvironment('sms-status');
    expect(seen[TABLES.messages.nameEnv]).toBe(stack.tables.messages);
    for (const name of [
      QUEUES.sms.urlEnv,
      TABLES.idempotency.nameEnv,
      TABLES.conversations.nameEnv,
      ...Object.values(SECRETS).map((s) => s.nameEnv),
    ]) {
      expect([name, seen[name]]).toEqual([name, undefined]);
    }
  });

  test('the consumer alone learns its queue’s max receive count; this process’s environment is untouched', async () => {
    const deliver = await stack.sandboxEnvironment('sms-deliver');
    const accept = await stack.sandboxEnvironment('sms-accept');
    expect(deliver.SMS_QUEUE_MAX_RECEIVE_COUNT).toBe(String(QUEUES.sms.maxReceiveCount));
    expect(accept.SMS_QUEUE_MAX_RECEIVE_COUNT).toBeUndefined();
    expect(accept.SMS_QUEUE_URL).toBe(stack.queues.sms.url);
    expect(process.env[TABLES.messages.nameEnv]).toBeUndefined();
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBeUndefined();
  });

  test('a settings update reaches only that function, in a new sandbox; resource variables are not settings', async () => {
    stack.updateFunctionSettings('sms-status', { UPSTREAM_TIMEOUT_MS: '1234' });
    try {
      expect((await stack.sandboxEnvironment('sms-status')).UPSTREAM_TIMEOUT_MS).toBe('1234');
      expect((await stack.sandboxEnvironment('sms-accept')).UPSTREAM_TIMEOUT_MS).toBeUndefined();
    } finally {
      stack.updateFunctionSettings('sms-status', { UPSTREAM_TIMEOUT_MS: undefined });
    }
    expect((await stack.sandboxEnvironment('sms-status')).UPSTREAM_TIMEOUT_MS).toBeUndefined();
    // A grant is not a setting: the catalogue alone decides which queue URL a function learns.
    expect(() =>
      stack.updateFunctionSettings('sms-status', { [QUEUES.sms.urlEnv]: stack.queues.sms.url }),
    ).toThrow(UnknownSettingError);
  });

  test('two functions at once keep their own environments', async () => {
    const [status, webhook] = await Promise.all([
      stack.sandboxEnvironment('sms-status'),
      stack.sandboxEnvironment('handover-webhook'),
    ]);
    expect([status.AWS_ACCESS_KEY_ID, webhook.AWS_ACCESS_KEY_ID]).toEqual([
      'local-sms-status',
      'local-handover-webhook',
    ]);
    expect(webhook[QUEUES.handoverInbound.urlEnv]).toBe(stack.queues.handoverInbound.url);
    expect(status[QUEUES.handoverInbound.urlEnv]).toBeUndefined();
  });
});

describe('the stand-ins refuse what a function was not granted', () => {
  const key = (id: string) => ({ messageId: { S: id } });

  test('DynamoDB: sms-status may read its table but not write it, nor read another', async () => {
    const client = dynamoAs('sms-status');
    try {
      const read = await client.send(
        new GetItemCommand({ TableName: stack.tables.messages, Key: key(randomUUID()) }),
      );
      expect(read.Item).toBeUndefined();

      const write = await refusal(
        client.send(new PutItemCommand({ TableName: stack.tables.messages, Item: key(randomUUID()) })),
      );
      expect(write).toEqual({
        name: 'AccessDeniedException',
        status: 400,
        message:
          'User: arn:aws:sts::000000000000:assumed-role/sms-status/sms-status is not authorized to perform: ' +
          `dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${stack.tables.messages} ` +
          'because no identity-based policy allows the dynamodb:PutItem action',
      });

      const other = await refusal(
        client.send(
          new GetItemCommand({
            TableName: stack.tables.conversations,
            Key: { conversationId: { S: randomUUID() } },
          }),
        ),
      );
      expect(other.name).toBe('AccessDeniedException');
      expect(other.message).toContain(
        `dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${stack.tables.conversations}`,
      );

      // A batch is refused as a whole when one of its tables is not granted.
      const batch = await refusal(
        client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [stack.tables.messages]: { Keys: [key(randomUUID())] },
              [stack.tables.idempotency]: { Keys: [{ id: { S: randomUUID() } }] },
            },
          }),
        ),
      );
      expect(batch.name).toBe('AccessDeniedException');
      expect(batch.message).toContain(`table/${stack.tables.idempotency}`);
    } finally {
      client.destroy();
    }
  });

  test('SQS: sms-status may not send to the SMS queue; sms-accept may send but only sms-deliver may receive', async () => {
    const status = sqsAs('sms-status');
    const accept = sqsAs('sms-accept');
    try {
      const send = await refusal(
        status.send(new SendMessageCommand({ QueueUrl: stack.queues.sms.url, MessageBody: '{}' })),
      );
      // SQS is query-compatible: the SDK names the error after the legacy code in x-amzn-query-error, as in AWS.
      expect(send.name).toBe('AccessDenied');
      expect(send.status).toBe(400);
      expect(send.message).toContain(
        'sms-status is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:sms',
      );

      // Configured as the function's own client is (its endpoint variable, following the queue URL's host): the
      // queue URLs lead through the same check, so no function can go around it.
      const asFunction = new SQSClient({
        ...credentialsOf('sms-status'),
        endpoint: stack.functionEnvironment('sms-status').AWS_ENDPOINT_URL_SQS,
      });
      try {
        const direct = await refusal(
          asFunction.send(new SendMessageCommand({ QueueUrl: stack.queues.sms.url, MessageBody: '{}' })),
        );
        expect(direct.name).toBe('AccessDenied');
      } finally {
        asFunction.destroy();
      }

      const attributes = await accept.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queues.sms.url, AttributeNames: ['QueueArn'] }),
      );
      expect(attributes.Attributes?.QueueArn).toBe('arn:aws:sqs:us-east-1:000000000000:sms');

      const receive = await refusal(
        accept.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.sms.url, WaitTimeSeconds: 0 })),
      );
      expect(receive.name).toBe('AccessDenied');
      expect(receive.message).toContain('sqs:ReceiveMessage');
    } finally {
      status.destroy();
      accept.destroy();
    }
  });

  test('Secrets Manager: sms-status reads no secret; sms-deliver reads the 8x8 credentials', async () => {
    const status = secretsAs('sms-status');
    const deliver = secretsAs('sms-deliver');
    const secretId = (secret: SecretName) => stack.secretNames[secret];
    try {
      const denied = await refusal(
        status.send(new GetSecretValueCommand({ SecretId: secretId('smsCredentials') })),
      );
      expect(denied).toEqual({
        name: 'AccessDeniedException',
        status: 400,
        message: expect.stringContaining(
          `sms-status is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:${secretId('smsCredentials')}`,
        ),
      });
      // The value never appears in the refusal.
      expect(denied.message).not.toContain(
        stack.secretsManager.getSecretString(secretId('smsCredentials')) ?? '{',
      );

      const granted = await deliver.send(new GetSecretValueCommand({ SecretId: secretId('smsCredentials') }));
      expect(JSON.parse(granted.SecretString ?? '{}')).toHaveProperty('subAccountId');
      // Its grants stop at its own secrets.
      const other = await refusal(
        deliver.send(new GetSecretValueCommand({ SecretId: secretId('chatGatewayCredentials') })),
      );
      expect(other.name).toBe('AccessDeniedException');
    } finally {
      status.destroy();
      deliver.destroy();
    }
  });

  test('the operator (the stack and tests) keeps full access', async () => {
    const client = new DynamoDBClient({ ...credentialsOf('operator'), endpoint: stack.urls.dynamodb });
    try {
      const id = randomUUID();
      await client.send(
        new PutItemCommand({ TableName: stack.tables.conversations, Item: { conversationId: { S: id } } }),
      );
      const read = await client.send(
        new GetItemCommand({ TableName: stack.tables.conversations, Key: { conversationId: { S: id } } }),
      );
      expect(read.Item?.conversationId?.S).toBe(id);
    } finally {
      client.destroy();
    }
  });
});
