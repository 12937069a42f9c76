/**
 * The SMS bot's output → SMS text rule (pure; README "SMS bot" quotes this comment):
 *
 * 1. Each output of the Flow's answer (the REST Endpoint's `outputStack`, in order) becomes one text, in this order:
 *    - its `text`;
 *    - then the default-channel rich content of `data._cognigy._default`, in the order quick replies, buttons,
 *      gallery, list, as plain lines:
 *      - `_quickReplies` `{text, quickReplies: [{title}]}` and `_buttons` `{text, buttons: [{title}]}`: the prompt
 *        `text` (left out when it repeats the output's text), then the options numbered one per line, `1. Title`;
 *        a URL or phone-number button keeps its target: `2. Our website: https://…`;
 *      - `_gallery` `{items: [{title, subtitle, buttons}]}` and `_list` `{items: [{title, subtitle}]}`: the items
 *        numbered one per line, `1. Title - Subtitle` (a gallery card's own buttons are left out: a reply naming
 *        the card's number or title is what the Flow gets);
 *      - options and items without a title are left out (and not numbered).
 *    Control characters SMS cannot carry are removed, line ends become `\n`, and the text is trimmed.
 * 2. An output whose text ends up empty is skipped: counted (metric SmsBotOutputSkipped) when it had other data
 *    (e.g. a Webchat-only card, an image, a custom payload), silently when it had nothing at all.
 * 3. SMS_BOT_OUTPUTS=join (default): the texts of one turn are joined with a blank line into one SMS;
 *    `separate`: one SMS per output.
 * 4. An SMS longer than SMS_BOT_MAX_PARTS 8x8 parts (counted as 8x8 counts them: GSM 03.38 160 septets alone, 153
 *    per part when concatenated, extension characters two septets; else UCS-2 70/67 code units) is split into SMS
 *    of at most that many parts, each as long as fits, at the last whitespace (which is dropped) or, for a single
 *    word longer than that, inside the word. Each SMS is measured on its own, so one with only GSM characters is
 *    counted as GSM even when another part of the answer needed UCS-2.
 *
 * Only hyphens and ASCII punctuation are added, so the rule never turns a GSM 03.38 text into UCS-2.
 */
import type { CognigyOutput } from '../shared/cognigy-client';
import { measureText } from './text';

export type BotOutputsMode = 'join' | 'separate';

export interface BotSmsRule {
  /** SETTINGS.smsBotOutputs */
  outputs: BotOutputsMode;
  /** SETTINGS.smsBotMaxParts (1–10) */
  maxParts: number;
}

export interface BotSmsTexts {
  /** The SMS to send, in order. */
  texts: string[];
  /** Outputs with data but no text the rule could make (metric SmsBotOutputSkipped). */
  skippedOutputs: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Own properties only (`data` is the Flow's JSON, so a key like `__proto__` must not reach the prototype). */
function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function stringField(value: unknown, key: string): string {
  const found = field(value, key);
  return typeof found === 'string' ? cleanText(found) : '';
}

function arrayField(value: unknown, key: string): unknown[] {
  const found = field(value, key);
  return Array.isArray(found) ? found : [];
}

/**
 * What acceptSms would refuse (C0 controls but tab/LF/FF/CR, DEL, C1; functions/shared/control-characters.ts)
 * removed, CR LF and CR made LF, trimmed.
 */
export function cleanText(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f-\u009f]/g, '')
      .trim()
  );
}

/** `1. Title` lines of the titled entries, numbered from 1 (untitled ones are left out). */
function numbered(entries: unknown[], line: (entry: unknown) => string): string[] {
  const lines: string[] = [];
  for (const entry of entries) {
    const text = line(entry);
    if (text) lines.push(`${lines.length + 1}. ${text}`);
  }
  return lines;
}

/** A button's title, with its target when the title alone would lose it (a link or a phone number). */
function buttonLine(button: unknown): string {
  const title = stringField(button, 'title');
  if (!title) return '';
  const type = stringField(button, 'type');
  const target =
    type === 'web_url'
      ? stringField(button, 'url')
      : type === 'phone_number'
        ? stringField(button, 'payload')
        : '';
  return target ? `${title}: ${target}` : title;
}

