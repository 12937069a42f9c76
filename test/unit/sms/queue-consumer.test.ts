/** The prepareBatch hook of functions/shared/queue-consumer.ts (added for batched SMS delivery). */
import '../../helpers/env';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { queueConsumer, type BatchItem } from '../../../functions/shared/queue-consumer';
import { QUEUES } from '../../../functions/shared/catalogue';

process.env.SMS_QUEUE_URL = 'https://sqs.example/sms';
const sqs = mockClient(SQSClient);
beforeEach(() => sqs.reset());

const context = {
  functionName: 'sms-deliver',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

function sqsRecord(id: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:sms',
    awsRegion: 'us-east-1',
  };
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const policy = { baseDelaySeconds: 2, maxDelaySeconds: 300 };

test('prepareBatch sees every JSON body once, before any record, and each handler gets its result', async () => {
  const order: string[] = [];
  const seen: BatchItem[][] = [];
  const handler = queueConsumer<Map<string, string>>({
    queue: 'sms',
    retryPolicy: policy,
    sqs: new SQSClient({}),
    prepareBatch: async (items) => {
      order.push('prepare');
      seen.push(items);
      return new Map(
        items.map((item) => [(item.body as { k: string }).k, `prepared-${(item.body as { k: string }).k}`]),
      );
    },
    handleRecord: async (body, ctx) => {
      const key = (body as { k: string }).k;
      order.push(`handle-${key}`);
      if (ctx.prepared?.get(key) !== `prepared-${key}`) throw new Error('prepared result missing');
      if (key === 'b') throw new Error('retry b');
    },
  });
  const result = await handler(
    event(sqsRecord('1', '{"k":"a"}'), sqsRecord('2', '{"k":"b"}'), sqsRecord('3', 'not json')),
    context,
  );

  expect(order[0]).toBe('prepare');
  expect(seen[0]?.map((i) => i.body)).toEqual([{ k: 'a' }, { k: 'b' }]);
  expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['2', '3']);
  expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityCommand, { ReceiptHandle: 'rh-2' });
});

test('a failing prepareBatch does not fail the records: they are handled without it', async () => {
  const prepared: unknown[] = [];
  const handler = queueConsumer<string>({
    queue: 'sms',
    retryPolicy: policy,
    sqs: new SQSClient({}),
    prepareBatch: async () => Promise.reject(new Error('8x8 credentials unavailable')),
    handleRecord: async (_body, ctx) => {
      prepared.push(ctx.prepared);
    },
  });
  const result = await handler(event(sqsRecord('1', '{}'), sqsRecord('2', '{}')), context);
  expect(result.batchItemFailures).toEqual([]);
  expect(prepared).toEqual([undefined, undefined]);
});

test('on the last receive, onExhausted runs instead of a redelivery delay', async () => {
  const exhausted: unknown[] = [];
  const handler = queueConsumer({
    queue: 'sms',
    retryPolicy: policy,
    sqs: new SQSClient({}),
    handleRecord: async () => Promise.reject(new Error('still failing')),
    onExhausted: async (body, error) => {
      exhausted.push([body, (error as Error).message]);
    },
  });
  const last = QUEUES.sms.maxReceiveCount;
  const result = await handler(event(sqsRecord('1', '{"messageId":"m"}', last)), context);
  expect(exhausted).toEqual([[{ messageId: 'm' }, 'still failing']]);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
  expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
});
