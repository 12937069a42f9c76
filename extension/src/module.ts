/**
 * The Cognigy Extension of the Cognigy-8x8 bridge: one connection (the bridge's base URL and API key; 8x8's own
 * keys stay in the bridge's Secrets Manager) and the nodes a flow needs for SMS and agent handover.
 */
import { createExtension, type IConnectionSchema } from '@cognigy/extension-tools';
import { CONNECTION_TYPE } from './node-kit';
import { endHandoverNodes } from './nodes/end-handover';
import { getHandoverNodes } from './nodes/get-handover';
import { getSmsStatusNodes } from './nodes/get-sms-status';
import { relayToAgentNodes } from './nodes/relay-to-agent';
import { sendSmsBatchNodes } from './nodes/send-sms-batch';
import { sendSmsNodes } from './nodes/send-sms';
import { startHandoverNodes } from './nodes/start-handover';

export const bridgeConnection: IConnectionSchema = {
  type: CONNECTION_TYPE,
  label: '8x8 Bridge',
  fields: [{ fieldName: 'baseUrl' }, { fieldName: 'apiKey' }],
};

export default createExtension({
  nodes: [
    ...sendSmsNodes,
    ...sendSmsBatchNodes,
    ...getSmsStatusNodes,
    ...startHandoverNodes,
    ...relayToAgentNodes,
    ...endHandoverNodes,
    ...getHandoverNodes,
  ],
  connections: [bridgeConnection],
  options: { label: '8x8 Bridge' },
});
