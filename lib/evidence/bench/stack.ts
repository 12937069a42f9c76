/**
 * The local stack as the benchmark drives it (lib/local/stack.ts, simulators only, pollers as deployed) and the
 * calls every part makes on it: accept an SMS, wait for SMS at the 8x8 simulator, start and activate handovers.
 */
import { randomUUID } from 'node:crypto';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { QUEUES, SETTINGS, type QueueName } from '../../../functions/shared/catalogue';
import { callJson, pollUntil, runPool } from '../load';

export interface BenchStack {
  stack: LocalStack;
  sms: NonNullable<LocalStack['sms']>;
  chatGateway: NonNullable<LocalStack['chatGateway']>;
  cognigy: NonNullable<LocalStack['cognigy']>;
  api: (method: string, p: string, body?: unknown) => ReturnType<typeof callJson>;
  smsCredentials: { apiKey: string; subAccountId: string; baseUrl: string };
}

/** A destination 8x8's simulator delivers (numbers ending in 0000 are its "undelivered" ones). */
export function destination(i: number): string {
  return `+6591${String(100_000 + (i % 899_999)).padStart(6, '0')}`.replace(/0$/, '1');
}

/**
 * `settings`: catalogue settings over the defaults (e.g. the rate-limited run's SMS_QUEUE_BATCH_SIZE), after those
 * of the shell (e.g. `SMS_QUEUE_BATCH_SIZE=10 npm run bench` to compare with smaller batches).
 */
/** Up to this much more before each simulated 8x8 receipt (SmsSimulator receiptSpreadMs). */
export const BENCH_RECEIPT_SPREAD_MS = 2_000;

export async function openBenchStack(settings: Record<string, string> = {}): Promise<BenchStack> {
  const fromShell = Object.values(SETTINGS).flatMap((name) => {
    const value = process.env[name];
    return value === undefined ? [] : [[name, value] as const];
  });
  const stack = await startLocalStack({
    port: 0,
    quiet: true,
    settings: { ...Object.fromEntries(fromShell), ...settings },
    // Simulators only, whatever real credentials the shell holds. ERROR: the functions' WARN lines (e.g.
    // Powertools' "no application metrics" per invocation) would measure the terminal, not the bridge.
    env: { LOG_LEVEL: 'ERROR' },
    // Carriers answer each handset in its own time: a batch call's receipts arrive spread over about 2 s, not in
    // one burst 100 and 200 ms after it. In step, they queue the next POST /sms behind a hundred record writes on
    // the serial local DynamoDB stand-in, which DynamoDB itself does not do (BENCHMARKS.md, accept row).
    simulators: { sms: { receiptSpreadMs: BENCH_RECEIPT_SPREAD_MS } },
    // As deployed: one poller per unit of the event source mapping's maximum concurrency.
    pollers: Object.fromEntries(
      (Object.keys(QUEUES) as QueueName[]).map((q) => [q, QUEUES[q].maxConcurrency]),
    ) as Record<QueueName, number>,
  });
  const secret = stack.secretsManager.getSecretString(stack.secretNames.smsCredentials);
  const { sms, chatGateway, cognigy } = stack;
  if (!secret || !sms || !chatGateway || !cognigy) {
    await stack.stop();
    throw new Error('The benchmark needs the 8x8 SMS, Chat Gateway and Cognigy simulators');
  }
  const api = (method: string, p: string, body?: unknown) =>
    callJson(`${stack.urls.gateway}${p}`, { method, body, headers: { 'x-api-key': stack.apiKey } });
  return {
    stack,
    sms,
    chatGateway,
    cognigy,
    api,
    smsCredentials: JSON.parse(secret) as BenchStack['smsCredentials'],
  };
}

/** One POST /sms to a simulator-deliverable number; anything but 202 stops the benchmark. */
export async function acceptSms(
  api: BenchStack['api'],
  i: number,
  text: string,
): Promise<{ messageId: string; ms: number }> {
  const answer = await api('POST', '/sms', { destination: destination(i), text });
  if (answer.status !== 202) throw new Error(`POST /sms answered ${answer.status}: ${answer.text}`);
  return { messageId: (answer.body as { messageId: string }).messageId, ms: answer.ms };
}

/**
 * `count` SMS accepted through POST /sms/batch, `perRequest` at a time (a backlog builds faster than one POST /sms
 * each); their messageIds. Anything but 202 with every item accepted stops the benchmark.
 */
