/**
 * Validators of the settings (functions/shared/catalogue.ts SETTINGS) and of the CDK stack's `-c` context options
 * (lib/stack.ts): each turns the text of an environment variable or context value into its typed value, or says
 * in one sentence what is allowed. A setting declares its rule in the catalogue, so `npm start`, `cdk synth` and
 * every function's first invocation check it the same way, and a new setting is checked everywhere at once.
 */
import { BridgeError } from './errors';
import * as z from './zod';

export interface SettingRule<T> {
  /** What is allowed, completing "…, but it must be <allowed>". */
  readonly allowed: string;
  /** The value for a text (undefined or blank: unset); throws InvalidValueError when the text is not allowed. */
  parse(text: string | undefined): T;
}

/** A text a rule refuses; `detail` says what exactly is wrong when `allowed` alone would not (JSON shapes). */
export class InvalidValueError extends Error {
  constructor(readonly detail?: string) {
    super(detail ?? 'Invalid value');
    this.name = 'InvalidValueError';
  }
}

const MAX_QUOTED = 120;

/** The one sentence every refused setting or option gets: its name, its value and what is allowed. */
export function invalidValueSentence(what: string, value: string, allowed: string, detail?: string): string {
  const shown = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value;
  return `${what} is ${JSON.stringify(shown)}, but it must be ${allowed}${detail ? ` (${detail})` : ''}.`;
}

/**
 * A setting with a value its rule refuses. A BridgeError, so an HTTP route answers it as 503 NOT_CONFIGURED naming
 * the setting (settings are plain configuration, never secrets, so the value may be shown).
 */
export class InvalidSettingError extends BridgeError {
  constructor(
    readonly setting: string,
    readonly value: string,
    readonly allowed: string,
    detail?: string,
  ) {
    super('NOT_CONFIGURED', invalidValueSentence(`Setting ${setting}`, value, allowed, detail), 503);
  }
}

/** Applies a rule to one named value; a refusal becomes InvalidSettingError naming it. */
export function parseSetting<T>(name: string, rule: SettingRule<T>, text: string | undefined): T {
  try {
    return rule.parse(text);
  } catch (error) {
    if (error instanceof InvalidValueError) {
      throw new InvalidSettingError(name, text ?? '', rule.allowed, error.detail);
    }
    throw error;
  }
}

const blank = (text: string | undefined): text is undefined => text === undefined || text.trim() === '';

/**
 * A rule from a zod schema over the trimmed text; `fallback` is the value when unset. The schema is built on the
 * first value it checks: every function bundles the whole catalogue of settings, and building ~60 schemas on
 * import cost each cold start several milliseconds for settings it leaves unset or never reads.
 */
function fromSchema<T, F extends T | undefined>(
  makeSchema: () => z.ZodMiniType<T>,
  allowed: string,
  fallback: F,
): SettingRule<T | F> {
  let schema: z.ZodMiniType<T> | undefined;
  return {
    allowed,
    parse: (text) => {
      if (blank(text)) return fallback;
      const parsed = (schema ??= makeSchema()).safeParse(text.trim());
      if (!parsed.success) throw new InvalidValueError();
      return parsed.data;
    },
  };
}

const number = (pattern: RegExp) =>
  z.pipe(
    z.string().check(z.regex(pattern)),
    z.transform((text) => Number(text)),
  );

const range = (min: number, max: number | undefined, unit: string, minExclusive = false) => {
  const low = minExclusive ? `more than ${min}` : `${min}`;
  const units = unit ? ` ${unit}` : '';
  if (max === undefined) return minExclusive ? `${low}${units}` : `at least ${min}${units}`;
  return minExclusive ? `${low} and at most ${max}${units}` : `from ${min} to ${max}${units}`;
};

interface NumberRuleOptions<F> {
  min: number;
  max?: number;
  /** e.g. "milliseconds", shown in the message. */
  unit?: string;
  fallback: F;
}

/** A whole number in [min, max]. */
export function wholeNumber<F extends number | undefined>(options: NumberRuleOptions<F>) {
  const { min, max, unit = '', fallback } = options;
  return fromSchema(
    () =>
      z.pipe(
        number(/^-?\d+$/),
        z.number().check(z.int(), z.gte(min), ...(max === undefined ? [] : [z.lte(max)])),
      ),
    `a whole number ${range(min, max, unit)}`,
    fallback,
  );
}

