/**
 * Helpers over the conversation record shared by the API cores and the consumers: optimistic read-modify-write,
 * bounded id lists, and the public view of a record.
 */
import { createHash } from 'node:crypto';
import type { ConversationRecord, ConversationStore, RecordChanges, RemovableField } from './ports';

/** Event and item ids remembered per conversation; redeliveries come within minutes, far fewer than this. */
export const REMEMBERED_IDS = 100;

export function appendBounded(list: readonly string[], id: string, max = REMEMBERED_IDS): string[] {
  const next = [...list.filter((x) => x !== id), id];
  return next.length > max ? next.slice(next.length - max) : next;
}

export interface RecordChange {
  set: RecordChanges;
  remove?: RemovableField[];
}

export type MutateResult =
  | { outcome: 'updated'; record: ConversationRecord }
  | { outcome: 'unchanged'; record: ConversationRecord }
  | { outcome: 'missing' };

export class RecordContentionError extends Error {
  constructor(conversationId: string, attempts: number) {
    super(`Conversation ${conversationId} changed on each of ${attempts} write attempts`);
    this.name = 'RecordContentionError';
  }
}

/**
 * Reads the record, asks `decide` for a change (null = nothing to do) and writes it if the record did not change
 * in between; on a conflict it reads again and decides again, so every decision is made on the current state.
 */
export async function mutateRecord(
  store: ConversationStore,
  conversationId: string,
  decide: (record: ConversationRecord) => RecordChange | null,
  options: { initial?: ConversationRecord; attempts?: number } = {},
): Promise<MutateResult> {
  const attempts = options.attempts ?? 5;
  let record = options.initial ?? (await store.get(conversationId));
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (!record) return { outcome: 'missing' };
    const change = decide(record);
    if (!change) return { outcome: 'unchanged', record };
    const result = await store.update(conversationId, { ...change, ifVersion: record.version });
    if (result === 'updated') return { outcome: 'updated', record: applyChange(record, change) };
    if (result === 'missing') return { outcome: 'missing' };
    record = await store.get(conversationId);
  }
  throw new RecordContentionError(conversationId, attempts);
}

export function applyChange(record: ConversationRecord, change: RecordChange): ConversationRecord {
  const next: ConversationRecord = { ...record, version: record.version + 1 };
  for (const [key, value] of Object.entries(change.set)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  for (const field of change.remove ?? []) {
    if ((change.set as Record<string, unknown>)[field] === undefined) delete next[field];
  }
  return next;
}

/** The record as GET /handover/{id} shows it: no URL token, no internal bookkeeping. */
export function publicView(record: ConversationRecord): Record<string, unknown> {
  return {
    ok: true,
    conversationId: record.conversationId,
    handover: { status: record.status },
    ...(record.agentId ? { agent: { id: record.agentId } } : {}),
    channelId: record.channelId,
    ...(record.queueId ? { queueId: record.queueId } : {}),
    ...(record.queueName ? { queueName: record.queueName } : {}),
    ...(record.scriptId ? { scriptId: record.scriptId } : {}),
    createdAt: record.createdAt,
    ...(record.queuedAt ? { queuedAt: record.queuedAt } : {}),
    ...(record.activeAt ? { activeAt: record.activeAt } : {}),
    ...(record.endedAt ? { endedAt: record.endedAt } : {}),
    ...(record.endReason ? { endReason: record.endReason } : {}),
    ...(record.lastError ? { lastError: record.lastError } : {}),
  };
}

/**
 * Key of a session's claim (ports.ts SessionClaim), stored in the conversations table as
 * `conversationId = "session#<sha256(owner, sessionId)>"`: `#` is outside the conversation id pattern, so no route
 * or 8x8 event can name one, and with no `sessionId` attribute claims stay out of the bySessionId index.
 */
export function sessionClaimKey(owner: string | undefined, sessionId: string): string {
  return `session#${createHash('sha256')
    .update(`${owner ?? ''}\n${sessionId}`)
    .digest('hex')}`;
}
