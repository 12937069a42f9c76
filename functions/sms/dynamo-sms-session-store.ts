/**
 * SmsSessionStore on the smsSessions table (pk `id`, TTL `expiresAt`):
 *
 * - `<from>#<to>`: the SMS bot's Cognigy session of one phone number with one 8x8 number (`userId`, `sessionId`,
 *   `startedAt`, `lastActivityAt`). Kept until last activity + idle time + RECORD_TTL_DAYS, for support staff who
 *   trace a conversation; only the idle time decides whether it is renewed.
 * - `answer#<umid>`: the bot's SMS texts for one inbound SMS, so a redelivered record sends them again instead of
 *   asking Cognigy a second time. Kept for ANSWER_TTL_DAYS, past the inbound queue's and its DLQ's retention, so
 *   even a DLQ redrive finds it.
 *
 * Every write is conditional on what was read, so two SMS from one number handled at once (rare: the inbound FIFO
 * groups by number) end up in one session: the loser re-reads and joins the winner's session.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SmsBotSession, SmsSessionStore } from './inbound-ports';

/** DLQs keep messages 14 days (SQS's maximum). */
export const ANSWER_TTL_DAYS = 14;
/** Re-reads after a lost conditional write before giving up (the record is retried by SQS). */
const MAX_ATTEMPTS = 5;
const DAY_MS = 86_400_000;

export class SmsSessionConflictError extends Error {
  constructor() {
    super(`The SMS bot session changed under ${MAX_ATTEMPTS} attempts in a row`);
    this.name = 'SmsSessionConflictError';
  }
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error | undefined)?.name === 'ConditionalCheckFailedException'
  );
}

export const sessionKey = (from: string, to: string): string => `${from}#${to}`;
export const answerKey = (umid: string): string => `answer#${umid}`;

export interface DynamoSmsSessionStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** SETTINGS.recordTtlDays */
  recordTtlDays: number;
}

function asSession(item: Record<string, unknown> | undefined): SmsBotSession | undefined {
  if (!item) return undefined;
  const { id, userId, sessionId, startedAt, lastActivityAt } = item;
  return typeof id === 'string' &&
    typeof userId === 'string' &&
    typeof sessionId === 'string' &&
    typeof startedAt === 'string' &&
    typeof lastActivityAt === 'string'
    ? { id, userId, sessionId, startedAt, lastActivityAt }
    : undefined;
}

export class DynamoSmsSessionStore implements SmsSessionStore {
  constructor(private readonly options: DynamoSmsSessionStoreOptions) {}

  private expiresAt(lastActivityMs: number, idleMs: number): number {
    return Math.ceil((lastActivityMs + idleMs + this.options.recordTtlDays * DAY_MS) / 1000);
  }

  async sessionFor(
    from: string,
    to: string,
    now: Date,
    idleMs: number,
    newSessionId: () => string,
    read?: Promise<SmsBotSession | undefined>,
  ): Promise<SmsBotSession> {
    const { client, tableName } = this.options;
    const id = sessionKey(from, to);
    const at = now.toISOString();
    const idleSince = new Date(now.getTime() - idleMs).toISOString();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // After a conflict the session has changed since `read`: read it again.
      const current = attempt === 0 && read ? await read : await this.currentSession(from, to);
      try {
        if (current && current.lastActivityAt >= idleSince) {
          // Still active: the same session, its activity moved on (never back: a later SMS may have written it).
          if (current.lastActivityAt >= at) return current;
          await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { id },
              UpdateExpression: 'SET #last = :at, #expiresAt = :expiresAt',
              ConditionExpression: '#sessionId = :sessionId AND #last < :at',
              ExpressionAttributeNames: {
                '#last': 'lastActivityAt',
                '#sessionId': 'sessionId',
                '#expiresAt': 'expiresAt',
              },
              ExpressionAttributeValues: {
                ':at': at,
                ':sessionId': current.sessionId,
                ':expiresAt': this.expiresAt(now.getTime(), idleMs),
              },
            }),
          );
          return { ...current, lastActivityAt: at };
        }
        // None yet, or idle too long: a new Cognigy session, unless another SMS just made or renewed one.
        const session: SmsBotSession = {
          id,
          userId: from,
          sessionId: newSessionId(),
          startedAt: at,
          lastActivityAt: at,
        };
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...session, to, expiresAt: this.expiresAt(now.getTime(), idleMs) },
            ...(current
              ? {
                  ConditionExpression: '#sessionId = :sessionId',
                  ExpressionAttributeNames: { '#sessionId': 'sessionId' },
                  ExpressionAttributeValues: { ':sessionId': current.sessionId },
                }
              : { ConditionExpression: 'attribute_not_exists(id)' }),
          }),
        );
        return session;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new SmsSessionConflictError();
  }

  async currentSession(from: string, to: string): Promise<SmsBotSession | undefined> {
    const { client, tableName } = this.options;
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { id: sessionKey(from, to) }, ConsistentRead: true }),
    );
    return asSession(Item);
  }

  async savedAnswer(umid: string): Promise<string[] | undefined> {
    const { client, tableName } = this.options;
    const item = (
      await client.send(
        new GetCommand({ TableName: tableName, Key: { id: answerKey(umid) }, ConsistentRead: true }),
      )
    ).Item;
    const texts: unknown = item?.texts;
    return Array.isArray(texts) && texts.every((text) => typeof text === 'string') ? texts : undefined;
  }

  async saveAnswer(umid: string, texts: string[], now: Date): Promise<void> {
    const { client, tableName } = this.options;
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            id: answerKey(umid),
            texts,
            answeredAt: now.toISOString(),
            expiresAt: Math.ceil((now.getTime() + ANSWER_TTL_DAYS * DAY_MS) / 1000),
          },
          // The first answer stays: a concurrent second turn's SMS then collide with the first's clientMessageIds.
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