export async function acceptSmsBacklog(
  api: BenchStack['api'],
  count: number,
  text: string,
  perRequest = 50,
): Promise<string[]> {
  const requests = Math.ceil(count / perRequest);
  const ids = await runPool(requests, 2, async (r) => {
    const size = Math.min(perRequest, count - r * perRequest);
    const messages = Array.from({ length: size }, (_, j) => ({
      destination: destination(r * perRequest + j),
      text: `${text} ${r * perRequest + j}`,
    }));
    const answer = await api('POST', '/sms/batch', { messages });
    const items = (answer.body as { items?: { ok: boolean; messageId?: string }[] } | undefined)?.items ?? [];
    if (answer.status !== 202 || items.length !== size || items.some((i) => !i.ok || !i.messageId))
      throw new Error(`POST /sms/batch answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return items.map((i) => i.messageId as string);
  });
  return ids.flat();
}

/**
 * Waits until the 8x8 simulator has received every SMS of `ids` (the bridge sends its messageId as clientMessageId
 * when the flow gave none); when each first arrived (epoch ms), by id.
 */
export async function arrivalsAtSimulator(
  sms: BenchStack['sms'],
  ids: string[],
  limitMs: number,
): Promise<Map<string, number>> {
  const wanted = new Set(ids);
  const arrivals = new Map<string, number>();
  await pollUntil(
    `${ids.length} SMS at the 8x8 simulator`,
    () => {
      for (const m of sms.received) {
        if (m.clientMessageId && wanted.has(m.clientMessageId) && !arrivals.has(m.clientMessageId))
          arrivals.set(m.clientMessageId, Date.parse(m.receivedAt));
      }
      return arrivals.size >= wanted.size || undefined;
    },
    limitMs,
    25,
  );
  return arrivals;
}

/**
 * Waits until the bridge has acknowledged both receipts (`sent`, `delivered`) of every SMS of `ids` (clientMessageIds
 * at the 8x8 simulator), so nothing of theirs is still being processed.
 */
export async function receiptsAcknowledged(
  sms: BenchStack['sms'],
  ids: string[],
  limitMs: number,
): Promise<void> {
  const wanted = new Set(ids);
  const states = new Map<string, Set<string>>();
  let seen = 0;
  await pollUntil(
    `both receipts of ${ids.length} SMS acknowledged`,
    () => {
      for (; seen < sms.receiptsSent.length; seen++) {
        const receipt = sms.receiptsSent[seen]!;
        if (!receipt.ok || !receipt.clientMessageId || !wanted.has(receipt.clientMessageId)) continue;
        const got = states.get(receipt.clientMessageId) ?? new Set<string>();
        got.add(receipt.state);
        states.set(receipt.clientMessageId, got);
      }
      let done = 0;
      for (const got of states.values()) if (got.has('sent') && got.has('delivered')) done++;
      return done >= wanted.size || undefined;
    },
    limitMs,
    50,
  );
}

/** The last arrival of `arrivals`, or `since` when none came later. */
export const lastArrival = (arrivals: Map<string, number>, since: number) =>
  [...arrivals.values()].reduce((last, at) => Math.max(last, at), since);

/** A handover the benchmark started: its 8x8 conversation and the Cognigy session that must accompany it. */
export interface BenchConversation {
  conversationId: string;
  sessionId: string;
}

export async function startConversation({ api }: BenchStack, i: number): Promise<BenchConversation> {
  const sessionId = `bench-session-${i}-${randomUUID()}`;
  const answer = await api('POST', '/handover', {
    cognigy: { userId: `bench-user-${i}`, sessionId, URLToken: 'bench-token' },
    channelId: 'bench-channel',
    customer: { name: `Bench ${i}` },
  });
  if (answer.status !== 201) throw new Error(`POST /handover answered ${answer.status}: ${answer.text}`);
  return { conversationId: (answer.body as { conversationId: string }).conversationId, sessionId };
}

/** Five fresh handovers, as the handover and cold-start parts use them. */
export const startConversations = (s: BenchStack): Promise<BenchConversation[]> =>
  Promise.all([0, 1, 2, 3, 4].map((i) => startConversation(s, i)));

/** Waits until 8x8 has put each conversation in a queue, then has an agent join it. */
export async function activate(
  { chatGateway: chat, cognigy }: BenchStack,
  conversations: BenchConversation[],
): Promise<void> {
  for (const { conversationId: id } of conversations) {
    await pollUntil(
      `conversation ${id} to be active`,
      () => chat.conversation(id).state === 'active',
      10_000,
    );
    if (chat.conversation(id).agentId) continue;
    await chat.agentJoin(id);
    await cognigy.waitFor(
      (c) =>
        JSON.stringify(c.body.data ?? {}).includes(id) && JSON.stringify(c.body.data).includes('agentJoined'),
      10_000,
    );
  }
}
