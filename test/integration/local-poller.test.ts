/**
 * The queue poller against a real fauxqs queue (created the way the local stack creates them) with small inline
 * handlers: Lambda's SQS event shape, partial batch failures, whole-batch failures, redrive to the DLQ and FIFO
 * ordering per message group.
 */
import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  createQueueWithDlq,
  localSqsClient,
  startSqs,
  type QueuePair,
  type SqsStandIn,
} from '../../lib/local/aws';
import { QueuePoller, failedMessageIds, type PollerTarget } from '../../lib/local/poller';
import type { LambdaHandler } from '../../lib/local/lambda';

let sqs: SqsStandIn;
let client: SQSClient;
let queueCounter = 0;
const pollers: QueuePoller[] = [];

beforeAll(async () => {
  sqs = await startSqs();
  client = localSqsClient(sqs);
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  client.destroy();
  await sqs.stop();
});

async function queue(fifo: boolean, maxReceiveCount = 2): Promise<QueuePair> {
  queueCounter += 1;
  return createQueueWithDlq(client, {
    name: `test-${queueCounter}`,
    fifo,
    visibilityTimeoutSeconds: 1,
    retentionDays: 1,
    maxReceiveCount,
  });
}

function poll(pair: QueuePair, handler: LambdaHandler, overrides: Partial<PollerTarget> = {}): QueuePoller {
  const poller = new QueuePoller(
    {
      name: 'test',
      queueUrl: pair.url,
      queueArn: pair.arn,
      functionName: 'test-consumer',
      handler: async () => handler,
      batchSize: 10,
      concurrency: 2,
      timeoutMs: 5_000,
      ...overrides,
    },
    { sqs: client },
  );
  pollers.push(poller.start());
  return poller;
}

/** Polls a condition until it holds; the limit only bounds a broken run, nothing is asserted about time. */
async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  limitMs = 15_000,
): Promise<T> {
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > giveUpAt) throw new Error('condition not met');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function drain(url: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages || Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
  }
}

