/**
 * Every Cognigy recipe of README.md (SMS and handover), run exactly as printed against the real local stack: the
 * JSON bodies, request lines, node headers and If conditions are read from the README by
 * test/helpers/readme-recipes.ts; only Cognigy's tokens are filled in, from the sample session below, and each
 * answer lands in `context.<storage key>` as the HTTP Request node stores it, so later recipes read earlier answers
 * (`{{context.sms.messageId}}`, `{{context.handover.conversationId}}`) as a flow does. The inputs of the relay step
 * are the very bodies the bridge injected into the Cognigy simulator.
 */
import type { LocalStack } from '../../lib/local/stack';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigyCall, CognigySimulator } from '../../lib/simulators/cognigy';
import { newSession, type Session } from '../helpers/cognigy-session';
import { startTestStack } from '../helpers/local';
import {
  evaluateCondition,
  readmeRecipes,
  runCodeNode,
  runRecipe,
  type CognigyScope,
  type Deployment,
  type ReadmeRecipes,
  type RecipeAnswer,
} from '../helpers/readme-recipes';
import { waitFor } from '../helpers/wait';
import { formatViolations, OpenApiValidator, type Violation } from '../helpers/openapi-validator';

let stack: LocalStack;
let chat: ChatGatewaySimulator;
let cognigy: CognigySimulator;
let deployment: Deployment;
const readme: ReadmeRecipes = readmeRecipes();
const openapi = new OpenApiValidator();
/** Every request sent and answer received by a recipe, checked against the OpenAPI document at the end. */
const violations: Violation[] = [];

/** runRecipe, with the request and the answer checked against the OpenAPI document. */
async function run(name: string, scope: CognigyScope): Promise<RecipeAnswer> {
  const answer = await runRecipe(readme, name, scope, deployment);
  const { method, path, body } = answer.request;
  if (body !== undefined)
    violations.push(...openapi.checkRequest({ method, path, contentType: 'application/json', body }));
  violations.push(
    ...openapi.checkAnswer({
      method,
      path,
      // Literally: the document lists x-bridge-errors' 200 (x-bridge-status) and the relay's 200 no-op.
      status: answer.status,
      contentType: answer.headers.get('content-type'),
      body: answer.body,
    }),
  );
  return answer;
}

