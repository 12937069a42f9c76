/**
 * Get SMS Status: GET /sms/{messageId}. Stores the status record (status {code, description}, umid once 8x8 took
 * the SMS, errorCode and reason of a failure, history).
 */
import { createNodeDescriptor } from '@cognigy/extension-tools';
import { callBridge, failure, segment, timeoutOf } from '../bridge';
import {
  advancedSection,
  connectionField,
  exitNode,
  finish,
  storageFields,
  storageSection,
  successErrorExits,
  text,
  timeoutField,
  type NodeParams,
} from '../node-kit';

export const GET_SMS_STATUS = 'getSMSStatus';
const exits = successErrorExits(GET_SMS_STATUS);

export const getSmsStatusNode = createNodeDescriptor({
  type: GET_SMS_STATUS,
  defaultLabel: 'Get SMS Status',
  summary: 'Look up the delivery status of an SMS sent through the bridge',
  fields: [
    connectionField,
    {
      key: 'messageId',
      label: 'Message Id',
      type: 'cognigyText',
      description: 'The messageId the Send SMS node stored',
      defaultValue: '{{context.sms8x8.messageId}}',
      params: { required: true },
    },
    ...storageFields('context', 'smsStatus8x8'),
    timeoutField,
  ],
  sections: [storageSection, advancedSection],
  form: [
    { type: 'field', key: 'connection' },
    { type: 'field', key: 'messageId' },
    { type: 'section', key: 'storageOption' },
    { type: 'section', key: 'advanced' },
  ],
  tags: ['service'],
  dependencies: { children: [exits.success.type, exits.error.type] },
  function: async (params) => {
    const p = params as unknown as NodeParams<{ messageId?: string }>;
    const messageId = text(p.config.messageId);
    const answer = messageId
      ? await callBridge(p.config.connection, {
          method: 'GET',
          path: `/sms/${segment(messageId)}`,
          timeoutMs: timeoutOf(p.config.timeoutMs),
        })
      : failure('FIELD_MISSING', 'Message Id is empty');
    finish(p, answer, exits);
  },
});

export const getSmsStatusNodes = [
  getSmsStatusNode,
  exitNode(GET_SMS_STATUS, exits.success),
  exitNode(GET_SMS_STATUS, exits.error),
];