async function counts(url: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('the SQS event', () => {
  test('is built as Lambda builds it', async () => {
    const pair = await queue(false);
    const events: SQSEvent[] = [];
    const body = JSON.stringify({ hello: 'wörld' });
    await client.send(
      new SendMessageCommand({
        QueueUrl: pair.url,
        MessageBody: body,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'sms' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    poll(pair, async (event) => {
      events.push(event as SQSEvent);
      return { batchItemFailures: [] };
    });
    const [record] = (await eventually(() => events[0])).Records as [SQSRecord];
    expect(record.body).toBe(body);
    expect(record.eventSource).toBe('aws:sqs');
    expect(record.eventSourceARN).toBe(pair.arn);
    expect(record.awsRegion).toBe('us-east-1');
    expect(record.md5OfBody).toBe(createHash('md5').update(body).digest('hex'));
    expect(record.receiptHandle).not.toBe('');
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    expect(record.attributes.SenderId).toEqual(expect.any(String));
    expect(record.attributes.MessageGroupId).toBeUndefined();
    expect(record.messageAttributes).toEqual({
      kind: {
        stringValue: 'sms',
        binaryValue: undefined,
        stringListValues: [],
        binaryListValues: [],
        dataType: 'String',
      },
      blob: {
        stringValue: undefined,
        binaryValue: 'AQID',
        stringListValues: [],
        binaryListValues: [],
        dataType: 'Binary',
      },
    });
  });

  test('of a FIFO queue carries MessageGroupId, MessageDeduplicationId and SequenceNumber', async () => {
    const pair = await queue(true);
    const records: SQSRecord[] = [];
    await client.send(
      new SendMessageCommand({
        QueueUrl: pair.url,
        MessageBody: '{}',
        MessageGroupId: 'conv-1',
        MessageDeduplicationId: 'evt-1',
      }),
    );
    poll(pair, async (event) => {
      records.push(...(event as SQSEvent).Records);
      return {};
    });
    const record = await eventually(() => records[0]);
    expect(record.attributes.MessageGroupId).toBe('conv-1');
    expect(record.attributes.MessageDeduplicationId).toBe('evt-1');
    expect(record.attributes.SequenceNumber).toEqual(expect.stringMatching(/^\d+$/));
  });
});

describe('batches larger than one receive (the SMS queue: up to SMS_QUEUE_BATCH_SIZE within the window)', () => {
  test('a backlog is gathered into one event of the batch size, and all of it is deleted', async () => {
    // A visibility timeout longer than the gathering, so no message comes back while its batch is still filled.
    queueCounter += 1;
    const pair = await createQueueWithDlq(client, {
      name: `test-${queueCounter}`,
      fifo: false,
      visibilityTimeoutSeconds: 30,
      retentionDays: 1,
      maxReceiveCount: 2,
    });
    for (let i = 0; i < 4; i++) {
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: pair.url,
          Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: `m${i * 10 + j}` })),
        }),
      );
    }
    const sizes: number[] = [];
    poll(
      pair,
      async (event) => {
        sizes.push((event as SQSEvent).Records.length);
        return { batchItemFailures: [] };
      },
      { batchSize: 25, batchingWindowSeconds: 3, concurrency: 1 },
    );
    await eventually(async () => {
      const c = await counts(pair.url);
      return sizes.reduce((a, b) => a + b, 0) === 40 && c.visible === 0 && c.inFlight === 0;
    });
    expect(sizes).toEqual([25, 15]);
  });

  test('a lone message is invoked once the window has passed, not held for a full batch', async () => {
    const pair = await queue(false);
    const events: SQSEvent[] = [];
    poll(
      pair,
      async (event) => {
        events.push(event as SQSEvent);
        return { batchItemFailures: [] };
      },
      { batchSize: 100, batchingWindowSeconds: 1, concurrency: 1 },
    );
    await client.send(new SendMessageCommand({ QueueUrl: pair.url, MessageBody: 'alone' }));
    await eventually(() => events.length === 1 || undefined);
    expect(events[0]?.Records.map((r) => r.body)).toEqual(['alone']);
  });

  test('a message that comes back while its batch is gathered is in the batch once, with its newest receipt handle', async () => {
    const pair = await queue(false); // visibility timeout 1 s, shorter than the 3 s window
    const events: SQSEvent[] = [];
    poll(
      pair,
      async (event) => {
        events.push(event as SQSEvent);
        return { batchItemFailures: [] };
      },
      { batchSize: 100, batchingWindowSeconds: 3, concurrency: 1 },
    );
    await client.send(new SendMessageCommand({ QueueUrl: pair.url, MessageBody: 'returns' }));
    await eventually(() => events.length === 1 || undefined);
    expect(events[0]?.Records.map((r) => r.body)).toEqual(['returns']);
    // Deleted with the handle that still counts: nothing comes back.
    await eventually(async () => {
      const c = await counts(pair.url);
      return c.visible === 0 && c.inFlight === 0;
    });
    expect(events).toHaveLength(1);
  });

  test('a batch size above 10 000 is refused, as Lambda refuses it', () => {
    expect(
      () =>
        new QueuePoller(
          {
            name: 'x',
            queueUrl: 'u',
            queueArn: 'a',
            functionName: 'f',
            handler: async () => async () => undefined,
            batchSize: 10_001,
            concurrency: 1,
            timeoutMs: 1000,
          },
          { sqs: client },
        ),
    ).toThrow(RangeError);
  });
});

