/**
 * The IdempotencyGuard of the bridge's own SMS (functions/sms/outbound-sms.ts: keyword answers `kw:<umid>`, the SMS
 * bot's answers `bot:<umid>:<n>`) in the sms-inbound consumer: the records PowertoolsIdempotency writes, written by
 * the same conditional calls Powertools makes, without Powertools idempotency and its JMESPath engine (about 38 KB
 * of the sms-inbound bundle, which must stay under 500 KiB; issue 13). The keys are fixed strings, so no JMESPath
 * is needed to find them.
 *
 * Same table, same item, same semantics as powertools-idempotency.ts (key prefix `sms-message`, pk
 * `sms-message#<md5 of the JSON key, base64>`, `status` INPROGRESS/COMPLETED, `expiration` in seconds,
 * `in_progress_expiration` in ms, `validation` = md5 of the key-sorted JSON fingerprint, `data` = the answer), so:
 *  - a redelivered inbound SMS finds its SMS's COMPLETED record and sends nothing twice;
 *  - concurrent deliveries race on one conditional PutItem: one runs the work, the others see INPROGRESS
 *    (IdempotencyInProgressError, which accept.ts waits on) or the stored answer;
 *  - an invocation that died mid-way leaves an INPROGRESS record that expires with the invocation's remaining time,
 *    after which a redelivery takes it over (accept.ts then reuses the record the dead one stored);
 *  - DELETE /sms/{messageId}/pii (PowertoolsIdempotency.eraseAnswer) finds and erases these records, and a POST /sms
 *    reusing such a clientMessageId meets the same record, exactly as before.
 * test/unit/sms/own-sms-idempotency.test.ts runs both guards against one dynalite table to hold them equal.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../shared/runtime';
import { IdempotencyConflictError, IdempotencyInProgressError } from './error-codes';
import type { IdempotencyGuard } from './records';

/** powertools-idempotency.ts KEY_PREFIX: one clientMessageId means one SMS whichever path carried it. */
const KEY_PREFIX = 'sms-message';
const INPROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';
/** Powertools' MAX_RETRIES: rounds when the record changed between the conditional put and the read. */
const ATTEMPTS = 3;

export interface OwnSmsIdempotencyOptions {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** SMS_IDEMPOTENCY_TTL_SECONDS, as PowertoolsIdempotency's expiresAfterSeconds. */
  expiresAfterSeconds: number;
  clock: Clock;
  /**
   * How long an in-progress record holds its key when no Lambda context was registered (local stack, tests):
   * the consumer's timeout.
   */
  defaultInProgressMs: number;
}

interface StoredRecord {
  status?: string;
  expiration?: number;
  in_progress_expiration?: number;
  validation?: string;
  data?: unknown;
}

/** Powertools' deepSort: object keys in case-insensitive order, recursively (arrays keep their order). */
function deepSort(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepSort);
  if (typeof value !== 'object' || value === null) return value;
  const source = value as Record<string, unknown>;
  return Object.keys(source)
    .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
    .reduce<Record<string, unknown>>((sorted, key) => {
      Object.defineProperty(sorted, key, {
        value: deepSort(source[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return sorted;
    }, {});
}

/** Powertools' generateHash (md5, base64) of the key-sorted JSON. */
function hashOf(value: unknown): string {
  return createHash('md5')
    .update(JSON.stringify(deepSort(value)))
    .digest('base64');
}

export class OwnSmsIdempotency implements IdempotencyGuard {
  private remainingTimeMs: (() => number) | undefined;

  constructor(private readonly options: OwnSmsIdempotencyOptions) {}

  /** As PowertoolsIdempotency: an in-progress key expires with the invocation. */
  registerLambdaContext(context: { getRemainingTimeInMillis(): number }): void {
    this.remainingTimeMs = () => context.getRemainingTimeInMillis();
  }

  private id(key: string): string {
    return `${KEY_PREFIX}#${hashOf(key)}`;
  }

  async run<T extends Record<string, unknown>>(
    key: string,
    fingerprint: unknown,
    work: () => Promise<T>,
  ): Promise<T> {
    const { doc, tableName } = this.options;
    const id = this.id(key);
    const validation = hashOf(fingerprint);
    for (let attempt = 1; ; attempt++) {
      const now = this.options.clock.now().getTime();
      try {
        await doc.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              id,
              status: INPROGRESS,
              expiration: Math.round(now / 1000 + this.options.expiresAfterSeconds),
              in_progress_expiration: now + (this.remainingTimeMs?.() ?? this.options.defaultInProgressMs),
              validation,
            },
            ConditionExpression:
              'attribute_not_exists(#id) OR #expiry < :now OR ' +
              '(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
            ExpressionAttributeNames: {
              '#id': 'id',
              '#expiry': 'expiration',
              '#in_progress_expiry': 'in_progress_expiration',
              '#status': 'status',
            },
            ExpressionAttributeValues: {
              ':now': now / 1000,
              ':now_in_millis': now,
              ':inprogress': INPROGRESS,
            },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const existing = await this.existing(id, validation, now);
        if (existing !== undefined) return existing as T;
        // The record expired or went away between the put and the read: claim it again.
        if (attempt >= ATTEMPTS) throw new IdempotencyInProgressError();
        continue;
      }
      let answer: T;
      try {
        answer = await work();
      } catch (error) {
        // As Powertools: a failed first request leaves no record, so its retry runs afresh.
        await doc.send(new DeleteCommand({ TableName: tableName, Key: { id } }));
        throw error;
      }
      await doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { id },
          UpdateExpression:
            'SET #expiry = :expiry, #status = :status, #response_data = :response_data, #validation_key = :validation_key',
          ExpressionAttributeNames: {
            '#expiry': 'expiration',
            '#status': 'status',
            '#response_data': 'data',
            '#validation_key': 'validation',
          },
          ExpressionAttributeValues: {
            ':expiry': Math.round(
              this.options.clock.now().getTime() / 1000 + this.options.expiresAfterSeconds,
            ),
            ':status': COMPLETED,
            ':response_data': answer,
            ':validation_key': validation,
          },
        }),
      );
      return answer;
    }
  }

  /**
   * The key's record after a lost conditional put: its stored answer, or an error (other fingerprint, in progress);
   * undefined when it is gone or expired (claim again).
   */
  private async existing(id: string, validation: string, now: number): Promise<unknown> {
    const { Item } = await this.options.doc.send(
      new GetCommand({ TableName: this.options.tableName, Key: { id }, ConsistentRead: true }),
    );
    const record = Item as StoredRecord | undefined;
    if (!record) return undefined;
    if (record.validation !== validation) throw new IdempotencyConflictError();
    if (record.expiration !== undefined && now / 1000 > record.expiration) return undefined;
    if (record.status === INPROGRESS) {
      if (record.in_progress_expiration !== undefined && record.in_progress_expiration < now)
        return undefined;
      throw new IdempotencyInProgressError();
    }
    return record.data;
  }

  async forget(key: string): Promise<void> {
    await this.options.doc.send(
      new DeleteCommand({ TableName: this.options.tableName, Key: { id: this.id(key) } }),
    );
  }
}
