/**
 * Local mode's own variables (lib/local/options.ts): one variable by its rule, as both bin/local.ts and the local
 * stack read them, so a value `npm start` refuses is refused by a test's stack too instead of being ignored.
 */
import { LocalOptionError, localOption } from '../../../lib/local/options';

describe('localOption', () => {
  test('reads a value by its rule; unset or blank is undefined (the default applies)', () => {
    expect(localOption({ LOCAL_BACKGROUND_NICE: '5' }, 'LOCAL_BACKGROUND_NICE')).toBe(5);
    expect(localOption({ LOCAL_BACKGROUND_NICE: '0' }, 'LOCAL_BACKGROUND_NICE')).toBe(0);
    expect(localOption({}, 'LOCAL_BACKGROUND_NICE')).toBeUndefined();
    expect(localOption({ LOCAL_SWEEP_INTERVAL_MS: ' ' }, 'LOCAL_SWEEP_INTERVAL_MS')).toBeUndefined();
    expect(localOption({ LOCAL_SWEEP_INTERVAL_MS: '250' }, 'LOCAL_SWEEP_INTERVAL_MS')).toBe(250);
  });

  test.each([
    ['LOCAL_BACKGROUND_NICE', 'high'],
    ['LOCAL_BACKGROUND_NICE', '20'],
    ['LOCAL_BACKGROUND_NICE', '2.5'],
    ['LOCAL_SWEEP_INTERVAL_MS', '-1'],
  ] as const)('%s=%s is refused with a sentence naming the variable', (name, value) => {
    const read = () => localOption({ [name]: value }, name);
    expect(read).toThrow(LocalOptionError);
    expect(read).toThrow(new RegExp(`^${name} is "${value.replace('.', '\\.')}", but it must be`));
  });
});
