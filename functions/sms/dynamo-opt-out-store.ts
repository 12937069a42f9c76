/**
 * The opt-out list (issue 14 item 4) on the optOuts table (pk `number`, E.164 with `+`, NO TTL: an opt-out lasts
 * until the person texts START or support staff lift it). One item per number:
 *
 *   { number, senders: { <sender>: { optedOutAt, keyword, umid? } }, history: [...] (last 50), version }
 *
 * Writes are read-modify-write guarded by `version` (a conditional PutItem, retried on a concurrent change), which
 * keeps the history trimmed to its last 50 entries and makes an opt-out idempotent per 8x8 umid: a redelivered STOP
 * changes nothing. Writes are rare (a person texting STOP or START, or support staff); reads happen on every
 * POST /sms (one consistent GetItem: 1 read unit for items up to 4 KB, 2 with a full history) and once per
 * POST /sms/batch chunk of 100 numbers (BatchGetItem).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  comparableSender,
  type OptOutEntry,
  type OptOutReader,
  type OptOutRecord,
  type OptOutStore,
} from './inbound-ports';

/** History entries kept per number (oldest dropped first). */
export const OPT_OUT_HISTORY_LIMIT = 50;
/** BatchGetItem's limit of keys per request. */
const BATCH_GET_KEYS = 100;
/** Rounds of asking again for keys DynamoDB left unprocessed before reading them one by one. */
const UNPROCESSED_ROUNDS = 4;
/** Attempts of a read-modify-write that lost a race with another writer of the same number. */
const WRITE_ATTEMPTS = 5;

type HistoryEntry = OptOutRecord['history'][number];

/** The value under `senders.<sender>` (the key is the sender as first recorded). */
interface StoredSender {
  optedOutAt: string;
  keyword: string;
  umid?: string;
}

interface OptOutItem {
  number: string;
  senders: Record<string, StoredSender>;
  history: HistoryEntry[];
  version: number;
}

/** Raised when a number's item kept changing under every attempt (a hot number; the caller may retry). */
export class OptOutWriteConflictError extends Error {
  override readonly name = 'OptOutWriteConflictError';
}

/** A sender the item cannot hold as a `senders` key (the sender itself is not a valid 8x8 number or sender id). */
export class UnstorableSenderError extends Error {
  override readonly name = 'UnstorableSenderError';
}

/**
 * The AWS SDK's marshaller builds maps by assignment and tells maps from class instances by their `constructor`, so
 * a `senders` key named like an Object.prototype property (`__proto__`, `constructor`, …) would be lost or break the
 * write; such a sender (never an 8x8 number or sender id in practice) is refused instead.
 */
function assertStorableSender(sender: string): void {
  if (sender === '' || sender === '__proto__' || Object.hasOwn(Object.prototype, sender)) {
    throw new UnstorableSenderError('The sender cannot be recorded as an opt-out sender');
  }
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error | undefined)?.name === 'ConditionalCheckFailedException'
  );
}

/** Drops undefined fields (the document client refuses them unless configured otherwise). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function toRecord(item: OptOutItem): OptOutRecord {
  return {
    number: item.number,
    senders: Object.entries(item.senders ?? {})
      .map(([sender, stored]) => defined({ sender, ...stored }))
      .sort((a, b) => a.optedOutAt.localeCompare(b.optedOutAt) || a.sender.localeCompare(b.sender)),
    history: item.history ?? [],
  };
}

/** The stored key of `sender` in `senders`, compared as 8x8 compares senders (no `+`, any case). */
function senderKey(senders: Record<string, StoredSender>, sender: string): string | undefined {
  const wanted = comparableSender(sender);
  return Object.keys(senders).find((key) => comparableSender(key) === wanted);
}

function trimmed(history: HistoryEntry[]): HistoryEntry[] {
  return history.length > OPT_OUT_HISTORY_LIMIT ? history.slice(-OPT_OUT_HISTORY_LIMIT) : history;
}

/** Consistent: a STOP recorded a moment ago must already refuse the next POST /sms. */
async function readItem(
  doc: DynamoDBDocumentClient,
  table: string,
  number: string,
): Promise<OptOutItem | undefined> {
  const result = await doc.send(new GetCommand({ TableName: table, Key: { number }, ConsistentRead: true }));
  return result.Item as OptOutItem | undefined;
}

/**
 * The reads alone (POST /sms, POST /sms/batch): apart from the writes below so the accepting functions do not bundle
 * the read-modify-write code they never run (issue 13, bundle sizes).
 */
