/**
 * The conversations table (functions/shared/catalogue.ts TABLES.conversations: pk conversationId, GSI bySessionId, TTL expiresAt)
 * behind the ConversationStore port. Every write is conditional: creation on the id being new, updates on the
 * record's `version` (optimistic concurrency between the API, the outbound consumer and the relay consumer).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../shared/catalogue';
import type { Clock } from '../shared/runtime';
import type {
  ConversationRecord,
  ConversationStore,
  RecordUpdate,
  SessionClaim,
  SessionClaims,
  UpdateResult,
} from './ports';

/** Cognigy keeps session state for 7 days, so a mapping must live at least that long. */
export const MIN_RECORD_TTL_DAYS = 7;

const SESSION_INDEX =
  TABLES.conversations.indexes.find((i) => i.partitionKey === 'sessionId')?.name ?? 'bySessionId';

export class ConversationExistsError extends Error {
  constructor(conversationId: string) {
    super(`Conversation ${conversationId} is already recorded`);
    this.name = 'ConversationExistsError';
  }
}

export interface DynamoConversationStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Days a record is kept after its last write (at least MIN_RECORD_TTL_DAYS). */
  ttlDays: number;
  clock: Clock;
}

export class DynamoConversationStore implements ConversationStore {
  private readonly ttlSeconds: number;

  constructor(private readonly options: DynamoConversationStoreOptions) {
    this.ttlSeconds = Math.max(MIN_RECORD_TTL_DAYS, options.ttlDays) * 86_400;
  }

  private expiresAt(): number {
    return Math.floor(this.options.clock.now().getTime() / 1000) + this.ttlSeconds;
  }

  async create(record: ConversationRecord): Promise<void> {
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...withoutUndefined(record), expiresAt: this.expiresAt() },
          ConditionExpression: 'attribute_not_exists(conversationId)',
        }),
      );
    } catch (error) {
      if (isConditionalFailure(error)) throw new ConversationExistsError(record.conversationId);
      throw error;
    }
  }

  async get(conversationId: string): Promise<ConversationRecord | undefined> {
    const out = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: { conversationId }, ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async findBySession(sessionId: string): Promise<ConversationRecord[]> {
    const records: ConversationRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    // A session rarely has more than a few handovers; the page cap bounds the work for a pathological one.
    for (let page = 0; page < 10; page++) {
      const out = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          IndexName: SESSION_INDEX,
          KeyConditionExpression: 'sessionId = :sessionId',
          ExpressionAttributeValues: { ':sessionId': sessionId },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of out.Items ?? []) records.push(toRecord(item));
      startKey = out.LastEvaluatedKey;
      if (!startKey) break;
    }
    return records;
  }

  async update(conversationId: string, update: RecordUpdate): Promise<UpdateResult> {
    const names: Record<string, string> = { '#version': 'version', '#expiresAt': 'expiresAt' };
    const values: Record<string, unknown> = {
      ':expected': update.ifVersion,
      ':one': 1,
      ':expiresAt': this.expiresAt(),
    };
    const sets = ['#version = #version + :one', '#expiresAt = :expiresAt'];
    let n = 0;
    for (const [field, value] of Object.entries(update.set)) {
      if (value === undefined) continue;
      n++;
      names[`#f${n}`] = field;
      values[`:v${n}`] = value;
      sets.push(`#f${n} = :v${n}`);
    }
    const removes: string[] = [];
    for (const field of update.remove ?? []) {
      if ((update.set as Record<string, unknown>)[field] !== undefined) continue;
      n++;
      names[`#f${n}`] = field;
      removes.push(`#f${n}`);
    }
    try {
      await this.options.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { conversationId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(conversationId) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'updated';
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      // Not every DynamoDB implementation returns the old item on a failed condition, so look again.
      return (await this.get(conversationId)) ? 'conflict' : 'missing';
    }
  }
}

/** Days a session claim outlives its last write: long enough to cover any open chat, short of a record's TTL. */
const SESSION_CLAIM_TTL_SECONDS = MIN_RECORD_TTL_DAYS * 86_400;

/** Session claims (keys from record.ts sessionClaimKey) as items of the conversations table. */
export class DynamoSessionClaims implements SessionClaims {
  constructor(private readonly options: Omit<DynamoConversationStoreOptions, 'ttlDays'>) {}

  private expiresAt(): number {
    return Math.floor(this.options.clock.now().getTime() / 1000) + SESSION_CLAIM_TTL_SECONDS;
  }

  async get(key: string): Promise<SessionClaim | undefined> {
    const out = await this.options.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { conversationId: key },
        ConsistentRead: true,
      }),
    );
    const item = out.Item;
    if (!item || item.itemType !== 'sessionClaim') return undefined;
    return {
      key,
      state: item.state === 'open' ? 'open' : 'starting',
      claimId: String(item.claimId),
      claimedUntil: Number(item.claimedUntil ?? 0),
      ...(typeof item.openConversationId === 'string' ? { conversationId: item.openConversationId } : {}),
      version: typeof item.version === 'number' ? item.version : 0,
    };
  }

  async claim(
    claim: Omit<SessionClaim, 'version' | 'state' | 'conversationId'>,
    ifVersion: number | undefined,
  ): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          conversationId: claim.key,
          itemType: 'sessionClaim',
          state: 'starting',
          claimId: claim.claimId,
          claimedUntil: claim.claimedUntil,
          version: (ifVersion ?? -1) + 1,
          expiresAt: this.expiresAt(),
        },
        ConditionExpression:
          ifVersion === undefined ? 'attribute_not_exists(conversationId)' : '#version = :expected',
        ...(ifVersion === undefined
          ? {}
          : {
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': ifVersion },
            }),
      }),
    );
  }

  async open(key: string, claimId: string, conversationId: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: { conversationId: key },
        UpdateExpression:
          'SET #state = :open, openConversationId = :conversationId, #version = #version + :one, expiresAt = :expiresAt',
        ConditionExpression: 'claimId = :claimId',
        ExpressionAttributeNames: { '#state': 'state', '#version': 'version' },
        ExpressionAttributeValues: {
          ':open': 'open',
          ':conversationId': conversationId,
          ':one': 1,
          ':claimId': claimId,
          ':expiresAt': this.expiresAt(),
        },
      }),
    );
  }

  async release(key: string, claimId: string): Promise<void> {
    await this.conditional(
      new DeleteCommand({
        TableName: this.options.tableName,
        Key: { conversationId: key },
        ConditionExpression: 'claimId = :claimId AND #state = :starting',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':claimId': claimId, ':starting': 'starting' },
      }),
    );
  }

  private async conditional(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.options.client.send(command as PutCommand);
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }
}

/** By name as well as class: a second copy of the SDK in a bundle would defeat `instanceof`. */
function isConditionalFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error | undefined)?.name === 'ConditionalCheckFailedException'
  );
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Items written by older versions may lack the lists and the version counter. */
function toRecord(item: Record<string, unknown>): ConversationRecord {
  return {
    ...(item as unknown as ConversationRecord),
    relayedEventIds: Array.isArray(item.relayedEventIds) ? (item.relayedEventIds as string[]) : [],
    deliveredItemIds: Array.isArray(item.deliveredItemIds) ? (item.deliveredItemIds as string[]) : [],
    version: typeof item.version === 'number' ? item.version : 0,
  };
}
