/** The throughput settings: the SMS pacer's rate and the SMS queue's batching (functions/shared/config.ts). */
import { QUEUES } from '../../../functions/shared/catalogue';
import { InvalidQueueBatchingError, loadSmsSettings, queueBatching } from '../../../functions/shared/config';

describe('SMS_RATE_LIMIT_PER_SECOND', () => {
  it("is 8x8's documented default (1800) unless set; 0 turns pacing off; anything else invalid is refused", () => {
    expect(loadSmsSettings({}).rateLimitPerSecond).toBe(1800);
    expect(loadSmsSettings({ SMS_RATE_LIMIT_PER_SECOND: '25' }).rateLimitPerSecond).toBe(25);
    expect(loadSmsSettings({ SMS_RATE_LIMIT_PER_SECOND: '0' }).rateLimitPerSecond).toBe(0);
    expect(() => loadSmsSettings({ SMS_RATE_LIMIT_PER_SECOND: '-1' })).toThrow();
    expect(() => loadSmsSettings({ SMS_RATE_LIMIT_PER_SECOND: 'fast' })).toThrow();
  });
});

describe('queueBatching', () => {
  it('the SMS queue: batches of 100 within a 1 s window by default, overridden by its settings', () => {
    expect(queueBatching('sms', {})).toEqual({ batchSize: 100, batchingWindowSeconds: 1 });
    expect(
      queueBatching('sms', { SMS_QUEUE_BATCH_SIZE: '500', SMS_QUEUE_BATCHING_WINDOW_SECONDS: '2' }),
    ).toEqual({ batchSize: 500, batchingWindowSeconds: 2 });
    expect(
      queueBatching('sms', { SMS_QUEUE_BATCH_SIZE: '10', SMS_QUEUE_BATCHING_WINDOW_SECONDS: '0' }),
    ).toEqual({
      batchSize: 10,
      batchingWindowSeconds: 0,
    });
  });

  it("refuses what Lambda's SQS event source refuses", () => {
    const refused = (settings: Record<string, string>) => () => queueBatching('sms', settings);
    expect(refused({ SMS_QUEUE_BATCH_SIZE: '0' })).toThrow(InvalidQueueBatchingError);
    expect(refused({ SMS_QUEUE_BATCH_SIZE: '10001' })).toThrow(InvalidQueueBatchingError);
    expect(refused({ SMS_QUEUE_BATCH_SIZE: '2.5' })).toThrow(InvalidQueueBatchingError);
    expect(refused({ SMS_QUEUE_BATCHING_WINDOW_SECONDS: '301' })).toThrow(InvalidQueueBatchingError);
    // Above 10 records Lambda needs a window of at least 1 s.
    expect(refused({ SMS_QUEUE_BATCH_SIZE: '50', SMS_QUEUE_BATCHING_WINDOW_SECONDS: '0' })).toThrow(
      /at least 1 s/,
    );
  });

  it('FIFO queues keep the catalogue’s batch (at most 10, no window)', () => {
    expect(queueBatching('handoverOutbound', { SMS_QUEUE_BATCH_SIZE: '500' })).toEqual({
      batchSize: QUEUES.handoverOutbound.batchSize,
      batchingWindowSeconds: 0,
    });
  });
});
