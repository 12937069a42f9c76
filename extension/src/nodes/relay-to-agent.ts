/**
 * Relay To Agent: the node a flow places first. While the stored handover is open, the user's text goes to the
 * agent (POST /handover/{id}/messages) and the flow stops (the bot stays quiet). It does nothing for inputs the
 * bridge itself injected (agent joined, chat ended, SMS receipts: they carry `data.bridgeEventId`), except keeping
 * the stored handover's status current, so the flow below can react to them.
 *
 * Exits: Relayed (the agent has the text), Not Relayed (no open handover, an injected event, no text, the chat has
 * ended: the bot carries on), On Error (the bridge could not take the text).
 */
import { createNodeDescriptor } from '@cognigy/extension-tools';
import { callBridge, segment, timeoutOf } from '../bridge';
import {
  CLOSED_STATUSES,
  bridgeEventOf,
  conversationIdField,
  conversationIdOf,
  handoverKeyField,
  storedHandover,
  updateStoredStatus,
  type HandoverStateConfig,
} from '../handover-state';
import {
  ERROR_COLOR,
  NEUTRAL_COLOR,
  SUCCESS_COLOR,
  advancedSection,
  connectionField,
  exitNode,
  resultOf,
  sessionOf,
  storageFields,
  storageSection,
  store,
  takeExit,
  text,
  timeoutField,
  type NodeParams,
} from '../node-kit';

export const RELAY_TO_AGENT = 'relayToAgent';
const exits = {
  relayed: { type: `${RELAY_TO_AGENT}Relayed`, label: 'Relayed', color: SUCCESS_COLOR },
  notRelayed: { type: `${RELAY_TO_AGENT}NotRelayed`, label: 'Not Relayed', color: NEUTRAL_COLOR },
  error: { type: `${RELAY_TO_AGENT}OnError`, label: 'On Error', color: ERROR_COLOR },
};

/** Why nothing was relayed (stored as `reason`). */
export type NotRelayedReason = 'bridgeEvent' | 'noHandover' | 'handoverClosed' | 'noText';

interface RelayConfig extends HandoverStateConfig {
  text?: string;
  stopOnRelay?: boolean;
}

function notRelayed(
  p: NodeParams<RelayConfig>,
  reason: NotRelayedReason,
  extra: Record<string, unknown> = {},
): void {
  store(p, { relayed: false, reason, ...extra });
  takeExit(p, exits.notRelayed.type);
}

export const relayToAgentNode = createNodeDescriptor({
  type: RELAY_TO_AGENT,
  defaultLabel: 'Relay To Agent',
  summary: "Place first in the flow: while an 8x8 agent chat is open, the user's text goes to the agent",
  fields: [
    connectionField,
    handoverKeyField,
    conversationIdField,
    {
      key: 'text',
      label: 'Text',
      type: 'cognigyText',
      description: "What to relay; empty: the user's input text",
    },
    {
      key: 'stopOnRelay',
      label: 'Stop the flow after relaying',
      type: 'toggle',
      description: 'The bot stays quiet while the agent has the chat',
      defaultValue: true,
    },
    ...storageFields('input', 'handoverRelay'),
    timeoutField,
  ],
  sections: [
    {
      key: 'optional',
      label: 'Optional',
      defaultCollapsed: true,
      fields: ['handoverKey', 'conversationId', 'text', 'stopOnRelay'],
    },
    storageSection,
    advancedSection,
  ],
  form: [
    { type: 'field', key: 'connection' },
    { type: 'section', key: 'optional' },
    { type: 'section', key: 'storageOption' },
    { type: 'section', key: 'advanced' },
  ],
  tags: ['service'],
  dependencies: { children: [exits.relayed.type, exits.notRelayed.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<RelayConfig>;
    const event = bridgeEventOf(p);
    if (event) {
      const { status, conversationId } = event.handover ?? {};
      if (status && conversationId) updateStoredStatus(p, conversationId, status);
      return notRelayed(p, 'bridgeEvent', { ...(status && { status }) });
    }
    const conversationId = conversationIdOf(p);
    if (!conversationId) return notRelayed(p, 'noHandover');
    const status = text(p.config.conversationId) ? undefined : storedHandover(p)?.handover?.status;
    if (status && CLOSED_STATUSES.has(status))
      return notRelayed(p, 'handoverClosed', { conversationId, status });
    const said = p.config.text || p.cognigy.input?.text;
    if (typeof said !== 'string' || said.trim() === '') return notRelayed(p, 'noText', { conversationId });

    const { userId, sessionId } = sessionOf(p);
    const inputId = text(p.cognigy.input?.inputId);
    const answer = await callBridge(p.config.connection, {
      method: 'POST',
      path: `/handover/${segment(conversationId)}/messages`,
      // The input id makes a repeated relay of the same input reach the agent once.
      body: {
        text: said,
        sessionId,
        ...(userId && { userId }),
        ...(inputId && { clientMessageId: inputId }),
      },
      timeoutMs: timeoutOf(p.config.timeoutMs),
    });
    if (answer.ok) {
      store(p, { ...answer.body, relayed: true, conversationId });
      takeExit(p, exits.relayed.type);
      if (p.config.stopOnRelay !== false) p.cognigy.api.stopExecution?.();
      return;
    }
    if (answer.error?.code === 'HANDOVER_CLOSED')
      return notRelayed(p, 'handoverClosed', {
        conversationId,
        error: answer.error,
        httpStatus: answer.httpStatus,
      });
    store(p, { ...resultOf(answer), relayed: false, reason: 'error', conversationId });
    takeExit(p, exits.error.type);
  },
});

export const relayToAgentNodes = [
  relayToAgentNode,
  exitNode(RELAY_TO_AGENT, exits.relayed),
  exitNode(RELAY_TO_AGENT, exits.notRelayed),
  exitNode(RELAY_TO_AGENT, exits.error),
];
