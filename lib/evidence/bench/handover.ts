/** Handover latencies: the Chat Gateway webhook's acknowledgement, and agent message → Cognigy notify. */
import { randomUUID } from 'node:crypto';
import { summarise, type LatencySummary } from '../stats';
import type { BenchConfig } from './config';
import { activate, startConversations, type BenchConversation, type BenchStack } from './stack';

export interface HandoverResult {
  webhookAck: LatencySummary;
  agentToCognigy: LatencySummary;
  /** The five active conversations the messages went through (the first cold-start round reuses them). */
  conversations: BenchConversation[];
}

export async function handoverLatency(s: BenchStack, config: BenchConfig): Promise<HandoverResult> {
  const { chatGateway: chat, cognigy } = s;
  chat.reset();
  const conversations = await startConversations(s);
  await activate(s, conversations);
  const deliveriesBefore = chat.deliveries.length;
  const latencies: number[] = [];
  for (let i = 0; i < config.handoverMessages; i++) {
    const id = conversations[i % conversations.length]!.conversationId;
    const text = `Agent bench ${i} ${randomUUID()}`;
    const started = performance.now();
    const arrived = cognigy.waitFor((c) => c.mode === 'notify' && c.body.text === text, 15_000);
    await chat.agentSay(id, text);
    await arrived;
    latencies.push(performance.now() - started);
  }
  // As 8x8 times them: the simulator's own duration of each successful delivery.
  const acks = chat.deliveries
    .slice(deliveriesBefore)
    .filter(
      (d) => typeof d.status === 'number' && d.status >= 200 && d.status < 300 && d.durationMs !== undefined,
    )
    .map((d) => d.durationMs!);
  return { webhookAck: summarise(acks), agentToCognigy: summarise(latencies), conversations };
}
