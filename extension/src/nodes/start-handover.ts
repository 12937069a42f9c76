/**
 * Start 8x8 Handover: POST /handover. The fields of the built-in 8x8 handover provider's node (channel, queue,
 * JSON properties) plus the customer the agent sees and the transcript, which by default is the session's own.
 * Stores the bridge's answer ({conversationId, handover: {status}}) in the context under `handover` by default:
 * Relay To Agent, End Handover and Get Handover read it from there.
 */
import { createNodeDescriptor } from '@cognigy/extension-tools';
import { callBridge, failure, timeoutOf } from '../bridge';
import { DEFAULT_HANDOVER_KEY } from '../handover-state';
import {
  advancedSection,
  connectionField,
  exitNode,
  finish,
  json,
  sessionOf,
  storageFields,
  storageSection,
  successErrorExits,
  text,
  timeoutField,
  type NodeApi,
  type NodeParams,
} from '../node-kit';

export const START_HANDOVER = 'startEightByEightHandover';
const exits = successErrorExits(START_HANDOVER);

/** The bridge keeps the most recent 200 transcript entries; more would only be cut there. */
const TRANSCRIPT_LIMIT = 200;

interface StartHandoverConfig {
  channelId?: string;
  queueId?: string;
  scriptId?: string;
  customerName?: string;
  customerEmail?: string;
  customerPhone?: string;
  customerLanguage?: string;
  customerCompany?: string;
  customerCaseId?: string;
  customerId?: string;
  properties?: unknown;
  transcriptSource?: 'session' | 'custom' | 'none' | string;
  transcript?: unknown;
  replace?: boolean;
  endpointBaseUrl?: string;
}

const CUSTOMER_FIELDS = [
  ['customerName', 'name'],
  ['customerEmail', 'email'],
  ['customerPhone', 'phone'],
  ['customerLanguage', 'language'],
  ['customerCompany', 'company'],
  ['customerCaseId', 'caseId'],
  ['customerId', 'customerId'],
] as const;

type Author = 'user' | 'bot' | 'agent';
const AUTHORS = new Map<string, Author>([
  ['user', 'user'],
  ['bot', 'bot'],
  ['assistant', 'bot'],
  ['agent', 'agent'],
]);

/** One transcript entry as the bridge takes it, or undefined for entries without an author it knows or a text. */
function entryOf(entry: unknown): { source: Author; text: string } | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const e = entry as Record<string, unknown>;
  const author = [e.source, e.authorType, e.role].find((a) => typeof a === 'string' && AUTHORS.has(a));
  const payload = e.payload as Record<string, unknown> | undefined;
  const said = [e.text, payload?.text].find((t) => typeof t === 'string' && t.trim() !== '');
  if (typeof author !== 'string' || typeof said !== 'string') return undefined;
  return { source: AUTHORS.get(author) as Author, text: said };
}

function entriesOf(value: unknown): { source: Author; text: string }[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const entries = value.flatMap((e) => entryOf(e) ?? []);
  return entries.length > 0 ? entries.slice(-TRANSCRIPT_LIMIT) : undefined;
}

/**
 * The session's transcript: Cognigy's node API `getTranscript` where the runtime offers it, else what the flow or
 * Webchat keeps in `context.transcript` or `input.data.transcript`.
 */
async function sessionTranscript(p: NodeParams<StartHandoverConfig>) {
  const api = p.cognigy.api as NodeApi & { getTranscript?: (options: { limit: number }) => unknown };
  if (typeof api.getTranscript === 'function') {
    try {
      const entries = entriesOf(await api.getTranscript({ limit: TRANSCRIPT_LIMIT }));
      if (entries) return entries;
    } catch {
      // An older runtime without transcripts: fall back to what the flow keeps.
    }
  }
  const data = p.cognigy.input?.data as Record<string, unknown> | undefined;
  return entriesOf(p.cognigy.context?.transcript) ?? entriesOf(data?.transcript);
}

export async function startBody(p: NodeParams<StartHandoverConfig>): Promise<Record<string, unknown>> {
  const c = p.config;
  const customer: Record<string, string> = {};
  for (const [field, key] of CUSTOMER_FIELDS) {
    const value = text(c[field]);
    if (value) customer[key] = value;
  }
  const properties = json(c.properties);
  const transcript =
    c.transcriptSource === 'none'
      ? undefined
      : c.transcriptSource === 'custom'
        ? entriesOf(json(c.transcript))
        : await sessionTranscript(p);
  const endpointBaseUrl = text(c.endpointBaseUrl);
  return {
    cognigy: { ...sessionOf(p), ...(endpointBaseUrl && { endpointBaseUrl }) },
    channelId: text(c.channelId),
    ...(text(c.queueId) && { queueId: text(c.queueId) }),
    ...(text(c.scriptId) && { scriptId: text(c.scriptId) }),
    ...(Object.keys(customer).length > 0 && { customer }),
    ...(properties !== undefined && !isEmptyObject(properties) && { properties }),
    ...(transcript && { transcript }),
    ...(c.replace === true && { replace: true }),
  };
}

