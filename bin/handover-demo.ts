/**
 * Walk-through of an agent handover against a running local stack (`npm start`): starts nothing itself, prints
 * every step with the curl line that does the same.
 *
 *   1. POST /handover                       → the Chat Gateway simulator gets the conversation
 *   2. Cognigy hears `queue`                 (inject, data.handover.status "queue")
 *   3. the simulator's agent joins           → Cognigy hears `active`
 *   4. the agent writes                      → Cognigy shows it to the user (notify, source "agent")
 *   5. POST /handover/{id}/messages          → the agent gets the user's text
 *   6. GET /handover/{id} and GET /handover/active?sessionId=
 *   7. the agent leaves                      → Cognigy hears `completed`
 *   8. what the Cognigy simulator recorded for the session
 *
 * Environment (the same names and defaults as bin/local.ts, so one `export` serves both):
 *   GATEWAY_URL                     the stack's API (default http://127.0.0.1:$PORT, PORT default 3000)
 *   LOCAL_API_KEY                   x-api-key (default local-dev-key)
 *   CHAT_GATEWAY_SIMULATOR_URL      or CHAT_GATEWAY_SIMULATOR_PORT: the Chat Gateway simulator (see the banner)
 *   COGNIGY_SIMULATOR_URL           or COGNIGY_SIMULATOR_PORT: the Cognigy Endpoint simulator (see the banner)
 *
 *   CHAT_GATEWAY_SIMULATOR_PORT=4020 COGNIGY_SIMULATOR_PORT=4030 npm start          # terminal 1
 *   CHAT_GATEWAY_SIMULATOR_PORT=4020 COGNIGY_SIMULATOR_PORT=4030 npx tsx bin/handover-demo.ts   # terminal 2
 */
import { randomUUID } from 'node:crypto';

class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

const WAIT_MS = Number(process.env.DEMO_TIMEOUT_MS ?? 15_000);

function simulatorUrl(name: string, urlVar: string, portVar: string): string {
  const url = process.env[urlVar]?.trim();
  if (url) return url.replace(/\/+$/, '');
  const port = process.env[portVar]?.trim();
  if (port) return `http://127.0.0.1:${port}`;
  throw new DemoError(
    `Where is the ${name} simulator? Set ${urlVar} to the URL the npm start banner shows, or start the stack ` +
      `with a fixed port (${portVar}=…) and give the demo the same ${portVar}.`,
  );
}

interface Config {
  gateway: string;
  apiKey: string;
  chat: string;
  cognigy: string;
}

function config(): Config {
  return {
    gateway: (process.env.GATEWAY_URL?.trim() || `http://127.0.0.1:${process.env.PORT || 3000}`).replace(
      /\/+$/,
      '',
    ),
    apiKey: process.env.LOCAL_API_KEY || 'local-dev-key',
    chat: simulatorUrl('Chat Gateway', 'CHAT_GATEWAY_SIMULATOR_URL', 'CHAT_GATEWAY_SIMULATOR_PORT'),
    cognigy: simulatorUrl('Cognigy', 'COGNIGY_SIMULATOR_URL', 'COGNIGY_SIMULATOR_PORT'),
  };
}

// ---- printing --------------------------------------------------------------------------------------------------

let stepNumber = 0;

function step(title: string): void {
  stepNumber += 1;
  console.log(`\n── ${stepNumber}. ${title} ${'─'.repeat(Math.max(0, 96 - title.length))}`);
}

const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function curl(method: string, url: string, options: { apiKey?: string; body?: unknown } = {}): void {
  const parts = ['curl -s'];
  if (method !== 'GET') parts.push(`-X ${method}`);
  parts.push(shellQuote(url));
  if (options.apiKey) parts.push(`-H ${shellQuote(`x-api-key: ${options.apiKey}`)}`);
  if (options.body !== undefined) {
    parts.push(`-H 'content-type: application/json'`);
    parts.push(`-d ${shellQuote(JSON.stringify(options.body))}`);
  }
  console.log(`  $ ${parts.join(' ')}`);
}