/** A number above 0 and at most `max`. */
export function positiveNumber<F extends number | undefined>(options: Omit<NumberRuleOptions<F>, 'min'>) {
  const { max, unit = '', fallback } = options;
  return fromSchema(
    () =>
      z.pipe(
        number(/^-?\d+(\.\d+)?$/),
        z.number().check(z.gt(0), ...(max === undefined ? [] : [z.lte(max)])),
      ),
    `a number ${range(0, max, unit, true)}`,
    fallback,
  );
}

/** A decimal number in [min, max] (e.g. a rate where 0 means off). */
export function decimal<F extends number | undefined>(options: NumberRuleOptions<F>) {
  const { min, max, unit = '', fallback } = options;
  return fromSchema(
    () =>
      z.pipe(
        number(/^-?\d+(\.\d+)?$/),
        z.number().check(z.gte(min), ...(max === undefined ? [] : [z.lte(max)])),
      ),
    `a number ${range(min, max, unit)}`,
    fallback,
  );
}

const listed = (values: readonly string[]) =>
  values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]!}`;

/** One of the given words (exactly, case included). */
export function oneOf<const V extends string, F extends V | undefined>(values: readonly V[], fallback: F) {
  return fromSchema(() => z.enum(values as [V, ...V[]]), `one of ${listed(values)}`, fallback);
}

/** "true" or "false". */
export function flag(fallback: boolean): SettingRule<boolean> {
  const words = oneOf(['true', 'false'], fallback ? 'true' : 'false');
  return { allowed: words.allowed, parse: (text) => words.parse(text) === 'true' };
}

/** An absolute http(s) URL (optional). */
export function httpUrl(): SettingRule<string | undefined> {
  return fromSchema(() => z.url({ protocol: /^https?$/ }), 'an absolute http:// or https:// URL', undefined);
}

/** Any non-blank text (optional; `fallback` when unset). */
export function text(allowed?: string): SettingRule<string | undefined>;
export function text(allowed: string, fallback: string): SettingRule<string>;
export function text(allowed = 'any non-blank text', fallback?: string): SettingRule<string | undefined> {
  return fromSchema(() => z.string(), allowed, fallback);
}

/**
 * A comma-separated list of SMS keywords (e.g. `STOP,UNSUBSCRIBE,ARRET`): each one or more words of letters or
 * digits in any script; stored upper-cased with single spaces, as inbound SMS are compared (functions/sms/keywords.ts).
 * Unset gives `fallback`; an empty list is allowed only by setting it to `-` (keyword handling off).
 */
export function keywordList(fallback: string): SettingRule<readonly string[]> {
  const normalise = (list: string) =>
    list
      .split(',')
      .map((word) => word.trim().replace(/\s+/g, ' ').toUpperCase())
      .filter((word) => word !== '');
  const word = /^[\p{L}\p{N}]+(?: [\p{L}\p{N}]+)*$/u;
  return {
    allowed: 'a comma-separated list of keywords (letters or digits, e.g. "STOP,UNSUBSCRIBE"), or - for none',
    parse: (text) => {
      if (blank(text)) return normalise(fallback);
      if (text.trim() === '-') return [];
      const words = normalise(text);
      if (words.length === 0 || words.some((w) => !word.test(w))) throw new InvalidValueError();
      return words;
    },
  };
}

/**
 * A JSON document checked by `parse` (which throws with a short description of what is wrong); unset gives
 * `fallback`. The detail of the refusal is shown after `allowed`.
 */
export function json<T>(allowed: string, parse: (value: unknown) => T, fallback: T): SettingRule<T> {
  return {
    allowed,
    parse: (text) => {
      if (blank(text)) return fallback;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new InvalidValueError('not JSON');
      }
      try {
        return parse(value);
      } catch (error) {
        throw new InvalidValueError(error instanceof Error ? error.message : String(error));
      }
    },
  };
}

/** One issue of a zod refusal as `path: message`, for json() rules. */
export function zodIssues(error: z.core.$ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
