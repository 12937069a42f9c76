/**
 * What a person does from the console, each done over HTTP as its real actor would: the Cognigy flow's calls go to
 * the bridge's API with the local API key (POST /sms, POST /handover, …/messages, …/end); the agent's acts go to the
 * Chat Gateway simulator's `/__control/conversations/{id}/agent/...`; a handset's SMS goes to the SMS simulator's
 * `/__control/handsets/{number}/messages`, which texts the bridge as 8x8 would. The upstream's answer is passed back as it
 * came (status and error code), so the page shows the bridge's own refusals.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { callHttp, describeAnswer, type ConsoleSources, type HttpAnswer } from './sources';

/** A console request the console itself refuses (bad body, no simulator, unknown session). */
export class ConsoleActionError extends Error {
  constructor(
    readonly status: number,
    readonly code: 'INVALID_BODY' | 'CONSOLE_UNAVAILABLE' | 'CONSOLE_UNKNOWN_SESSION',
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleActionError';
  }
}

export interface ActionAnswer {
  ok: boolean;
  /** One line for the page: what was called and how it answered. */
  summary: string;
  upstream: { status: number; body: unknown };
}

const text = z.string().min(1).max(8_000);
const id = z.string().min(1).max(256);
const name = z.string().min(1).max(100);

const conversation = { conversationId: id };
const phone = z.string().regex(/^\+?\d{3,15}$/, 'a phone number: 3 to 15 digits, + optional');
const SCHEMAS = {
  sms: z.strictObject({ destination: z.string().min(1).max(32), text }),
  'handset-text': z.strictObject({ from: phone, to: phone, text: z.string().min(1).max(1_600) }),
  'handset-open': z.strictObject({ number: phone }),
  'handover-start': z.strictObject({ name: name.optional(), text: text.optional() }),
  'user-message': z.strictObject({ ...conversation, text }),
  'user-end': z.strictObject(conversation),
  'agent-join': z.strictObject({ ...conversation, agentId: name.optional() }),
  'agent-message': z.strictObject({ ...conversation, text }),
  'agent-transfer': z.strictObject({ ...conversation, queueName: name.optional() }),
  'agent-leave': z.strictObject(conversation),
} as const;

export type ActionName = keyof typeof SCHEMAS;
export const ACTION_NAMES = Object.keys(SCHEMAS) as ActionName[];

export function isActionName(value: string): value is ActionName {
  return Object.hasOwn(SCHEMAS, value);
}

type Body<A extends ActionName> = z.infer<(typeof SCHEMAS)[A]>;

export class ConsoleActions {
  /** Numbers the Cognigy users of the handovers started here. */
  private userNumber = 0;

  constructor(private readonly sources: ConsoleSources) {}

  async run(action: ActionName, raw: unknown): Promise<ActionAnswer> {
    const parsed = SCHEMAS[action].safeParse(raw);
    if (!parsed.success)
      throw new ConsoleActionError(400, 'INVALID_BODY', z.prettifyError(parsed.error).replace(/\n/g, ' '));
    const body = parsed.data;
    switch (action) {
      case 'sms':
        return this.sendSms(body as Body<'sms'>);
      case 'handset-text':
        return this.handsetText(body as Body<'handset-text'>);
      case 'handset-open': {
        const number = `+${(body as Body<'handset-open'>).number.replace(/^\+/, '')}`;
        this.sources.handsetNumber = number;
        return { ok: true, summary: `Showing the handset ${number}`, upstream: { status: 200, body: null } };
      }
      case 'handover-start':
        return this.startHandover(body as Body<'handover-start'>);
      case 'user-message':
        return this.userMessage(body as Body<'user-message'>);
      case 'user-end':
        return this.userEnd(body as Body<'user-end'>);
      case 'agent-join': {
        const b = body as Body<'agent-join'>;
        return this.agent(b.conversationId, 'join', b.agentId ? { agentId: b.agentId } : {});
      }
      case 'agent-message': {
        const b = body as Body<'agent-message'>;
        return this.agent(b.conversationId, 'message', { text: b.text });
      }
      case 'agent-transfer': {
        const b = body as Body<'agent-transfer'>;
        // The person picks the next agent (Agent joins), so no simulated agent rejoins by itself.
        return this.agent(b.conversationId, 'transfer', {
          rejoinMs: false,
          ...(b.queueName ? { queueName: b.queueName } : {}),
        });
      }
      case 'agent-leave':
        return this.agent((body as Body<'agent-leave'>).conversationId, 'leave', {});
    }
  }

  private async bridge(path: string, body: unknown): Promise<HttpAnswer> {
    return this.call('the bridge', `${this.sources.targets.gateway}${path}`, body, {
      'x-api-key': this.sources.targets.apiKey,
    });
  }

  private async call(
    what: string,
    url: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    try {
      return await callHttp(url, { method: 'POST', body, headers });
    } catch (error) {
      throw new ConsoleActionError(
        503,
        'CONSOLE_UNAVAILABLE',
        `${what} did not answer: ${(error as Error).message}`,
      );
    }
  }

