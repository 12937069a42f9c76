/**
 * Cold starts of every function bundle (lib/evidence/bundles.ts) with two real events each, made against the
 * running local stack: API events for the routes, SQS events for the queue consumers, webhook deliveries signed by
 * the Chat Gateway simulator. Each round uses fresh conversations and records, so every round's first event does
 * the same work.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FunctionName } from '../../../functions/shared/catalogue';
import { localDynamoDbClient } from '../../local/aws';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../local/constants';
import { closeServer, listenLocal } from '../../local/server';
import { plainHeaders, readBody } from '../../simulators/http';
import { inboundSmsEvent } from '../../simulators/sms';
import { measureColdStart, type BundleResult, type ColdStartResult } from '../bundles';
import { apiEvent, sqsEvent } from '../events';
import { pollUntil } from '../load';
import type { BenchConfig } from './config';
import { activate, destination, startConversations, type BenchConversation, type BenchStack } from './stack';

type ColdStartEvents = Record<FunctionName, [unknown, unknown]>;

/** Cold starts by function, in round order: this checkout's, and the BENCH_COLD_VERSUS checkout's when given. */
export interface ColdStartRuns {
  runs: Map<FunctionName, ColdStartResult[]>;
  versus: Map<FunctionName, ColdStartResult[]>;
}

/**
 * `config.coldRuns` rounds of one fresh node process per bundle; the first round reuses `conversations` (five
 * active ones) when given. With `versusBundles` (the same functions bundled from another checkout), each round
 * also runs those, right before or after this checkout's (the order alternates by round), each with events of its
 * own, so both sides of the comparison share the machine's moment-to-moment load.
 */
export async function coldStarts(
  s: BenchStack,
  bundles: readonly BundleResult[],
  config: BenchConfig,
  workDir: string,
  conversations?: BenchConversation[],
  versusBundles: ReadonlyMap<FunctionName, BundleResult> = new Map(),
): Promise<ColdStartRuns> {
  // Upstreams answer at once here, so the first event's time is the function's own.
  s.sms.setFaults({ clear: true });
  const runs = new Map<FunctionName, ColdStartResult[]>(bundles.map((b) => [b.name, []]));
  const versus = new Map<FunctionName, ColdStartResult[]>([...versusBundles.keys()].map((n) => [n, []]));
  for (let round = 0; round < config.coldRuns; round++) {
    const fresh = round === 0 && conversations ? conversations : await startConversations(s);
    await activate(s, fresh);
    const events = await coldStartEvents(s, fresh);
    // The other checkout's first events must find the same state as this one's: events of their own.
    const versusEvents = versusBundles.size > 0 ? await coldStartEvents(s, fresh) : undefined;
    for (const bundle of bundles) {
      const args = round === 0 ? profileArgs(bundle, config.coldProfileDir) : [];
      // The function's own environment from the stack: its resources, the stand-ins' endpoints, its credentials.
      const env = s.stack.functionEnvironment(bundle.name);
      const mine = () => measureColdStart(bundle, events[bundle.name], env, workDir, args);
      const other = versusBundles.get(bundle.name);
      if (!other || !versusEvents) {
        runs.get(bundle.name)!.push(await mine());
        continue;
      }
      const theirs = () =>
        measureColdStart(other, versusEvents[bundle.name], env, path.join(workDir, 'versus'));
      if (round % 2 === 0) {
        runs.get(bundle.name)!.push(await mine());
        versus.get(bundle.name)!.push(await theirs());
      } else {
        versus.get(bundle.name)!.push(await theirs());
        runs.get(bundle.name)!.push(await mine());
      }
    }
  }
  return { runs, versus };
}

/** BENCH_COLD_PROFILE_DIR: write a CPU profile of each cold-start child there (open it in Chrome DevTools). */
function profileArgs(bundle: BundleResult, dir: string | undefined): string[] {
  return dir
    ? [
        '--cpu-prof',
        '--cpu-prof-interval=100',
        `--cpu-prof-dir=${path.resolve(dir)}`,
        `--cpu-prof-name=${bundle.name}.cpuprofile`,
      ]
    : [];
}

