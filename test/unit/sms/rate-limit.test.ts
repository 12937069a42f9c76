/** The container's 8x8 rate-limit gate on a fixed clock and randomness. */
import { RateLimitGate } from '../../../functions/sms/rate-limit';
import { FakeClock } from './fakes';

describe('RateLimitGate', () => {
  test('closes for Retry-After (1 s when absent) and opens when it has passed', () => {
    const clock = new FakeClock();
    const gate = new RateLimitGate(clock, () => 0);
    expect(gate.remaining()).toBeLessThanOrEqual(0);
    gate.close(undefined);
    expect(gate.remaining()).toBe(1000);
    clock.advance(1000);
    expect(gate.remaining()).toBe(0);
    gate.close(2500);
    expect(gate.remaining()).toBe(2500);
  });

  test('a 429 while the gate is closed does not move it', () => {
    const clock = new FakeClock();
    const gate = new RateLimitGate(clock, () => 0);
    gate.close(1000);
    clock.advance(400);
    gate.close(5000);
    expect(gate.remaining()).toBe(600);
  });

  test('adds up to 250 ms of jitter from the random source', () => {
    const clock = new FakeClock();
    const gate = new RateLimitGate(clock, () => 0.999);
    gate.close(1000);
    expect(gate.remainingWithJitter()).toBe(1249);
    expect(gate.remaining()).toBe(1000);
  });
});
