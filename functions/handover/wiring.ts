/**
 * Wiring of the handover ports to AWS and HTTP for the Lambda handlers: one set per function instance, built on
 * first use so a function only touches the tables, queues and secrets it has rights to (functions/shared/catalogue.ts FUNCTIONS).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { pushToCognigy } from '../shared/cognigy-client';
import { loadSettings, queueUrl, tableName, type Settings } from '../shared/config';
import { loadSecret } from '../shared/secrets';
import { chatGatewayClient } from './chat-gateway-client';
import {
  systemClock,
  type ChatGateway,
  type Clock,
  type CognigyPort,
  type Ids,
  type OutboundItem,
  type OutboundQueue,
} from './ports';
import { parseHandoverRules, type HandoverRules } from './rules';
import type { CognigyConfig } from './start';
import { DynamoConversationStore } from './store';

export class SqsOutboundQueue implements OutboundQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly url: () => string,
  ) {}

  async send(item: OutboundItem, ids: { groupId: string; deduplicationId: string }): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.url(),
        MessageBody: JSON.stringify(item),
        MessageGroupId: ids.groupId,
        MessageDeduplicationId: ids.deduplicationId,
      }),
    );
  }
}

/** Cognigy Endpoint service through pushToCognigy; the default base URL comes from the `cognigy` secret. */
export function cognigyEndpoint(
  timeoutMs: number,
  config: () => Promise<CognigyConfig> = cognigySecret,
): CognigyPort {
  return {
    push: (mode, target, push) => pushToCognigy(mode, target, push, timeoutMs),
    defaultEndpointBaseUrl: async () => (await config()).endpointBaseUrl,
  };
}

export const cognigySecret = (): Promise<CognigyConfig> => loadSecret('cognigy');

export interface HandoverRuntime {
  settings: Settings;
  rules: HandoverRules;
  clock: Clock;
  ids: Ids;
  store: DynamoConversationStore;
  queue: OutboundQueue;
  chatGateway: ChatGateway;
  cognigy: CognigyPort;
  cognigyConfig: () => Promise<CognigyConfig>;
}

let runtime: HandoverRuntime | undefined;

/** The ports for this function instance (AWS clients reuse their connections across invocations). */
export function handoverRuntime(): HandoverRuntime {
  if (runtime) return runtime;
  const settings = loadSettings();
  const clock = systemClock;
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  runtime = {
    settings,
    rules: parseHandoverRules(settings.handoverRules),
    clock,
    ids: { uuid: randomUUID },
    store: new DynamoConversationStore({
      client: documents,
      tableName: tableName('conversations'),
      ttlDays: settings.recordTtlDays,
      clock,
    }),
    queue: new SqsOutboundQueue(new SQSClient({}), () => queueUrl('handoverOutbound')),
    chatGateway: chatGatewayClient(() => loadSecret('chatGatewayCredentials')),
    cognigy: cognigyEndpoint(settings.upstreamTimeoutMs),
    cognigyConfig: cognigySecret,
  };
  return runtime;
}

/** Forgets the cached wiring (tests that change the environment between cases). */
export function resetHandoverRuntime(): void {
  runtime = undefined;
}
