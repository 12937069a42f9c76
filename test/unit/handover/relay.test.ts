import '../../helpers/env';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UpstreamError } from '../../../functions/shared/errors';
import { logger } from '../../../functions/shared/powertools';
import { powertoolsTelemetry } from '../../../functions/shared/runtime';
import type { ChatGatewayEvent, InboundEnvelope } from '../../../functions/handover/events';
import { cognigyEndpoint } from '../../../functions/shared/cognigy-client';
import type { ConversationRecord } from '../../../functions/handover/ports';
import {
  ConversationNotYetKnownError,
  decideRelay,
  recordRelayExhausted,
  relayEvent,
  type RelayDeps,
} from '../../../functions/handover/relay';
import { DEFAULT_HANDOVER_RULES, type HandoverRules } from '../../../functions/handover/rules';
import { conversationRecord, FakeClock, FakeCognigy, MemoryStore } from './fakes';

beforeAll(() => logger.setLogLevel('SILENT'));

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const base = { conversationId: 'conv-1', timestamp: NOW - 1000 };
let eventCounter = 0;

function envelope(event: Record<string, unknown>, overrides: Partial<InboundEnvelope> = {}): InboundEnvelope {
  return {
    eventId: `evt-${++eventCounter}`,
    retry: 0,
    receivedAt: NOW - 500,
    event: { ...base, ...event } as ChatGatewayEvent,
    ...overrides,
  };
}

const queued = { eventType: 'QUEUED', data: { queueId: 'q-1', queueName: 'Support' } };
const agentJoined = (id = 'agent-1') => ({
  eventType: 'MEMBERS_CHANGED',
  data: { memberType: 'agent', change: 'joined', id },
});
const agentLeft = (id = 'agent-1') => ({
  eventType: 'MEMBERS_CHANGED',
  data: { memberType: 'agent', change: 'left', id },
});
const userLeft = { eventType: 'MEMBERS_CHANGED', data: { memberType: 'user', change: 'left', id: 'user' } };
const transfer = { eventType: 'TRANSFER' };
const idle = { eventType: 'CONVERSATION_UPDATE', data: { state: 'idle' } };
const message = (data: Record<string, unknown>) => ({
  eventType: 'MESSAGE',
  data: {
    isEcho: false,
    sender: { id: 'agent-1', type: 'agent' },
    text: 'Hello, how can I help?',
    attachments: [],
    cards: [],
    ...data,
  },
});
const typing = (users: { type: string; id: string }[]) => ({
  eventType: 'ACTIVITY',
  data: { name: 'typing', value: { users } },
});

const handover = (fields: Record<string, unknown>) => ({
  conversationId: 'conv-1',
  provider: '8x8',
  ...fields,
});
const injected = (fields: Record<string, unknown>) => ({
  mode: 'inject',
  text: '',
  data: { handover: handover(fields) },
});

const active = { status: 'active' as const, agentId: 'agent-1', activeAt: '2026-03-01T11:59:30.000Z' };

interface Row {
  name: string;
  record?: Partial<ConversationRecord>;
  event: Record<string, unknown>;
  rules?: Partial<HandoverRules>;
  push: Record<string, unknown> | null;
  after?: Partial<ConversationRecord>;
  removed?: (keyof ConversationRecord)[];
}

