/**
 * This container's view of 8x8's rate limit: no call before `notBefore` (epoch ms), learnt from the last
 * Retry-After, so the workers of one container do not spend calls on a window that is already used up. The wiring
 * builds one per container (deliverDeps is built once per cold start) and passes it in DeliverDeps.
 */
import type { Clock, Random } from '../shared/runtime';

export class RateLimitGate {
  private notBefore = 0;

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /**
   * Closes the gate for Retry-After from now, unless it is closed already. A 429 that comes back while the gate
   * is closed answers a call made before it closed, so it tells of the same used-up window, whose end the first
   * 429's Retry-After already bounds: moving the gate to this later answer's Retry-After would keep every worker
   * silent past that end, into the next window, and (the call's latency added on each round) skip whole windows.
   */
  close(retryAfterMs: number | undefined): void {
    const now = this.clock.now().getTime();
    if (this.notBefore <= now) this.notBefore = now + (retryAfterMs ?? 1000);
  }

  /** Milliseconds until the gate opens (0 or less: open). */
  remaining(): number {
    return this.notBefore - this.clock.now().getTime();
  }

  /**
   * Milliseconds until the gate opens plus a little jitter (up to 250 ms), so the callers waiting for the same
   * window do not all hit its first millisecond.
   */
  remainingWithJitter(): number {
    return this.notBefore - this.clock.now().getTime() + Math.floor(this.random() * 250);
  }
}
