/**
 * Examples of the OpenAPI document (lib/openapi.ts): the README's recipes with their Cognigy tokens filled in, the
 * answers the bridge gives to them, and 8x8's own webhook samples (specs/8x8/delivery-receipts-for-outbound-sms.md,
 * webhooks-events-reference.md). The linter checks every example against its schema (test/unit/openapi/lint.test.ts),
 * so an example cannot drift from the schema it illustrates.
 */

export interface Example {
  summary: string;
  value: unknown;
}

const session = {
  userId: 'c1d2e3f4-user',
  sessionId: 'a9b8c7d6-session',
  URLToken: 'b0f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1',
};
const messageId = '0b2c4d6e-8f0a-4b1c-9d2e-3f4a5b6c7d8e';
const conversationId = 'vXg39aMTRlq4xCBFaUCTlA';
const at = '2026-12-07T10:15:30.120Z';
const inboundUmid = '4f3a2b1c-0d9e-5f8a-a7b6-c5d4e3f2a1b0';

/** 8x8's inbound SMS webhook: the reply YES from the phone the README's flow texted. */
const inboundSms = {
  namespace: 'SMS',
  eventType: 'inbound_message_received',
  description: 'SMS inbound message',
  payload: {
    umid: inboundUmid,
    subAccountId: 'SubAccount-1',
    timestamp: '2026-12-07T10:16:02.000Z',
    source: '+6591234567',
    destination: '+6580001234',
    body: 'YES',
    encoding: 'GSM7',
    smsCount: 1,
    price: { total: 0.01, perSms: 0.01, currency: 'USD' },
  },
};
const optOut = {
  sender: '+6580001234',
  optedOutAt: '2026-12-07T10:20:11.000Z',
  keyword: 'STOP',
  umid: '7a6b5c4d-3e2f-5a1b-8c9d-0e1f2a3b4c5d',
};