const rows: Row[] = [
  {
    name: 'QUEUED → inject status queue with the queue',
    event: queued,
    push: injected({ status: 'queue', event: 'queued', queueId: 'q-1', queueName: 'Support' }),
    after: { status: 'queue', queueId: 'q-1', queueName: 'Support', queuedAt: '2026-03-01T12:00:00.000Z' },
  },
  {
    name: 'QUEUED with injectQueueEvents off → recorded only',
    event: queued,
    rules: { injectQueueEvents: false },
    push: null,
    after: { queueName: 'Support' },
  },
  {
    name: 'agent joined → inject status active with the agent id',
    event: agentJoined(),
    push: injected({ status: 'active', event: 'agentJoined', agentId: 'agent-1' }),
    after: { status: 'active', agentId: 'agent-1', activeAt: '2026-03-01T12:00:00.000Z' },
  },
  {
    name: 'agent joined with injectActiveEvent off → recorded only',
    event: agentJoined(),
    rules: { injectActiveEvent: false },
    push: null,
    after: { status: 'active', agentId: 'agent-1' },
  },
  {
    name: 'agent joined again (same agent) → nothing',
    record: active,
    event: agentJoined(),
    push: null,
  },
  {
    name: 'agent MESSAGE → notify with source agent',
    record: active,
    event: message({}),
    push: {
      mode: 'notify',
      text: 'Hello, how can I help?',
      source: 'agent',
      data: { handover: handover({ status: 'active', event: 'message', agentId: 'agent-1' }) },
    },
  },
  {
    name: 'agent MESSAGE with attachments → links appended and listed in data.attachments',
    record: active,
    event: message({
      text: 'Here you go',
      attachments: [
        {
          id: 'att-1',
          type: 'image',
          fileName: 'screenshot.png',
          preSignedUrl: 'https://files.example/att-1?sig=1',
        },
        { id: 'att-2', type: 'file', preSignedUrl: 'https://files.example/att-2' },
      ],
    }),
    push: {
      mode: 'notify',
      text: 'Here you go\nscreenshot.png: https://files.example/att-1?sig=1\natt-2: https://files.example/att-2',
      source: 'agent',
      data: {
        handover: handover({ status: 'active', event: 'message', agentId: 'agent-1' }),
        attachments: [
          {
            id: 'att-1',
            type: 'image',
            fileName: 'screenshot.png',
            url: 'https://files.example/att-1?sig=1',
          },
          { id: 'att-2', type: 'file', url: 'https://files.example/att-2' },
        ],
      },
    },
  },
  {
    name: 'agent MESSAGE with agentMessageMode inject → inject with the text',
    record: active,
    event: message({}),
    rules: { agentMessageMode: 'inject' },
    push: {
      mode: 'inject',
      text: 'Hello, how can I help?',
      data: { handover: handover({ status: 'active', event: 'message', agentId: 'agent-1' }) },
    },
  },
  {
    name: 'agent MESSAGE before its join event → notify and the handover becomes active',
    event: message({}),
    push: {
      mode: 'notify',
      text: 'Hello, how can I help?',
      source: 'agent',
      data: { handover: handover({ status: 'active', event: 'message', agentId: 'agent-1' }) },
    },
    after: { status: 'active', agentId: 'agent-1' },
  },
  {
    name: 'echo of our own user message → nothing',
    record: active,
    event: message({ isEcho: true, sender: { id: 'u', type: 'user' } }),
    push: null,
  },
  {
    name: 'MESSAGE from the user → nothing',
    record: active,
    event: message({ sender: { id: 'u', type: 'user' } }),
    push: null,
  },
  {
    name: 'agent MESSAGE marked as echo → nothing by default',
    record: active,
    event: message({ isEcho: true }),
    push: null,
  },
  {
    name: 'agent MESSAGE marked as echo with forwardEchoes → notify',
    record: active,
    event: message({ isEcho: true }),
    rules: { forwardEchoes: true },
    push: {
      mode: 'notify',
      text: 'Hello, how can I help?',
      source: 'agent',
      data: { handover: handover({ status: 'active', event: 'message', agentId: 'agent-1' }) },
    },
  },
  { name: 'empty agent MESSAGE → nothing', record: active, event: message({ text: '' }), push: null },
  {
    name: 'TRANSFER → inject queue/transfer and remember it',
    record: active,
    event: transfer,
    push: injected({ status: 'queue', event: 'transfer', agentId: 'agent-1' }),
    after: { status: 'queue', transferPendingSince: NOW - 1000 },
  },
  {
    name: 'agent left after a TRANSFER → not the end',
    record: { ...active, status: 'queue', transferPendingSince: NOW - 5000 },
    event: agentLeft(),
    push: null,
    after: { status: 'queue' },
    removed: ['agentId', 'endedAt'],
  },
  {
    name: 'agent left → completed (agentLeft) and the record closed',
    record: active,
    event: agentLeft(),
    push: injected({ status: 'completed', event: 'agentLeft', agentId: 'agent-1', reason: 'agentLeft' }),
    after: { status: 'completed', endReason: 'agentLeft', endedAt: '2026-03-01T12:00:00.000Z' },
  },
  {
    name: 'agent left long after a TRANSFER (beyond transferGraceMs) → completed',
    record: { ...active, transferPendingSince: NOW - 700_000 },
    event: agentLeft(),
    push: injected({ status: 'completed', event: 'agentLeft', agentId: 'agent-1', reason: 'agentLeft' }),
    after: { status: 'completed' },
    removed: ['transferPendingSince'],
  },
  {
    name: 'agent left with agentLeft not an end signal → agent cleared, still open',
    record: active,
    event: agentLeft(),
    rules: { endOn: ['idle'] },
    push: null,
    after: { status: 'active' },
    removed: ['agentId'],
  },
  {
    name: 'a previous agent leaving late → nothing',
    record: { ...active, agentId: 'agent-2' },
    event: agentLeft('agent-1'),
    push: null,
  },
  {
    name: 'CONVERSATION_UPDATE idle → completed (idle)',
    record: active,
    event: idle,
    push: injected({ status: 'completed', event: 'idle', agentId: 'agent-1', reason: 'idle' }),
    after: { status: 'completed', endReason: 'idle' },
  },
  {
    name: 'idle when idle is not an end signal → nothing',
    record: active,
    event: idle,
    rules: { endOn: ['agentLeft'] },
    push: null,
  },
  {
    name: 'CONVERSATION_UPDATE active → nothing',
    event: { eventType: 'CONVERSATION_UPDATE', data: { state: 'active' } },
    push: null,
  },
  {
    name: 'CONVERSATION_UPDATE created → nothing',
    event: { eventType: 'CONVERSATION_UPDATE', data: { state: 'created' } },
    push: null,
  },
  {
    name: 'user left after our own end (cancelled) → nothing',
    record: { status: 'cancelled' },
    event: userLeft,
    push: null,
  },
  { name: 'user left while open, default rules → nothing', record: active, event: userLeft, push: null },
  {
    name: 'user left with userLeft as end signal → cancelled',
    record: active,
    event: userLeft,
    rules: { endOn: ['agentLeft', 'idle', 'userLeft'] },
    push: injected({ status: 'cancelled', event: 'userLeft', agentId: 'agent-1', reason: 'userLeft' }),
    after: { status: 'cancelled', endReason: 'userLeft' },
  },
  {
    name: 'agent typing, default rules → nothing',
    record: active,
    event: typing([{ type: 'agent', id: 'agent-1' }]),
    push: null,
  },
  {
    name: 'agent typing with typing inject → typing true',
    record: active,
    event: typing([{ type: 'agent', id: 'agent-1' }]),
    rules: { typing: 'inject' },
    push: injected({ status: 'active', event: 'typing', agentId: 'agent-1', typing: true }),
  },
  {
    name: 'typing stopped with typing inject → typing false',
    record: active,
    event: typing([]),
    rules: { typing: 'inject' },
    push: injected({ status: 'active', event: 'typing', agentId: 'agent-1', typing: false }),
  },
  {
    name: 'the user typing → nothing',
    record: active,
    event: typing([{ type: 'user', id: 'u' }]),
    rules: { typing: 'inject' },
    push: null,
  },
  {
    name: 'adaptive card action → nothing',
    record: active,
    event: {
      eventType: 'ACTIVITY',
      data: { name: 'adaptiveCard/action', value: { type: 'Action.Submit', data: {} } },
    },
    push: null,
  },
  {
    name: 'agent MESSAGE on a completed handover → nothing',
    record: { status: 'completed' },
    event: message({}),
    push: null,
  },
  {
    name: 'agent left on a completed handover → nothing (no second end)',
    record: { status: 'completed' },
    event: agentLeft(),
    push: null,
  },
  {
    name: 'QUEUED delivered late, after the agent joined → agent kept, nothing injected',
    record: { ...active, lastStatusEventTs: NOW - 500 },
    event: { ...queued, timestamp: NOW - 2000 },
    push: null,
    after: { status: 'active', agentId: 'agent-1' },
  },
  {
    name: 'QUEUED after the agent joined (newer) → re-queued',
    record: { ...active, lastStatusEventTs: NOW - 5000 },
    event: queued,
    push: injected({ status: 'queue', event: 'queued', queueId: 'q-1', queueName: 'Support' }),
    after: { status: 'queue' },
    removed: ['agentId'],
  },
  {
    name: 'agent left older than the join that followed → nothing',
    record: { ...active, lastStatusEventTs: NOW - 500 },
    event: { ...agentLeft(), timestamp: NOW - 2000 },
    push: null,
    after: { status: 'active' },
  },
];

