/** The chaos run's traffic: SMS, handovers with agent and user messages, and faults on a timer. */
import { randomUUID } from 'node:crypto';
import type { LocalStack } from '../../local/stack';
import type { ApiFault } from '../../simulators/chat-gateway';
import { callJson, runPool, sleep } from '../load';
import type { AcceptKiller } from '../accept-kill';
import type { AcceptedSmsObservation, ChaosObservations } from './invariants';
import { storedMessageId } from './observe';
import type { ChaosProfile } from './profile';

/** The bridge's API as the workload calls it. */
export type ChaosApi = (
  method: string,
  path: string,
  body?: unknown,
  count5xx?: boolean,
) => ReturnType<typeof callJson>;

/** The stack's API with its key; every 5xx and every call left without an answer is recorded in `api5xx`. */
export function recordingApi(stack: LocalStack, api5xx: ChaosObservations['api5xx']): ChaosApi {
  return async (method, path, body, count5xx = true) => {
    let answer: Awaited<ReturnType<typeof callJson>>;
    try {
      answer = await callJson(`${stack.urls.gateway}${path}`, {
        method,
        body,
        headers: { 'x-api-key': stack.apiKey },
      });
    } catch (error) {
      // No answer at all (the client's own timeout): recorded as status 0, and the run goes on.
      answer = { status: 0, headers: new Headers(), body: undefined, text: String(error), ms: 0 };
    }
    if (count5xx && (answer.status >= 500 || answer.status === 0))
      api5xx.push({ request: `${method} ${path}`, status: answer.status });
    return answer;
  };
}

interface SmsPlan {
  index: number;
  clientMessageId: string;
  destination: string;
  repeat: boolean;
}

/**
 * The SMS to send, drawn up front from `random`: some to 8x8's undeliverable numbers, some that 8x8 will reject
 * (set on the simulator now), some to be sent twice with the same clientMessageId.
 */
export function planSms(
  profile: ChaosProfile,
  sms: NonNullable<LocalStack['sms']>,
  random: () => number,
): SmsPlan[] {
  return Array.from({ length: profile.sms.count }, (_, index) => {
    const roll = random();
    const base = `+65${String(80_000_000 + Math.floor(random() * 9_000_000))}`;
    const destination =
      roll < profile.sms.undeliverableShare ? `${base.slice(0, -4)}0000` : base.replace(/0000$/, '0001');
    if (
      roll >= profile.sms.undeliverableShare &&
      roll < profile.sms.undeliverableShare + profile.sms.rejectedShare
    )
      sms.setOutcome(destination, { state: 'rejected', errorCode: 60, errorMessage: 'Content filtered' });
    return {
      index,
      clientMessageId: `chaos-${profile.seed}-${index}-${randomUUID().slice(0, 8)}`,
      destination,
      repeat: random() < profile.sms.repeatShare,
    };
  });
}

/** What sendSms records: accepted SMS, repeats answered with another id, 5xx, accepts killed after the write. */
export interface SmsOutcomes {
  accepted: AcceptedSmsObservation[];
  mismatches: ChaosObservations['sms']['idempotencyMismatches'];
  api5xx: ChaosObservations['api5xx'];
  killed: NonNullable<ChaosObservations['outbox']>['killed'];
}

