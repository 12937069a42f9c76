/** After the chaos workload: waiting for everything to settle, then reading what every party observed. */
import { GetItemCommand, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QUEUES, type QueueName } from '../../../functions/shared/catalogue';
import { localDynamoDbClient, localSqsClient } from '../../local/aws';
import type { LocalStack } from '../../local/stack';
import { callJson, runPool, sleep } from '../load';
import type { RecordingProxy } from '../proxy';
import type { WorkerKiller } from '../worker-kill';
import {
  TERMINAL,
  type AcceptedSmsObservation,
  type AgentMessageObservation,
  type ChaosObservations,
  type DlqEntry,
} from './invariants';
import type { ChaosProfile } from './profile';
import type { ChaosFaultCounts } from './report';
import type { ConversationRun } from './workload';

async function queuesIdle(stack: LocalStack): Promise<boolean> {
  const sqs = localSqsClient({ url: stack.urls.sqs });
  try {
    for (const q of Object.keys(QUEUES) as QueueName[]) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.queues[q].url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const busy =
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
      if (busy > 0) return false;
    }
    return true;
  } finally {
    sqs.destroy();
  }
}

/** Waits until queues are empty, receipts and webhook deliveries are done and every SMS is final (or the deadline). */
export async function settle(
  profile: ChaosProfile,
  stack: LocalStack,
  accepted: AcceptedSmsObservation[],
  conversations: ConversationRun[],
  api: (method: string, path: string) => ReturnType<typeof callJson>,
): Promise<boolean> {
  const deadline = Date.now() + profile.settleTimeoutMs;
  const open = new Set(accepted.map((a) => a.messageId));
  let quiet = 0;
  while (Date.now() < deadline) {
    const pending = [...open];
    await runPool(pending.length, 8, async (i) => {
      const id = pending[i]!;
      const answer = await api('GET', `/sms/${id}`);
      const code = (answer.body as { status?: { code?: string } } | undefined)?.status?.code;
      if (code && TERMINAL.has(code)) open.delete(id);
    });
    const got = new Set(
      stack.cognigy!.calls.filter((call) => call.mode === 'notify').map((call) => String(call.body.text)),
    );
    const agentDone = conversations.every((c) => c.agentTexts.every((t) => got.has(t)));
    const receiptsDone = stack.sms!.stats().receipts.pending === 0;
    const idle = open.size === 0 && agentDone && receiptsDone && (await queuesIdle(stack));
    quiet = idle ? quiet + 1 : 0;
    // Two quiet probes in a row, a moment apart: a late duplicate or redelivery would show in between.
    if (quiet >= 2) return true;
    await sleep(idle ? 750 : 250);
  }
  return false;
}

/** The record a killed accept stored for this clientMessageId (the caller never got its messageId). */
export async function storedMessageId(
  stack: LocalStack,
  clientMessageId: string,
): Promise<string | undefined> {
  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  try {
    const { Items = [] } = await dynamo.send(
      new QueryCommand({
        TableName: stack.tables.messages,
        IndexName: 'byClientMessageId',
        KeyConditionExpression: 'clientMessageId = :c',
        ExpressionAttributeValues: { ':c': { S: clientMessageId } },
      }),
    );
    return Items[0]?.messageId?.S;
  } finally {
    dynamo.destroy();
  }
}

/** Every record of the messages table not in a terminal state: stranded SMS, whoever accepted them. */
/**
 * What became of each SMS whose sms-deliver invocation was killed after 8x8's QUEUED answer: its record at the end
 * and how often 8x8 accepted it (2 = the redelivery found the lease of a lost worker and sent again: ambiguous).
 */
export async function killedWorkerOutcomes(
  stack: LocalStack,
  killer: WorkerKiller,
): Promise<NonNullable<ChaosObservations['workerKills']>> {
  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  const outcomes: NonNullable<ChaosObservations['workerKills']> = [];
  try {
    for (const messageId of killer.killedMessageIds) {
      const { Item } = await dynamo.send(
        new GetItemCommand({
          TableName: stack.tables.messages,
          Key: { messageId: { S: messageId } },
          ConsistentRead: true,
        }),
      );
      const sentAs = Item?.clientMessageId?.S ?? messageId;
      outcomes.push({
        messageId,
        clientMessageId: sentAs,
        status: (Item?.status?.S ?? 'missing').toUpperCase(),
        attempts: Number(Item?.attempts?.N ?? 0),
        ambiguousAttempts: Number(Item?.ambiguousAttempts?.N ?? 0),
        acceptedBy8x8: stack.sms!.received.filter((m) => m.clientMessageId === sentAs).length,
      });
    }
  } finally {
    dynamo.destroy();
  }
  return outcomes;
}