describe('relay rules: each 8x8 event → the exact Cognigy call or none', () => {
  it.each(rows)('$name', async (row) => {
    const store = new MemoryStore();
    const cognigy = new FakeCognigy();
    const record = conversationRecord({ endpointBaseUrl: 'https://endpoint.example', ...row.record });
    store.records.set('conv-1', record);
    const deps: RelayDeps = {
      store,
      cognigy,
      clock: new FakeClock(NOW),
      telemetry: powertoolsTelemetry,
      rules: { ...DEFAULT_HANDOVER_RULES, ...row.rules },
    };

    const event = envelope(row.event);
    await relayEvent(event, deps);

    if (row.push === null) expect(cognigy.pushes).toEqual([]);
    else {
      expect(cognigy.pushes).toEqual([
        {
          mode: row.push.mode,
          target: { endpointBaseUrl: 'https://endpoint.example', urlToken: 'url-token-secret-123' },
          push: {
            userId: 'user-1',
            sessionId: 'session-1',
            text: row.push.text,
            data: { ...(row.push.data as object), bridgeEventId: `8x8-chat:${event.eventId}` },
            ...(row.push.source ? { source: row.push.source } : {}),
          },
        },
      ]);
    }
    const after = await store.get('conv-1');
    if (row.after) expect(after).toMatchObject(row.after);
    for (const field of row.removed ?? []) expect(after?.[field]).toBeUndefined();
  });
});