export function dynamoOptOutReader(doc: DynamoDBDocumentClient, table: string): OptOutReader {
  const get = async (number: string): Promise<OptOutRecord | undefined> => {
    const item = await readItem(doc, table, number);
    return item ? toRecord(item) : undefined;
  };
  /** Adds `number`'s record to `found` when it has one, with a GetItem. */
  const getInto = async (found: Map<string, OptOutRecord>, number: string): Promise<void> => {
    const record = await get(number);
    if (record) found.set(number, record);
  };
  return {
    get,

    async getMany(numbers) {
      const found = new Map<string, OptOutRecord>();
      const unique = [...new Set(numbers)];
      if (unique.length === 1) {
        // One number (the SMS bot's answers, a batch to one person): a GetItem, as POST /sms reads it. Same read and
        // cost, and a cold sms-inbound sets up one DynamoDB operation fewer before its first answer (issue 13).
        await getInto(found, unique[0]!);
        return found;
      }
      for (let start = 0; start < unique.length; start += BATCH_GET_KEYS) {
        let keys: Record<string, unknown>[] | undefined = unique
          .slice(start, start + BATCH_GET_KEYS)
          .map((number) => ({ number }));
        // DynamoDB may leave part of a batch unprocessed under load: ask again for the rest.
        for (let round = 0; keys && keys.length > 0 && round < UNPROCESSED_ROUNDS; round++) {
          const result: BatchGetCommandOutput = await doc.send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of (result.Responses?.[table] ?? []) as OptOutItem[]) {
            found.set(item.number, toRecord(item));
          }
          keys = result.UnprocessedKeys?.[table]?.Keys;
        }
        // Still unprocessed: read them one by one rather than let an opted-out number through.
        for (const key of keys ?? []) await getInto(found, key.number as string);
      }
      return found;
    },
  };
}

export function dynamoOptOutStore(doc: DynamoDBDocumentClient, table: string): OptOutStore {
  const reader = dynamoOptOutReader(doc, table);
  const read = (number: string) => readItem(doc, table, number);

  /**
   * Applies `change` to the number's item (a fresh one if none) and writes it if `change` answered a new item,
   * only if nobody wrote the number in between; else reads again and retries.
   */
  async function modify<T>(
    number: string,
    change: (item: OptOutItem) => { next?: OptOutItem; result: T },
  ): Promise<T> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await read(number);
      const { next, result } = change(current ?? { number, senders: {}, history: [], version: 0 });
      if (!next) return result;
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: { ...next, number, history: trimmed(next.history), version: (current?.version ?? 0) + 1 },
            ConditionExpression: current ? '#version = :version' : 'attribute_not_exists(#number)',
            ExpressionAttributeNames: current ? { '#version': 'version' } : { '#number': 'number' },
            ...(current ? { ExpressionAttributeValues: { ':version': current.version } } : {}),
          }),
        );
        return result;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new OptOutWriteConflictError(`The opt-out item kept changing over ${WRITE_ATTEMPTS} attempts`);
  }

  return {
    ...reader,

    async optOut(number, entry: OptOutEntry) {
      assertStorableSender(entry.sender);
      await modify(number, (item) => {
        const { umid } = entry;
        const existing = senderKey(item.senders, entry.sender);
        // A redelivered STOP (same umid) changes nothing.
        if (
          umid !== undefined &&
          ((existing !== undefined && new Map(Object.entries(item.senders)).get(existing)?.umid === umid) ||
            item.history.some((h) => h.action === 'optOut' && h.umid === umid))
        ) {
          return { result: undefined };
        }
        // Already opted out of this sender: the first opt-out's time stands; the repeat goes to the history.
        // (Object.fromEntries defines own properties, so no sender string can reach the prototype.)
        const senders =
          existing === undefined
            ? Object.fromEntries([
                ...Object.entries(item.senders),
                [entry.sender, defined({ optedOutAt: entry.optedOutAt, keyword: entry.keyword, umid })],
              ])
            : item.senders;
        const history = [
          ...item.history,
          defined({
            action: 'optOut' as const,
            sender: existing ?? entry.sender,
            at: entry.optedOutAt,
            via: entry.keyword,
            umid,
          }),
        ];
        return { next: { ...item, senders, history }, result: undefined };
      });
    },

    async optIn(number, sender, at, via, umid) {
      return modify(number, (item) => {
        // A redelivered START (same umid) lifts nothing more.
        if (umid !== undefined && item.history.some((h) => h.action === 'optIn' && h.umid === umid)) {
          return { result: [] as string[] };
        }
        let lifted: string[];
        if (sender === undefined) lifted = Object.keys(item.senders);
        else {
          const key = senderKey(item.senders, sender);
          lifted = key === undefined ? [] : [key];
        }
        if (lifted.length === 0) return { result: lifted };
        const liftedSet = new Set(lifted);
        const senders = Object.fromEntries(
          Object.entries(item.senders).filter(([key]) => !liftedSet.has(key)),
        );
        const history = [
          ...item.history,
          ...lifted.map((key) => defined({ action: 'optIn' as const, sender: key, at, via, umid })),
        ];
        return { next: { ...item, senders, history }, result: lifted };
      });
    },
  };
}
