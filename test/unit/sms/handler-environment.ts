/**
 * What the SMS handler tests share: the catalogue's table, queue and secret variables set as the stack sets them
 * (names the tests' SDK mocks match on: `messages-table`, `sms-credentials`, …), and the AWS SDK clients mocked at
 * the SDK boundary (aws-sdk-client-mock). Handlers build their dependencies on first use, so setting the
 * environment after importing them is enough.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { mockClient } from 'aws-sdk-client-mock';
import {
  QUEUES,
  SECRETS,
  TABLES,
  type QueueName,
  type SecretName,
  type TableName,
} from '../../../functions/shared/catalogue';

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** The table name a test matches on, e.g. `opt-outs-table` for TABLES.optOuts. */
export const tableNameOf = (table: TableName): string => `${kebab(table)}-table`;

/** The queue URL a test matches on (FIFO queues end in `.fifo`, as SQS requires). */
export const queueUrlOf = (queue: QueueName): string =>
  `https://sqs.us-east-1.amazonaws.com/000000000000/${queue}${QUEUES[queue].fifo ? '.fifo' : ''}`;

/** The secret id a test matches on, e.g. `sms-webhook-auth` for SECRETS.smsWebhookAuth. */
export const secretIdOf = (secret: SecretName): string => kebab(secret);

/** Sets every SMS table, queue and secret variable of the catalogue. */
export function setSmsHandlerEnvironment(): void {
  for (const table of ['messages', 'idempotency', 'pacer', 'optOuts', 'smsSessions'] as const)
    process.env[TABLES[table].nameEnv] = tableNameOf(table);
  for (const queue of ['sms', 'smsInbound'] as const) process.env[QUEUES[queue].urlEnv] = queueUrlOf(queue);
  for (const secret of ['smsCredentials', 'smsWebhookAuth', 'cognigy'] as const)
    process.env[SECRETS[secret].nameEnv] = secretIdOf(secret);
}

/** The mocked SDK clients; `reset` clears their behaviours and calls and Powertools' cached secrets. */
export function mockSmsAwsClients() {
  const clients = {
    ddb: mockClient(DynamoDBClient),
    doc: mockClient(DynamoDBDocumentClient),
    sqs: mockClient(SQSClient),
    secrets: mockClient(SecretsManagerClient),
  };
  return {
    ...clients,
    reset(): void {
      for (const client of Object.values(clients)) client.reset();
      clearCaches();
    },
  };
}