describe('relayEvent retries', () => {
  it('a redelivered event is pushed as a retry (longer timeout) with the same bridgeEventId', async () => {
    const store = new MemoryStore();
    const cognigy = new FakeCognigy();
    store.records.set(
      'conv-1',
      conversationRecord({ endpointBaseUrl: 'https://endpoint.example', ...active }),
    );
    const deps: RelayDeps = {
      store,
      cognigy,
      clock: new FakeClock(NOW),
      telemetry: powertoolsTelemetry,
      rules: DEFAULT_HANDOVER_RULES,
    };
    const event = envelope(message({}));
    cognigy.failures.push(
      new UpstreamError('cognigy', 'transient', 'cognigy did not answer', undefined, 'TIMEOUT'),
    );
    await expect(relayEvent(event, deps, { receiveCount: 1 })).rejects.toBeInstanceOf(UpstreamError);
    expect(await relayEvent(event, deps, { receiveCount: 2 })).toBe('relayed');
    expect(cognigy.options).toEqual([{ retry: false }, { retry: true }]);
    expect(cognigy.pushes.map((p) => p.push.data.bridgeEventId)).toEqual([`8x8-chat:${event.eventId}`]);
  });
});

describe('relay metrics (dashboard and the Cognigy push failure alarm)', () => {
  it('counts every failed push, and the latency from the webhook to Cognigy of the one that went through', async () => {
    const store = new MemoryStore();
    const cognigy = new FakeCognigy();
    store.records.set(
      'conv-1',
      conversationRecord({ endpointBaseUrl: 'https://endpoint.example', ...active }),
    );
    const counts = new Map<string, number>();
    const latencies: [string, number][] = [];
    const clock = new FakeClock(NOW);
    const deps: RelayDeps = {
      store,
      cognigy,
      clock,
      telemetry: {
        ...powertoolsTelemetry,
        count: (m, v = 1) => counts.set(m, (counts.get(m) ?? 0) + v),
        milliseconds: (m, v) => void latencies.push([m, v]),
      },
      rules: DEFAULT_HANDOVER_RULES,
    };
    const event = envelope(message({}), { receivedAt: NOW - 500 });
    cognigy.failures.push(new UpstreamError('cognigy', 'transient', 'HTTP 503', 503));
    await expect(relayEvent(event, deps, { receiveCount: 1 })).rejects.toBeInstanceOf(UpstreamError);
    expect(counts.get('HandoverRelayPushFailed')).toBe(1);
    expect(latencies).toEqual([]);

    clock.advance(4_000); // the queue's backoff before the redelivery
    expect(await relayEvent(event, deps, { receiveCount: 2 })).toBe('relayed');
    expect(latencies).toEqual([['HandoverRelayLatency', 4_500]]);

    // A permanent refusal is recorded, and counted as a failed push too.
    cognigy.failures.push(new UpstreamError('cognigy', 'permanent', 'HTTP 404', 404));
    expect(await relayEvent(envelope(message({})), deps)).toBe('rejected');
    expect(counts.get('HandoverRelayPushFailed')).toBe(2);
    expect(latencies).toHaveLength(1);
  });
});

