/** A bound on how many calls of something are in flight at once (a counting semaphore, first come first served). */
export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer: ${limit}`);
  }

  /** Runs `work` once fewer than `limit` runs are under way; its result or error is returned unchanged. */
  async run<R>(work: () => Promise<R>): Promise<R> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter (active unchanged), so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * `target` (a port whose methods all return promises) with every method call passed through `limit`: at most
 * `limit.limit` of them in flight together, the others waiting their turn in call order. Results and errors are
 * the target's own.
 */
export function withConcurrencyLimit<T extends object>(target: T, limit: ConcurrencyLimit): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        limit.run(() => Promise.resolve(Reflect.apply(value, object, args) as unknown));
    },
  });
}
