/**
 * What every node of the extension shares: the connection field, the storage fields (the keys and choices of
 * Cognigy's own 8x8 Send SMS node), the timeout, the exits (child nodes, as Cognigy's node has) and how a result is
 * stored and an exit taken.
 */
import {
  createNodeDescriptor,
  type INodeDescriptor,
  type INodeFunctionBaseParams,
} from '@cognigy/extension-tools';
import type { BridgeAnswer, BridgeConnection } from './bridge';
import { DEFAULT_TIMEOUT_MS } from './bridge';

export const CONNECTION_TYPE = 'eightByEightBridge';

type NodeField = NonNullable<INodeDescriptor['fields']>[number];
type NodeSection = NonNullable<INodeDescriptor['sections']>[number];

/** The node API as Cognigy passes it; `addToInput` exists at run time though extension-tools 0.14 does not type it. */
export type NodeApi = INodeFunctionBaseParams['cognigy']['api'] & {
  addToInput?: (key: string, value: unknown) => void;
};

export interface NodeParams<C> extends Omit<INodeFunctionBaseParams, 'config'> {
  config: C & StorageConfig & { connection?: Partial<BridgeConnection>; timeoutMs?: number | string };
}

export interface StorageConfig {
  storeLocation?: 'input' | 'context' | string;
  inputKey?: string;
  contextKey?: string;
}

export const connectionField: NodeField = {
  key: 'connection',
  label: '8x8 Bridge',
  type: 'connection',
  description: 'Base URL and API key of the bridge',
  params: { connectionType: CONNECTION_TYPE, required: true },
};

export const timeoutField: NodeField = {
  key: 'timeoutMs',
  label: 'Timeout (ms)',
  type: 'number',
  description: 'How long to wait for the bridge before taking the error exit (code BRIDGE_TIMEOUT)',
  defaultValue: DEFAULT_TIMEOUT_MS,
};

/** storeLocation / inputKey / contextKey, as in Cognigy's 8x8 Send SMS node. */
export function storageFields(defaultLocation: 'input' | 'context', defaultKey: string): NodeField[] {
  return [
    {
      key: 'storeLocation',
      type: 'select',
      label: 'Where to store the result',
      defaultValue: defaultLocation,
      params: {
        options: [
          { label: 'Input', value: 'input' },
          { label: 'Context', value: 'context' },
        ],
        required: true,
      },
    },
    {
      key: 'inputKey',
      type: 'cognigyText',
      label: 'Input Key to store Result',
      defaultValue: defaultKey,
      condition: { key: 'storeLocation', value: 'input' },
    },
    {
      key: 'contextKey',
      type: 'cognigyText',
      label: 'Context Key to store Result',
      defaultValue: defaultKey,
      condition: { key: 'storeLocation', value: 'context' },
    },
  ];
}

export const storageSection: NodeSection = {
  key: 'storageOption',
  label: 'Storage Option',
  defaultCollapsed: true,
  fields: ['storeLocation', 'inputKey', 'contextKey'],
};

export const advancedSection: NodeSection = {
  key: 'advanced',
  label: 'Advanced',
  defaultCollapsed: true,
  fields: ['timeoutMs'],
};

export interface Exit {
  type: string;
  label: string;
  color: string;
}

export const SUCCESS_COLOR = '#61d188';
export const ERROR_COLOR = '#cf142b';
export const NEUTRAL_COLOR = '#8d99ae';

/** A child node that is only an exit: not editable, not movable, created with its parent. */
export function exitNode(parentType: string, exit: Exit): INodeDescriptor {
  return createNodeDescriptor({
    type: exit.type,
    parentType,
    defaultLabel: exit.label,
    constraints: {
      editable: false,
      deletable: false,
      creatable: false,
      movable: false,
      placement: { predecessor: { whitelist: [] } },
    },
    appearance: { color: exit.color, textColor: 'white', variant: 'mini' },
  });
}

/** The usual pair of exits of a node that calls the bridge. */
export function successErrorExits(parentType: string): { success: Exit; error: Exit } {
  return {
    success: { type: `${parentType}OnSuccess`, label: 'On Success', color: SUCCESS_COLOR },
    error: { type: `${parentType}OnError`, label: 'On Error', color: ERROR_COLOR },
  };
}

/** Stores `value` where the node's storage fields say (context by default, as Cognigy's node). */
export function store(params: NodeParams<unknown>, value: unknown): void {
  const { storeLocation, inputKey, contextKey } = params.config;
  const api = params.cognigy.api as NodeApi;
  if (storeLocation === 'input') api.addToInput?.(inputKey || 'result', value);
  else api.addToContext?.(contextKey || 'result', value, 'simple');
}

/** Takes the exit child of type `exitType` (the flow continues below it). */
export function takeExit(params: NodeParams<unknown>, exitType: string): void {
  const child = params.childConfigs.find((c) => c.type === exitType);
  if (child) params.cognigy.api.setNextNode?.(child.id);
}

/**
 * The stored result of a call: the bridge's JSON as it answered (so flows read the keys the bridge documents), with
 * the HTTP status added to failures (null when no answer came).
 */
export function resultOf(answer: BridgeAnswer): Record<string, unknown> {
  return answer.ok ? answer.body : { ...answer.body, ok: false, httpStatus: answer.httpStatus };
}

/** Stores the answer and takes the success or error exit. */
export function finish(
  params: NodeParams<unknown>,
  answer: BridgeAnswer,
  exits: { success: Exit; error: Exit },
): void {
  store(params, resultOf(answer));
  takeExit(params, answer.ok ? exits.success.type : exits.error.type);
}

/** A trimmed text field, or undefined when empty (Cognigy renders unset tokens as ""). */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** A JSON field: Cognigy gives an object (or a string when typed by hand); empty means absent. */
export function json(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The Cognigy session the node runs in: the ids the bridge needs to push into it. */
export function sessionOf(params: NodeParams<unknown>): {
  userId?: string;
  sessionId?: string;
  URLToken?: string;
} {
  const input = params.cognigy.input ?? {};
  return {
    ...(text(input.userId) && { userId: text(input.userId) }),
    ...(text(input.sessionId) && { sessionId: text(input.sessionId) }),
    ...(text(input.URLToken) && { URLToken: text(input.URLToken) }),
  };
}
