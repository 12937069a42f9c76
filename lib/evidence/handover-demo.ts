/**
 * The agent handover walk-through (bin/handover-demo.ts) against a running local stack (`npm start`): starts
 * nothing itself, prints every step with the curl line that does the same.
 *
 *   1. POST /handover                       → the Chat Gateway simulator gets the conversation
 *   2. Cognigy hears `queue`                 (inject, data.handover.status "queue")
 *   3. the simulator's agent joins           → Cognigy hears `active`
 *   4. the agent writes                      → Cognigy shows it to the user (notify, source "agent")
 *   5. POST /handover/{id}/messages          → the agent gets the user's text
 *   6. GET /handover/{id} and GET /handover/active?sessionId=
 *   7. the agent leaves                      → Cognigy hears `completed`
 *   8. what the Cognigy simulator recorded for the session
 */
import { randomUUID } from 'node:crypto';
import { callJson, pollUntil } from './load';

export class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

export interface DemoConfig {
  gateway: string;
  apiKey: string;
  chat: string;
  cognigy: string;
  /** How long to wait for each thing to happen (DEMO_TIMEOUT_MS). */
  waitMs: number;
}

function simulatorUrl(env: NodeJS.ProcessEnv, name: string, urlVar: string, portVar: string): string {
  const url = env[urlVar]?.trim();
  if (url) return url.replace(/\/+$/, '');
  const port = env[portVar]?.trim();
  if (port) return `http://127.0.0.1:${port}`;
  throw new DemoError(
    `Where is the ${name} simulator? Set ${urlVar} to the URL the npm start banner shows, or start the stack ` +
      `with a fixed port (${portVar}=…) and give the demo the same ${portVar}.`,
  );
}

/** The same names and defaults as bin/local.ts, so one `export` serves both terminals. */
export function demoConfig(env: NodeJS.ProcessEnv): DemoConfig {
  return {
    gateway: (env.GATEWAY_URL?.trim() || `http://127.0.0.1:${env.PORT || 3000}`).replace(/\/+$/, ''),
    apiKey: env.LOCAL_API_KEY || 'local-dev-key',
    chat: simulatorUrl(env, 'Chat Gateway', 'CHAT_GATEWAY_SIMULATOR_URL', 'CHAT_GATEWAY_SIMULATOR_PORT'),
    cognigy: simulatorUrl(env, 'Cognigy', 'COGNIGY_SIMULATOR_URL', 'COGNIGY_SIMULATOR_PORT'),
    waitMs: Number(env.DEMO_TIMEOUT_MS ?? 15_000),
  };
}

interface CognigyCall {
  seq: number;
  mode: 'inject' | 'notify';
  receivedAt: string;
  body: {
    text?: string;
    source?: string;
    data?: { handover?: { status?: string; event?: string; agentId?: string } };
  };
}

interface SimulatorConversation {
  channelId: string;
  assignment: unknown;
  user: unknown;
  history: { authorType: string; text: string }[];
  userMessages: { authorType: string; text: string }[];
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

const summary = (c: CognigyCall) => ({
  mode: c.mode,
  ...(c.body.text ? { text: c.body.text } : {}),
  ...(c.body.source ? { source: c.body.source } : {}),
  handover: c.body.data?.handover,
});

/** The walk-through's printing and HTTP: every call it shows is printed as curl first. */
class Walkthrough {
  private stepNumber = 0;
  readonly session = {
    userId: 'demo-user',
    sessionId: `demo-session-${randomUUID().slice(0, 8)}`,
    URLToken: 'demo-url-token',
  };

  constructor(
    readonly cfg: DemoConfig,
    readonly line: (line: string) => void,
  ) {}

  api = (path: string) => `${this.cfg.gateway}${path}`;
  sim = (path: string) => `${this.cfg.chat}/__control${path}`;
  simConversation = (id: string, path = '') => this.sim(`/conversations/${encodeURIComponent(id)}${path}`);

  step(title: string): void {
    this.stepNumber += 1;
    this.line(`\n── ${this.stepNumber}. ${title} ${'─'.repeat(Math.max(0, 96 - title.length))}`);
  }

