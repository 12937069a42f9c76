/** lib/redrive.ts at the SQS SDK boundary: where the DLQ is found, and that nothing leaves the DLQ unless sent. */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { RedriveSetupError, deadLetterQueueUrl, redriveDlq } from '../../../lib/redrive';

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: 'eu-west-1' });
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Bridge-SmsQueue';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/Bridge-SmsDlq';

beforeEach(() => sqsMock.reset());

test('the DLQ is the deadLetterTargetArn of the queue’s RedrivePolicy', async () => {
  sqsMock.on(GetQueueAttributesCommand).resolves({
    Attributes: {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:123456789012:Bridge-SmsDlq',
        maxReceiveCount: 10,
      }),
    },
  });
  sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: DLQ });
  expect(await deadLetterQueueUrl(sqs, QUEUE)).toBe(DLQ);
  expect(sqsMock).toHaveReceivedCommandWith(GetQueueUrlCommand, {
    QueueName: 'Bridge-SmsDlq',
    QueueOwnerAWSAccountId: '123456789012',
  });
});

test('a queue without RedrivePolicy is refused by name', async () => {
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
  await expect(deadLetterQueueUrl(sqs, QUEUE)).rejects.toThrow(RedriveSetupError);
});

test('only messages the queue took are deleted from the DLQ', async () => {
  sqsMock
    .on(ReceiveMessageCommand)
    .resolvesOnce({
      Messages: [
        { MessageId: 'a', ReceiptHandle: 'ra', Body: '{"messageId":"1"}' },
        { MessageId: 'b', ReceiptHandle: 'rb', Body: '{"messageId":"2"}' },
      ],
    })
    .resolves({ Messages: [] });
  sqsMock.on(SendMessageBatchCommand).resolves({
    Successful: [{ Id: '1', MessageId: 'x', MD5OfMessageBody: '' }],
    Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }],
  });
  sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: '0' }], Failed: [] });

  const result = await redriveDlq({ sqs, queue: 'sms', queueUrl: QUEUE, dlqUrl: DLQ });
  expect(result).toEqual({ dlqUrl: DLQ, moved: 1, failed: 1 });
  expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, {
    QueueUrl: QUEUE,
    Entries: [
      { Id: '0', MessageBody: '{"messageId":"1"}' },
      { Id: '1', MessageBody: '{"messageId":"2"}' },
    ],
  });
  expect(sqsMock).toHaveReceivedCommandWith(DeleteMessageBatchCommand, {
    QueueUrl: DLQ,
    Entries: [{ Id: '0', ReceiptHandle: 'rb' }],
  });
});

test('FIFO: group kept, a fresh deduplication id, and a refused message stops the run so its group keeps order', async () => {
  sqsMock.on(ReceiveMessageCommand).resolves({
    Messages: [
      { MessageId: 'a', ReceiptHandle: 'ra', Body: '{}', Attributes: { MessageGroupId: 'conv-1' } },
    ],
  });
  sqsMock.on(SendMessageBatchCommand).resolves({
    Successful: [],
    Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }],
  });
  const result = await redriveDlq({ sqs, queue: 'handoverInbound', queueUrl: QUEUE, dlqUrl: DLQ });
  expect(result).toEqual({ dlqUrl: DLQ, moved: 0, failed: 1 });
  expect(sqsMock).toHaveReceivedCommandTimes(ReceiveMessageCommand, 1);
  expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, {
    Entries: [{ Id: '0', MessageBody: '{}', MessageGroupId: 'conv-1', MessageDeduplicationId: 'redrive-a' }],
  });
  expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageBatchCommand);
});
