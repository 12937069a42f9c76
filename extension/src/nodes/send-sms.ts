/**
 * Send SMS: POST /sms. The fields of Cognigy's own 8x8 Send SMS node (same keys, types and defaults, so a flow
 * moves over by swapping the node) plus the bridge's extras: receipts injected into the session, an idempotency key
 * derived from the input, and waitForUmidMs. It stores the bridge's 202 (umid, clientMessageId, destination,
 * encoding, status {code, description}, plus messageId and smsCount) under the chosen key.
 */
import { createNodeDescriptor } from '@cognigy/extension-tools';
import { callBridge, timeoutOf } from '../bridge';
import {
  advancedSection,
  connectionField,
  exitNode,
  finish,
  sessionOf,
  storageFields,
  storageSection,
  successErrorExits,
  text,
  timeoutField,
  type NodeParams,
} from '../node-kit';

export const SEND_SMS = 'sendSMS';
const exits = successErrorExits(SEND_SMS);

/** Status changes the bridge can inject (its `cognigy.receiptEvents`): the SMS status codes, in 8x8's upper case. */
export const RECEIPT_EVENTS = ['SENT', 'DELIVERED', 'UNDELIVERED', 'REJECTED', 'FAILED'] as const;

export interface SendSmsConfig {
  destination?: string;
  text?: string;
  source?: string;
  country?: string;
  clientMessageId?: string;
  encoding?: string;
  scheduled?: string;
  expiry?: string;
  dlrCallbackUrl?: string;
  clientIp?: string;
  track?: string;
  waitForUmidMs?: number | string;
  injectReceipts?: boolean;
  receiptEvents?: unknown;
  endpointBaseUrl?: string;
  clientMessageIdFromInput?: boolean;
}

/** The fields of one SMS, as 8x8's SmsRequest names them; empty ones left out. */
export function smsFields(config: SendSmsConfig): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const key of [
    'destination',
    'text',
    'source',
    'country',
    'clientMessageId',
    'encoding',
    'scheduled',
    'expiry',
    'dlrCallbackUrl',
    'clientIp',
    'track',
  ] as const) {
    // The text is sent as written (leading spaces included); the other fields are trimmed.
    const value = key === 'text' ? (config.text ?? '') : text(config[key]);
    if (value) fields[key] = value;
  }
  return fields;
}

/** The receipt-injection fields, the same on Send SMS and Send SMS Batch (read by receiptsBlock). */
export const RECEIPT_FIELDS = [
  {
    key: 'injectReceipts',
    label: 'Inject delivery outcomes into this session',
    type: 'toggle',
    description: 'Delivered, undelivered, rejected and failed run the flow again with input.data.sms',
    defaultValue: false,
  },
  {
    key: 'receiptEvents',
    label: 'Status changes to inject',
    type: 'chipInput',
    description: `Exactly which of ${RECEIPT_EVENTS.join(', ')} to inject (overrides the toggle)`,
    defaultValue: [],
  },
  {
    key: 'endpointBaseUrl',
    label: 'Endpoint base URL',
    type: 'cognigyText',
    description:
      "Where receipts are injected, e.g. https://endpoint-app.cognigy.ai (default: the bridge's setting)",
  },
] as const;

/** The `cognigy` block that asks the bridge to inject receipts into this session; undefined when none are wanted. */
export function receiptsBlock(params: NodeParams<SendSmsConfig>): Record<string, unknown> | undefined {
  const { injectReceipts, receiptEvents, endpointBaseUrl } = params.config;
  const events = Array.isArray(receiptEvents)
    ? receiptEvents.map((e) => String(e).trim().toUpperCase()).filter((e) => e !== '')
    : [];
  if (!injectReceipts && events.length === 0) return undefined;
  return {
    ...sessionOf(params),
    ...(events.length > 0 ? { receiptEvents: [...new Set(events)] } : { injectReceipts: true }),
    ...(text(endpointBaseUrl) && { endpointBaseUrl: text(endpointBaseUrl) }),
  };
}

