/**
 * The local stand-ins' access decisions (lib/local/grants.ts): who signed a call, which resources the call touches,
 * and whether the catalogue grants them to that function.
 */
import {
  AccessDeniedError,
  LocalGrants,
  accessKeyIdOf,
  dynamoDbAccesses,
  functionOfAccessKeyId,
  sqsAccesses,
} from '../../../lib/local/grants';

const grants = new LocalGrants({
  tables: {
    messages: 'local-messages',
    conversations: 'local-conversations',
    idempotency: 'local-idempotency',
    pacer: 'local-pacer',
    optOuts: 'local-optOuts',
    smsSessions: 'local-smsSessions',
  },
  queueUrls: {
    sms: 'http://sqs.us-east-1.localhost:4566/000000000000/sms',
    smsInbound: 'http://sqs.us-east-1.localhost:4566/000000000000/smsInbound.fifo',
    handoverOutbound: 'http://sqs.us-east-1.localhost:4566/000000000000/handoverOutbound.fifo',
    handoverInbound: 'http://sqs.us-east-1.localhost:4566/000000000000/handoverInbound.fifo',
  },
  secrets: {
    smsCredentials: 'local/x/smsCredentials',
    smsWebhookAuth: 'local/x/smsWebhookAuth',
    chatGatewayCredentials: 'local/x/chatGatewayCredentials',
    cognigy: 'local/x/cognigy',
  },
});

/** The error `check` throws, or undefined when the call is allowed. */
function decision(...args: Parameters<LocalGrants['check']>): AccessDeniedError | undefined {
  try {
    grants.check(...args);
    return undefined;
  } catch (error) {
    if (error instanceof AccessDeniedError) return error;
    throw error;
  }
}

test('the signer is the access key id of the SigV4 Authorization header', () => {
  const header =
    'AWS4-HMAC-SHA256 Credential=local-sms-status/20261206/us-east-1/dynamodb/aws4_request, ' +
    'SignedHeaders=host;x-amz-date, Signature=abc';
  expect(accessKeyIdOf(header)).toBe('local-sms-status');
  expect(accessKeyIdOf(undefined)).toBeUndefined();
  expect(accessKeyIdOf('Bearer x')).toBeUndefined();
});

test('only local-<catalogue function> keys are functions; anything else is the operator', () => {
  expect(functionOfAccessKeyId('local-sms-status')).toBe('sms-status');
  expect(functionOfAccessKeyId('local')).toBeUndefined();
  expect(functionOfAccessKeyId('AKIDEXAMPLE')).toBeUndefined();
  // Keys built from inherited property names are not functions.
  expect(functionOfAccessKeyId('local-constructor')).toBeUndefined();
  expect(functionOfAccessKeyId('local-__proto__')).toBeUndefined();
});

test('DynamoDB calls name their tables in the operation’s own place', () => {
  expect(dynamoDbAccesses('DynamoDB_20120810.GetItem', { TableName: 'local-messages' })).toEqual([
    { action: 'GetItem', resource: 'local-messages' },
  ]);
  expect(
    dynamoDbAccesses('DynamoDB_20120810.Query', {
      TableName: 'arn:aws:dynamodb:us-east-1:000000000000:table/local-messages/index/byUmid',
    }),
  ).toEqual([{ action: 'Query', resource: 'local-messages' }]);
  expect(dynamoDbAccesses('DynamoDB_20120810.BatchWriteItem', { RequestItems: { a: [], b: [] } })).toEqual([
    { action: 'BatchWriteItem', resource: 'a' },
    { action: 'BatchWriteItem', resource: 'b' },
  ]);
  expect(
    dynamoDbAccesses('DynamoDB_20120810.TransactWriteItems', {
      TransactItems: [{ Put: { TableName: 'a' } }, { ConditionCheck: { TableName: 'b' } }],
    }),
  ).toEqual([
    { action: 'PutItem', resource: 'a' },
    { action: 'ConditionCheckItem', resource: 'b' },
  ]);
  expect(dynamoDbAccesses('DynamoDB_20120810.ListTables', {})).toEqual([
    { action: 'ListTables', resource: undefined },
  ]);
});

test('SQS calls name their queue in the JSON and in the query protocol', () => {
  expect(
    sqsAccesses('AmazonSQS.SendMessage', 'application/x-amz-json-1.0', '{"QueueUrl":"http://q/1/sms"}'),
  ).toEqual([{ action: 'SendMessage', resource: 'http://q/1/sms' }]);
  expect(
    sqsAccesses(
      undefined,
      'application/x-www-form-urlencoded',
      'Action=ReceiveMessage&QueueUrl=http%3A%2F%2Fq%2F1%2Fsms',
    ),
  ).toEqual([{ action: 'ReceiveMessage', resource: 'http://q/1/sms' }]);
});

test('a read-only grant reads but does not write; other tables are refused, as is a call on no table', () => {
  const read = [{ action: 'Query', resource: 'local-messages' }];
  expect(decision('local-sms-status', 'dynamodb', read)).toBeUndefined();
  const write = decision('local-sms-status', 'dynamodb', [
    { action: 'UpdateItem', resource: 'local-messages' },
  ]);
  expect(write?.action).toBe('dynamodb:UpdateItem');
  expect(write?.resource).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/local-messages');
  expect(
    decision('local-sms-status', 'dynamodb', [{ action: 'GetItem', resource: 'local-idempotency' }]),
  ).toBeInstanceOf(AccessDeniedError);
  expect(
    decision('local-sms-status', 'dynamodb', [{ action: 'ListTables', resource: undefined }])?.resource,
  ).toBe('*');
  // The operator is not restricted.
  expect(
    decision('local', 'dynamodb', [{ action: 'DeleteTable', resource: 'local-messages' }]),
  ).toBeUndefined();
});

test('batch SQS operations need the single-message permission: senders batch-send, only the consumer deletes', () => {
  const sms = 'http://sqs.us-east-1.localhost:4566/000000000000/sms';
  expect(
    decision('local-sms-accept', 'sqs', [{ action: 'SendMessageBatch', resource: sms }]),
  ).toBeUndefined();
  expect(decision('local-sms-accept', 'sqs', [{ action: 'DeleteMessageBatch', resource: sms }])?.action).toBe(
    'sqs:DeleteMessage',
  );
  expect(
    decision('local-sms-deliver', 'sqs', [{ action: 'ChangeMessageVisibilityBatch', resource: sms }]),
  ).toBeUndefined();
  expect(decision('local-sms-deliver', 'sqs', [{ action: 'SendMessage', resource: sms }])?.action).toBe(
    'sqs:SendMessage',
  );
});

test('secrets: each function reads exactly its own', () => {
  expect(
    decision('local-sms-receipt', 'secretsmanager', [
      { action: 'GetSecretValue', resource: 'local/x/smsWebhookAuth' },
    ]),
  ).toBeUndefined();
  const denied = decision('local-sms-receipt', 'secretsmanager', [
    { action: 'GetSecretValue', resource: 'local/x/smsCredentials' },
  ]);
  expect(denied?.message).toBe(
    'User: arn:aws:sts::000000000000:assumed-role/sms-receipt/sms-receipt is not authorized to perform: ' +
      'secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:local/x/smsCredentials ' +
      'because no identity-based policy allows the secretsmanager:GetSecretValue action',
  );
  expect(
    decision('local-sms-receipt', 'secretsmanager', [
      { action: 'PutSecretValue', resource: 'local/x/smsWebhookAuth' },
    ]),
  ).toBeInstanceOf(AccessDeniedError);
});