describe('partial batch responses', () => {
  test('only successes are deleted; failures come back and, after maxReceiveCount, land in the DLQ', async () => {
    const pair = await queue(false, 2);
    const bodies = ['ok-1', 'fail-1', 'ok-2', 'fail-2', 'ok-3'];
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: pair.url,
        Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
    const seen: { body: string; receiveCount: number }[] = [];
    poll(pair, async (event) => {
      const records = (event as SQSEvent).Records;
      seen.push(
        ...records.map((r) => ({ body: r.body, receiveCount: Number(r.attributes.ApproximateReceiveCount) })),
      );
      const response: SQSBatchResponse = {
        batchItemFailures: records
          .filter((r) => r.body.startsWith('fail'))
          .map((r) => ({ itemIdentifier: r.messageId })),
      };
      return response;
    });

    const inDlq = await eventually(async () => {
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: pair.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages) === 2 ? true : undefined;
    });
    expect(inDlq).toBe(true);
    await pollers.splice(0)[0]?.stop();

    const times = (body: string) => seen.filter((s) => s.body === body).length;
    // Each success was processed once and deleted; each failure was delivered maxReceiveCount times.
    expect(['ok-1', 'ok-2', 'ok-3'].map(times)).toEqual([1, 1, 1]);
    expect(['fail-1', 'fail-2'].map(times)).toEqual([2, 2]);
    expect(seen.filter((s) => s.body === 'fail-1').map((s) => s.receiveCount)).toEqual([1, 2]);
    expect((await drain(pair.dlqUrl)).sort()).toEqual(['fail-1', 'fail-2']);
    expect(await counts(pair.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('a handler that throws fails the whole batch: nothing is deleted and everything comes back', async () => {
    const pair = await queue(false, 5);
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: pair.url,
        Entries: ['a', 'b'].map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
    const deliveries: string[] = [];
    poll(
      pair,
      async (event) => {
        const records = (event as SQSEvent).Records;
        deliveries.push(...records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        if (records.some((r) => r.attributes.ApproximateReceiveCount === '1'))
          throw new Error('first delivery fails');
        return {};
      },
      { concurrency: 1 },
    );
    await eventually(() => (deliveries.includes('a#2') && deliveries.includes('b#2') ? true : undefined));
    await eventually(async () => {
      const c = await counts(pair.url);
      return c.visible === 0 && c.inFlight === 0 ? true : undefined;
    });
    expect(deliveries.filter((d) => d.endsWith('#1')).sort()).toEqual(['a#1', 'b#1']);
  });

  test('an unknown itemIdentifier fails the whole batch, as Lambda does', async () => {
    const pair = await queue(false, 5);
    await client.send(new SendMessageCommand({ QueueUrl: pair.url, MessageBody: 'only' }));
    const receiveCounts: string[] = [];
    poll(pair, async (event) => {
      const [record] = (event as SQSEvent).Records as [SQSRecord];
      receiveCounts.push(record.attributes.ApproximateReceiveCount);
      return record.attributes.ApproximateReceiveCount === '1'
        ? { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }
        : {};
    });
    await eventually(() => (receiveCounts.includes('2') ? true : undefined));
    expect(receiveCounts.slice(0, 2)).toEqual(['1', '2']);
  });

  test('failedMessageIds reads responses with Lambda’s rules', () => {
    const batch = [{ messageId: 'm1' }, { messageId: 'm2' }] as SQSRecord[];
    expect(failedMessageIds(undefined, batch)).toEqual(new Set());
    expect(failedMessageIds(null, batch)).toEqual(new Set());
    expect(failedMessageIds({}, batch)).toEqual(new Set());
    expect(failedMessageIds({ batchItemFailures: [] }, batch)).toEqual(new Set());
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, batch)).toEqual(
      new Set(['m2']),
    );
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: '' }] }, batch)).toBe('all');
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: null }] }, batch)).toBe('all');
    expect(failedMessageIds({ batchItemFailures: [{ id: 'm1' }] }, batch)).toBe('all');
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'm9' }] }, batch)).toBe('all');
    expect(failedMessageIds({ batchItemFailures: 'm1' }, batch)).toBe('all');
    expect(failedMessageIds('oops', batch)).toBe('all');
  });
});

