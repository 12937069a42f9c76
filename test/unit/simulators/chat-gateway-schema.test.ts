import {
  CHAT_GATEWAY_LANGUAGES,
  CHAT_GATEWAY_OPERATIONS,
  loadChatGatewayOas,
  validateChatGatewayRequest,
} from '../../../lib/simulators/contract/chat-gateway-schema';

describe('Chat Gateway OAS request validation', () => {
  it('loads the OAS fixture and finds every operation the bridge uses', () => {
    const oas = loadChatGatewayOas() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(oas.openapi).toBe('3.0.0');
    for (const { path, method } of Object.values(CHAT_GATEWAY_OPERATIONS))
      expect(oas.paths[path]?.[method]).toEqual(expect.objectContaining({ responses: expect.any(Object) }));
  });

  it('knows exactly the languages the OAS Language description lists', () => {
    const oas = loadChatGatewayOas() as { components: { schemas: { Language: { description: string } } } };
    const listed = [...oas.components.schemas.Language.description.matchAll(/`([A-Za-z-]+)` =>/g)].map(
      (m) => m[1],
    );
    expect(listed).toEqual([...CHAT_GATEWAY_LANGUAGES]);
  });

  it('accepts the documented create-conversation example', () => {
    expect(
      validateChatGatewayRequest('createConversation', {
        channelId: 'f5odm43occnifcdcsa',
        assignment: { type: 'queue', id: '123' },
        user: {
          name: 'James Jones',
          email: 'user@example.com',
          phone: '013453403332',
          language: 'en',
          additionalProperties: [{ key: 'Authenticated', value: 'yes' }],
        },
        history: {
          messages: [
            { authorType: 'user', text: 'Hello, can I get my balance please' },
            { authorType: 'bot', text: 'Your balance is £12.34' },
          ],
        },
      }),
    ).toEqual({ valid: true });
  });

  it.each([
    ['createConversation', { user: {} }, '/channelId'],
    ['createConversation', { channelId: 'c' }, '/user'],
    ['createConversation', { channelId: 'c', user: { email: 'nope' } }, '/user/email'],
    ['createConversation', { channelId: 'c', user: { language: 'klingon' } }, '/user/language'],
    ['createConversation', { channelId: 'c', user: {}, history: {} }, '/history/messages'],
    ['sendMessage', { authorType: 'agent', text: 'x' }, '/authorType'],
    ['sendMessage', { authorType: 'user' }, '/'],
    ['removeUser', { removed: 'yes' }, '/removed'],
    ['typing', {}, '/authorType'],
    ['typing', { authorType: 'agent' }, '/authorType'],
    ['thinking', { maxThinkingTimeSeconds: 601 }, '/maxThinkingTimeSeconds'],
    ['readReceipt', { authorType: 'user' }, '/readAt'],
  ] as const)('refuses %s %j at %s', (operation, body, path) => {
    const result = validateChatGatewayRequest(operation, body);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.issues.map((i) => i.path)).toContain(path);
  });

  it.each([
    ['sendMessage', { authorType: 'user', text: 'Hello' }],
    ['sendMessage', { authorType: 'bot', text: 'Hi', attachments: [{ id: 'a1' }] }],
    ['removeUser', { removed: true }],
    ['typing', { authorType: 'bot' }],
    ['thinking', { authorType: 'bot', maxThinkingTimeSeconds: 60 }],
    ['readReceipt', { authorType: 'bot', readAt: 1770200431963 }],
    ['verifyWebhook', { version: 'Chat Gateway v1.0', uri: 'https://example.com/hook' }],
  ] as const)('accepts %s %j', (operation, body) => {
    expect(validateChatGatewayRequest(operation, body)).toEqual({ valid: true });
  });
});