/** Sends the planned SMS, some of whose accepts `killer` kills after the record write (see AcceptKiller). */
export async function sendSms(
  profile: ChaosProfile,
  stack: LocalStack,
  plans: readonly SmsPlan[],
  api: ChaosApi,
  killer: AcceptKiller,
  random: () => number,
  out: SmsOutcomes,
): Promise<void> {
  const kills = profile.faults.acceptKills;
  await runPool(plans.length, profile.sms.concurrency, async (i) => {
    const plan = plans[i]!;
    const body = {
      destination: plan.destination,
      text: `Chaos ${plan.index}`,
      clientMessageId: plan.clientMessageId,
    };
    // 5xx are counted below unless they are the injected kill itself (accounted for by the outbox invariant).
    const post = () => api('POST', '/sms', body, false);
    const failed = (answer: { status: number }) => answer.status >= 500 || answer.status === 0;
    let first = await post();
    if (failed(first)) {
      const stored = await storedMessageId(stack, plan.clientMessageId);
      if (!stored || !killer.killedMessageIds.has(stored)) {
        out.api5xx.push({ request: 'POST /sms', status: first.status });
        return;
      }
      // The accept died after storing the record. A flow may send it again (repeat path) or give up (sweeper).
      const retried = random() < (kills?.retriedShare ?? 0);
      for (let round = 0; retried && round < 3 && failed(first); round++) first = await post();
      const repeatId = (first.body as { messageId?: string } | undefined)?.messageId;
      if (!failed(first) && repeatId !== stored)
        out.mismatches.push({
          clientMessageId: plan.clientMessageId,
          first: stored,
          repeat: `${repeatId ?? 'none'} (HTTP ${first.status})`,
        });
      out.killed.push({ messageId: stored, clientMessageId: plan.clientMessageId, retried });
      out.accepted.push({ messageId: stored, clientMessageId: plan.clientMessageId });
      return;
    }
    const messageId = (first.body as { messageId?: string } | undefined)?.messageId;
    if (first.status !== 202 || !messageId) return;
    out.accepted.push({ messageId, clientMessageId: plan.clientMessageId });
    if (plan.repeat) {
      const again = await api('POST', '/sms', body);
      const repeatId = (again.body as { messageId?: string } | undefined)?.messageId;
      if (repeatId !== messageId)
        out.mismatches.push({
          clientMessageId: plan.clientMessageId,
          first: messageId,
          repeat: `${repeatId ?? 'none'} (HTTP ${again.status})`,
        });
    }
  });
}

/** Cognigy outages and Chat Gateway API failures at random times while the workload runs. */
export function scheduleBackgroundFaults(
  profile: ChaosProfile,
  stack: LocalStack,
  random: () => number,
  log: (line: string) => void,
  started: Promise<void>,
): { done: Promise<void>; chatGatewayFaults: number } {
  // About as long as a conversation's scripted messages take, so the faults fall among them.
  const h = profile.handover;
  const span = Math.max(
    300,
    ((h.agentMessagesPerConversation + h.userMessagesPerConversation) * h.maxGapMs) / 2,
  );
  const state = { chatGatewayFaults: 0, done: Promise.resolve() };
  const outages = Array.from({ length: profile.faults.cognigyOutages.count }, (_, i) => ({
    at: Math.floor(random() * span),
    status: profile.faults.cognigyOutages.statuses[i % profile.faults.cognigyOutages.statuses.length]!,
  })).sort((a, b) => a.at - b.at);
  const apiFaults: ApiFault[] = [429, 500, 503, 'timeout'];
  const failures = Array.from({ length: profile.faults.chatGatewayApiFailures }, () => ({
    at: Math.floor(random() * span),
    fault: apiFaults[Math.floor(random() * apiFaults.length)]!,
  }));
  state.done = Promise.all([
    (async () => {
      await started;
      const from = Date.now();
      for (const outage of outages) {
        await sleep(Math.max(0, from + outage.at - Date.now()));
        stack.cognigy!.setOutage({
          status: outage.status,
          ...(outage.status === 429 ? { retryAfter: 1 } : {}),
        });
        const refusedBefore = stack.cognigy!.rejected.length;
        log(`Cognigy outage: ${outage.status} for ${profile.faults.cognigyOutages.durationMs} ms`);
        await sleep(profile.faults.cognigyOutages.durationMs);
        // On a slow machine the relay may not have reached Cognigy yet: the outage lasts until it has refused at
        // least one call (within a bound), so the fault is really exercised rather than timed past the traffic.
        const holdUntil = Date.now() + 10_000;
        while (stack.cognigy!.rejected.length === refusedBefore && Date.now() < holdUntil) await sleep(25);
        stack.cognigy!.clearOutage();
      }
    })(),
    ...failures.map(async (failure) => {
      await started;
      await sleep(failure.at);
      stack.chatGateway!.failApiCalls(failure.fault, 1, {
        operation: 'sendMessage',
        ...(failure.fault === 429 ? { retryAfterSeconds: 1 } : {}),
      });
      state.chatGatewayFaults++;
    }),
  ]).then(() => undefined);
  return state;
}