function itemLine(item: unknown): string {
  const title = stringField(item, 'title');
  if (!title) return '';
  const subtitle = stringField(item, 'subtitle');
  return subtitle ? `${title} - ${subtitle}` : title;
}

/** The lines of one output's default-channel rich content (rule 1). */
function richLines(data: unknown, outputText: string): string[] {
  const rich = field(field(data, '_cognigy'), '_default');
  if (!isObject(rich)) return [];
  const lines: string[] = [];
  const prompt = (content: unknown) => {
    const text = stringField(content, 'text');
    if (text && text !== outputText) lines.push(text);
  };
  const quickReplies = field(rich, '_quickReplies');
  if (isObject(quickReplies)) {
    prompt(quickReplies);
    lines.push(...numbered(arrayField(quickReplies, 'quickReplies'), (reply) => stringField(reply, 'title')));
  }
  const buttons = field(rich, '_buttons');
  if (isObject(buttons)) {
    prompt(buttons);
    lines.push(...numbered(arrayField(buttons, 'buttons'), buttonLine));
  }
  for (const key of ['_gallery', '_list']) {
    const content = field(rich, key);
    if (isObject(content)) lines.push(...numbered(arrayField(content, 'items'), itemLine));
  }
  return lines;
}

/** Whether an output carries anything at all besides its text (an empty object or array counts as nothing). */
function hasData(data: unknown): boolean {
  if (data === undefined || data === null) return false;
  if (Array.isArray(data)) return data.length > 0;
  if (isObject(data)) return Object.keys(data).length > 0;
  return true;
}

/** One output's text per rule 1 ('' when it has none). */
export function outputText(output: CognigyOutput): string {
  const text = typeof output.text === 'string' ? cleanText(output.text) : '';
  return [...(text ? [text] : []), ...richLines(output.data, text)].join('\n');
}

/** The SMS of one bot turn (rules 1–4). */
export function botSmsTexts(outputs: readonly CognigyOutput[], rule: BotSmsRule): BotSmsTexts {
  const texts: string[] = [];
  let skippedOutputs = 0;
  for (const output of outputs) {
    const text = outputText(output);
    if (text) texts.push(text);
    else if (hasData(output.data)) skippedOutputs += 1;
  }
  const messages = rule.outputs === 'join' ? (texts.length > 0 ? [texts.join('\n\n')] : []) : texts;
  return { texts: messages.flatMap((text) => splitSms(text, rule.maxParts)), skippedOutputs };
}

/**
 * Rule 4: `text` (trimmed) as SMS of at most `maxParts` 8x8 parts each, split at the last whitespace that lets a
 * piece fit (the whitespace is dropped), or inside a word that alone does not fit. Pieces are never empty and never
 * start or end with whitespace; no surrogate pair is cut.
 */
export function splitSms(text: string, maxParts: number): string[] {
  const fits = (piece: string) => measureText(piece, 'AUTO').parts <= maxParts;
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest !== '') {
    if (fits(rest)) {
      pieces.push(rest);
      break;
    }
    const end = longestFittingPrefix(rest, fits);
    // A boundary: the last whitespace at or before `end` (the character at `end` itself may be one).
    let boundary = -1;
    for (let i = Math.min(end, rest.length - 1); i > 0; i--) {
      if (/\s/.test(rest.charAt(i))) {
        boundary = i;
        break;
      }
    }
    const atWord = boundary > 0 ? rest.slice(0, boundary).trimEnd() : '';
    const piece = atWord !== '' ? atWord : rest.slice(0, end);
    pieces.push(piece);
    rest = rest.slice(piece.length).trimStart();
  }
  return pieces;
}

/**
 * The UTF-16 length of the longest prefix of `text` that fits, ending on a code point boundary (at least one code
 * point: one character always fits one part). Parts only grow with the prefix (units never shrink, and the switch
 * to UCS-2 only lowers the capacity), so a binary search finds it.
 */
function longestFittingPrefix(text: string, fits: (piece: string) => boolean): number {
  const ends: number[] = [];
  let offset = 0;
  for (const ch of text) {
    offset += ch.length;
    ends.push(offset);
  }
  let low = 0; // ends[low] fits
  let high = ends.length - 1; // the whole text does not fit
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (fits(text.slice(0, ends[middle]))) low = middle;
    else high = middle;
  }
  return ends[low] ?? text.length;
}
