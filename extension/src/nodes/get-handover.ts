/**
 * Get Handover: GET /handover/{id} for the stored (or given) conversation, or GET /handover/active?sessionId= for
 * a flow that has none: the open handover of this session. Stores {conversationId, handover: {status}, agent,
 * times}; the stored handover's status is brought up to date as well.
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

export const GET_HANDOVER = 'getEightByEightHandover';
const exits = successErrorExits(GET_HANDOVER);

export const getHandoverNode = createNodeDescriptor({
  type: GET_HANDOVER,
  defaultLabel: 'Get Handover',
  summary: "Look up the 8x8 agent chat: the stored one, or this session's open one",
  ...storedHandoverForm('context', 'handoverStatus8x8'),
  tags: ['service'],
  dependencies: { children: [exits.success.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<HandoverStateConfig>;
    const conversationId = conversationIdOf(p);
    const { sessionId } = sessionOf(p);
    if (!conversationId && !sessionId)
      return finish(p, failure('FIELD_MISSING', 'No conversation and no session id to look one up'), exits);
    const path = conversationId
      ? `/handover/${segment(conversationId)}`
      : `/handover/active?sessionId=${encodeURIComponent(sessionId as string)}`;
    const answer = await callBridge(p.config.connection, {
      method: 'GET',
      path,
      timeoutMs: timeoutOf(p.config.timeoutMs),
    });
    const status = (answer.body.handover as { status?: unknown } | undefined)?.status;
    const id = answer.body.conversationId;
    if (answer.ok && typeof status === 'string' && typeof id === 'string') updateStoredStatus(p, id, status);
    finish(p, answer, exits);
  },
});

export const getHandoverNodes = [
  getHandoverNode,
  exitNode(GET_HANDOVER, exits.success),
  exitNode(GET_HANDOVER, exits.error),
];