function waitOf(value: unknown): number | undefined {
  const ms = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export const sendSmsNode = createNodeDescriptor({
  type: SEND_SMS,
  defaultLabel: 'Send SMS',
  summary: 'Send one SMS through the 8x8 bridge',
  fields: [
    connectionField,
    {
      key: 'destination',
      label: 'Destination',
      type: 'text',
      description:
        'Mobile number: international (E.164, with or without +), or national together with Country',
      params: { required: true, placeholder: '6500000000' },
    },
    {
      key: 'text',
      label: 'Text',
      type: 'text',
      description: 'The text of the SMS (at most 10 parts)',
      params: { required: true, placeholder: 'Hello world!' },
    },
    {
      key: 'source',
      label: 'Source',
      type: 'text',
      description: 'Sender id shown as "From": alphanumeric up to 11 characters, or a number',
      params: { required: false, placeholder: 'AwesomeName' },
    },
    {
      key: 'country',
      label: 'Country',
      type: 'cognigyText',
      description: 'ISO 3166-1 alpha-2 country of a national Destination, e.g. SG',
      params: { required: false },
    },
    {
      key: 'clientMessageId',
      label: 'Client Message Id',
      type: 'text',
      description: 'Your own reference; a repeat with the same content is sent once',
      params: { required: false, placeholder: '1234' },
    },
    {
      key: 'encoding',
      label: 'Encoding',
      type: 'select',
      description: 'AUTO picks GSM7 when every character allows it, else UCS2',
      defaultValue: 'AUTO',
      params: {
        options: [
          { label: 'AUTO', value: 'AUTO' },
          { label: 'GSM7', value: 'GSM7' },
          { label: 'UCS2', value: 'UCS2' },
        ],
        required: false,
      },
    },
    {
      key: 'scheduled',
      label: 'Scheduled',
      type: 'datetime',
      description: 'When to send (at most 7 days ahead)',
      params: { required: false },
    },
    {
      key: 'expiry',
      label: 'Expiry',
      type: 'datetime',
      description: 'After this time the SMS is not sent any more',
      params: { required: false },
    },
    {
      key: 'dlrCallbackUrl',
      label: 'DLR Callback Url',
      type: 'cognigyText',
      description: "Your own https URL for this SMS's delivery receipts (instead of the bridge's)",
      params: { required: false },
    },
    {
      key: 'clientIp',
      label: 'Client IP',
      type: 'cognigyText',
      description: "End user's IP address, for 8x8's per-IP rate limiting",
      params: { required: false },
    },
    {
      key: 'track',
      label: 'Track',
      type: 'cognigyText',
      description: '8x8 conversion tracking: Outcome or None',
      params: { required: false },
    },
    ...storageFields('context', 'sms8x8'),
    {
      key: 'waitForUmidMs',
      label: 'Wait for 8x8 umid (ms)',
      type: 'number',
      description:
        "0 to 5000: wait this long for 8x8's answer so the result carries its umid; past it the status is QUEUED and umid null",
      defaultValue: 0,
    },
    ...RECEIPT_FIELDS,
    {
      key: 'clientMessageIdFromInput',
      label: 'Send once per input',
      type: 'toggle',
      description:
        'Without a Client Message Id, derive one from the input id and this node: the node running again for the same input sends nothing new',
      defaultValue: false,
    },
    timeoutField,
  ],
  sections: [
    {
      key: 'optional',
      label: 'Optional',
      defaultCollapsed: true,
      fields: [
        'source',
        'country',
        'clientMessageId',
        'encoding',
        'scheduled',
        'expiry',
        'dlrCallbackUrl',
        'clientIp',
        'track',
      ],
    },
    storageSection,
    {
      key: 'bridge',
      label: 'Bridge options',
      defaultCollapsed: true,
      fields: [
        'waitForUmidMs',
        'injectReceipts',
        'receiptEvents',
        'endpointBaseUrl',
        'clientMessageIdFromInput',
      ],
    },
    advancedSection,
  ],
  form: [
    { type: 'field', key: 'connection' },
    { type: 'field', key: 'destination' },
    { type: 'field', key: 'text' },
    { type: 'section', key: 'optional' },
    { type: 'section', key: 'storageOption' },
    { type: 'section', key: 'bridge' },
    { type: 'section', key: 'advanced' },
  ],
  tags: ['service', 'message'],
  dependencies: { children: [exits.success.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<SendSmsConfig>;
    const body: Record<string, unknown> = smsFields(p.config);
    if (!body.clientMessageId && p.config.clientMessageIdFromInput && p.cognigy.input?.inputId)
      body.clientMessageId = `${String(p.cognigy.input.inputId)}:${p.nodeId}`;
    const wait = waitOf(p.config.waitForUmidMs);
    if (wait !== undefined) body.waitForUmidMs = wait;
    const cognigy = receiptsBlock(p);
    if (cognigy) body.cognigy = cognigy;
    const timeoutMs = timeoutOf(p.config.timeoutMs);
    const answer = await callBridge(p.config.connection, { method: 'POST', path: '/sms', body, timeoutMs });
    finish(p, answer, exits);
  },
});

export const sendSmsNodes = [sendSmsNode, exitNode(SEND_SMS, exits.success), exitNode(SEND_SMS, exits.error)];
