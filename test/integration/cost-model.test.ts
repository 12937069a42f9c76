/**
 * The AWS calls behind the cost estimate (docs/operations.md "Cost estimate"), counted on the real local stack at
 * the DynamoDB and SQS access fronts, per function: what one SMS (accepted, sent, receipted) and one handover (start,
 * user messages, agent join/messages/leave, user end) cost in DynamoDB reads/writes and SQS sends. If a code change
 * adds a call, this test fails and the runbook's formula is due for an update.
 */
import { randomUUID } from 'node:crypto';
import type { FunctionName } from '../../functions/shared/catalogue';
import { functionOfAccessKeyId } from '../../lib/local/grants';
import type { HoldHook } from '../../lib/local/access-front';
import type { LocalStack } from '../../lib/local/stack';
import { handoverWithAgent } from '../helpers/cognigy-session';
import { apiClient, stackSqsClient, startTestStack, waitForDrained, type ApiClient } from '../helpers/local';
import { waitFor } from '../helpers/wait';

const WEBHOOK_AUTHORIZATION = `Bearer receipts-${randomUUID()}`;

/** DynamoDB or SQS calls per function, action and resource, counted while `counting` is on. */
class CallCounter {
  counting = false;
  /** Calls per `function action resource` (resource: table name or queue URL). */
  readonly calls = new Map<string, number>();
  readonly hook: HoldHook = ({ accessKeyId, accesses }) => {
    const fn: FunctionName | undefined = functionOfAccessKeyId(accessKeyId);
    if (this.counting && fn) {
      const key = `${fn} ${accesses[0]?.action ?? '?'} ${accesses[0]?.resource ?? ''}`;
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    }
    return false; // never held: only counted
  };
  /** A function's calls per action, on one resource or on all. */
  of(fn: FunctionName, resource?: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [key, n] of this.calls) {
      const [name, action, on] = key.split(' ') as [string, string, string];
      if (name !== fn || (resource !== undefined && on !== resource)) continue;
      counts[action] = (counts[action] ?? 0) + n;
    }
    return counts;
  }
  reset(): void {
    this.calls.clear();
  }
}

const dynamo = new CallCounter();
const sqs = new CallCounter();
let stack: LocalStack;
let api: ApiClient;

beforeAll(async () => {
  stack = await startTestStack({
    env: { LOG_LEVEL: 'ERROR' },
    smsWebhookAuthorization: WEBHOOK_AUTHORIZATION,
    holdDynamoDbCalls: dynamo.hook,
    holdSqsCalls: sqs.hook,
    // The sweeper's minute timer would add its outbox query at random points.
    scheduleIntervalMs: { 'sms-sweeper': 0 },
    // Receipts well after the worker recorded 8x8's answer, as in AWS (8x8 needs seconds to hear from the operator).
    simulators: { sms: { receiptDelayMs: 300 } },
  });
  api = apiClient(stack);
});

afterAll(async () => {
  await stack?.stop();
});

test('one SMS: accept 1 read + 2 writes + 1 send; deliver 1 read + 2 writes; each receipt 1 read + 1 write', async () => {
  const count = 3;
  dynamo.reset();
  sqs.reset();
  dynamo.counting = sqs.counting = true;
  for (let i = 0; i < count; i++) {
    // One at a time: each SMS is its own poll batch (b = 1), as when SMS trickle in.
    const accepted = await api.post<{ messageId: string }>('/sms', {
      destination: `+659${String(1000000 + i).slice(1)}1`,
      text: 'Your code is 123456',
    });
    expect(accepted.status).toBe(202);
    const umid = await waitFor(`SMS ${i} delivered`, async () => {
      const status = await api.get<{ status: { code: string }; umid?: string }>(
        `/sms/${accepted.body.messageId}`,
      );
      return status.body.status.code === 'DELIVERED' ? status.body.umid : undefined;
    });
    await waitFor(`both receipts of SMS ${i} answered`, () =>
      stack.sms!.receiptsSent.filter((r) => r.umid === umid && r.ok).length >= 2 ? true : undefined,
    );
  }
  dynamo.counting = sqs.counting = false;
  const receipts = 2 * count; // the simulator sends `sent`, then `delivered` (R = 2)

  expect(dynamo.of('sms-accept', stack.tables.messages)).toEqual({ PutItem: count, UpdateItem: count });
  // The opt-out check (issue 14): one consistent read of the destination's opt-out item.
  expect(dynamo.of('sms-accept', stack.tables.optOuts)).toEqual({ GetItem: count });
  expect(dynamo.of('sms-accept')).toEqual({ GetItem: count, PutItem: count, UpdateItem: count });
  expect(sqs.of('sms-accept')).toEqual({ SendMessageBatch: count });
  expect(dynamo.of('sms-deliver', stack.tables.messages)).toEqual({ GetItem: count, UpdateItem: 2 * count });
  // The 8x8 pacer (functions/sms/dynamo-pacer-store.ts): one slot take per 8x8 call (two for a call due in a
  // second's edge guard: a place that second left unused and one of the next), and the learnt rate read at most
  // once a second per instance.
  const pacer = dynamo.of('sms-deliver', stack.tables.pacer);
  expect(pacer.UpdateItem).toBeGreaterThanOrEqual(count);
  expect(pacer.UpdateItem).toBeLessThanOrEqual(2 * count);
  expect(pacer.GetItem ?? 0).toBeLessThanOrEqual(count);
  // A receipt finds its record through the umid index, then moves it (the `sent` receipt's conditional write
  // changes nothing, but DynamoDB bills a failed condition as a write too).
  expect(dynamo.of('sms-receipt')).toEqual({ Query: receipts, UpdateItem: receipts });
  expect(sqs.of('sms-receipt')).toEqual({});
  expect(dynamo.of('sms-status')).toEqual({ GetItem: expect.any(Number) }); // this test's own polling
});

