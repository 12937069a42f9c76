/**
 * Local wiring of two-way SMS (issue 14 item 6): the SMS simulator's handsets text the bridge's inbound route with
 * the receipts' Authorization, SMS_BOT_ENDPOINT_URL points at the Cognigy simulator's REST Endpoint (an echo bot)
 * unless the environment names another, and the catalogue's new queue and tables exist on the stand-ins.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { SETTINGS, TABLES } from '../../functions/shared/catalogue';
import { localDynamoDbClient } from '../../lib/local/aws';
import { LOCAL_SMS_BOT_URL_TOKEN } from '../../lib/local/constants';
import type { LocalStack } from '../../lib/local/stack';
import { stackSecret, stackSqsClient, startTestStack } from '../helpers/local';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

test("SMS_BOT_ENDPOINT_URL is the Cognigy simulator's REST Endpoint, and it answers as an echo bot", async () => {
  const endpoint = `${stack.urls.cognigySimulator}/${LOCAL_SMS_BOT_URL_TOKEN}`;
  expect(stack.urls.smsBotEndpoint).toBe(endpoint);
  expect(stack.functionEnvironment('sms-inbound')[SETTINGS.smsBotEndpointUrl]).toBe(endpoint);

  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: '+6591234567', sessionId: 'wiring-1', text: 'ping' }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ text: 'You said: ping (turn 1)', sessionId: 'wiring-1' });
});

test("a handset's SMS is posted to the bridge's inbound route with the receipt webhook's Authorization", async () => {
  const sms = stack.sms!;
  const umid = sms.textFromHandset('+6591234567', '+6568008888', 'Wiring check');
  const delivery = await sms.waitForInbound((d) => d.umid === umid, 15_000);
  expect(delivery.url).toBe(`${stack.urls.gateway}/webhooks/8x8/sms/inbound`);

  // What travels with it: a receiver in the bridge's place sees the Authorization the bridge's secret expects.
  const seen: { authorization?: string; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  sms.setInboundWebhook(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/inbound`);
  try {
    const second = sms.textFromHandset('+6591234567', '+6568008888', 'Seen by the receiver');
    await sms.waitForInbound((d) => d.umid === second && d.ok, 15_000);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.authorization).toBe(stackSecret(stack, 'smsWebhookAuth').authorization);
    expect(JSON.parse(seen[0]?.body ?? '{}')).toMatchObject({
      eventType: 'inbound_message_received',
      payload: { umid: second, source: '+6591234567', destination: '+6568008888', body: 'Seen by the receiver' },
    });
  } finally {
    sms.setInboundWebhook(`${stack.urls.gateway}/webhooks/8x8/sms/inbound`);
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
});

test('the smsInbound FIFO queue and the optOuts (no TTL) and smsSessions tables exist on the stand-ins', async () => {
  const sqs = stackSqsClient(stack);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.queues.smsInbound.url, AttributeNames: ['FifoQueue'] }),
  );
  expect(Attributes?.FifoQueue).toBe('true');
  sqs.destroy();

  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  for (const table of ['optOuts', 'smsSessions'] as const) {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: stack.tables[table] }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: TABLES[table].partitionKey, KeyType: 'HASH' }]);
  }
  expect(TABLES.optOuts.ttlAttribute).toBeUndefined();
  dynamo.destroy();
});