/** Request bodies by operationId. */
export const REQUEST_EXAMPLES: Readonly<Record<string, Record<string, Example>>> = {
  'sms-accept': {
    recipe: {
      summary: 'README recipe "Send one SMS" (one-time code, failures injected into the session)',
      value: {
        destination: '91234567',
        country: 'SG',
        text: 'Your code is 482913',
        source: 'MyBrand',
        clientMessageId: 'a9b8c7d6-session-otp-1',
        cognigy: { ...session, receiptEvents: ['undelivered', 'rejected', 'failed'] },
      },
    },
    waitForUmid: {
      summary: "Wait up to 3 s for 8x8's umid (drop-in for flows that read input.sms.umid)",
      value: {
        destination: '+6591234567',
        text: 'Your code is 482913',
        source: 'MyBrand',
        waitForUmidMs: 3000,
      },
    },
    cognigyExtension: {
      summary: "The body Cognigy's 8x8 Send SMS node sends, unchanged",
      value: {
        destination: '+6591234567',
        text: 'Hi from the bot',
        source: 'MyBrand',
        encoding: 'AUTO',
        country: null,
      },
    },
  },
  'sms-batch': {
    recipe: {
      summary: 'README recipe "Many SMS" (one template, several destinations)',
      value: {
        clientBatchId: 'campaign-42',
        destinations: ['+6591234567', '+6598765432'],
        template: { text: 'Your appointment is tomorrow at 10:00', source: 'MyClinic' },
      },
    },
  },
  'sms-receipt': {
    deliveryReceipt: {
      summary: "8x8's sample delivery receipt (delivery-receipts-for-outbound-sms.md)",
      value: {
        namespace: 'SMS',
        eventType: 'outbound_message_status_changed',
        description: 'SMS outbound message delivery receipt',
        payload: {
          umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a',
          batchId: '3e09ac86-bd74-5465-851d-1eb5a5fdbb9b',
          clientMessageId: '1e09ac86-bd74-5465-851d-1eb5a5fdbb9b',
          clientBatchId: '2e09ac86-bd74-5465-851d-1eb5a5fdbb9b',
          subAccountId: 'SubAccount-1',
          source: '8x8',
          destination: '+12025550293',
          status: {
            state: 'undelivered',
            detail: 'rejected_by_operator',
            timestamp: '2016-01-01T00:00:00Z',
            errorCode: 15,
            errorMessage: 'Invalid destination',
          },
          price: { total: 0.0375, perSms: 0.0125, currency: 'USD' },
          smsCount: 3,
        },
      },
    },
  },
  'sms-inbound-webhook': {
    inboundSms: {
      summary: 'An inbound SMS as 8x8 posts it (8x8 Connect "Inbound SMS" webhook format)',
      value: inboundSms,
    },
  },
  'handover-start': {
    recipe: {
      summary: 'README recipe step 1 "Start the handover" (tokens filled in)',
      value: {
        cognigy: session,
        channelId: 'f5odm43occnifcdcsa',
        queueId: '123',
        customer: { name: 'Jane Doe', email: 'jane.doe@example.com', language: 'en' },
        properties: { Intent: 'billing', Authenticated: 'yes' },
        transcript: [
          { source: 'user', text: 'I was charged twice' },
          { source: 'bot', text: 'I am sorry to hear that. Let me get you an agent.' },
        ],
      },
    },
  },
  'handover-message': {
    recipe: {
      summary: 'README recipe step 2 "Relay user input": what the user typed (bridgeEventId renders empty)',
      value: { text: 'It was on my March invoice', sessionId: session.sessionId, bridgeEventId: '' },
    },
    bridgePush: {
      summary: "The same recipe run for one of the bridge's own pushes: relayed to nobody (200)",
      value: {
        text: '',
        sessionId: session.sessionId,
        bridgeEventId: '8x8-chat:4f9c1e2a-7b3d-4c5e-9a1b-2c3d4e5f6a7b',
      },
    },
  },
  'handover-end': {
    recipe: {
      summary: 'README recipe step 4 "Let the user cancel"',
      value: { sessionId: session.sessionId },
    },
  },
  'handover-webhook': {
    queued: {
      summary: "QUEUED (8x8's example)",
      value: {
        eventType: 'QUEUED',
        conversationId: 'ID-0',
        timestamp: 1713100000000,
        data: { queueId: 'queue-abc-123', queueName: 'Customer Support' },
      },
    },
    agentJoined: {
      summary: "MEMBERS_CHANGED: an agent joined (8x8's example)",
      value: {
        eventType: 'MEMBERS_CHANGED',
        conversationId: 'ID-0',
        timestamp: 1713100000000,
        data: { memberType: 'agent', change: 'joined', id: 'agent-abc-123' },
      },
    },
    message: {
      summary: "MESSAGE from the agent (8x8's example)",
      value: {
        eventType: 'MESSAGE',
        conversationId: 'ID-0',
        timestamp: 1713100000000,
        data: {
          isEcho: false,
          sender: { id: 'agent-abc-123', type: 'agent' },
          text: 'Hello, how can I help you?',
          attachments: [
            {
              id: 'att-001',
              type: 'image',
              preSignedUrl: 'https://storage.example.com/attachments/att-001?signature=abc',
              fileName: 'screenshot.png',
            },
          ],
        },
      },
    },
    typing: {
      summary: "ACTIVITY typing (8x8's example)",
      value: {
        eventType: 'ACTIVITY',
        conversationId: 'ID-0',
        timestamp: 1713100000000,
        data: { name: 'typing', value: { users: [{ type: 'agent', id: 'agent-abc-123' }] } },
      },
    },
    transfer: {
      summary: "TRANSFER to another queue (8x8's example)",
      value: { eventType: 'TRANSFER', conversationId: 'ID-0', timestamp: 1713100000000 },
    },
    conversationIdle: {
      summary: 'CONVERSATION_UPDATE: the conversation went idle',
      value: {
        eventType: 'CONVERSATION_UPDATE',
        conversationId: 'ID-0',
        timestamp: 1713100000000,
        data: { state: 'idle', assignment: { type: 'agent', id: 'agent-abc-123' } },
      },
    },
    verify: {
      summary: 'WEB_HOOK_VERIFY (Test Connection)',
      value: { notificationVersion: 'Chat Gateway v1.0', eventType: 'WEB_HOOK_VERIFY' },
    },
  },
};

/** A batch answer in which the one item was refused with `itemError`. */
function batchRefused(code: string, message: string, itemError: { code: string; message: string }) {
  return {
    ok: false,
    batchId: null,
    clientBatchId: 'campaign-42',
    acceptedCount: 0,
    rejectedCount: 1,
    items: [{ index: 0, ok: false, error: itemError }],
    error: { code, message },
  };
}

