/**
 * `npm run redrive -- --queue sms|handoverOutbound|handoverInbound`: moves the messages of the queue's DLQ back to
 * the queue (lib/redrive.ts). Where the queue is:
 *
 *   AWS          --queue-url <url> (the stack output <Queue>QueueUrl), or the queue's environment variable
 *                (SMS_QUEUE_URL, HANDOVER_OUTBOUND_QUEUE_URL, HANDOVER_INBOUND_QUEUE_URL); credentials and region
 *                from the usual AWS environment/profile. The DLQ is read from the queue's RedrivePolicy.
 *   local stack  --endpoint <the "SQS" URL npm start prints>, e.g. http://127.0.0.1:4566
 *
 *   --max N      move at most N messages (default: until the DLQ is empty)
 */
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, type QueueName } from '../functions/shared/catalogue';
import { localClientConfig } from '../lib/local/aws';
import { localQueueUrl, redriveDlq } from '../lib/redrive';

const { values } = parseArgs({
  options: {
    queue: { type: 'string' },
    'queue-url': { type: 'string' },
    'dlq-url': { type: 'string' },
    endpoint: { type: 'string' },
    max: { type: 'string' },
  },
  strict: true,
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const queue = values.queue as QueueName | undefined;
if (!queue || !Object.hasOwn(QUEUES, queue)) {
  fail(`--queue must be one of ${Object.keys(QUEUES).join(', ')}`);
}
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && (!Number.isInteger(max) || max <= 0)) fail('--max must be a whole number above 0');

async function main(name: QueueName): Promise<void> {
  const local = values.endpoint;
  // Locally, queue URLs name `*.localhost` hosts: talk to the endpoint given instead of following them.
  const sqs = local
    ? new SQSClient({ ...localClientConfig(local), useQueueUrlAsEndpoint: false })
    : new SQSClient({});
  try {
    const queueUrl =
      values['queue-url'] ??
      (local ? await localQueueUrl(sqs, name) : process.env[QUEUES[name].urlEnv]) ??
      fail(`Give --queue-url (stack output) or ${QUEUES[name].urlEnv}, or --endpoint for the local stack`);
    const result = await redriveDlq({
      sqs,
      queue: name,
      queueUrl,
      ...(values['dlq-url'] && { dlqUrl: values['dlq-url'] }),
      ...(max !== undefined && { maxMessages: max }),
      log: (line) => console.log(line),
    });
    console.log(`Redrive of ${name}: ${result.moved} moved, ${result.failed} left in ${result.dlqUrl}`);
    if (result.failed > 0) process.exitCode = 1;
  } finally {
    sqs.destroy();
  }
}

main(queue).catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
