/**
 * Opt-out, opt-in and HELP keywords of inbound SMS (issue 14 item 4; carrier practice: CTIA, UK PhonepayPlus): only
 * an SMS whose whole body is a keyword counts, so "stop please" or "don't stop" reach the flow or the bot as text.
 * Case, surrounding and repeated spaces and trailing punctuation ("Stop.", "STOP!") do not matter.
 */

export type KeywordKind = 'optOut' | 'optIn' | 'help';

/** The keyword lists as the settings give them (SMS_OPT_OUT_KEYWORDS …: upper case, single spaces). */
export interface KeywordSettings {
  optOutKeywords: readonly string[];
  optInKeywords: readonly string[];
  helpKeywords: readonly string[];
}

export interface KeywordMatch {
  kind: KeywordKind;
  /** The keyword as normalised, e.g. `STOP`. */
  keyword: string;
}

/** Punctuation (and spaces between it) at the end of a body: "Stop!", "STOP .", "stop?!". */
const TRAILING_PUNCTUATION = /[\s\p{P}]+$/u;

/**
 * A body as keywords are compared: Unicode NFC (a precomposed and a decomposed "É" compare equal), trimmed,
 * trailing punctuation dropped, inner whitespace (any Unicode space, tabs, newlines) collapsed to one space, upper
 * case (locale-independent, as the settings are).
 */
export function normaliseKeywordBody(body: string): string {
  return body.normalize('NFC').trim().replace(TRAILING_PUNCTUATION, '').replace(/\s+/gu, ' ').toUpperCase();
}

/**
 * What an inbound body is: an opt-out, opt-in or HELP keyword, or undefined (ordinary text). A word in more than one
 * list counts as opt-out first, then opt-in: refusing SMS wrongly is the safer mistake.
 */
export function classifyKeyword(body: string, settings: KeywordSettings): KeywordMatch | undefined {
  const normalised = normaliseKeywordBody(body);
  if (normalised === '') return undefined;
  const lists: [KeywordKind, readonly string[]][] = [
    ['optOut', settings.optOutKeywords],
    ['optIn', settings.optInKeywords],
    ['help', settings.helpKeywords],
  ];
  for (const [kind, keywords] of lists) {
    if (keywords.some((keyword) => keyword.normalize('NFC') === normalised)) {
      return { kind, keyword: normalised };
    }
  }
  return undefined;
}