  curl(method: string, url: string, options: { apiKey?: string; body?: unknown } = {}): void {
    const parts = ['curl -s'];
    if (method !== 'GET') parts.push(`-X ${method}`);
    parts.push(shellQuote(url));
    if (options.apiKey) parts.push(`-H ${shellQuote(`x-api-key: ${options.apiKey}`)}`);
    if (options.body !== undefined) {
      parts.push(`-H 'content-type: application/json'`);
      parts.push(`-d ${shellQuote(JSON.stringify(options.body))}`);
    }
    this.line(`  $ ${parts.join(' ')}`);
  }

  show(label: string, value: unknown): void {
    const text = JSON.stringify(value, null, 2) ?? String(value);
    this.line(`  ${label}: ${text.replace(/\n/g, '\n    ')}`);
  }

  async call<T = Record<string, unknown>>(
    method: string,
    url: string,
    options: { apiKey?: string; body?: unknown; print?: boolean } = {},
  ): Promise<{ status: number; body: T }> {
    if (options.print !== false) this.curl(method, url, options);
    try {
      const answer = await callJson<T>(url, {
        method,
        body: options.body,
        headers: options.apiKey ? { 'x-api-key': options.apiKey } : {},
      });
      // Not JSON: the text as it came (as curl would show it).
      return { status: answer.status, body: (answer.body ?? (answer.text || undefined)) as T };
    } catch (error) {
      throw new DemoError(`${method} ${url} failed: ${(error as Error).message}. Is npm start running?`);
    }
  }