/** Two events per function: each does real work against the stack (`conversations`: five active ones). */
async function coldStartEvents(s: BenchStack, conversations: BenchConversation[]): Promise<ColdStartEvents> {
  const { stack } = s;
  const apiKey = stack.apiKey;
  const { ids, receipts, authorization } = await deliveredSms(s);
  const queuedIds = await queuedRecords(s);
  const [c0, c1, c2, c3, c4] = conversations.map((c) => c.conversationId) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const sessionOf = (i: number) => conversations[i]!.sessionId;
  const signed = await captureSignedEvents(s, c4, 2);
  const smsArn = queueArn(stack.queues.sms.url);
  const smsInboundArn = queueArn(stack.queues.smsInbound.url);
  const outboundArn = queueArn(stack.queues.handoverOutbound.url);
  const inboundArn = queueArn(stack.queues.handoverInbound.url);
  const both = <T>(make: (i: number) => T): [T, T] => [make(0), make(1)];
  return {
    'sms-accept': both((i) =>
      apiEvent({
        function: 'sms-accept',
        apiKey,
        body: { destination: destination(950 + i), text: 'Cold accept' },
      }),
    ),
    'sms-batch': both((i) =>
      apiEvent({
        function: 'sms-batch',
        apiKey,
        body: {
          messages: [
            { destination: destination(960 + i), text: 'Cold batch a' },
            { destination: destination(970 + i), text: 'Cold batch b' },
          ],
        },
      }),
    ),
    'sms-status': both((i) =>
      apiEvent({ function: 'sms-status', apiKey, pathParameters: { messageId: ids[i]! } }),
    ),
    // Delivered SMS: cancel reads the record and answers 409; erase erases it and asks the 8x8 simulator.
    'sms-cancel': both((i) =>
      apiEvent({ function: 'sms-cancel', apiKey, pathParameters: { messageId: ids[i]! } }),
    ),
    'sms-erase': both((i) =>
      apiEvent({ function: 'sms-erase', apiKey, pathParameters: { messageId: ids[i]! } }),
    ),
    'sms-receipt': both((i) =>
      apiEvent({ function: 'sms-receipt', headers: { authorization }, body: receipts[i]!.body }),
    ),
    // Inbound SMS from numbers no flow texted and no bot: acknowledged, queued, then routed nowhere (the cheapest path).
    'sms-inbound-webhook': both((i) =>
      apiEvent({
        function: 'sms-inbound-webhook',
        headers: { authorization },
        body: inboundSmsEvent({
          umid: randomUUID(),
          subAccountId: 'bench',
          from: destination(990 + i),
          to: '+6590000000',
          text: 'Cold inbound',
          at: new Date(),
          price: null,
        }),
      }),
    ),
    'sms-inbound': both((i) =>
      sqsEvent(
        smsInboundArn,
        [
          {
            umid: randomUUID(),
            from: destination(992 + i),
            to: '+6590000000',
            text: 'Cold inbound',
            receivedAt: new Date().toISOString(),
          },
        ],
        `cold-inbound-${i}`,
      ),
    ),
    'sms-opt-out-get': both((i) =>
      apiEvent({ function: 'sms-opt-out-get', apiKey, pathParameters: { number: destination(994 + i) } }),
    ),
    'sms-opt-out-delete': both((i) =>
      apiEvent({ function: 'sms-opt-out-delete', apiKey, pathParameters: { number: destination(996 + i) } }),
    ),
    'sms-deliver': both((i) => sqsEvent(smsArn, [{ messageId: queuedIds[i]! }])),
    'sms-sweeper': both(() => ({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} })),
    'handover-start': both((i) => apiEvent({ function: 'handover-start', apiKey, body: startBody(i) })),
    'handover-message': both((i) =>
      apiEvent({
        function: 'handover-message',
        apiKey,
        pathParameters: { conversationId: c0 },
        body: { text: `Cold user ${i}`, sessionId: sessionOf(0) },
      }),
    ),
    'handover-end': [
      apiEvent({
        function: 'handover-end',
        apiKey,
        pathParameters: { conversationId: c1 },
        body: { sessionId: sessionOf(1) },
      }),
      apiEvent({
        function: 'handover-end',
        apiKey,
        pathParameters: { conversationId: c2 },
        body: { sessionId: sessionOf(2) },
      }),
    ],
    'handover-status': both(() =>
      apiEvent({ function: 'handover-status', apiKey, pathParameters: { conversationId: c3 } }),
    ),
    'handover-webhook': both((i) =>
      apiEvent({ function: 'handover-webhook', headers: signed[i]!.headers, body: signed[i]!.body }),
    ),
    'handover-outbound': both((i) => sqsEvent(outboundArn, [outboundItem(c3, `Cold outbound ${i}`)], c3)),
    'handover-relay': both((i) => sqsEvent(inboundArn, [relayEnvelope(c4, `Cold relay ${i}`)], c4)),
  };
}

