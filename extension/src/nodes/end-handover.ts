/**
 * End Handover: POST /handover/{id}/end, the user's side leaving the agent chat (a cancel intent, a "talk to the
 * bot" button). On success the stored handover's status becomes the bridge's (`cancelled`), so Relay To Agent
 * stops relaying.
 */
import { createNodeDescriptor } from '@cognigy/extension-tools';
import { callBridge, failure, segment, timeoutOf } from '../bridge';
import {
  conversationIdOf,
  storedHandoverForm,
  updateStoredStatus,
  type HandoverStateConfig,
} from '../handover-state';
import { exitNode, finish, sessionOf, successErrorExits, type NodeParams } from '../node-kit';

export const END_HANDOVER = 'endEightByEightHandover';
const exits = successErrorExits(END_HANDOVER);

export const endHandoverNode = createNodeDescriptor({
  type: END_HANDOVER,
  defaultLabel: 'End Handover',
  summary: 'End the 8x8 agent chat from the user side',
  ...storedHandoverForm('input', 'handoverEnd'),
  tags: ['service'],
  dependencies: { children: [exits.success.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<HandoverStateConfig>;
    const conversationId = conversationIdOf(p);
    if (!conversationId)
      return finish(p, failure('FIELD_MISSING', 'No conversation: start a handover first'), exits);
    const { userId, sessionId } = sessionOf(p);
    const answer = await callBridge(p.config.connection, {
      method: 'POST',
      path: `/handover/${segment(conversationId)}/end`,
      body: { sessionId, ...(userId && { userId }) },
      timeoutMs: timeoutOf(p.config.timeoutMs),
    });
    const status = (answer.body.handover as { status?: unknown } | undefined)?.status;
    if (answer.ok && typeof status === 'string') updateStoredStatus(p, conversationId, status);
    finish(p, answer, exits);
  },
});

export const endHandoverNodes = [
  endHandoverNode,
  exitNode(END_HANDOVER, exits.success),
  exitNode(END_HANDOVER, exits.error),
];