test('one inbound SMS at the webhook: 1 claim write + 1 send + 1 write; 8x8 repeating it: 1 write + 1 read', async () => {
  const count = 3;
  dynamo.reset();
  sqs.reset();
  dynamo.counting = sqs.counting = true;
  for (let i = 0; i < count; i++) {
    const umid = randomUUID();
    const event = {
      namespace: 'SMS',
      eventType: 'inbound_message_received',
      payload: {
        umid,
        source: `659${String(2000000 + i).slice(1)}2`,
        destination: '6587654321',
        body: 'YES',
      },
    };
    for (const expected of [{ queued: true }, { duplicate: true }]) {
      const answer = await api.request('POST', '/webhooks/8x8/sms/inbound', event, {
        authorization: WEBHOOK_AUTHORIZATION,
      });
      expect(answer.body).toMatchObject({ ok: true, ...expected });
    }
  }
  dynamo.counting = sqs.counting = false;
  // The claim is a conditional put; the repeat's put fails its condition (billed as a write) and reads the claim.
  expect(dynamo.of('sms-inbound-webhook')).toEqual({ PutItem: 2 * count, UpdateItem: count, GetItem: count });
  expect(sqs.of('sms-inbound-webhook')).toEqual({ SendMessageBatch: count });
});

test("one SMS bot turn in sms-inbound: the answer's own record is its once-only guard (no idempotency table)", async () => {
  const sms = stack.sms!;
  const turns = 3;
  // The webhook test's inbound SMS went on to the bot: their turns must not be counted here.
  const client = stackSqsClient(stack);
  try {
    await waitForDrained(client, stack, ['smsInbound', 'sms']);
  } finally {
    client.destroy();
  }
  dynamo.reset();
  sqs.reset();
  dynamo.counting = sqs.counting = true;
  for (let i = 0; i < turns; i++) {
    // Not ending in 0000: the simulator's operator refuses those (undelivered, never on the handset).
    const phone = `+65931000${i}1`;
    sms.textFromHandset(phone, '+6568008888', `Hello ${i}`);
    // The echo bot answers with one SMS.
    await sms.waitForHandset(phone, (m) => m.some((x) => x.direction === 'received'), 15_000);
  }
  // The answer's outbox marker is cleared after the turn: wait until every clear is counted.
  await waitFor('the outbox markers cleared', () => (dynamo.of('sms-inbound').UpdateItem ?? 0) >= turns);
  dynamo.counting = sqs.counting = false;
  // Per turn: the reply window (2 queries: this sender, then no sender), the saved answer, the session and the
  // opt-out list (3 reads); the session, the answer and the SMS record (3 conditional puts); the outbox clear.
  expect(dynamo.of('sms-inbound')).toEqual({
    Query: 2 * turns,
    GetItem: 3 * turns,
    PutItem: 3 * turns,
    UpdateItem: turns,
  });
  expect(dynamo.of('sms-inbound', stack.tables.idempotency)).toEqual({});
  expect(sqs.of('sms-inbound')).toEqual({ SendMessageBatch: turns });
});