export interface ConversationRun {
  conversationId: string;
  sessionId: string;
  agentTexts: string[];
  userTexts: string[];
}

export async function runHandovers(
  profile: ChaosProfile,
  stack: LocalStack,
  api: ChaosApi,
  random: () => number,
  log: (line: string) => void,
  messagesStarted: () => void,
): Promise<ConversationRun[]> {
  const chat = stack.chatGateway!;
  const h = profile.handover;
  // Each conversation's script is drawn up front, so the PRNG sequence does not depend on timing.
  const scripts = Array.from({ length: h.conversations }, (_, c) => {
    const actions: ('agent' | 'user')[] = [
      ...Array<'agent'>(h.agentMessagesPerConversation).fill('agent'),
      ...Array<'user'>(h.userMessagesPerConversation).fill('user'),
    ];
    for (let i = actions.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [actions[i], actions[j]] = [actions[j]!, actions[i]!];
    }
    return { c, actions, gaps: actions.map(() => Math.floor(random() * h.maxGapMs)) };
  });
  const runs = await Promise.all(
    scripts.map(async ({ c, actions, gaps }): Promise<ConversationRun | undefined> => {
      const sessionId = `chaos-${profile.seed}-session-${c}-${randomUUID().slice(0, 8)}`;
      let start: Awaited<ReturnType<typeof callJson>> | undefined;
      for (let attempt = 0; attempt < 3 && start?.status !== 201; attempt++) {
        start = await api('POST', '/handover', {
          cognigy: { userId: `chaos-user-${c}`, sessionId, URLToken: `chaos-token-${c}` },
          channelId: 'chaos-channel',
          customer: { name: `Chaos ${c}` },
        });
      }
      const conversationId = (start?.body as { conversationId?: string } | undefined)?.conversationId;
      if (!conversationId) {
        // Counted by the API invariant; the other conversations go on.
        log(`POST /handover failed three times (last ${start?.status}); conversation ${c} left out`);
        messagesStarted();
        return undefined;
      }
      const deadline = Date.now() + 10_000;
      while (chat.conversation(conversationId).state !== 'active' && Date.now() < deadline) await sleep(20);
      await chat.agentJoin(conversationId);
      const run: ConversationRun = { conversationId, sessionId, agentTexts: [], userTexts: [] };
      const deliveries: Promise<void>[] = [];
      messagesStarted();
      for (let i = 0; i < actions.length; i++) {
        await sleep(gaps[i]!);
        if (actions[i] === 'agent') {
          const text = `Agent ${c}.${run.agentTexts.length + 1}`;
          run.agentTexts.push(text);
          // Not awaited: the reorder fault holds an event until the next one of the conversation.
          deliveries.push(chat.agentSay(conversationId, text).catch(() => undefined));
        } else {
          const text = `User ${c}.${run.userTexts.length + 1}`;
          const answer = await api('POST', `/handover/${encodeURIComponent(conversationId)}/messages`, {
            text,
            clientMessageId: `${sessionId}-u${run.userTexts.length + 1}`,
            sessionId,
          });
          if (answer.status === 202) run.userTexts.push(text);
          else log(`user message refused: ${answer.status} ${answer.text.slice(0, 200)}`);
        }
      }
      await Promise.all(deliveries);
      return run;
    }),
  );
  messagesStarted();
  return runs.filter((r): r is ConversationRun => r !== undefined);
}