beforeAll(async () => {
  stack = await startTestStack({
    settings: { RETRY_BASE_DELAY_SECONDS: '1', RETRY_MAX_DELAY_SECONDS: '1' },
  });
  chat = stack.chatGateway as ChatGatewaySimulator;
  cognigy = stack.cognigy as CognigySimulator;
  // The stack output ApiUrl ends with a slash; the recipes append the route to it.
  deployment = { apiUrl: `${stack.urls.gateway}/`, apiKey: stack.apiKey };
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

afterAll(() => {
  // Every recipe's request and answer (successes, business errors as 200, the no-op) is what the document says.
  expect(formatViolations(violations)).toBe('');
});

/**
 * The sample Cognigy session the tokens are filled from (the "documented values"): what `input`, `context` and
 * `profile` hold in a flow that reached the recipe. `phone` ends in 0000, which the 8x8 SMS simulator reports as
 * undelivered, so the send-sms recipe's `receiptEvents` brings an SMS status push into the session.
 */
function sampleScope(session: Session, context: Record<string, unknown> = {}): CognigyScope {
  return {
    input: { ...session, text: 'I would like to talk to a person', intent: 'talkToAgent', data: {} },
    context: {
      phone: '+6591230000',
      otp: '482913',
      otpAttempt: 1,
      transcript: [
        { source: 'user', text: 'My parcel has not arrived' },
        { source: 'bot', text: 'I am connecting you with an agent' },
      ],
      ...context,
    },
    profile: { firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com' },
  };
}

/** The `input` of a flow run started by one of the bridge's pushes: the pushed body plus the session's token. */
const inputOf = (call: CognigyCall, session: Session): Record<string, unknown> => ({
  ...call.body,
  URLToken: session.URLToken,
});

const handoverStatusOf = (call: CognigyCall) =>
  (call.body.data as { handover?: { status?: string } } | undefined)?.handover?.status;

test('the README marks every recipe it shows, with the node headers and the relay condition', () => {
  expect([...readme.recipes.keys()].sort()).toEqual(
    [
      'ask-by-sms',
      'end-handover',
      'find-active-handover',
      'get-handover',
      'relay-message',
      'send-sms',
      'send-sms-batch',
      'sms-status',
      'start-handover',
    ].sort(),
  );
  expect(readme.headers).toEqual({
    'x-api-key': '<API key>',
    'Content-Type': 'application/json',
    'x-bridge-errors': 'body',
  });
  expect(readme.conditions.has('relay-first')).toBe(true);
  expect(readme.conditions.has('reply-yes')).toBe(true);
  expect(readme.codeNodes.has('drop-repeats')).toBe(true);
});

describe('SMS recipes', () => {
  test('send-sms → sms-status, and the undelivered status pushed into the session skips the relay step', async () => {
    const session = newSession('recipe-sms');
    const scope = sampleScope(session);

    const sent = await run('send-sms', scope);
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({
      ok: true,
      clientMessageId: `${session.sessionId}-otp-1`,
      destination: '+6591230000',
      status: { code: 'QUEUED' },
    });
    expect(scope.context.sms).toBe(sent.body);

    const status = await run('sms-status', scope);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ ok: true, messageId: sent.body.messageId });

    // receiptEvents ["UNDELIVERED", …]: the status arrives in the session as an inject with empty text.
    const pushed = await cognigy.waitFor(
      (c) =>
        c.body.sessionId === session.sessionId &&
        (c.body.data as { sms?: { status?: string } }).sms?.status === 'UNDELIVERED',
      20_000,
    );
    expect(pushed.mode).toBe('inject');
    expect(pushed.body.text).toBe('');
    const relayFirst = readme.conditions.get('relay-first') ?? '';
    const pushScope = { ...scope, input: inputOf(pushed, session), context: { ...scope.context } };
    pushScope.context.handoverActive = true;
    expect(evaluateCondition(relayFirst, pushScope)).toBe(false);
  }, 30_000);

  test('send-sms-batch accepts both destinations', async () => {
    const scope = sampleScope(newSession('recipe-batch'));
    const answer = await run('send-sms-batch', scope);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ ok: true, acceptedCount: 2, rejectedCount: 0 });
    expect(scope.context.smsBatch).toBe(answer.body);
  });

  test('with the recipe headers a business error reaches the flow as 200 with ok:false and error.code', async () => {
    const scope = sampleScope(newSession('recipe-sms-error'), { phone: 'call me maybe' });
    const answer = await run('send-sms', scope);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-bridge-status')).toBe('400');
    expect(answer.body).toMatchObject({ ok: false, error: { code: 'INVALID_DESTINATION' } });
    expect((scope.context.sms as { error: { code: string } }).error.code).toBe('INVALID_DESTINATION');

    const missing = await run(
      'sms-status',
      sampleScope(newSession('recipe-sms-404'), {
        sms: { messageId: '00000000-0000-4000-8000-000000000000' },
      }),
    );
    expect([missing.status, missing.headers.get('x-bridge-status')]).toEqual([200, '404']);
    expect(missing.body).toMatchObject({ ok: false, error: { code: 'MESSAGE_NOT_FOUND' } });
  });
});

describe('two-way SMS recipe', () => {
  test("ask-by-sms: the handset's reply is injected into the session, and reply-yes branches on it", async () => {
    const session = newSession('recipe-ask');
    const phone = '+6591237777';
    const scope = sampleScope(session, { phone });
    const asked = await run('ask-by-sms', scope);
    expect(asked.status).toBe(202);
    expect(scope.context.smsQuestion).toMatchObject({ ok: true, destination: phone });
    const sms = stack.sms!;
    const question = await sms.waitForHandset(
      phone,
      (m) => m.some((x) => x.direction === 'received'),
      20_000,
    );
    // The handset answers the number the question came from (the recipe's `source`).
    const from = question.find((x) => x.direction === 'received')!.source;
    const replyYes = readme.conditions.get('reply-yes') ?? '';
    for (const text of ['yes', 'No thanks']) {
      const umid = sms.textFromHandset(phone, from, text);
      const injected = await cognigy.waitFor(
        (c) => (c.body.data as { sms?: { inbound?: { umid?: string } } }).sms?.inbound?.umid === umid,
        20_000,
      );
      expect([injected.mode, injected.body.sessionId, injected.body.text]).toEqual([
        'inject',
        session.sessionId,
        text,
      ]);
      expect(evaluateCondition(replyYes, { ...scope, input: inputOf(injected, session) })).toBe(
        text === 'yes',
      );
    }
    // A status push of the same session is no reply.
    expect(
      evaluateCondition(replyYes, {
        ...scope,
        input: { ...session, text: '', data: { sms: { status: 'DELIVERED' } } },
      }),
    ).toBe(false);
  }, 40_000);
});

