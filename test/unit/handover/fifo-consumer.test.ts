/**
 * The FIFO path of functions/shared/queue-consumer.ts as the handover consumers use it: a failing record holds back
 * only its own conversation, and the records skipped behind it are returned to the queue at once so the
 * conversation resumes after the failed record's backoff instead of the queue's whole visibility timeout.
 */
import '../../helpers/env';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UpstreamError } from '../../../functions/shared/errors';
import { queueConsumer } from '../../../functions/shared/queue-consumer';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/handoverInbound.fifo';
process.env.HANDOVER_INBOUND_QUEUE_URL = QUEUE_URL;
process.env.HANDOVER_INBOUND_MAX_RECEIVE_COUNT = '8';

const sqs = mockClient(SQSClient);
beforeEach(() => {
  sqs.reset();
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});

const context = {
  functionName: 'handover-relay',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 20_000,
} as unknown as Context;

function fifoRecord(id: string, group: string, receiveCount = 1): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: JSON.stringify({ id }),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: group,
      MessageDeduplicationId: id,
      SequenceNumber: '1',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:handoverInbound.fifo',
    awsRegion: 'us-east-1',
  };
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const cognigyDown = () => new UpstreamError('cognigy', 'transient', 'cognigy answered 503', 503);

function consumer(failing: ReadonlySet<string>, handled: string[]) {
  return queueConsumer({
    queue: 'handoverInbound',
    retryPolicy: { baseDelaySeconds: 4, maxDelaySeconds: 4 },
    sqs: new SQSClient({}),
    handleRecord: async (body) => {
      const { id } = body as { id: string };
      handled.push(id);
      if (failing.has(id)) throw cognigyDown();
    },
  });
}

test('a failed record holds back its own group only; the skipped ones go back to the queue at once', async () => {
  const handled: string[] = [];
  const handler = consumer(new Set(['a1']), handled);

  const result = await handler(
    event(
      fifoRecord('a1', 'conv-a'),
      fifoRecord('b1', 'conv-b'),
      fifoRecord('a2', 'conv-a'),
      fifoRecord('a3', 'conv-a'),
    ),
    context,
  );

  expect(handled).toEqual(['a1', 'b1']);
  expect(result.batchItemFailures).toEqual([
    { itemIdentifier: 'a1' },
    { itemIdentifier: 'a2' },
    { itemIdentifier: 'a3' },
  ]);
  // The failed record waits for its backoff (full jitter of 4 s, at least 1 s)…
  expect(sqs).toHaveReceivedCommandTimes(ChangeMessageVisibilityCommand, 1);
  const delay = sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input;
  expect(delay).toMatchObject({ QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-a1' });
  expect(delay?.VisibilityTimeout).toBeGreaterThanOrEqual(1);
  expect(delay?.VisibilityTimeout).toBeLessThanOrEqual(4);
  // …and the records behind it are visible again, queued behind it in their group.
  expect(sqs).toHaveReceivedCommandWith(ChangeMessageVisibilityBatchCommand, {
    QueueUrl: QUEUE_URL,
    Entries: [
      { Id: '0', ReceiptHandle: 'rh-a2', VisibilityTimeout: 0 },
      { Id: '1', ReceiptHandle: 'rh-a3', VisibilityTimeout: 0 },
    ],
  });
});

test('a batch without failures changes no visibility', async () => {
  const handled: string[] = [];
  const result = await consumer(new Set(), handled)(
    event(fifoRecord('a1', 'conv-a'), fifoRecord('a2', 'conv-a')),
    context,
  );
  expect(handled).toEqual(['a1', 'a2']);
  expect(result.batchItemFailures).toEqual([]);
  expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityCommand);
  expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityBatchCommand);
});

test('when the last record of a group fails there is nothing skipped to return', async () => {
  const handled: string[] = [];
  const result = await consumer(new Set(['a2']), handled)(
    event(fifoRecord('a1', 'conv-a'), fifoRecord('a2', 'conv-a')),
    context,
  );
  expect(handled).toEqual(['a1', 'a2']);
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a2' }]);
  expect(sqs).not.toHaveReceivedCommand(ChangeMessageVisibilityBatchCommand);
});

test('if SQS refuses to return the skipped records, the batch answer is unchanged', async () => {
  sqs.on(ChangeMessageVisibilityBatchCommand).rejects(new Error('SQS unavailable'));
  const handled: string[] = [];
  const result = await consumer(new Set(['a1']), handled)(
    event(fifoRecord('a1', 'conv-a'), fifoRecord('a2', 'conv-a')),
    context,
  );
  expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'a1' }, { itemIdentifier: 'a2' }]);
  expect(sqs).toHaveReceivedCommand(ChangeMessageVisibilityBatchCommand);
});
