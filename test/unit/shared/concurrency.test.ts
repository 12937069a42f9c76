/** The concurrency bound (functions/shared/concurrency.ts) the SMS worker puts on its store calls. */
import { ConcurrencyLimit, withConcurrencyLimit } from '../../../functions/shared/concurrency';

/** A call that finishes when the test says so, recording how many such calls were open at once. */
class Gated {
  open = 0;
  maxOpen = 0;
  readonly started: string[] = [];
  private readonly release: (() => void)[] = [];

  async call(name: string): Promise<string> {
    this.started.push(name);
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    await new Promise<void>((resolve) => this.release.push(resolve));
    this.open--;
    if (name === 'bad') throw new Error('refused');
    return name.toUpperCase();
  }

  finishOne(): void {
    this.release.shift()?.();
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('at most `limit` calls run at once; the others start in call order as earlier ones finish', async () => {
  const gated = new Gated();
  const bounded = withConcurrencyLimit(gated, new ConcurrencyLimit(2));
  const names = ['a', 'b', 'bad', 'd', 'e'];
  const results = Promise.allSettled(names.map((name) => bounded.call(name)));
  await settle();
  expect(gated.started).toEqual(['a', 'b']);
  for (let i = 0; i < names.length; i++) {
    gated.finishOne();
    await settle();
  }
  expect(gated.started).toEqual(names);
  expect(gated.maxOpen).toBe(2);
  // Results and errors are the target's own, each to its caller.
  expect(
    (await results).map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
  ).toEqual(['A', 'B', 'refused', 'D', 'E']);
});

test('one limit bounds calls of every method together, with `this` the target', async () => {
  const gated = new Gated();
  const target = {
    gated,
    first(name: string) {
      return this.gated.call(`1${name}`);
    },
    second(name: string) {
      return this.gated.call(`2${name}`);
    },
  };
  const bounded = withConcurrencyLimit(target, new ConcurrencyLimit(1));
  const both = Promise.all([bounded.first('x'), bounded.second('y')]);
  await settle();
  expect(gated.started).toEqual(['1x']);
  gated.finishOne();
  await settle();
  gated.finishOne();
  expect(await both).toEqual(['1X', '2Y']);
  expect(gated.maxOpen).toBe(1);
});

test('a limit below one is refused', () => {
  expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
  expect(() => new ConcurrencyLimit(1.5)).toThrow(RangeError);
});