describe('handover recipes', () => {
  test('start → bridge pushes skip the relay → user text reaches the agent → look up → cancel', async () => {
    const session = newSession('recipe-handover');
    const scope = sampleScope(session);
    const relayFirst = readme.conditions.get('relay-first') ?? '';

    // 1. Start: the transcript ($cs) and the profile tokens reach 8x8.
    const started = await run('start-handover', scope);
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ ok: true, handover: { status: 'queue' } });
    const conversationId = started.body.conversationId as string;
    const conversation = chat.conversation(conversationId);
    expect(conversation).toMatchObject({
      channelId: 'f5odm43occnifcdcsa',
      assignment: { type: 'queue', id: '123' },
      user: { name: 'Ada Lovelace', email: 'ada@example.com', language: 'en' },
      properties: { Intent: 'talkToAgent', Authenticated: 'yes' },
    });
    expect(conversation.history.map((m) => m.text)).toEqual([
      'My parcel has not arrived',
      'I am connecting you with an agent',
    ]);
    // The recipe's next step: a Set node.
    scope.context.handoverActive = true;

    // 2. The queue event the bridge injects: the condition keeps it away from the agent, and the route would too.
    const queued = await cognigy.waitFor(
      (c) => c.body.sessionId === session.sessionId && handoverStatusOf(c) === 'queue',
      10_000,
    );
    const queuedScope = { ...scope, input: inputOf(queued, session) };
    expect(queued.body.text).toBe('');
    // The dedupe Code node lets the first delivery of a push through and marks a repeat of the same push.
    const dropRepeats = readme.codeNodes.get('drop-repeats') ?? '';
    runCodeNode(dropRepeats, queuedScope);
    expect(queuedScope.input.bridgeRepeat).toBeUndefined();
    const repeatScope = { ...queuedScope, input: inputOf(queued, session) };
    runCodeNode(dropRepeats, repeatScope);
    expect(repeatScope.input.bridgeRepeat).toBe(true);
    expect(evaluateCondition(relayFirst, queuedScope)).toBe(false);
    const ignored = await run('relay-message', queuedScope);
    expect(ignored.status).toBe(200);
    expect(ignored.body).toEqual({ ok: true, queued: false, conversationId, ignored: 'bridgeEvent' });

    await chat.agentJoin(conversationId, 'agent-grace');
    const active = await cognigy.waitFor(
      (c) => c.body.sessionId === session.sessionId && handoverStatusOf(c) === 'active',
      10_000,
    );
    expect(evaluateCondition(relayFirst, { ...scope, input: inputOf(active, session) })).toBe(false);

    // What the user types passes the condition and reaches the agent.
    scope.input = { ...session, text: 'Thank you, Grace!', data: {} };
    expect(evaluateCondition(relayFirst, scope)).toBe(true);
    const relayed = await run('relay-message', scope);
    expect(relayed.status).toBe(202);
    expect(relayed.body).toMatchObject({ ok: true, queued: true, conversationId });
    await waitFor('the user text at the agent', () =>
      chat.conversation(conversationId).userMessages.some((m) => m.text === 'Thank you, Grace!'),
    );
    expect(chat.conversation(conversationId).userMessages.map((m) => m.text)).toEqual(['Thank you, Grace!']);

    // 5. Look it up, by id and by session.
    const byId = await run('get-handover', scope);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ ok: true, conversationId, handover: { status: 'active' } });
    const bySession = await run('find-active-handover', scope);
    expect(bySession.body).toMatchObject({ ok: true, conversationId, handover: { status: 'active' } });

    // 4. The user cancels.
    const ended = await run('end-handover', scope);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ ok: true, conversationId, handover: { status: 'cancelled' } });
    await waitFor('8x8 to see the user leave', () => chat.conversation(conversationId).userRemoved);

    // A relay after the end is a business error the flow can branch on, not the node's error path.
    const late = await run('relay-message', scope);
    expect([late.status, late.headers.get('x-bridge-status')]).toEqual([200, '409']);
    expect(late.body).toMatchObject({ ok: false, error: { code: 'HANDOVER_CLOSED' } });
    const none = await run('find-active-handover', scope);
    expect(none.body).toMatchObject({ ok: false, error: { code: 'HANDOVER_NOT_FOUND' } });
  }, 40_000);

  test('start-handover with no transcript in the context ($cs renders "") starts without history', async () => {
    const session = newSession('recipe-no-transcript');
    const scope = sampleScope(session, { transcript: undefined });
    const started = await run('start-handover', scope);
    expect(started.request.body).toMatchObject({ transcript: '' });
    expect(started.status).toBe(201);
    expect(chat.conversation(started.body.conversationId as string).history).toEqual([]);
    await run('end-handover', scope);
  });
});
