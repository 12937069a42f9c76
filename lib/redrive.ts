/**
 * Moves the messages of a catalogue queue's DLQ back to the queue (`npm run redrive`, bin/redrive.ts). It does by
 * hand what the SQS console's "Start DLQ redrive" does (StartMessageMoveTask), so it works the same against AWS and
 * against the local stack's fauxqs, which has no move tasks: receive from the DLQ, send each message to its queue
 * (FIFO: same message group, so a conversation keeps its order), delete it from the DLQ only once it is sent.
 *
 * What a redriven message does is the consumer's business: an SMS whose record is `failed` after exhausted
 * retries gets a fresh attempt (functions/sms/redrive.ts); handover events are handled as on first delivery
 * (README "Delivery guarantees").
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { QUEUES, type QueueName } from '../functions/shared/catalogue';

export interface RedriveOptions {
  sqs: SQSClient;
  queue: QueueName;
  /** The queue's URL (its DLQ is read from its RedrivePolicy unless dlqUrl is given). */
  queueUrl: string;
  dlqUrl?: string;
  /** Stop after this many messages (default: until the DLQ is empty). */
  maxMessages?: number;
  log?: (line: string) => void;
}

export interface RedriveResult {
  dlqUrl: string;
  moved: number;
  /** Messages SQS did not take back; they stay in the DLQ (visible again after the receive's timeout). */
  failed: number;
}

export class RedriveSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedriveSetupError';
  }
}

/** Seconds a received DLQ message stays invisible while it is moved (a failed move makes it visible again). */
const MOVE_VISIBILITY_SECONDS = 60;

/** The DLQ of a queue, from its RedrivePolicy (`deadLetterTargetArn` → GetQueueUrl). */
export async function deadLetterQueueUrl(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const policy = Attributes?.RedrivePolicy;
  if (!policy) throw new RedriveSetupError(`${queueUrl} has no RedrivePolicy, so no DLQ to redrive from`);
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn ?? '';
  const [, , , , account, name] = arn.split(':');
  if (!account || !name) throw new RedriveSetupError(`Unreadable deadLetterTargetArn "${arn}"`);
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
  );
  if (!QueueUrl) throw new RedriveSetupError(`No URL for the DLQ ${name}`);
  return QueueUrl;
}

/** The local stack names each queue after its catalogue key (fauxqs: `<key>[.fifo]`). */
export async function localQueueUrl(sqs: SQSClient, queue: QueueName): Promise<string> {
  const name = `${queue}${QUEUES[queue].fifo ? '.fifo' : ''}`;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new RedriveSetupError(`The local SQS has no queue ${name}`);
  return QueueUrl;
}

export async function redriveDlq(options: RedriveOptions): Promise<RedriveResult> {
  const { sqs, queue, queueUrl } = options;
  const fifo = QUEUES[queue].fifo;
  const dlqUrl = options.dlqUrl ?? (await deadLetterQueueUrl(sqs, queueUrl));
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const result: RedriveResult = { dlqUrl, moved: 0, failed: 0 };
  let emptyReceives = 0;
  // Short polls of SQS may come back empty while messages remain: stop after two empty long-ish polls.
  while (result.moved + result.failed < limit && emptyReceives < 2) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - result.moved - result.failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
        MessageSystemAttributeNames: ['MessageGroupId'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) {
      emptyReceives++;
      continue;
    }
    emptyReceives = 0;
    const { moved, failed } = await moveBatch(sqs, queueUrl, dlqUrl, fifo, Messages);
    result.moved += moved;
    result.failed += failed;
    options.log?.(
      `moved ${moved} message(s) from ${dlqUrl} to ${queueUrl}${failed ? `, ${failed} failed` : ''}`,
    );
    // FIFO: a failed message holds its group; the rest of that group must not overtake it.
    if (fifo && failed > 0) break;
  }
  return result;
}

async function moveBatch(
  sqs: SQSClient,
  queueUrl: string,
  dlqUrl: string,
  fifo: boolean,
  messages: Message[],
): Promise<{ moved: number; failed: number }> {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((message, index) => ({
        Id: String(index),
        MessageBody: message.Body ?? '',
        ...(message.MessageAttributes && { MessageAttributes: message.MessageAttributes }),
        ...(fifo && {
          MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
          // A new id: the original one may still be inside the queue's 5-minute deduplication window.
          MessageDeduplicationId: `redrive-${message.MessageId ?? index}`,
        }),
      })),
    }),
  );
  const ok = (sent.Successful ?? []).map((entry) => messages[Number(entry.Id)]!);
  if (ok.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: ok.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
  }
  return { moved: ok.length, failed: messages.length - ok.length };
}