/** Two SMS sent through the stack and delivered: their ids, this round's own receipts, the receipt secret. */
async function deliveredSms({ stack, sms, api }: BenchStack) {
  const delivered = () => sms.receiptsSent.filter((r) => r.ok && r.state === 'delivered');
  const earlier = delivered().length;
  const accepted = await Promise.all(
    [0, 1].map((i) => api('POST', '/sms', { destination: destination(i), text: `Cold ${i}` })),
  );
  const ids = accepted.map((a) => (a.body as { messageId: string }).messageId);
  // This round's own receipts, not a replay of an earlier round's.
  const receipts = await pollUntil(
    'two delivery receipts',
    () => {
      const ok = delivered();
      return ok.length >= earlier + 2 ? ok.slice(earlier, earlier + 2) : undefined;
    },
    15_000,
  );
  const { authorization } = JSON.parse(
    stack.secretsManager.getSecretString(stack.secretNames.smsWebhookAuth) ?? '{}',
  ) as { authorization: string };
  return { ids, receipts, authorization };
}

/**
 * Records waiting in `queued` that no poller will pick up: made by the accept core itself with a queue port that
 * does not enqueue, so the sms-deliver child is the one that hands them to 8x8. Written as the operator (the
 * stack's own credentials), which the stand-ins do not restrict.
 */
async function queuedRecords({ stack }: BenchStack): Promise<string[]> {
  const { acceptSms } = await import('../../../functions/sms/accept');
  const { DynamoMessageStore } = await import('../../../functions/sms/dynamo-message-store');
  const doc = DynamoDBDocumentClient.from(localDynamoDbClient({ url: stack.urls.dynamodb }), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = new DynamoMessageStore(doc, stack.tables.messages);
  const queuedIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const answer = await acceptSms(
      { destination: destination(900 + i), text: `Cold deliver ${i}` },
      {
        store,
        queue: { enqueue: async () => [] },
        idempotency: { run: (_k, _f, work) => work(), forget: async () => undefined },
        clock: { now: () => new Date() },
        ids: { uuid: () => randomUUID() },
        settings: { recordTtlDays: 1 },
      },
    );
    queuedIds.push((answer.body as { messageId: string }).messageId);
  }
  doc.destroy();
  return queuedIds;
}

/**
 * `n` agent messages of `conversationId` as the Chat Gateway simulator signs and delivers them, caught by a
 * one-off receiver in place of the stack's webhook.
 */
async function captureSignedEvents(
  { stack, chatGateway: chat }: BenchStack,
  conversationId: string,
  n: number,
) {
  const captured: { headers: Record<string, string>; body: string }[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      captured.push({ headers: plainHeaders(req), body: body.toString('utf8') });
      res.writeHead(200).end();
    });
  });
  const port = await listenLocal(server);
  chat.setWebhookUrl(`http://127.0.0.1:${port}/`);
  try {
    for (let i = 0; i < n; i++) await chat.agentSay(conversationId, `Cold start ${i}`);
    await pollUntil('captured webhook events', () => captured.length >= n, 5_000);
  } finally {
    chat.setWebhookUrl(`${stack.urls.gateway}/handover/eightByEight`);
    await closeServer(server);
  }
  return captured.slice(0, n);
}

function queueArn(url: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${url.split('/').pop()}`;
}

/** What the webhook puts on the inbound queue for an agent message. */
const relayEnvelope = (conversationId: string, text: string) => ({
  eventId: randomUUID(),
  retry: 0,
  receivedAt: Date.now(),
  event: {
    eventType: 'MESSAGE',
    conversationId,
    timestamp: Date.now(),
    data: { isEcho: false, sender: { id: 'agent-1', type: 'agent' }, text, attachments: [], cards: [] },
  },
});

/** What POST /handover/{id}/messages puts on the outbound queue. */
const outboundItem = (conversationId: string, text: string) => ({
  kind: 'message',
  itemId: randomUUID(),
  conversationId,
  text,
  requestedAt: new Date().toISOString(),
});

const startBody = (i: number) => ({
  cognigy: { userId: `cold-${i}`, sessionId: `cold-${i}-${randomUUID()}`, URLToken: 'bench-token' },
  channelId: 'bench-channel',
});