describe('order after a poisoned event (DLQ gap)', () => {
  function setup() {
    const store = new MemoryStore();
    const cognigy = new FakeCognigy();
    store.records.set(
      'conv-1',
      conversationRecord({ endpointBaseUrl: 'https://endpoint.example', ...active }),
    );
    const counts = new Map<string, number>();
    const deps: RelayDeps = {
      store,
      cognigy,
      clock: new FakeClock(NOW),
      telemetry: { ...powertoolsTelemetry, count: (m, v = 1) => counts.set(m, (counts.get(m) ?? 0) + v) },
      rules: DEFAULT_HANDOVER_RULES,
    };
    return { store, cognigy, deps, counts };
  }
  const dataOf = (cognigy: FakeCognigy) =>
    cognigy.pushes.map((p) => {
      const { gap, redriven, eventTime } = p.push.data as Record<string, unknown>;
      return { text: p.push.text, gap, redriven, eventTime };
    });

  it('marks later pushes with gap: true until the DLQ event is redriven into its place', async () => {
    const { store, cognigy, deps, counts } = setup();
    const poisoned = envelope(message({ text: 'first' }));
    await recordRelayExhausted(poisoned, new UpstreamError('cognigy', 'transient', 'HTTP 503', 503), deps);
    expect((await store.get('conv-1'))?.gapEventIds).toEqual([poisoned.eventId]);
    expect(counts.get('HandoverRelayGap')).toBe(1);

    expect(await relayEvent(envelope(message({ text: 'second' })), deps)).toBe('relayed');
    expect(await relayEvent(poisoned, deps)).toBe('relayed'); // the DLQ redrive
    expect(await relayEvent(envelope(message({ text: 'third' })), deps)).toBe('relayed');

    expect(dataOf(cognigy)).toEqual([
      { text: 'second', gap: true, redriven: undefined, eventTime: undefined },
      {
        text: 'first',
        gap: undefined,
        redriven: true,
        eventTime: new Date(poisoned.event.timestamp).toISOString(),
      },
      { text: 'third', gap: undefined, redriven: undefined, eventTime: undefined },
    ]);
    expect((await store.get('conv-1'))?.gapEventIds).toBeUndefined();
  });

  it('a redriven event that changes nothing any more (stale) still closes the gap; another gap stays', async () => {
    const { store, cognigy, deps } = setup();
    const staleJoin = envelope(agentJoined('agent-0'), {});
    const other = envelope(message({ text: 'lost too' }));
    await recordRelayExhausted(staleJoin, new Error('boom'), deps);
    await recordRelayExhausted(other, new Error('boom'), deps);
    await store.update('conv-1', {
      set: { lastStatusEventTs: NOW },
      ifVersion: (await store.get('conv-1'))!.version,
    });
    expect(await relayEvent(staleJoin, deps)).toBe('skipped');
    expect((await store.get('conv-1'))?.gapEventIds).toEqual([other.eventId]);
    expect(await relayEvent(envelope(message({ text: 'next' })), deps)).toBe('relayed');
    expect(dataOf(cognigy)).toEqual([{ text: 'next', gap: true, redriven: undefined, eventTime: undefined }]);
  });
});