const isEmptyObject = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;

const customerField = (key: string, label: string, description?: string) => ({
  key,
  label,
  type: 'cognigyText' as const,
  ...(description && { description }),
});

export const startHandoverNode = createNodeDescriptor({
  type: START_HANDOVER,
  defaultLabel: 'Start 8x8 Handover',
  summary: 'Hand the conversation to an 8x8 Contact Center agent through the bridge',
  fields: [
    connectionField,
    {
      key: 'channelId',
      label: '8x8 Channel Id',
      type: 'cognigyText',
      description: 'Chat API channel id (8x8 Configuration Manager → Channels)',
      params: { required: true },
    },
    {
      key: 'queueId',
      label: '8x8 Queue Id',
      type: 'cognigyText',
      description: "Queue for the chat; empty: the channel's queue",
    },
    {
      key: 'scriptId',
      label: '8x8 Script Id',
      type: 'cognigyText',
      description: 'A script instead of a queue',
    },
    customerField('customerName', 'Customer name', 'Shown to the agent'),
    customerField('customerEmail', 'Customer e-mail'),
    customerField('customerPhone', 'Customer phone'),
    customerField(
      'customerLanguage',
      'Customer language',
      '8x8 routing language, e.g. en or de-DE (default en)',
    ),
    customerField('customerCompany', 'Customer company'),
    customerField('customerCaseId', 'Case id'),
    customerField('customerId', '8x8 customer id', "A customer id in 8x8's CRM (screen pop)"),
    {
      key: 'properties',
      label: '8x8 JSON properties',
      type: 'json',
      description: 'Extra details for the agent: an object, or a list of {key, value}',
      defaultValue: {},
    },
    {
      key: 'transcriptSource',
      label: 'Transcript',
      type: 'select',
      description: 'What the agent sees of the conversation so far',
      defaultValue: 'session',
      params: {
        options: [
          { label: "This session's transcript", value: 'session' },
          { label: 'Custom (JSON below)', value: 'custom' },
          { label: 'None', value: 'none' },
        ],
      },
    },
    {
      key: 'transcript',
      label: 'Custom transcript',
      type: 'json',
      description: 'A list of {source: user|bot, text}',
      defaultValue: [],
      condition: { key: 'transcriptSource', value: 'custom' },
    },
    {
      key: 'replace',
      label: 'Replace an open chat',
      type: 'toggle',
      description: 'End the open chat of this session first; without it the open chat is returned',
      defaultValue: false,
    },
    {
      key: 'endpointBaseUrl',
      label: 'Endpoint base URL',
      type: 'cognigyText',
      description:
        "Where agent messages are pushed, e.g. https://endpoint-app.cognigy.ai (default: the bridge's setting)",
    },
    ...storageFields('context', DEFAULT_HANDOVER_KEY),
    timeoutField,
  ],
  sections: [
    {
      key: 'customer',
      label: 'Customer',
      defaultCollapsed: false,
      fields: [
        'customerName',
        'customerEmail',
        'customerPhone',
        'customerLanguage',
        'customerCompany',
        'customerCaseId',
        'customerId',
      ],
    },
    {
      key: 'optional',
      label: 'Optional',
      defaultCollapsed: true,
      fields: ['scriptId', 'properties', 'transcriptSource', 'transcript', 'replace', 'endpointBaseUrl'],
    },
    storageSection,
    advancedSection,
  ],
  form: [
    { type: 'field', key: 'connection' },
    { type: 'field', key: 'channelId' },
    { type: 'field', key: 'queueId' },
    { type: 'section', key: 'customer' },
    { type: 'section', key: 'optional' },
    { type: 'section', key: 'storageOption' },
    { type: 'section', key: 'advanced' },
  ],
  tags: ['service'],
  dependencies: { children: [exits.success.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<StartHandoverConfig>;
    const body = await startBody(p);
    const answer = body.channelId
      ? await callBridge(p.config.connection, {
          method: 'POST',
          path: '/handover',
          body,
          timeoutMs: timeoutOf(p.config.timeoutMs),
        })
      : failure('FIELD_MISSING', '8x8 Channel Id is empty');
    finish(p, answer, exits);
  },
});

export const startHandoverNodes = [
  startHandoverNode,
  exitNode(START_HANDOVER, exits.success),
  exitNode(START_HANDOVER, exits.error),
];
