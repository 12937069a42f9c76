/**
 * The handover as the flow keeps it: Start 8x8 Handover stores the bridge's answer ({conversationId, handover:
 * {status}}) in the context under a key (default `handover`); the other handover nodes read the conversation from
 * there and keep its status current, so Relay To Agent stops relaying once the chat has ended.
 */
import {
  advancedSection,
  connectionField,
  storageFields,
  storageSection,
  text,
  timeoutField,
  type NodeApi,
  type NodeParams,
} from './node-kit';

export const DEFAULT_HANDOVER_KEY = 'handover';
export const CLOSED_STATUSES = new Set(['completed', 'cancelled', 'error']);

export interface StoredHandover {
  conversationId?: string;
  handover?: { status?: string };
  [key: string]: unknown;
}

export interface HandoverStateConfig {
  handoverKey?: string;
  conversationId?: string;
}

export const handoverKeyOf = (p: NodeParams<HandoverStateConfig>): string =>
  text(p.config.handoverKey) ?? DEFAULT_HANDOVER_KEY;

export function storedHandover(p: NodeParams<HandoverStateConfig>): StoredHandover | undefined {
  const context = p.cognigy.context ?? {};
  const key = handoverKeyOf(p);
  const value: unknown = Object.hasOwn(context, key) ? context[key] : undefined;
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as StoredHandover) : undefined;
}

/** The node's own Conversation Id, else the stored handover's. */
export function conversationIdOf(p: NodeParams<HandoverStateConfig>): string | undefined {
  return text(p.config.conversationId) ?? text(storedHandover(p)?.conversationId);
}

/** Records a new status on the stored handover, if it is this conversation. */
export function updateStoredStatus(
  p: NodeParams<HandoverStateConfig>,
  conversationId: string,
  status: string,
): void {
  const stored = storedHandover(p);
  if (!stored || stored.conversationId !== conversationId || stored.handover?.status === status) return;
  (p.cognigy.api as NodeApi).addToContext?.(
    handoverKeyOf(p),
    { ...stored, handover: { ...stored.handover, status } },
    'simple',
  );
}

/**
 * An input the bridge itself injected (an SMS receipt or a handover event): it carries `data.bridgeEventId`
 * (functions/shared/cognigy-client.ts in the bridge). Such an input is never user text for the agent.
 */
export function bridgeEventOf(
  p: NodeParams<unknown>,
): { handover?: { status?: string; conversationId?: string } } | undefined {
  const data = p.cognigy.input?.data as Record<string, unknown> | undefined;
  if (!data || typeof data !== 'object') return undefined;
  const id = data.bridgeEventId;
  if (typeof id !== 'string' || id === '') return undefined;
  const handover = data.handover;
  return handover && typeof handover === 'object'
    ? { handover: handover as { status?: string; conversationId?: string } }
    : {};
}

export const handoverKeyField = {
  key: 'handoverKey',
  label: 'Context key of the handover',
  type: 'cognigyText' as const,
  description: 'Where Start 8x8 Handover stored its result in the context',
  defaultValue: DEFAULT_HANDOVER_KEY,
};

export const conversationIdField = {
  key: 'conversationId',
  label: 'Conversation Id',
  type: 'cognigyText' as const,
  description: 'Leave empty to use the conversation of the stored handover',
};

/**
 * The fields and form of a node that acts on the stored handover (End Handover, Get Handover): the connection, the
 * handover's context key and conversation id (collapsed: the stored handover is the usual case), where to store
 * the answer, and the timeout.
 */
export function storedHandoverForm(storeIn: 'input' | 'context', storeKey: string) {
  return {
    fields: [
      connectionField,
      handoverKeyField,
      conversationIdField,
      ...storageFields(storeIn, storeKey),
      timeoutField,
    ],
    sections: [
      {
        key: 'optional',
        label: 'Optional',
        defaultCollapsed: true,
        fields: ['handoverKey', 'conversationId'],
      },
      storageSection,
      advancedSection,
    ],
    form: [
      { type: 'field' as const, key: 'connection' },
      { type: 'section' as const, key: 'optional' },
      { type: 'section' as const, key: 'storageOption' },
      { type: 'section' as const, key: 'advanced' },
    ],
  };
}