describe('relayed events are checked against the stored conversation', () => {
  function setup(record: Partial<ConversationRecord> = {}) {
    const store = new MemoryStore();
    const cognigy = new FakeCognigy();
    store.records.set(
      'conv-1',
      conversationRecord({ endpointBaseUrl: 'https://endpoint.example', ...active, ...record }),
    );
    const counts = new Map<string, number>();
    const warnings: unknown[] = [];
    const deps: RelayDeps = {
      store,
      cognigy,
      clock: new FakeClock(NOW),
      telemetry: {
        ...powertoolsTelemetry,
        log: {
          debug: () => undefined,
          info: () => undefined,
          error: () => undefined,
          warn: (...args: unknown[]) => void warnings.push(args),
        },
        count: (m, v = 1) => counts.set(m, (counts.get(m) ?? 0) + v),
      },
      rules: { ...DEFAULT_HANDOVER_RULES, typing: 'inject', forwardEchoes: true },
    };
    return { store, cognigy, deps, counts, warnings };
  }

  it.each([
    ['a conversation without a Cognigy session', { urlToken: '' }, message({})],
    [
      'a MESSAGE from the user that is not an echo of ours',
      {},
      message({ sender: { id: 'u', type: 'user' } }),
    ],
    ['a MESSAGE from an unknown sender type', {}, message({ sender: { id: 'x', type: 'system' } })],
    ['typing by an unknown member type', {}, typing([{ type: 'robot', id: 'r-1' }])],
  ])(
    'refuses %s: nothing reaches Cognigy, a security event is logged and counted',
    async (_name, record, event) => {
      const { store, cognigy, deps, counts, warnings } = setup(record);
      const before = await store.get('conv-1');
      const refused = envelope(event);
      expect(await relayEvent(refused, deps)).toBe('refused');
      expect(cognigy.pushes).toEqual([]);
      expect(counts.get('HandoverRelayRefused')).toBe(1);
      expect(JSON.stringify(warnings)).toContain('HANDOVER_EVENT_REFUSED');
      expect(await store.get('conv-1')).toEqual(before);
    },
  );

  it('lets through an agent message and the echo of our own user post', async () => {
    const { cognigy, deps, counts } = setup();
    expect(await relayEvent(envelope(message({})), deps)).toBe('relayed');
    const echo = message({ sender: { id: 'u', type: 'user' }, isEcho: true });
    expect(await relayEvent(envelope(echo), deps)).not.toBe('refused');
    expect(cognigy.pushes).toHaveLength(1);
    expect(counts.get('HandoverRelayRefused')).toBeUndefined();
  });
});

describe('decideRelay', () => {
  it('treats transferGraceMs 0 as no limit and leaves the given record untouched', () => {
    const record = conversationRecord({ ...active, transferPendingSince: NOW - 86_400_000 });
    const before = structuredClone(record);
    const unlimited = decideRelay(
      record,
      envelope(agentLeft()),
      { ...DEFAULT_HANDOVER_RULES, transferGraceMs: 0 },
      new Date(NOW),
    );
    expect(unlimited).toEqual({
      change: { set: { status: 'queue' }, remove: ['agentId'] },
      skip: 'agent left for a transfer',
    });
    const limited = decideRelay(record, envelope(agentLeft()), DEFAULT_HANDOVER_RULES, new Date(NOW));
    expect(limited.push?.data.handover).toMatchObject({ status: 'completed', reason: 'agentLeft' });
    expect(record).toEqual(before);
  });
});