  private async sendSms(body: Body<'sms'>): Promise<ActionAnswer> {
    const answer = await this.bridge('/sms', body);
    const messageId = (answer.body as { messageId?: unknown } | undefined)?.messageId;
    const ok = answer.status >= 200 && answer.status < 300 && typeof messageId === 'string';
    this.sources.rememberSms({
      ...(ok ? { messageId: messageId.toLowerCase() } : {}),
      destination: body.destination,
      text: body.text,
      at: new Date().toISOString(),
      ...(ok ? {} : { refused: describeAnswer(answer.status, answer.body) }),
    });
    return answerOf('POST /sms', answer, ok ? `messageId ${messageId}` : undefined);
  }

  /** The handset texts the 8x8 number: the SMS simulator POSTs 8x8's inbound event to the bridge. */
  private async handsetText(body: Body<'handset-text'>): Promise<ActionAnswer> {
    const base = this.sources.targets.sms;
    if (!base)
      throw new ConsoleActionError(
        503,
        'CONSOLE_UNAVAILABLE',
        'The real 8x8 SMS is configured: text its number from a real phone',
      );
    const from = `+${body.from.replace(/^\+/, '')}`;
    const answer = await this.call(
      'The SMS simulator',
      `${base}/__control/handsets/${encodeURIComponent(from)}/messages`,
      { to: body.to, text: body.text },
    );
    this.sources.handsetNumber = from;
    const umid = (answer.body as { umid?: unknown } | undefined)?.umid;
    return answerOf(`${from} texts ${body.to}`, answer, typeof umid === 'string' ? `umid ${umid}` : undefined);
  }

  private async startHandover(body: Body<'handover-start'>): Promise<ActionAnswer> {
    this.userNumber += 1;
    const session = {
      userId: `console-user-${this.userNumber}`,
      sessionId: `console-session-${randomUUID()}`,
      URLToken: 'console-url-token',
    };
    const answer = await this.bridge('/handover', {
      cognigy: session,
      channelId: 'console-chat',
      ...(body.name ? { customer: { name: body.name } } : {}),
      ...(body.text ? { transcript: [{ source: 'user', text: body.text }] } : {}),
    });
    const conversationId = (answer.body as { conversationId?: unknown } | undefined)?.conversationId;
    if (typeof conversationId === 'string') {
      this.sources.sessions.set(conversationId, session.sessionId);
      if (body.text)
        this.sources.userLines.set(conversationId, [
          { at: Date.now(), text: body.text, answer: 'told the bot (transcript)', ok: true },
        ]);
    }
    return answerOf(
      'POST /handover',
      answer,
      typeof conversationId === 'string' ? `conversation ${conversationId}` : undefined,
    );
  }

  private session(conversationId: string): string {
    const sessionId = this.sources.sessionOf(conversationId);
    if (!sessionId)
      throw new ConsoleActionError(
        409,
        'CONSOLE_UNKNOWN_SESSION',
        `The console does not know the Cognigy session of conversation ${conversationId} (started elsewhere, and Cognigy has not been told anything yet)`,
      );
    return sessionId;
  }

  private async userMessage(body: Body<'user-message'>): Promise<ActionAnswer> {
    const sessionId = this.session(body.conversationId);
    const answer = await this.bridge(`/handover/${encodeURIComponent(body.conversationId)}/messages`, {
      text: body.text,
      sessionId,
    });
    const lines = this.sources.userLines.get(body.conversationId) ?? [];
    lines.push({
      at: Date.now(),
      text: body.text,
      answer: `POST …/messages → ${describeAnswer(answer.status, answer.body)}`,
      ok: answer.status >= 200 && answer.status < 300,
    });
    this.sources.userLines.set(body.conversationId, lines);
    return answerOf('POST /handover/{id}/messages', answer);
  }

  private async userEnd(body: Body<'user-end'>): Promise<ActionAnswer> {
    const sessionId = this.session(body.conversationId);
    const answer = await this.bridge(`/handover/${encodeURIComponent(body.conversationId)}/end`, {
      sessionId,
    });
    return answerOf('POST /handover/{id}/end', answer);
  }

  private async agent(
    conversationId: string,
    act: string,
    body: Record<string, unknown>,
  ): Promise<ActionAnswer> {
    const base = this.sources.targets.chatGateway;
    if (!base)
      throw new ConsoleActionError(
        503,
        'CONSOLE_UNAVAILABLE',
        'The real 8x8 Chat Gateway is configured: its agents act in 8x8, not here',
      );
    const answer = await this.call(
      'The Chat Gateway simulator',
      `${base}/__control/conversations/${encodeURIComponent(conversationId)}/agent/${act}`,
      body,
    );
    return answerOf(`agent ${act}`, answer);
  }
}

function answerOf(what: string, answer: HttpAnswer, extra?: string): ActionAnswer {
  const ok = answer.status >= 200 && answer.status < 300;
  let detail = describeAnswer(answer.status, answer.body);
  if (!ok && answer.body && typeof answer.body === 'object') {
    const message =
      (answer.body as { error?: { message?: unknown }; message?: unknown }).error?.message ??
      (answer.body as { message?: unknown }).message;
    if (typeof message === 'string') detail += ` ${message}`;
  }
  return {
    ok,
    summary: `${what} → ${detail}${extra ? ` (${extra})` : ''}`,
    upstream: { status: answer.status, body: answer.body },
  };
}
