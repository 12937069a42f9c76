/**
 * Send SMS Batch: POST /sms/batch. Either a list of messages (each an SMS with 8x8's field names) or a list of
 * destinations sharing one text (8x8's template). Stores the bridge's answer (batchId, acceptedCount,
 * rejectedCount, items with each verdict); On Success when at least one SMS was accepted.
 */
import { createNodeDescriptor } from '@cognigy/extension-tools';
import { callBridge, failure, timeoutOf } from '../bridge';
import {
  advancedSection,
  connectionField,
  exitNode,
  finish,
  json,
  storageFields,
  storageSection,
  successErrorExits,
  text,
  timeoutField,
  type NodeParams,
} from '../node-kit';
import { RECEIPT_FIELDS, receiptsBlock, type SendSmsConfig } from './send-sms';

export const SEND_SMS_BATCH = 'sendSMSBatch';
const exits = successErrorExits(SEND_SMS_BATCH);

interface SendSmsBatchConfig extends SendSmsConfig {
  messages?: unknown;
  destinations?: unknown;
  clientBatchId?: string;
}

const TEMPLATE_KEYS = ['text', 'source', 'encoding', 'scheduled', 'expiry', 'dlrCallbackUrl'] as const;

export function batchBody(p: NodeParams<SendSmsBatchConfig>): Record<string, unknown> | undefined {
  const messages = json(p.config.messages);
  const destinations = json(p.config.destinations);
  const template: Record<string, string> = {};
  for (const key of TEMPLATE_KEYS) {
    const value = key === 'text' ? p.config.text || undefined : text(p.config[key]);
    if (value) template[key] = value;
  }
  const body: Record<string, unknown> = {};
  if (Array.isArray(messages) && messages.length > 0) body.messages = messages;
  else if (Array.isArray(destinations) && destinations.length > 0)
    body.destinations = destinations.map((d) => String(d));
  else return undefined;
  if (Object.keys(template).length > 0) body.template = template;
  const clientBatchId = text(p.config.clientBatchId);
  if (clientBatchId) body.clientBatchId = clientBatchId;
  const clientIp = text(p.config.clientIp);
  if (clientIp) body.clientIp = clientIp;
  const cognigy = receiptsBlock(p);
  if (cognigy) body.cognigy = cognigy;
  return body;
}

export const sendSmsBatchNode = createNodeDescriptor({
  type: SEND_SMS_BATCH,
  defaultLabel: 'Send SMS Batch',
  summary: 'Send many SMS in one call through the 8x8 bridge',
  fields: [
    connectionField,
    {
      key: 'destinations',
      label: 'Destinations',
      type: 'json',
      description: 'A list of numbers that all get the Text below, e.g. ["+6591234567", "+6598765432"]',
      defaultValue: [],
    },
    {
      key: 'text',
      label: 'Text',
      type: 'text',
      description: 'The text for every destination (and for messages without their own)',
    },
    {
      key: 'messages',
      label: 'Messages',
      type: 'json',
      description:
        'Instead of Destinations: a list of SMS, each with destination, text and any field of Send SMS; wins over Destinations',
      defaultValue: [],
    },
    {
      key: 'source',
      label: 'Source',
      type: 'text',
      description: 'Sender id shown as "From"',
    },
    {
      key: 'encoding',
      label: 'Encoding',
      type: 'select',
      defaultValue: 'AUTO',
      params: {
        options: [
          { label: 'AUTO', value: 'AUTO' },
          { label: 'GSM7', value: 'GSM7' },
          { label: 'UCS2', value: 'UCS2' },
        ],
      },
    },
    {
      key: 'scheduled',
      label: 'Scheduled',
      type: 'datetime',
      description: 'When to send (at most 7 days ahead)',
    },
    {
      key: 'expiry',
      label: 'Expiry',
      type: 'datetime',
      description: 'After this time the SMS are not sent any more',
    },
    {
      key: 'dlrCallbackUrl',
      label: 'DLR Callback Url',
      type: 'cognigyText',
      description: "Your own https URL for the delivery receipts (instead of the bridge's)",
    },
    {
      key: 'clientBatchId',
      label: 'Client Batch Id',
      type: 'cognigyText',
      description:
        'Your batch reference (at most 20 characters); with Destinations, a repeated batch sends nothing twice',
    },
    { key: 'clientIp', label: 'Client IP', type: 'cognigyText', description: "End user's IP address" },
    ...storageFields('context', 'smsBatch8x8'),
    ...RECEIPT_FIELDS,
    timeoutField,
  ],
  sections: [
    {
      key: 'optional',
      label: 'Optional',
      defaultCollapsed: true,
      fields: [
        'messages',
        'source',
        'encoding',
        'scheduled',
        'expiry',
        'dlrCallbackUrl',
        'clientBatchId',
        'clientIp',
      ],
    },
    storageSection,
    {
      key: 'bridge',
      label: 'Bridge options',
      defaultCollapsed: true,
      fields: ['injectReceipts', 'receiptEvents', 'endpointBaseUrl'],
    },
    advancedSection,
  ],
  form: [
    { type: 'field', key: 'connection' },
    { type: 'field', key: 'destinations' },
    { type: 'field', key: 'text' },
    { type: 'section', key: 'optional' },
    { type: 'section', key: 'storageOption' },
    { type: 'section', key: 'bridge' },
    { type: 'section', key: 'advanced' },
  ],
  tags: ['service', 'message'],
  dependencies: { children: [exits.success.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<SendSmsBatchConfig>;
    const body = batchBody(p);
    const answer = body
      ? await callBridge(p.config.connection, {
          method: 'POST',
          path: '/sms/batch',
          body,
          timeoutMs: timeoutOf(p.config.timeoutMs),
        })
      : failure('FIELD_MISSING', 'Give Destinations (with a Text) or Messages');
    finish(p, answer, exits);
  },
});

export const sendSmsBatchNodes = [
  sendSmsBatchNode,
  exitNode(SEND_SMS_BATCH, exits.success),
  exitNode(SEND_SMS_BATCH, exits.error),
];