describe('relayEvent', () => {
  function setup(record: Partial<ConversationRecord> = {}, rules: Partial<HandoverRules> = {}) {
    const store = new MemoryStore();
    store.records.set('conv-1', conversationRecord(record));
    const cognigy = new FakeCognigy();
    const clock = new FakeClock(NOW);
    const deps: RelayDeps = {
      store,
      cognigy,
      clock,
      telemetry: powertoolsTelemetry,
      rules: { ...DEFAULT_HANDOVER_RULES, ...rules },
    };
    return { store, cognigy, clock, deps };
  }
  const events = (cognigy: FakeCognigy) =>
    cognigy.pushes.map((p) => p.push.data.handover as { event: string; status: string });

  it('pushes a redelivered event only once (event id marked after the push)', async () => {
    const { store, cognigy, deps } = setup();
    const joined = envelope(agentJoined());
    expect(await relayEvent(joined, deps)).toBe('relayed');
    expect(await relayEvent(joined, deps)).toBe('duplicate');
    expect(cognigy.pushes).toHaveLength(1);
    expect((await store.get('conv-1'))?.relayedEventIds).toEqual([joined.eventId]);
  });

  it('does not end the chat on an agent leaving after a TRANSFER; the next agent leaving does', async () => {
    const { store, cognigy, deps } = setup();
    for (const e of [
      queued,
      agentJoined('agent-1'),
      message({}),
      transfer,
      agentLeft('agent-1'),
      queued,
      agentJoined('agent-2'),
      agentLeft('agent-2'),
      idle,
    ]) {
      await relayEvent(envelope(e), deps);
    }
    expect(events(cognigy).map((h) => `${h.event}:${h.status}`)).toEqual([
      'queued:queue',
      'agentJoined:active',
      'message:active',
      'transfer:queue',
      'queued:queue',
      'agentJoined:active',
      'agentLeft:completed',
    ]);
    expect(await store.get('conv-1')).toMatchObject({
      status: 'completed',
      agentId: 'agent-2',
      endReason: 'agentLeft',
    });
  });

  it('relays a message the transferring agent writes before leaving without undoing the transfer', async () => {
    const { store, cognigy, deps } = setup(active);
    await relayEvent(envelope(transfer), deps);
    await relayEvent(envelope(message({ text: 'Passing you to billing' })), deps);
    await relayEvent(envelope(agentLeft()), deps);
    expect(events(cognigy).map((h) => `${h.event}:${h.status}`)).toEqual(['transfer:queue', 'message:queue']);
    expect((await store.get('conv-1'))?.status).toBe('queue');
  });

  it('retries events for a conversation not recorded yet, then acknowledges them', async () => {
    const { cognigy, deps } = setup();
    const early = envelope(queued, {
      event: { ...queued, conversationId: 'conv-new', timestamp: NOW } as ChatGatewayEvent,
      receivedAt: NOW - 1000,
    });
    await expect(relayEvent(early, deps)).rejects.toBeInstanceOf(ConversationNotYetKnownError);
    expect(await relayEvent(early, deps, { lastAttempt: true })).toBe('unknownConversation');
    const old = { ...early, receivedAt: NOW - 120_000 };
    expect(await relayEvent(old, deps)).toBe('unknownConversation');
    expect(cognigy.pushes).toHaveLength(0);
  });

  it('drops an envelope that is not an inbound event', async () => {
    const { cognigy, deps } = setup();
    expect(await relayEvent({ eventId: 'x', event: { eventType: 'NOPE' } }, deps)).toBe('invalid');
    expect(cognigy.pushes).toHaveLength(0);
  });

  it('keeps a concurrent user end: the relayed join is marked but does not reopen the handover', async () => {
    const { store, cognigy, deps } = setup();
    store.beforeUpdate = () => {
      store.beforeUpdate = undefined;
      store.touch('conv-1', { status: 'cancelled', endReason: 'userEnded' });
    };
    const joined = envelope(agentJoined());
    await relayEvent(joined, deps);
    expect(cognigy.pushes).toHaveLength(1);
    expect(await store.get('conv-1')).toMatchObject({
      status: 'cancelled',
      relayedEventIds: [joined.eventId],
    });
  });

  it('uses the Endpoint base URL of the cognigy secret when the start request gave none', async () => {
    const { cognigy, deps } = setup();
    await relayEvent(envelope(agentJoined()), deps);
    expect(cognigy.pushes[0]?.target.endpointBaseUrl).toBe('https://endpoint-default.example');
  });

  it('records a missing Endpoint base URL instead of retrying forever', async () => {
    const { store, cognigy, deps } = setup();
    cognigy.defaultBase = undefined;
    expect(await relayEvent(envelope(agentJoined()), deps)).toBe('rejected');
    expect((await store.get('conv-1'))?.lastError).toMatchObject({
      source: 'cognigy',
      code: 'NO_ENDPOINT_BASE_URL',
    });
  });

  it('throws a retryable Cognigy failure without marking the event, and records a permanent one', async () => {
    const { store, cognigy, deps } = setup();
    const joined = envelope(agentJoined());
    cognigy.failures.push(new UpstreamError('cognigy', 'transient', 'cognigy answered 503', 503));
    await expect(relayEvent(joined, deps)).rejects.toMatchObject({ kind: 'transient' });
    expect((await store.get('conv-1'))?.relayedEventIds).toEqual([]);

    cognigy.failures.push(new UpstreamError('cognigy', 'permanent', 'cognigy answered 400: HTTP 400', 400));
    expect(await relayEvent(joined, deps)).toBe('rejected');
    expect(await store.get('conv-1')).toMatchObject({
      status: 'active',
      relayedEventIds: [joined.eventId],
      lastError: { source: 'cognigy', operation: 'inject', httpStatus: 400, at: '2026-03-01T12:00:00.000Z' },
    });
  });

  it('records the exhausted event on the conversation without marking it, so a DLQ redrive relays it', async () => {
    const { store, deps } = setup();
    const joined = envelope(agentJoined());
    await recordRelayExhausted(
      joined,
      new UpstreamError('cognigy', 'transient', 'cognigy answered 503: HTTP 503', 503),
      deps,
    );
    expect(await store.get('conv-1')).toMatchObject({
      status: 'queue',
      relayedEventIds: [],
      lastError: { source: 'cognigy', code: 'EXHAUSTED', httpStatus: 503 },
    });
  });

  it('never logs the URL token or message text', async () => {
    const output: string[] = [];
    const capture = (chunk: unknown) => {
      output.push(String(chunk));
      return true;
    };
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    const info = jest
      .spyOn(console, 'info')
      .mockImplementation((...a: unknown[]) => void output.push(a.join(' ')));
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation((...a: unknown[]) => void output.push(a.join(' ')));
    logger.setLogLevel('DEBUG');
    try {
      const { cognigy, deps } = setup();
      await relayEvent(envelope(message({ text: 'Top secret agent words' })), deps);
      cognigy.failures.push(new UpstreamError('cognigy', 'permanent', 'cognigy answered 400', 400));
      await relayEvent(envelope(message({ text: 'More secret words' })), deps);
    } finally {
      logger.setLogLevel('SILENT');
      out.mockRestore();
      err.mockRestore();
      info.mockRestore();
      warn.mockRestore();
    }
    const all = output.join('\n');
    expect(all).toContain('conv-1');
    expect(all).not.toContain('url-token-secret-123');
    expect(all).not.toContain('secret agent words');
    expect(all).not.toContain('More secret words');
  });
});

