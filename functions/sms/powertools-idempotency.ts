/**
 * IdempotencyGuard on Powertools idempotency with the DynamoDB persistence layer (idempotency table, pk `id`,
 * TTL `expiration`). The key is the clientMessageId; payload validation hashes the whole normalised request, so a
 * repeat with other content is told apart from a true repeat (IdempotencyValidationError → 409).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyItemNotFoundError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import type { Context } from 'aws-lambda';
import { IdempotencyConflictError, IdempotencyInProgressError } from './error-codes';
import type { IdempotencyGuard } from './records';

/** Shared by POST /sms and POST /sms/batch, so one clientMessageId means one SMS whichever route carried it. */
const KEY_PREFIX = 'sms-message';

interface GuardedCall {
  clientMessageId: string;
  fingerprint: unknown;
}

export interface PowertoolsIdempotencyOptions {
  tableName: string;
  expiresAfterSeconds: number;
  client?: DynamoDBClient;
}

export class PowertoolsIdempotency implements IdempotencyGuard {
  private readonly config: IdempotencyConfig;
  private readonly store: DynamoDBPersistenceLayer;
  private readonly guarded: (call: GuardedCall, work: () => Promise<unknown>) => Promise<unknown>;

  constructor(options: PowertoolsIdempotencyOptions) {
    this.config = new IdempotencyConfig({
      eventKeyJmesPath: 'clientMessageId',
      payloadValidationJmesPath: 'fingerprint',
      expiresAfterSeconds: options.expiresAfterSeconds,
      throwOnNoIdempotencyKey: true,
    });
    this.store = new DynamoDBPersistenceLayer({
      tableName: options.tableName,
      ...(options.client && { awsSdkV3Client: options.client }),
    });
    // forget() may run before the first guarded call configured the layer.
    this.store.configure({ config: this.config, keyPrefix: KEY_PREFIX });
    this.guarded = makeIdempotent(async (_call: GuardedCall, work: () => Promise<unknown>) => work(), {
      persistenceStore: this.store,
      config: this.config,
      keyPrefix: KEY_PREFIX,
      dataIndexArgument: 0,
    });
  }

  /** Lets an in-progress record expire with the invocation, so a Lambda timeout does not block the key for long. */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  async run<T extends Record<string, unknown>>(
    key: string,
    fingerprint: unknown,
    work: () => Promise<T>,
  ): Promise<T> {
    try {
      return (await this.guarded({ clientMessageId: key, fingerprint }, work)) as T;
    } catch (error) {
      if (error instanceof IdempotencyValidationError) throw new IdempotencyConflictError({ cause: error });
      if (error instanceof IdempotencyAlreadyInProgressError)
        throw new IdempotencyInProgressError({ cause: error });
      throw error;
    }
  }

  /**
   * DELETE /sms/{messageId}/pii: the completed entry of this key and fingerprint keeps its place (a repeat still
   * sends nothing) but its stored answer gets `replacement`'s fields (the erased destination). No entry, or one of
   * another request (the key was reused after its window): nothing to erase.
   */
  async eraseAnswer(
    key: string,
    fingerprint: unknown,
    replacement: Record<string, unknown>,
  ): Promise<boolean> {
    const data = { clientMessageId: key, fingerprint } as unknown as JSONValue;
    let stored: unknown;
    try {
      const record = await this.store.getRecord(data);
      if (record.getStatus() !== 'COMPLETED' || record.isExpired()) return false;
      stored = record.getResponse();
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError || error instanceof IdempotencyValidationError)
        return false;
      throw error;
    }
    if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return false;
    await this.store.saveSuccess(data, {
      ...(stored as Record<string, unknown>),
      ...replacement,
    } as JSONValue);
    return true;
  }

  async forget(key: string, fingerprint: unknown): Promise<void> {
    await this.store.deleteRecord({ clientMessageId: key, fingerprint } as unknown as JSONValue);
  }
}