/** SMS in every 8x8 send call (single: 1, batch: its messages), whatever 8x8 answered. */
export function eightByEightSmsRequests(stack: LocalStack): number {
  let count = 0;
  for (const call of stack.sms!.requests) {
    const body = call.body as { messages?: unknown[] } | string;
    count += call.endpoint === 'batch' && typeof body === 'object' ? (body.messages?.length ?? 0) : 1;
  }
  return count;
}

export async function unfinishedRecords(stack: LocalStack): Promise<{ messageId: string; status: string }[]> {
  const dynamo = localDynamoDbClient({ url: stack.urls.dynamodb });
  const unfinished: { messageId: string; status: string }[] = [];
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await dynamo.send(
        new ScanCommand({
          TableName: stack.tables.messages,
          ProjectionExpression: 'messageId, #s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const status = (item.status?.S ?? 'unknown').toUpperCase();
        if (!TERMINAL.has(status)) unfinished.push({ messageId: item.messageId?.S ?? '?', status });
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    dynamo.destroy();
  }
  return unfinished;
}

async function readDlq(stack: LocalStack, queue: QueueName): Promise<unknown[]> {
  const sqs = localSqsClient({ url: stack.urls.sqs });
  const bodies: unknown[] = [];
  try {
    for (let round = 0; round < 50; round++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.queues[queue].dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          // Kept invisible for the rest of the run so each is read once; the stack is stopped right after.
          VisibilityTimeout: 300,
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        try {
          bodies.push(JSON.parse(m.Body ?? ''));
        } catch {
          bodies.push(m.Body);
        }
      }
    }
  } finally {
    sqs.destroy();
  }
  return bodies;
}

export async function observe(
  stack: LocalStack,
  accepted: AcceptedSmsObservation[],
  idempotencyMismatches: ChaosObservations['sms']['idempotencyMismatches'],
  conversations: ConversationRun[],
  api5xx: ChaosObservations['api5xx'],
  api: (method: string, path: string) => ReturnType<typeof callJson>,
  cognigyProxy: RecordingProxy,
): Promise<ChaosObservations> {
  const sms = stack.sms!;
  const chat = stack.chatGateway!;
  const cognigy = stack.cognigy!;
  const statusOf = async (messageId: string) => {
    const answer = await api('GET', `/sms/${messageId}`);
    return answer.status === 200
      ? (answer.body as { status: { code: string }; reason?: string; errorCode?: string | number })
      : undefined;
  };
  const smsObserved = await runPool(accepted.length, 8, async (i) => {
    const a = accepted[i]!;
    const record = await statusOf(a.messageId);
    return {
      ...a,
      ...(record
        ? {
            status: record.status.code,
            ...(record.reason ? { reason: record.reason } : {}),
            ...(record.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
          }
        : {}),
    };
  });

  // 8x8's deliveries of each agent message: the event's first acknowledged attempt.
  const eventText = new Map<string, string>();
  for (const e of chat.events) {
    if (e.eventType !== 'MESSAGE') continue;
    const data = (JSON.parse(e.body) as { data?: { text?: string; sender?: { type?: string } } }).data;
    if (data?.sender?.type === 'agent' && data.text) eventText.set(e.eventId, data.text);
  }
  const firstAck = new Map<string, { from: number; until: number }>();
  for (const d of chat.deliveries) {
    if (typeof d.status !== 'number' || d.status < 200 || d.status >= 300 || firstAck.has(d.eventId))
      continue;
    firstAck.set(d.eventId, { from: d.at, until: d.at + (d.durationMs ?? 0) });
  }
  const windowByText = new Map<string, { from: number; until: number }>();
  for (const [eventId, text] of eventText) {
    const w = firstAck.get(eventId);
    if (w) windowByText.set(text, w);
  }

  // Notify pushes whose answer did not reach the bridge (Cognigy may or may not have taken them).
  const lostAnswers = new Map<string, number>();
  for (const call of cognigyProxy.calls) {
    if (!call.path.startsWith('/notify/') || call.answered) continue;
    try {
      const text = String((JSON.parse(call.body) as { text?: unknown }).text);
      lostAnswers.set(text, (lostAnswers.get(text) ?? 0) + 1);
    } catch {
      // Not JSON: not one of the run's messages.
    }
  }
  const agent = conversations.map((c) => ({
    conversationId: c.conversationId,
    sent: c.agentTexts.map((text): AgentMessageObservation => {
      const w = windowByText.get(text);
      const lost = lostAnswers.get(text);
      return {
        text,
        ...(w ? { deliveredFrom: w.from, deliveredUntil: w.until } : {}),
        ...(lost ? { lostAnswers: lost } : {}),
      };
    }),
    received: cognigy.calls
      .filter(
        (call) =>
          call.mode === 'notify' &&
          (call.body.data as { handover?: { conversationId?: string } } | undefined)?.handover
            ?.conversationId === c.conversationId,
      )
      .sort((a, b) => a.seq - b.seq)
      .map((call) => String(call.body.text)),
  }));
  const user = conversations.map((c) => ({
    conversationId: c.conversationId,
    sent: c.userTexts,
    received: chat.conversation(c.conversationId).userMessages.map((m) => m.text),
  }));

  const dlq: DlqEntry[] = [];
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    for (const body of await readDlq(stack, queue)) dlq.push(await explainDlq(queue, body, statusOf, api));
  }

  return {
    sms: {
      accepted: smsObserved,
      eightByEight: sms.received.map((m) => ({
        clientMessageId: m.clientMessageId,
        answered: m.answer === 'answered',
        callSeq: m.callSeq,
      })),
      idempotencyMismatches,
    },
    agent,
    user,
    api5xx,
    dlq,
  };
}

async function explainDlq(
  queue: QueueName,
  body: unknown,
  statusOf: (
    id: string,
  ) => Promise<{ status: { code: string }; reason?: string; errorCode?: string | number } | undefined>,
  api: (method: string, path: string) => ReturnType<typeof callJson>,
): Promise<DlqEntry> {
  const b = (body ?? {}) as Record<string, unknown>;
  if (queue === 'sms') {
    const messageId = String(b.messageId ?? '');
    const record = messageId ? await statusOf(messageId) : undefined;
    return {
      queue,
      subject: `SMS ${messageId || JSON.stringify(body).slice(0, 80)}`,
      reason: record ? (record.reason ?? String(record.errorCode ?? 'no reason recorded')) : 'no record',
      ...(record ? { status: record.status.code } : {}),
    };
  }
  if (queue === 'smsInbound')
    return { queue, subject: `inbound SMS ${String(b.umid ?? '?')}`, reason: 'never handled' };
  const event = b.event as { eventType?: string; conversationId?: string } | undefined;
  const conversationId = String(event?.conversationId ?? b.conversationId ?? '');
  const subject =
    queue === 'handoverInbound'
      ? `${event?.eventType ?? 'event'} of ${conversationId}`
      : `${String(b.kind ?? 'item')} for ${conversationId}`;
  let reason = 'no record';
  if (conversationId) {
    const answer = await api('GET', `/handover/${encodeURIComponent(conversationId)}`);
    const lastError = (answer.body as { lastError?: { message?: string; code?: string } } | undefined)
      ?.lastError;
    reason = lastError
      ? `${lastError.code ?? ''} ${lastError.message ?? ''}`.trim()
      : `conversation HTTP ${answer.status}`;
  }
  return { queue, subject, reason };
}

export function faultCounts(stack: LocalStack, chatGatewayApiFaults: number): ChaosFaultCounts {
  const smsStats = stack.sms!.stats();
  const deliveries = stack.chatGateway!.deliveries;
  const seenFirst = new Set<string>();
  let duplicates = 0;
  for (const d of deliveries) {
    if (d.retry !== 0) continue;
    if (seenFirst.has(d.eventId)) duplicates++;
    else seenFirst.add(d.eventId);
  }
  const pollerStats = stack.pollerStats() as Record<QueueName, { crashes?: number }>;
  return {
    eightByEightCalls: smsStats.calls,
    eightByEightAnswers: smsStats.answersByStatus,
    eightByEightUnanswered: smsStats.unanswered,
    eightByEightResets: smsStats.resets,
    receiptAttempts: smsStats.receipts.attempts,
    receiptDuplicates: stack.sms!.receiptsSent.filter((r) => r.duplicate).length,
    webhookDeliveries: deliveries.length,
    webhookDuplicates: duplicates,
    webhookFailedAttempts: deliveries.filter((d) => typeof d.status !== 'number' || d.status >= 300).length,
    webhookRefusals: deliveries
      .filter((d) => typeof d.status !== 'number' || d.status >= 300)
      .reduce<Record<string, number>>(
        (by, d) => ({ ...by, [String(d.status)]: (by[String(d.status)] ?? 0) + 1 }),
        {},
      ),
    chatGatewayApiFaults,
    cognigyRefused: stack.cognigy!.rejected.length,
    cognigyDuplicates: stack.cognigy!.duplicates().duplicates,
    cognigyDuplicatesAfterFlowDedupe: stack.cognigy!.duplicates().duplicatesAfterFlowDedupe,
    workerCrashes: Object.fromEntries(
      (Object.keys(pollerStats) as QueueName[]).map((q) => [q, pollerStats[q].crashes ?? 0]),
    ),
  };
}
