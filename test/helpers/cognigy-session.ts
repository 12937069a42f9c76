/** A Cognigy session as a flow sends it to POST /handover (`cognigy` field), unique per call. */
import { randomUUID } from 'node:crypto';
import type { ChatGatewaySimulator } from '../../lib/simulators/chat-gateway';
import type { CognigySimulator } from '../../lib/simulators/cognigy';
import type { ApiClient } from './local';
import { waitFor } from './wait';

export interface Session {
  userId: string;
  sessionId: string;
  URLToken: string;
}

export const newSession = (name: string): Session => ({
  userId: `user-${name}`,
  sessionId: `session-${name}-${randomUUID()}`,
  URLToken: `url-token-${name}`,
});

/** The parts of a running test stack a handover needs: the flow's API client and the two simulators. */
export interface HandoverParts {
  api: ApiClient;
  chat: ChatGatewaySimulator;
  cognigy: CognigySimulator;
}

/**
 * Starts a handover for a new session and has an agent join it; resolves once Cognigy has received the `active`
 * inject, so the conversation is fully set up on both sides.
 */
export async function handoverWithAgent(
  { api, chat, cognigy }: HandoverParts,
  name: string,
): Promise<{ session: Session; conversationId: string }> {
  const session = newSession(name);
  const started = await api.post<{ conversationId: string }>('/handover', {
    cognigy: session,
    channelId: 'chat-api-channel',
  });
  expect(started.status).toBe(201);
  const { conversationId } = started.body;
  await chat.agentJoin(conversationId, `agent-${name}`);
  await waitFor(`the active inject of ${name}`, () =>
    cognigy
      .callsFor(session.sessionId)
      .find(
        (c) =>
          c.mode === 'inject' &&
          (c.body.data as { handover: { status: string } }).handover.status === 'active',
      ),
  );
  return { session, conversationId };
}
