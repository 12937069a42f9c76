/**
 * Inbound SMS → Cognigy (issue 14): a handset of the 8x8 SMS simulator texts the bridge's 8x8 number (8x8's
 * inbound webhook, as 8x8 sends it) and the time runs until the Cognigy simulator has it. Two paths, one SMS at a
 * time each: a reply within a flow's reply window (until the inject reaches the session), and an SMS to the SMS bot
 * (until its REST Endpoint call, and on until the bot's answer reaches the handset through 8x8).
 */
import { randomUUID } from 'node:crypto';
import { summarise, type LatencySummary } from '../stats';
import type { BenchConfig } from './config';
import type { BenchStack } from './stack';

/** The bridge's 8x8 number in the benchmark: the flows' `source`, the number the handsets text. */
const BENCH_NUMBER = '+6580009999';
const WAIT_MS = 30_000;

export interface InboundResult {
  /** Handset texts → the inject of the reply reaches the flow's session (reply window). */
  replyToInject: LatencySummary;
  /** Handset texts → the SMS bot's Cognigy REST Endpoint call. */
  botToRest: LatencySummary;
  /** Handset texts → the bot's answer is at the handset (REST turn, the SMS queue, 8x8). */
  botToHandset: LatencySummary;
}

/** Phones of this part: a range no other part sends to, never ending in 0000 (the simulator's undeliverable). */
const phone = (i: number) => `+6593${String(i).padStart(5, '0')}7`;

const inboundUmidOf = (data: unknown): string | undefined =>
  (data as { sms?: { inbound?: { umid?: string } } } | undefined)?.sms?.inbound?.umid;

export async function inboundLatency(s: BenchStack, config: BenchConfig): Promise<InboundResult> {
  const { sms, cognigy, api } = s;
  const n = config.inboundN;

  // Reply window: each phone got a flow's question (with its Cognigy session) before it replies.
  for (let i = 0; i < n; i++) {
    const answer = await api('POST', '/sms', {
      destination: phone(i),
      source: BENCH_NUMBER,
      text: 'Reply YES to confirm',
      cognigy: {
        userId: `bench-user-${i}`,
        sessionId: `bench-reply-${i}-${randomUUID()}`,
        URLToken: 'bench',
      },
    });
    if (answer.status !== 202) throw new Error(`POST /sms answered ${answer.status}: ${answer.text}`);
  }
  // Every question at its handset first, so their delivery does not share the machine with the measurement.
  for (let i = 0; i < n; i++) {
    await sms.waitForHandset(phone(i), (m) => m.some((x) => x.direction === 'received'), WAIT_MS);
  }
  const reply: number[] = [];
  for (let i = 0; i < n; i++) {
    const umid = randomUUID();
    const started = performance.now();
    const injected = cognigy.waitFor((c) => inboundUmidOf(c.body.data) === umid, WAIT_MS);
    sms.textFromHandset(phone(i), BENCH_NUMBER, 'YES', { umid });
    await injected;
    reply.push(performance.now() - started);
  }

  // The SMS bot: phones no flow texted, each one SMS and the bot's one answer (the simulator's echo bot).
  const rest: number[] = [];
  const roundTrip: number[] = [];
  for (let i = n; i < 2 * n; i++) {
    const umid = randomUUID();
    const started = performance.now();
    const called = cognigy.waitForRestCall((c) => inboundUmidOf(c.body.data) === umid, WAIT_MS);
    const answered = sms.waitForHandset(phone(i), (m) => m.some((x) => x.direction === 'received'), WAIT_MS);
    sms.textFromHandset(phone(i), BENCH_NUMBER, `Hello bot ${i}`, { umid });
    await called;
    rest.push(performance.now() - started);
    await answered;
    roundTrip.push(performance.now() - started);
  }
  return {
    replyToInject: summarise(reply),
    botToRest: summarise(rest),
    botToHandset: summarise(roundTrip),
  };
}