test('one handover: calls per user message, agent event and end', async () => {
  const chat = stack.chatGateway!;
  const cognigy = stack.cognigy!;
  const userMessages = 5;
  const agentMessages = 5;
  dynamo.reset();
  sqs.reset();
  dynamo.counting = sqs.counting = true;

  const { session, conversationId } = await handoverWithAgent({ api, chat, cognigy }, `cost-${randomUUID()}`);
  for (let i = 0; i < userMessages; i++) {
    const sent = await api.post(`/handover/${conversationId}/messages`, {
      sessionId: session.sessionId,
      text: `user message ${i}`,
    });
    expect(sent.status).toBe(202);
  }
  for (let i = 0; i < agentMessages; i++) await chat.agentSay(conversationId, `agent message ${i}`);
  await waitFor('the agent messages at Cognigy', () =>
    cognigy.callsFor(session.sessionId).filter((c) => c.mode === 'notify').length >= agentMessages
      ? true
      : undefined,
  );
  await waitFor('the user messages at 8x8', () =>
    chat.conversation(conversationId).userMessages.length >= userMessages ? true : undefined,
  );
  expect((await api.post(`/handover/${conversationId}/end`, { sessionId: session.sessionId })).status).toBe(
    200,
  );
  const client = stackSqsClient(stack);
  try {
    await waitForDrained(client, stack, ['handoverOutbound', 'handoverInbound'], {
      beforeProbe: () => chat.settled(),
    });
  } finally {
    client.destroy();
  }
  dynamo.counting = sqs.counting = false;

  const webhookClaims = dynamo.of('handover-webhook').PutItem ?? 0;
  const counts = {
    start: { dynamo: dynamo.of('handover-start'), sqs: sqs.of('handover-start') },
    message: { dynamo: dynamo.of('handover-message'), sqs: sqs.of('handover-message') },
    end: { dynamo: dynamo.of('handover-end'), sqs: sqs.of('handover-end') },
    outbound: { dynamo: dynamo.of('handover-outbound'), sqs: sqs.of('handover-outbound') },
    webhook: { dynamo: dynamo.of('handover-webhook'), sqs: sqs.of('handover-webhook') },
    relay: { dynamo: dynamo.of('handover-relay'), sqs: sqs.of('handover-relay') },
  };
  // What the runbook's formula takes (docs/operations.md "Calls per handover"); the exact numbers vary a little with
  // timing (version conflicts between the relay and the outbound worker cost a re-read and a second write).
  expect(counts.start).toEqual({ dynamo: { GetItem: 1, Query: 1, PutItem: 2, UpdateItem: 1 }, sqs: {} });
  expect(counts.message).toEqual({
    dynamo: { GetItem: userMessages },
    sqs: { SendMessageBatch: userMessages },
  });
  expect(counts.end).toEqual({ dynamo: { GetItem: 1, UpdateItem: 1 }, sqs: { SendMessageBatch: 1 } });
  const items = userMessages + 1;
  expect(counts.outbound.dynamo.GetItem).toBeGreaterThanOrEqual(2 * items);
  expect(counts.outbound.dynamo.UpdateItem).toBeGreaterThanOrEqual(items);
  expect(counts.outbound.dynamo.UpdateItem).toBeLessThanOrEqual(2 * items);
  expect(counts.outbound.sqs).toEqual({});
  // Every verified event: a claim and its "queued" mark, one send. 8x8 echoes the user's messages and reports the
  // conversation's states, so there are more events than agent messages.
  expect(webhookClaims).toBeGreaterThanOrEqual(userMessages + agentMessages + 2);
  expect(counts.webhook).toEqual({
    dynamo: { PutItem: webhookClaims, UpdateItem: webhookClaims },
    sqs: { SendMessageBatch: webhookClaims },
  });
  // The relay reads the conversation for each event (again after a version conflict) and writes only for pushes
  // and state changes.
  expect(counts.relay.dynamo.GetItem).toBeGreaterThanOrEqual(webhookClaims);
  expect(counts.relay.dynamo.GetItem).toBeLessThanOrEqual(webhookClaims + counts.relay.dynamo.UpdateItem!);
  expect(counts.relay.dynamo.UpdateItem).toBeGreaterThanOrEqual(agentMessages);
  expect(counts.relay.dynamo.UpdateItem).toBeLessThan(webhookClaims);
});