describe('Cognigy failure classification over HTTP (cognigyEndpoint → pushToCognigy)', () => {
  let server: Server;
  let url: string;
  const answers: number[] = [];
  const received: { url: string; body: unknown }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body: JSON.parse(body) });
        res.statusCode = answers.shift() ?? 200;
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function setup() {
    const store = new MemoryStore();
    store.records.set('conv-1', conversationRecord({ endpointBaseUrl: url, ...active }));
    const deps: RelayDeps = {
      store,
      cognigy: cognigyEndpoint({ timeoutMs: 2000, defaultEndpointBaseUrl: async () => undefined }),
      clock: new FakeClock(NOW),
      telemetry: powertoolsTelemetry,
      rules: DEFAULT_HANDOVER_RULES,
    };
    return { store, deps };
  }

  it('Cognigy 503 → thrown for a retry; the next attempt notifies and marks the event', async () => {
    const { store, deps } = setup();
    received.length = 0;
    answers.push(503);
    const event = envelope(message({}));
    await expect(relayEvent(event, deps)).rejects.toMatchObject({
      name: 'UpstreamError',
      kind: 'transient',
      httpStatus: 503,
    });
    expect(await relayEvent(event, deps)).toBe('relayed');
    expect(received.map((r) => r.url)).toEqual([
      '/notify/url-token-secret-123',
      '/notify/url-token-secret-123',
    ]);
    expect(received[1]?.body).toEqual({
      userId: 'user-1',
      sessionId: 'session-1',
      text: 'Hello, how can I help?',
      source: 'agent',
      data: {
        handover: handover({ status: 'active', event: 'message', agentId: 'agent-1' }),
        bridgeEventId: `8x8-chat:${event.eventId}`,
      },
    });
    // The retry carries the same dedupe id as the try Cognigy answered 503.
    expect(received[0]?.body).toEqual(received[1]?.body);
    expect((await store.get('conv-1'))?.relayedEventIds).toEqual([event.eventId]);
  });

  it('Cognigy 429 → thrown for a retry', async () => {
    const { deps } = setup();
    answers.push(429);
    await expect(relayEvent(envelope(agentLeft()), deps)).rejects.toMatchObject({ kind: 'rateLimited' });
  });

  it('Cognigy 400 → recorded on the conversation and acknowledged; the state change still applies', async () => {
    const { store, deps } = setup();
    received.length = 0;
    answers.push(400);
    expect(await relayEvent(envelope(agentLeft()), deps)).toBe('rejected');
    expect(received[0]?.url).toBe('/inject/url-token-secret-123');
    expect(await store.get('conv-1')).toMatchObject({
      status: 'completed',
      endReason: 'agentLeft',
      lastError: { source: 'cognigy', operation: 'inject', httpStatus: 400 },
    });
  });
});