describe('FIFO queues', () => {
  test('keep the order within each message group across concurrent pollers, one message of a group at a time', async () => {
    const pair = await queue(true, 5);
    const groups = ['conv-a', 'conv-b', 'conv-c'];
    for (let i = 1; i <= 6; i++) {
      await client.send(
        new SendMessageBatchCommand({
          QueueUrl: pair.url,
          Entries: groups.map((g, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({ group: g, seq: i }),
            MessageGroupId: g,
            MessageDeduplicationId: `${g}-${i}`,
          })),
        }),
      );
    }
    const order: Record<string, number[]> = {};
    const inFlight = new Map<string, number>();
    let overlap = false;
    poll(
      pair,
      async (event) => {
        const records = (event as SQSEvent).Records;
        for (const r of records) {
          const group = r.attributes.MessageGroupId ?? '';
          inFlight.set(group, (inFlight.get(group) ?? 0) + 1);
          if ((inFlight.get(group) ?? 0) > 1) overlap = true;
        }
        await new Promise((resolve) => setImmediate(resolve));
        for (const r of records) {
          const { group, seq } = JSON.parse(r.body) as { group: string; seq: number };
          (order[group] ??= []).push(seq);
          inFlight.set(group, (inFlight.get(group) ?? 1) - 1);
        }
        return {};
      },
      { concurrency: 3 },
    );
    await eventually(() => (groups.every((g) => (order[g] ?? []).length === 6) ? true : undefined));
    for (const g of groups) expect(order[g]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(overlap).toBe(false);
  });

  test('a failed message holds back the rest of its group until it succeeds', async () => {
    const pair = await queue(true, 5);
    for (let i = 1; i <= 3; i++) {
      await client.send(
        new SendMessageCommand({
          QueueUrl: pair.url,
          MessageBody: `m${i}`,
          MessageGroupId: 'conv',
          MessageDeduplicationId: `d${i}`,
        }),
      );
    }
    const processed: string[] = [];
    const attempts: string[] = [];
    poll(pair, async (event) => {
      const records = (event as SQSEvent).Records;
      const failures: SQSBatchResponse['batchItemFailures'] = [];
      for (const r of records) {
        attempts.push(r.body);
        if (r.body === 'm2' && r.attributes.ApproximateReceiveCount === '1') {
          failures.push({ itemIdentifier: r.messageId });
        } else {
          processed.push(r.body);
        }
      }
      return { batchItemFailures: failures };
    });
    await eventually(() => (processed.length === 3 ? true : undefined));
    expect(processed).toEqual(['m1', 'm2', 'm3']);
    expect(attempts).toEqual(['m1', 'm2', 'm2', 'm3']);
  });
});

describe('stopping', () => {
  test('stop() waits for the batch in flight, including its delete', async () => {
    const pair = await queue(false);
    await client.send(new SendMessageCommand({ QueueUrl: pair.url, MessageBody: 'slow' }));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const poller = poll(pair, async () => {
      started = true;
      await gate;
      return {};
    });
    await eventually(() => (started ? true : undefined));
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(poller.stats).toMatchObject({ invocations: 1, recordsDeleted: 1, recordsFailed: 0 });
    expect(await counts(pair.url)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('pausing', () => {
  test('a paused poller leaves new messages on the queue; resume() delivers them all', async () => {
    const pair = await queue(false);
    const seen: string[] = [];
    const poller = poll(pair, async (event) => {
      seen.push(...(event as SQSEvent).Records.map((r) => r.body));
      return {};
    });
    await poller.pause();
    expect(poller.isPaused).toBe(true);
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: pair.url,
        Entries: Array.from({ length: 5 }, (_, i) => ({ Id: `m${i}`, MessageBody: `m${i}` })),
      }),
    );
    // Long enough for several receive rounds had the poller been running.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seen).toEqual([]);
    expect(await counts(pair.url)).toEqual({ visible: 5, inFlight: 0 });
    poller.resume();
    await eventually(() => (seen.length === 5 ? true : undefined));
    expect(seen.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await eventually(async () => ((await counts(pair.url)).visible === 0 ? true : undefined));
  });
});
