/**
 * The guard of the bridge's own SMS (functions/sms/own-sms-idempotency.ts) on dynalite, next to PowertoolsIdempotency
 * on the same table: it must write the records Powertools writes (so erase, POST /sms reusing the id and both guards
 * see one SMS per clientMessageId) and be as correct under redelivery and concurrent delivery.
 */
import '../../helpers/env';
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import {
  createCatalogueTables,
  localDynamoDbClient,
  startDynamoDb,
  type RunningService,
} from '../../../lib/local/aws';
import type { Clock } from '../../../functions/shared/runtime';
import { IdempotencyConflictError, IdempotencyInProgressError } from '../../../functions/sms/error-codes';
import { OwnSmsIdempotency } from '../../../functions/sms/own-sms-idempotency';
import { PowertoolsIdempotency } from '../../../functions/sms/powertools-idempotency';
import { waitFor } from '../../helpers/wait';

describe('OwnSmsIdempotency on dynalite', () => {
  let dynamo: RunningService;
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let table: string;
  let n = 0;
  const newKey = () => `bot:umid-${++n}:0`;
  // Shaped like accept.ts's fingerprint; mixed-case keys out of order, so both guards' key sorting is exercised.
  const fingerprint = {
    request: {
      text: 'Hello',
      destination: '+6591234567',
      Source: '+6580000000',
      clientMessageId: 'k',
      encoding: 'AUTO',
    },
    cognigy: null,
  };
  const answer = { ok: true, messageId: 'm-1', destination: '+6591234567' };

  const systemClock: Clock = { now: () => new Date() };
  const own = (clock: Clock = systemClock, defaultInProgressMs = 60_000) =>
    new OwnSmsIdempotency({ doc, tableName: table, expiresAfterSeconds: 3600, clock, defaultInProgressMs });
  const powertools = () => {
    const guard = new PowertoolsIdempotency({ tableName: table, expiresAfterSeconds: 3600, client });
    guard.registerLambdaContext({ getRemainingTimeInMillis: () => 60_000 } as Context);
    return guard;
  };
  /** A work whose answer the test releases, to hold a first delivery in flight. */
  function gatedWork(value: Record<string, unknown>) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const work = jest.fn(async () => {
      await gate;
      return value;
    });
    return { work, open };
  }

  beforeAll(async () => {
    dynamo = await startDynamoDb();
    client = localDynamoDbClient(dynamo);
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    table = (await createCatalogueTables(client)).idempotency;
  }, 30_000);

  afterAll(async () => {
    client?.destroy();
    await dynamo?.stop();
  });

  test('a redelivery gets the first answer and runs no work (sends no second SMS)', async () => {
    const key = newKey();
    const first = jest.fn(async () => answer);
    await expect(own().run(key, fingerprint, first)).resolves.toEqual(answer);
    const again = jest.fn(async () => ({ ...answer, messageId: 'm-2' }));
    await expect(own().run(key, fingerprint, again)).resolves.toEqual(answer);
    expect([first.mock.calls.length, again.mock.calls.length]).toEqual([1, 0]);
  });

  test('writes the record PowertoolsIdempotency reads: Powertools replays it, erases it, and the guard sees the erasure', async () => {
    const key = newKey();
    await own().run(key, fingerprint, async () => answer);
    const powertoolsWork = jest.fn(async () => ({ ...answer, messageId: 'other' }));
    await expect(powertools().run(key, fingerprint, powertoolsWork)).resolves.toEqual(answer);
    expect(powertoolsWork).not.toHaveBeenCalled();

    // DELETE /sms/{messageId}/pii erases through PowertoolsIdempotency.
    await expect(powertools().eraseAnswer(key, fingerprint, { destination: 'erased' })).resolves.toBe(true);
    const replay = jest.fn(async () => answer);
    await expect(own().run(key, fingerprint, replay)).resolves.toEqual({ ...answer, destination: 'erased' });
    expect(replay).not.toHaveBeenCalled();
  });

  test('reads the record PowertoolsIdempotency writes (a POST /sms that used the id first)', async () => {
    const key = newKey();
    await powertools().run(key, fingerprint, async () => answer);
    const work = jest.fn(async () => ({ ...answer, messageId: 'other' }));
    await expect(own().run(key, fingerprint, work)).resolves.toEqual(answer);
    expect(work).not.toHaveBeenCalled();
    await expect(own().run(key, { request: { text: 'other' } }, work)).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
  });

  test('concurrent deliveries run the work once; the others are told it is in progress, then get its answer', async () => {
    const key = newKey();
    const { work, open } = gatedWork(answer);
    const first = own().run(key, fingerprint, work);
    const others = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        own().run(key, fingerprint, async () => ({ ...answer, messageId: 'x' })),
      ),
    );
    expect(
      others.map((o) => o.status === 'rejected' && o.reason instanceof IdempotencyInProgressError),
    ).toEqual(Array.from({ length: 5 }, () => true));
    open();
    await expect(first).resolves.toEqual(answer);
    await expect(own().run(key, fingerprint, async () => ({ ...answer, messageId: 'x' }))).resolves.toEqual(
      answer,
    );
    expect(work).toHaveBeenCalledTimes(1);
  });

  test('another fingerprint under the same key is an IdempotencyConflictError', async () => {
    const key = newKey();
    await own().run(key, fingerprint, async () => answer);
    await expect(own().run(key, { request: { text: 'other' } }, async () => answer)).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
  });

  test('a failed first delivery leaves no record: its redelivery runs the work again', async () => {
    const key = newKey();
    await expect(
      own().run(key, fingerprint, async () => {
        throw new Error('queue down');
      }),
    ).rejects.toThrow('queue down');
    expect(
      (await doc.send(new GetCommand({ TableName: table, Key: { id: recordId(key) } }))).Item,
    ).toBeUndefined();
    const retry = jest.fn(async () => answer);
    await expect(own().run(key, fingerprint, retry)).resolves.toEqual(answer);
    expect(retry).toHaveBeenCalledTimes(1);
  });

  test('an invocation that died mid-way holds the key for its remaining time only, then a redelivery takes over', async () => {
    const key = newKey();
    let now = Date.now();
    const clock: Clock = { now: () => new Date(now) };
    const dead = own(clock);
    dead.registerLambdaContext({ getRemainingTimeInMillis: () => 5_000 });
    void dead.run(key, fingerprint, () => new Promise<typeof answer>(() => undefined));
    await waitForRecord(key);

    const redelivery = jest.fn(async () => answer);
    now += 4_000;
    await expect(own(clock).run(key, fingerprint, redelivery)).rejects.toBeInstanceOf(
      IdempotencyInProgressError,
    );
    now += 2_000;
    await expect(own(clock).run(key, fingerprint, redelivery)).resolves.toEqual(answer);
    expect(redelivery).toHaveBeenCalledTimes(1);
  });

  test('forget drops the key, so the next delivery runs the work', async () => {
    const key = newKey();
    await own().run(key, fingerprint, async () => answer);
    await own().forget(key);
    const work = jest.fn(async () => answer);
    await own().run(key, fingerprint, work);
    expect(work).toHaveBeenCalledTimes(1);
  });

  /** The record's id, as Powertools computes it (md5 of the JSON key, base64). */
  function recordId(key: string): string {
    return `sms-message#${createHash('md5').update(JSON.stringify(key)).digest('base64')}`;
  }

  async function waitForRecord(key: string): Promise<void> {
    await waitFor('the in-progress record', async () => {
      const { Item } = await doc.send(
        new GetCommand({ TableName: table, Key: { id: recordId(key) }, ConsistentRead: true }),
      );
      return Item;
    });
  }
});
