import '../../helpers/env';
import {
  chatBridgeEventId,
  cognigyEndpoint,
  smsBridgeEventId,
  type CognigyPush,
} from '../../../functions/shared/cognigy-client';
import { injectBody } from '../../../functions/sms/cognigy-inject';
import type { MessageRecord } from '../../../functions/sms/records';

const target = { endpointBaseUrl: 'https://endpoint.example', urlToken: 'token' };
const body: CognigyPush = { userId: 'u', sessionId: 's', text: '', data: { bridgeEventId: 'x' } };

describe('cognigyEndpoint timeouts', () => {
  function recording(options: { timeoutMs: number; retryTimeoutMs?: number }) {
    const timeouts: number[] = [];
    const endpoint = cognigyEndpoint({
      ...options,
      defaultEndpointBaseUrl: async () => undefined,
      push: async (_mode, _target, _push, timeoutMs) => {
        timeouts.push(timeoutMs);
      },
    });
    return { endpoint, timeouts };
  }

  it('a first push uses the timeout, a retry the longer retry timeout', async () => {
    const { endpoint, timeouts } = recording({ timeoutMs: 3000, retryTimeoutMs: 8000 });
    await endpoint.push('inject', target, body);
    await endpoint.push('inject', target, body, { retry: true });
    await endpoint.push('notify', target, body, { retry: false });
    expect(timeouts).toEqual([3000, 8000, 3000]);
  });

  it('a retry timeout shorter than the first one, or none, keeps the first one', async () => {
    const shorter = recording({ timeoutMs: 5000, retryTimeoutMs: 1000 });
    await shorter.endpoint.push('inject', target, body, { retry: true });
    const none = recording({ timeoutMs: 4000 });
    await none.endpoint.push('inject', target, body, { retry: true });
    expect([...shorter.timeouts, ...none.timeouts]).toEqual([5000, 4000]);
  });
});

describe('bridgeEventId', () => {
  const record = {
    messageId: '5f0c6f5e-8a4e-4a53-9d2c-0f7f5b7c1a11',
    destination: '+6591234567',
    cognigy: { userId: 'u', sessionId: 's', URLToken: 't', receiptEvents: ['sent', 'delivered'] },
  } as unknown as MessageRecord;

  it('is the same for every push of one SMS status change and differs between changes', () => {
    const sent = injectBody(record, { status: 'sent', umid: 'umid-1' }).data.bridgeEventId;
    expect(injectBody({ ...record, umid: 'umid-1' }, { status: 'sent' }).data.bridgeEventId).toBe(sent);
    const toOperator = injectBody(record, { status: 'delivered', detail: 'delivered_to_operator' });
    const toRecipient = injectBody(record, { status: 'delivered', detail: 'delivered_to_recipient' });
    expect(new Set([sent, toOperator.data.bridgeEventId, toRecipient.data.bridgeEventId]).size).toBe(3);
    expect(sent).toBe(smsBridgeEventId(record.messageId, 'sent'));
  });

  it('of a relayed 8x8 event is derived from 8x8 event id alone', () => {
    expect(chatBridgeEventId('evt-1')).toBe(chatBridgeEventId('evt-1'));
    expect(chatBridgeEventId('evt-1')).not.toBe(chatBridgeEventId('evt-2'));
  });
});