/** Answers by operationId and status (error answers without one get an example from their first code). */
export const RESPONSE_EXAMPLES: Readonly<Record<string, Record<string, Record<string, Example>>>> = {
  'sms-accept': {
    '202': {
      queued: {
        summary: 'Accepted and queued',
        value: {
          ok: true,
          messageId,
          clientMessageId: 'a9b8c7d6-session-otp-1',
          destination: '+6591234567',
          encoding: 'GSM7',
          smsCount: 1,
          umid: null,
          status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
        },
      },
      withUmid: {
        summary: 'With waitForUmidMs: 8x8 answered in time',
        value: {
          ok: true,
          messageId,
          clientMessageId: null,
          destination: '+6591234567',
          encoding: 'GSM7',
          smsCount: 1,
          umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a',
          status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
        },
      },
    },
  },
  'sms-batch': {
    '202': {
      partlyAccepted: {
        summary: 'One destination accepted, one refused',
        value: {
          ok: true,
          batchId: '5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f',
          clientBatchId: 'campaign-42',
          acceptedCount: 1,
          rejectedCount: 1,
          items: [
            {
              index: 0,
              ok: true,
              messageId,
              clientMessageId: 'campaign-42/+6591234567',
              destination: '+6591234567',
              encoding: 'GSM7',
              smsCount: 1,
              umid: null,
              status: { code: 'QUEUED', description: 'SMS is accepted and queued for processing' },
            },
            {
              index: 1,
              ok: false,
              error: {
                code: 'INVALID_DESTINATION',
                message: 'destination is not a valid phone number',
                details: [
                  {
                    path: 'destinations[1]',
                    code: 'INVALID_DESTINATION',
                    message: 'not a valid phone number',
                  },
                ],
              },
            },
          ],
        },
      },
    },
    '400': {
      rejected: {
        summary: 'No item was valid',
        value: batchRefused('BATCH_REJECTED', 'No SMS of the batch was accepted; see items[].error', {
          code: 'INVALID_DESTINATION',
          message: 'destination is not a valid phone number',
        }),
      },
      invalidBatch: {
        summary: 'The batch itself is invalid',
        value: {
          ok: false,
          error: {
            code: 'BATCH_EMPTY',
            message: 'The batch has neither messages nor destinations',
            details: [
              { path: 'messages', code: 'BATCH_EMPTY', message: 'messages or destinations is required' },
            ],
          },
        },
      },
    },
    '409': {
      inProgress: {
        summary: 'An earlier request is still accepting these items',
        value: batchRefused(
          'IDEMPOTENCY_IN_PROGRESS',
          'Items of this batch are being accepted by an earlier request right now; retry shortly',
          { code: 'IDEMPOTENCY_IN_PROGRESS', message: 'This item is being accepted by an earlier request' },
        ),
      },
    },
    '503': {
      notAccepted: {
        summary: 'Nothing could be stored',
        value: batchRefused('NOT_ACCEPTED', 'No SMS of the batch could be accepted; send the batch again', {
          code: 'NOT_ACCEPTED',
          message: 'The SMS could not be stored; send it again',
        }),
      },
    },
  },
  'sms-status': {
    '200': {
      delivered: {
        summary: 'Delivered, with its history',
        value: {
          ok: true,
          messageId,
          clientMessageId: 'a9b8c7d6-session-otp-1',
          destination: '+6591234567',
          status: { code: 'DELIVERED', description: 'Delivered to the handset' },
          umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a',
          attempts: 1,
          ambiguousAttempts: 0,
          history: [
            { status: 'QUEUED', at },
            { status: 'SENT', at: '2026-12-07T10:15:30.480Z', umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a' },
            { status: 'DELIVERED', at: '2026-12-07T10:15:33.000Z', detail: 'delivered_to_recipient' },
          ],
          createdAt: at,
          updatedAt: '2026-12-07T10:15:33.010Z',
        },
      },
    },
  },
  'sms-cancel': {
    '200': {
      cancelled: {
        summary: 'A scheduled SMS cancelled at 8x8',
        value: {
          ok: true,
          messageId,
          clientMessageId: 'a9b8c7d6-session-reminder-1',
          destination: '+6591234567',
          status: { code: 'CANCELLED', description: 'SMS was cancelled before it was sent' },
          umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a',
          attempts: 1,
          ambiguousAttempts: 0,
          history: [
            { status: 'QUEUED', at },
            { status: 'SENT', at: '2026-12-07T10:15:30.480Z', umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a' },
            {
              status: 'CANCELLED',
              at: '2026-12-07T10:20:00.000Z',
              detail: 'cancelled at 8x8',
              umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a',
            },
          ],
          createdAt: at,
          updatedAt: '2026-12-07T10:20:00.010Z',
        },
      },
    },
  },
  'sms-erase': {
    '200': {
      erased: {
        summary: "Erased here and 8x8's PII removal requested",
        value: {
          ok: true,
          messageId,
          clientMessageId: 'a9b8c7d6-session-otp-1',
          destination: '[erased]',
          status: { code: 'DELIVERED', description: 'Delivered to the handset' },
          umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a',
          attempts: 1,
          ambiguousAttempts: 0,
          history: [
            { status: 'QUEUED', at },
            { status: 'SENT', at: '2026-12-07T10:15:30.480Z', umid: '9e09ac86-bd74-5465-851d-1eb5a5fdbb9a' },
            { status: 'DELIVERED', at: '2026-12-07T10:15:33.000Z', detail: 'delivered_to_recipient' },
          ],
          erased: {
            at: '2026-12-08T09:00:00.000Z',
            by: 'k1a2b3c4d5',
            fields: ['destination', 'request.destination', 'request.text', 'request.clientIp'],
            eightByEight: 'requested',
            eightByEightAt: '2026-12-08T09:00:00.140Z',
          },
          createdAt: at,
          updatedAt: '2026-12-08T09:00:00.150Z',
        },
      },
    },
  },
  'sms-receipt': {
    '200': {
      recorded: {
        summary: 'Receipt recorded',
        value: { ok: true, messageId, status: 'UNDELIVERED', changed: true },
      },
      inboundQueued: {
        summary: 'An inbound SMS sent to the receipt URL, queued',
        value: { ok: true, umid: inboundUmid, queued: true },
      },
    },
  },
  'sms-inbound-webhook': {
    '200': {
      queued: {
        summary: 'Queued for the opt-out list, the flow or the SMS bot',
        value: { ok: true, umid: inboundUmid, queued: true },
      },
      duplicate: {
        summary: "8x8's retry of an SMS queued before: nothing is done again",
        value: { ok: true, umid: inboundUmid, duplicate: true },
      },
    },
  },
  'sms-opt-out-get': {
    '200': {
      optedOut: {
        summary: 'The number texted STOP to one 8x8 number',
        value: {
          ok: true,
          number: '+6591234567',
          optedOut: true,
          senders: [optOut],
          history: [
            {
              action: 'optOut',
              sender: optOut.sender,
              at: optOut.optedOutAt,
              via: 'STOP',
              umid: optOut.umid,
            },
          ],
        },
      },
      neverSeen: {
        summary: 'A number that never opted out',
        value: { ok: true, number: '+6598765432', optedOut: false, senders: [], history: [] },
      },
    },
  },
  'sms-opt-out-delete': {
    '200': {
      lifted: {
        summary: "Lifted on the person's request, by support staff",
        value: { ok: true, number: '+6591234567', lifted: [optOut.sender], optedOut: false },
      },
    },
  },
  'handover-start': {
    '201': {
      queued: {
        summary: 'A new chat, waiting for an agent',
        value: { ok: true, conversationId, handover: { status: 'queue' } },
      },
    },
    '200': {
      existing: {
        summary: 'The session already has this open chat',
        value: { ok: true, conversationId, handover: { status: 'active' }, existing: true },
      },
    },
    '502': {
      refused: {
        summary: '8x8 refused the credentials',
        value: {
          ok: false,
          error: {
            code: 'UPSTREAM_REJECTED',
            message: '8x8 refused the handover: Access Denied',
            details: { httpStatus: 401, reason: 'Access Denied' },
          },
          handover: { status: 'error' },
        },
      },
    },
  },
  'handover-message': {
    '202': {
      queued: { summary: 'Queued for the agent', value: { ok: true, queued: true, conversationId } },
    },
    '200': {
      bridgePush: {
        summary: 'A push of the bridge itself: nothing relayed',
        value: { ok: true, queued: false, conversationId, ignored: 'bridgeEvent' },
      },
    },
  },
  'handover-end': {
    '200': {
      cancelled: {
        summary: 'Ended from the user side',
        value: { ok: true, conversationId, handover: { status: 'cancelled' } },
      },
    },
  },
  'handover-status': {
    '200': {
      active: {
        summary: 'An agent is in the chat',
        value: {
          ok: true,
          conversationId,
          handover: { status: 'active' },
          agent: { id: 'agent-abc-123' },
          channelId: 'f5odm43occnifcdcsa',
          queueId: '123',
          queueName: 'Customer Support',
          createdAt: at,
          queuedAt: '2026-12-07T10:15:31.000Z',
          activeAt: '2026-12-07T10:16:02.000Z',
        },
      },
    },
  },
  'handover-active': {
    '200': {
      active: {
        summary: "The session's chat, an agent in it",
        value: {
          ok: true,
          conversationId,
          handover: { status: 'active' },
          agent: { id: 'agent-abc-123' },
          channelId: 'f5odm43occnifcdcsa',
          queueId: '123',
          queueName: 'Customer Support',
          createdAt: at,
          queuedAt: '2026-12-07T10:15:31.000Z',
          activeAt: '2026-12-07T10:16:02.000Z',
        },
      },
    },
  },
  'handover-webhook': {
    '200': {
      queued: { summary: 'Verified and queued for Cognigy', value: { ok: true } },
      duplicate: { summary: 'A retry of an event already received', value: { ok: true, duplicate: true } },
    },
  },
};