  /** The call, which must answer `expected`. */
  async expect<T = Record<string, unknown>>(
    expected: number,
    what: string,
    method: string,
    url: string,
    options: { apiKey?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const answer = await this.call<T>(method, url, options);
    if (answer.status !== expected) {
      throw new DemoError(
        `${what}: expected HTTP ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    return answer;
  }

  async poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    try {
      return await pollUntil(what, probe, this.cfg.waitMs, 100);
    } catch (error) {
      if (error instanceof DemoError) throw error;
      throw new DemoError(`Gave up after ${this.cfg.waitMs} ms waiting for ${what}`);
    }
  }

  async cognigyCalls(): Promise<CognigyCall[]> {
    const url = `${this.cfg.cognigy}/__control/sessions/${encodeURIComponent(this.session.sessionId)}`;
    const answer = await this.call<{ calls: CognigyCall[] }>('GET', url, { print: false });
    return answer.body?.calls ?? [];
  }

  /** Waits for the Cognigy simulator to record a matching call, and shows it. */
  async showCognigy(label: string, what: string, match: (c: CognigyCall) => boolean): Promise<void> {
    const call = await this.poll(`Cognigy ${what}`, async () => (await this.cognigyCalls()).find(match));
    this.show(label, summary(call));
  }
}

const handoverStatus = (status: string) => (c: CognigyCall) =>
  c.mode === 'inject' && c.body.data?.handover?.status === status;

/** Runs the walk-through; throws DemoError when a step does not happen as it should. */
export async function runHandoverDemo(cfg: DemoConfig, print: (line: string) => void): Promise<void> {
  const w = new Walkthrough(cfg, print);
  print(`Handover walk-through against ${cfg.gateway}`);
  print(`  Chat Gateway simulator ${cfg.chat}   Cognigy simulator ${cfg.cognigy}`);
  const conversationId = await startHandover(w);
  await agentJoinsAndWrites(w, conversationId);
  await userAnswers(w, conversationId);
  await whereIsIt(w, conversationId);
  await agentLeaves(w, conversationId);
  await recordedSession(w);
  print('\nDone. The user can also end the chat first: POST /handover/{id}/end (status "cancelled").');
}

async function startHandover(w: Walkthrough): Promise<string> {
  w.step('Start the handover (what a Cognigy HTTP Request node sends)');
  const startBody = {
    cognigy: w.session,
    channelId: 'demo-chat-channel',
    queueId: 'support-queue',
    customer: { name: 'Ada Lovelace', email: 'ada@example.com', language: 'en-GB', caseId: 'CASE-1815' },
    properties: { plan: 'gold', orders: 3 },
    transcript: [
      { source: 'user', text: 'My parcel has not arrived' },
      { source: 'bot', text: 'I am connecting you with an agent' },
    ],
  };
  const started = await w.expect<{ conversationId: string; handover: { status: string } }>(
    201,
    'POST /handover',
    'POST',
    w.api('/handover'),
    { apiKey: w.cfg.apiKey, body: startBody },
  );
  w.show(`HTTP ${started.status}`, started.body);
  const conversationId = started.body.conversationId;

  w.step('What 8x8 received (Chat Gateway simulator)');
  const conversation = await w.call<SimulatorConversation>('GET', w.simConversation(conversationId));
  w.show('conversation', {
    channelId: conversation.body.channelId,
    assignment: conversation.body.assignment,
    user: conversation.body.user,
    history: conversation.body.history?.map((m) => ({ authorType: m.authorType, text: m.text })),
  });

  w.step('8x8 queues the chat → Cognigy gets data.handover.status "queue"');
  await w.showCognigy('Cognigy inject', 'queue inject', handoverStatus('queue'));
  return conversationId;
}

async function agentJoinsAndWrites(w: Walkthrough, conversationId: string): Promise<void> {
  w.step('The agent accepts the chat (simulator control) → Cognigy gets "active"');
  await w.expect(202, 'agent join', 'POST', w.simConversation(conversationId, '/agent/join'), {
    body: { agentId: 'agent-grace' },
  });
  await w.showCognigy('Cognigy inject', 'active inject', handoverStatus('active'));

  w.step('The agent writes → Cognigy shows it to the user (notify, source "agent")');
  const agentText = 'Hi Ada, I am Grace. Let me look at your parcel.';
  await w.expect(202, 'agent message', 'POST', w.simConversation(conversationId, '/agent/message'), {
    body: { text: agentText },
  });
  await w.showCognigy(
    'Cognigy notify',
    'agent notify',
    (c) => c.mode === 'notify' && c.body.text === agentText,
  );
}

async function userAnswers(w: Walkthrough, conversationId: string): Promise<void> {
  w.step("The user answers → the agent gets the user's text");
  const userText = 'Thank you! It was due on Monday.';
  const sent = await w.expect(
    202,
    'POST /handover/{id}/messages',
    'POST',
    w.api(`/handover/${encodeURIComponent(conversationId)}/messages`),
    { apiKey: w.cfg.apiKey, body: { text: userText, sessionId: w.session.sessionId } },
  );
  w.show(`HTTP ${sent.status}`, sent.body);
  const received = await w.poll('the user message at the agent', async () => {
    const c = await w.call<SimulatorConversation>('GET', w.simConversation(conversationId), {
      print: false,
    });
    return c.body?.userMessages?.find((m) => m.text === userText);
  });
  w.show('at the agent (Chat Gateway simulator)', { authorType: received.authorType, text: received.text });
}

async function whereIsIt(w: Walkthrough, conversationId: string): Promise<void> {
  w.step('Where is the handover? By conversation id, and by Cognigy session');
  const status = await w.call('GET', w.api(`/handover/${encodeURIComponent(conversationId)}`), {
    apiKey: w.cfg.apiKey,
  });
  w.show(`HTTP ${status.status}`, status.body);
  const active = await w.call(
    'GET',
    w.api(`/handover/active?sessionId=${encodeURIComponent(w.session.sessionId)}`),
    { apiKey: w.cfg.apiKey },
  );
  w.show(`HTTP ${active.status}`, active.body);
}

async function agentLeaves(w: Walkthrough, conversationId: string): Promise<void> {
  w.step('The agent ends the chat → Cognigy gets "completed"');
  await w.expect(202, 'agent leave', 'POST', w.simConversation(conversationId, '/agent/leave'));
  await w.showCognigy('Cognigy inject', 'completed inject', handoverStatus('completed'));
  const ended = await w.call('GET', w.api(`/handover/${encodeURIComponent(conversationId)}`), {
    apiKey: w.cfg.apiKey,
  });
  w.show(`HTTP ${ended.status}`, ended.body);
}

async function recordedSession(w: Walkthrough): Promise<void> {
  w.step('Everything the Cognigy simulator recorded for this session, in order');
  w.curl('GET', `${w.cfg.cognigy}/__control/sessions/${encodeURIComponent(w.session.sessionId)}`);
  for (const c of await w.cognigyCalls()) {
    const h = c.body.data?.handover;
    const text = c.body.text ? `  "${c.body.text}"` : '';
    w.line(`  #${c.seq} ${c.mode.padEnd(6)} ${String(h?.status).padEnd(9)} ${String(h?.event)}${text}`);
  }
}
