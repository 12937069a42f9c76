/**
 * MessageStore on the messages table (pk messageId; sparse GSIs byUmid, byClientMessageId, byOutbox and byReplyKey;
 * TTL expiresAt), and the reply window's ReplyLookup over byReplyKey (dynamoReplyLookup).
 * Every status change is one conditional UpdateItem on `statusRank`, so concurrent receipts and workers cannot
 * move a record backwards, and the attempt counter doubles as an optimistic lock for hand-overs to 8x8.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  type BatchGetCommandOutput,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLES } from '../shared/catalogue';
import {
  ERASED,
  MessageAlreadyStoredError,
  REDRIVEN_DESCRIPTION,
  STATUS_RANK,
  type ErasureTombstone,
  type AttemptRelease,
  type AttemptStart,
  type HistoryEntry,
  type MessageRecord,
  type MessageStore,
  type SmsStatus,
  type StatusChange,
} from './records';
import { replyKey, type ReplyLookup, type ReplyTarget } from './inbound-ports';

const [BY_UMID, BY_CLIENT_MESSAGE_ID, BY_OUTBOX, BY_REPLY_KEY] = [
  'byUmid',
  'byClientMessageId',
  'byOutbox',
  'byReplyKey',
].map((name) => {
  const index = TABLES.messages.indexes.find((i) => i.name === name);
  if (!index)
    throw new Error(`functions/shared/catalogue.ts declares no ${name} index on the messages table`);
  return index.name;
}) as [string, string, string, string];

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

/** Newest first: if a clientMessageId was reused after its deduplication window, the latest SMS is the one meant. */
function newestFirst(records: MessageRecord[]): MessageRecord[] {
  return [...records].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/** The reply target of a record found by byReplyKey, if it still names a complete Cognigy session. */
function replyTargetOf(record: MessageRecord | undefined): ReplyTarget | undefined {
  const ref = record?.cognigy;
  if (!record || !ref?.userId || !ref.sessionId || !ref.URLToken) return undefined;
  return {
    messageId: record.messageId,
    ...(record.clientMessageId !== undefined && { clientMessageId: record.clientMessageId }),
    createdAt: record.createdAt,
    cognigy: {
      userId: ref.userId,
      sessionId: ref.sessionId,
      URLToken: ref.URLToken,
      ...(ref.endpointBaseUrl && { endpointBaseUrl: ref.endpointBaseUrl }),
    },
  };
}

/**
 * The reply window (ReplyLookup) over byReplyKey: the newest SMS to `from` sent from `to` since `since` that gave its
 * Cognigy session. An SMS sent with no `source` (8x8 chose the sender, typically the account's number) counts as
 * sent from any of the account's numbers, so a reply to it reaches its flow too; the newer of the two wins. A
 * function of its own, not a store method, so only sms-inbound bundles it.
 */
export function dynamoReplyLookup(doc: DynamoDBDocumentClient, tableName: string): ReplyLookup {
  const newestByReplyKey = async (key: string, since: string): Promise<MessageRecord | undefined> => {
    const result = await doc.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: BY_REPLY_KEY,
        KeyConditionExpression: '#replyKey = :key AND #createdAt >= :since',
        ExpressionAttributeNames: { '#replyKey': 'replyKey', '#createdAt': 'createdAt' },
        ExpressionAttributeValues: { ':key': key, ':since': since },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return (result.Items ?? [])[0] as MessageRecord | undefined;
  };
  return {
    async latestSessionSms(from, to, since) {
      const keys = [...new Set([replyKey(from, to), replyKey(from, undefined)])];
      const newest = await Promise.all(keys.map((key) => newestByReplyKey(key, since)));
      const [latest] = newestFirst(newest.filter((r): r is MessageRecord => r !== undefined));
      return replyTargetOf(latest);
    },
  };
}

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: MessageRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          ConditionExpression: 'attribute_not_exists(messageId)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new MessageAlreadyStoredError(record.messageId);
      throw error;
    }
  }

  async get(messageId: string): Promise<MessageRecord | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { messageId }, ConsistentRead: true }),
    );
    return result.Item as MessageRecord | undefined;
  }

  async getMany(messageIds: string[]): Promise<MessageRecord[]> {
    const unique = [...new Set(messageIds)];
    const found: MessageRecord[] = [];
    for (let start = 0; start < unique.length; start += 100) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(start, start + 100)
        .map((messageId) => ({ messageId }));
      // DynamoDB may return part of a batch as unprocessed under load; ask again a few times for the rest.
      for (let round = 0; keys && keys.length > 0 && round < 4; round++) {
        const result: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        found.push(...((result.Responses?.[this.tableName] ?? []) as MessageRecord[]));
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
      if (keys && keys.length > 0) {
        // Still unprocessed: read them one by one rather than pretend they do not exist.
        for (const key of keys) {
          const record = await this.get(key.messageId as string);
          if (record) found.push(record);
        }
      }
    }
    return found;
  }

  async findByUmid(umid: string): Promise<MessageRecord | undefined> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_UMID,
        KeyConditionExpression: '#umid = :umid',
        ExpressionAttributeNames: { '#umid': 'umid' },
        ExpressionAttributeValues: { ':umid': umid },
      }),
    );
    return newestFirst((result.Items ?? []) as MessageRecord[])[0];
  }

  async findByClientMessageId(clientMessageId: string): Promise<MessageRecord[]> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_CLIENT_MESSAGE_ID,
        KeyConditionExpression: '#cmid = :cmid',
        ExpressionAttributeNames: { '#cmid': 'clientMessageId' },
        ExpressionAttributeValues: { ':cmid': clientMessageId },
      }),
    );
    return newestFirst((result.Items ?? []) as MessageRecord[]);
  }

  async startAttempt(messageId: string, start: AttemptStart): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression:
          'SET #status = :sending, #rank = :sendingRank, #attempts = :next, #lease = :lease, #updatedAt = :now, ' +
          '#ambiguous = if_not_exists(#ambiguous, :zero) + :ambiguous',
        ConditionExpression:
          'attribute_exists(messageId) AND #attempts = :seen AND #rank <= :sendingRank AND attribute_not_exists(#umid)',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#rank': 'statusRank',
          '#attempts': 'attempts',
          '#lease': 'attemptLeaseUntil',
          '#updatedAt': 'updatedAt',
          '#ambiguous': 'ambiguousAttempts',
          '#umid': 'umid',
        },
        ExpressionAttributeValues: {
          ':sending': 'sending' satisfies SmsStatus,
          ':sendingRank': STATUS_RANK.sending,
          ':next': start.seenAttempts + 1,
          ':seen': start.seenAttempts,
          ':lease': start.leaseUntil,
          ':now': start.now,
          ':zero': 0,
          ':ambiguous': start.previousAmbiguous ? 1 : 0,
        },
      }),
    );
  }

  async releaseAttempt(messageId: string, release: AttemptRelease): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression:
          'SET #status = :queued, #rank = :queuedRank, #ambiguous = if_not_exists(#ambiguous, :zero) + :ambiguous, ' +
          '#lastError = :lastError, #updatedAt = :now REMOVE #lease',
        ConditionExpression: '#status = :sending AND #attempts = :attempt',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#rank': 'statusRank',
          '#attempts': 'attempts',
          '#lease': 'attemptLeaseUntil',
          '#updatedAt': 'updatedAt',
          '#ambiguous': 'ambiguousAttempts',
          '#lastError': 'lastError',
        },
        ExpressionAttributeValues: {
          ':queued': 'queued' satisfies SmsStatus,
          ':sending': 'sending' satisfies SmsStatus,
          ':queuedRank': STATUS_RANK.queued,
          ':attempt': release.attempt,
          ':zero': 0,
          ':ambiguous': release.ambiguous ? 1 : 0,
          ':lastError': release.lastError,
          ':now': release.now,
        },
      }),
    );
  }

  async changeStatus(messageId: string, change: StatusChange, belowRank?: number): Promise<boolean> {
    const rank = change.rank ?? STATUS_RANK[change.status];
    const entry: HistoryEntry = {
      status: change.status,
      at: change.at,
      ...(change.detail !== undefined && { detail: change.detail }),
      ...(change.umid !== undefined && { umid: change.umid }),
      ...(change.errorCode !== undefined && { errorCode: change.errorCode }),
      ...(change.reason !== undefined && { reason: change.reason }),
    };
    const names: Record<string, string> = {
      '#status': 'status',
      '#rank': 'statusRank',
      '#updatedAt': 'updatedAt',
      '#history': 'history',
      '#lease': 'attemptLeaseUntil',
      '#description': 'statusDescription',
      '#injectPending': 'injectPending',
    };
    const values: Record<string, unknown> = {
      ':status': change.status,
      ':rank': rank,
      ':below': belowRank ?? rank,
      ':now': change.now,
      ':entry': [entry],
      ':empty': [],
    };
    const set = [
      '#status = :status',
      '#rank = :rank',
      '#updatedAt = :now',
      '#history = list_append(if_not_exists(#history, :empty), :entry)',
    ];
    const remove = ['#lease'];
    if (change.description !== undefined) {
      set.push('#description = :description');
      values[':description'] = change.description;
    } else {
      remove.push('#description');
    }
    if (change.injectPending) set.push('#injectPending = :status');
    else remove.push('#injectPending');
    if (change.umid !== undefined) {
      names['#umid'] = 'umid';
      values[':umid'] = change.umid;
      set.push('#umid = if_not_exists(#umid, :umid)');
    }
    if (change.errorCode !== undefined) {
      names['#errorCode'] = 'errorCode';
      values[':errorCode'] = change.errorCode;
      set.push('#errorCode = :errorCode');
    }
    if (change.reason !== undefined) {
      names['#reason'] = 'reason';
      values[':reason'] = change.reason;
      set.push('#reason = :reason');
    }
    if (change.redrivable) {
      names['#redrivable'] = 'redrivable';
      values[':redrivable'] = true;
      set.push('#redrivable = :redrivable');
    }
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        ConditionExpression: 'attribute_exists(messageId) AND #rank < :below',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async setUmidIfMissing(messageId: string, umid: string, now: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression: 'SET #umid = :umid, #updatedAt = :now',
        ConditionExpression: 'attribute_exists(messageId) AND attribute_not_exists(#umid)',
        ExpressionAttributeNames: { '#umid': 'umid', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':umid': umid, ':now': now },
      }),
    );
  }

  async clearInjectPending(messageId: string, status: SmsStatus, now: string): Promise<void> {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression: 'SET #updatedAt = :now REMOVE #injectPending',
        ConditionExpression: '#injectPending = :status',
        ExpressionAttributeNames: { '#injectPending': 'injectPending', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':status': status, ':now': now },
      }),
    );
  }

  async clearOutbox(messageIds: string[], now: string): Promise<void> {
    await Promise.all(
      [...new Set(messageIds)].map((messageId) =>
        this.conditional(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { messageId },
            UpdateExpression: 'SET #updatedAt = :now REMOVE #outbox',
            ConditionExpression: 'attribute_exists(#outbox)',
            ExpressionAttributeNames: { '#outbox': 'outbox', '#updatedAt': 'updatedAt' },
            ExpressionAttributeValues: { ':now': now },
          }),
        ),
      ),
    );
  }

  async findOutbox(createdBefore: string, limit: number): Promise<MessageRecord[]> {
    const result = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_OUTBOX,
        KeyConditionExpression: '#outbox = :pending AND #createdAt < :before',
        ExpressionAttributeNames: { '#outbox': 'outbox', '#createdAt': 'createdAt' },
        ExpressionAttributeValues: { ':pending': 'pending', ':before': createdBefore },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (result.Items ?? []) as MessageRecord[];
  }

  async reopenForRedrive(messageId: string, now: string): Promise<boolean> {
    const entry: HistoryEntry = { status: 'queued', at: now, detail: 'redriven from the DLQ' };
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression:
          'SET #status = :queued, #rank = :queuedRank, #description = :description, #updatedAt = :now, ' +
          '#history = list_append(if_not_exists(#history, :empty), :entry) ' +
          'REMOVE #redrivable, #errorCode, #reason, #lease, #injectPending',
        ConditionExpression: '#status = :failed AND #redrivable = :true AND attribute_not_exists(#umid)',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#rank': 'statusRank',
          '#description': 'statusDescription',
          '#updatedAt': 'updatedAt',
          '#history': 'history',
          '#redrivable': 'redrivable',
          '#errorCode': 'errorCode',
          '#reason': 'reason',
          '#lease': 'attemptLeaseUntil',
          '#injectPending': 'injectPending',
          '#umid': 'umid',
        },
        ExpressionAttributeValues: {
          ':queued': 'queued' satisfies SmsStatus,
          ':failed': 'failed' satisfies SmsStatus,
          ':queuedRank': STATUS_RANK.queued,
          ':description': REDRIVEN_DESCRIPTION,
          ':now': now,
          ':entry': [entry],
          ':empty': [],
          ':true': true,
        },
      }),
    );
  }

  async cancelQueued(messageId: string, now: string, by?: string): Promise<boolean> {
    const entry: HistoryEntry = {
      status: 'cancelled',
      at: now,
      detail: by ? `cancelled by ${by} before it reached 8x8` : 'cancelled before it reached 8x8',
    };
    // `queued` and no umid: the worker's startAttempt needs rank <= sending, so one of the two writes wins.
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression:
          'SET #status = :cancelled, #rank = :rank, #updatedAt = :now, ' +
          '#history = list_append(if_not_exists(#history, :empty), :entry) ' +
          'REMOVE #description, #outbox, #lease, #redrivable',
        ConditionExpression: '#status = :queued AND attribute_not_exists(#umid)',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#rank': 'statusRank',
          '#updatedAt': 'updatedAt',
          '#history': 'history',
          '#description': 'statusDescription',
          '#outbox': 'outbox',
          '#lease': 'attemptLeaseUntil',
          '#redrivable': 'redrivable',
          '#umid': 'umid',
        },
        ExpressionAttributeValues: {
          ':cancelled': 'cancelled' satisfies SmsStatus,
          ':queued': 'queued' satisfies SmsStatus,
          ':rank': STATUS_RANK.cancelled,
          ':now': now,
          ':entry': [entry],
          ':empty': [],
        },
      }),
    );
  }

  async erase(messageId: string, tombstone: ErasureTombstone): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { messageId },
        UpdateExpression:
          'SET #destination = :erased, #request.#destination = :erased, #request.#text = :erased, ' +
          '#erasedAttr = :tombstone, #updatedAt = :now REMOVE #request.#clientIp, #replyKey',
        ConditionExpression: 'attribute_exists(messageId)',
        ExpressionAttributeNames: {
          '#destination': 'destination',
          '#request': 'request',
          '#text': 'text',
          '#clientIp': 'clientIp',
          '#erasedAttr': 'erased',
          '#updatedAt': 'updatedAt',
          // The reply window's key holds the number too; without it no reply can reach the session any more.
          '#replyKey': 'replyKey',
        },
        ExpressionAttributeValues: { ':erased': ERASED, ':tombstone': tombstone, ':now': tombstone.at },
      }),
    );
  }

  /** Runs a conditional update; a failed condition means "someone else got there first" and is not an error. */
  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.doc.send(command);
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