function show(label: string, value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(/\n/g, '\n    ');
  console.log(`  ${label}: ${text}`);
}

// ---- HTTP ------------------------------------------------------------------------------------------------------

async function call<T = Record<string, unknown>>(
  method: string,
  url: string,
  options: { apiKey?: string; body?: unknown; print?: boolean } = {},
): Promise<{ status: number; body: T }> {
  if (options.print !== false) curl(method, url, options);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch (error) {
    throw new DemoError(`${method} ${url} failed: ${(error as Error).message}. Is npm start running?`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body: body as T };
}

function expectStatus(answer: { status: number; body: unknown }, expected: number, what: string): void {
  if (answer.status !== expected) {
    throw new DemoError(
      `${what}: expected HTTP ${expected}, got ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new DemoError(`Gave up after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- Cognigy simulator views -----------------------------------------------------------------------------------

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

async function cognigyCalls(cfg: Config, sessionId: string): Promise<CognigyCall[]> {
  const answer = await call<{ calls: CognigyCall[] }>(
    'GET',
    `${cfg.cognigy}/__control/sessions/${encodeURIComponent(sessionId)}`,
    { print: false },
  );
  return answer.body.calls ?? [];
}

function waitForCognigy(
  cfg: Config,
  sessionId: string,
  what: string,
  match: (c: CognigyCall) => boolean,
): Promise<CognigyCall> {
  return poll(`Cognigy ${what}`, async () => (await cognigyCalls(cfg, sessionId)).find(match));
}

const summary = (c: CognigyCall) => ({
  mode: c.mode,
  ...(c.body.text ? { text: c.body.text } : {}),
  ...(c.body.source ? { source: c.body.source } : {}),
  handover: c.body.data?.handover,
});

// ---- the walk-through -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const cfg = config();
  const api = (path: string) => `${cfg.gateway}${path}`;
  const sim = (path: string) => `${cfg.chat}/__control${path}`;
  const session = {
    userId: 'demo-user',
    sessionId: `demo-session-${randomUUID().slice(0, 8)}`,
    URLToken: 'demo-url-token',
  };
  console.log(`Handover walk-through against ${cfg.gateway}`);
  console.log(`  Chat Gateway simulator ${cfg.chat}   Cognigy simulator ${cfg.cognigy}`);

  step('Start the handover (what a Cognigy HTTP Request node sends)');
  const startBody = {
    cognigy: session,
    channelId: 'demo-chat-channel',
    queueId: 'support-queue',
    customer: { name: 'Ada Lovelace', email: 'ada@example.com', language: 'en-GB', caseId: 'CASE-1815' },
    properties: { plan: 'gold', orders: 3 },
    transcript: [
      { source: 'user', text: 'My parcel has not arrived' },
      { source: 'bot', text: 'I am connecting you with an agent' },
    ],
  };
  const started = await call<{ conversationId: string; handover: { status: string } }>(
    'POST',
    api('/handover'),
    { apiKey: cfg.apiKey, body: startBody },
  );
  expectStatus(started, 201, 'POST /handover');
  show(`HTTP ${started.status}`, started.body);
  const conversationId = started.body.conversationId;

  step('What 8x8 received (Chat Gateway simulator)');
  const conversation = await call<{
    channelId: string;
    assignment: unknown;
    user: unknown;
    history: { authorType: string; text: string }[];
  }>('GET', sim(`/conversations/${encodeURIComponent(conversationId)}`));
  show('conversation', {
    channelId: conversation.body.channelId,
    assignment: conversation.body.assignment,
    user: conversation.body.user,
    history: conversation.body.history?.map((m) => ({ authorType: m.authorType, text: m.text })),
  });

  step('8x8 queues the chat → Cognigy gets data.handover.status "queue"');
  show(
    'Cognigy inject',
    summary(
      await waitForCognigy(
        cfg,
        session.sessionId,
        'queue inject',
        (c) => c.mode === 'inject' && c.body.data?.handover?.status === 'queue',
      ),
    ),
  );

  step('The agent accepts the chat (simulator control) → Cognigy gets "active"');
  expectStatus(
    await call('POST', sim(`/conversations/${encodeURIComponent(conversationId)}/agent/join`), {
      body: { agentId: 'agent-grace' },
    }),
    202,
    'agent join',
  );
  show(
    'Cognigy inject',
    summary(
      await waitForCognigy(
        cfg,
        session.sessionId,
        'active inject',
        (c) => c.mode === 'inject' && c.body.data?.handover?.status === 'active',
      ),
    ),
  );

  step('The agent writes → Cognigy shows it to the user (notify, source "agent")');
  const agentText = 'Hi Ada, I am Grace. Let me look at your parcel.';
  expectStatus(
    await call('POST', sim(`/conversations/${encodeURIComponent(conversationId)}/agent/message`), {
      body: { text: agentText },
    }),
    202,
    'agent message',
  );
  show(
    'Cognigy notify',
    summary(
      await waitForCognigy(
        cfg,
        session.sessionId,
        'agent notify',
        (c) => c.mode === 'notify' && c.body.text === agentText,
      ),
    ),
  );

  step("The user answers → the agent gets the user's text");
  const userText = 'Thank you! It was due on Monday.';
  const sent = await call('POST', api(`/handover/${encodeURIComponent(conversationId)}/messages`), {
    apiKey: cfg.apiKey,
    body: { text: userText, sessionId: session.sessionId },
  });
  expectStatus(sent, 202, 'POST /handover/{id}/messages');
  show(`HTTP ${sent.status}`, sent.body);
  const received = await poll('the user message at the agent', async () => {
    const c = await call<{ userMessages: { authorType: string; text: string }[] }>(
      'GET',
      sim(`/conversations/${encodeURIComponent(conversationId)}`),
      { print: false },
    );
    return c.body.userMessages?.find((m) => m.text === userText);
  });
  show('at the agent (Chat Gateway simulator)', { authorType: received.authorType, text: received.text });

  step('Where is the handover? By conversation id, and by Cognigy session');
  const status = await call('GET', api(`/handover/${encodeURIComponent(conversationId)}`), {
    apiKey: cfg.apiKey,
  });
  show(`HTTP ${status.status}`, status.body);
  const active = await call(
    'GET',
    api(`/handover/active?sessionId=${encodeURIComponent(session.sessionId)}`),
    { apiKey: cfg.apiKey },
  );
  show(`HTTP ${active.status}`, active.body);

  step('The agent ends the chat → Cognigy gets "completed"');
  expectStatus(
    await call('POST', sim(`/conversations/${encodeURIComponent(conversationId)}/agent/leave`)),
    202,
    'agent leave',
  );
  show(
    'Cognigy inject',
    summary(
      await waitForCognigy(
        cfg,
        session.sessionId,
        'completed inject',
        (c) => c.mode === 'inject' && c.body.data?.handover?.status === 'completed',
      ),
    ),
  );
  const ended = await call('GET', api(`/handover/${encodeURIComponent(conversationId)}`), {
    apiKey: cfg.apiKey,
  });
  show(`HTTP ${ended.status}`, ended.body);

  step('Everything the Cognigy simulator recorded for this session, in order');
  curl('GET', `${cfg.cognigy}/__control/sessions/${encodeURIComponent(session.sessionId)}`);
  for (const c of await cognigyCalls(cfg, session.sessionId)) {
    const h = c.body.data?.handover;
    const text = c.body.text ? `  "${c.body.text}"` : '';
    console.log(`  #${c.seq} ${c.mode.padEnd(6)} ${String(h?.status).padEnd(9)} ${String(h?.event)}${text}`);
  }
  console.log('\nDone. The user can also end the chat first: POST /handover/{id}/end (status "cancelled").');
}

main().catch((error: unknown) => {
  if (error instanceof DemoError) console.error(`\n${error.message}`);
  else console.error('\nThe walk-through failed:', error);
  process.exit(1);
});
