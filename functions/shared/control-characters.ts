/**
 * NUL and other control characters in what the flow routes accept. 8x8's SMS API documents none for any field
 * (lib/simulators/contract/8x8/sms_api.json: `text` is "the text of the message"); GSM 03.38 carries line feed, carriage return and
 * form feed, so text keeps those and tab, and loses nothing a handset can show. Identifiers keep none: they end up
 * in DynamoDB keys, logs, 8x8 requests and Cognigy sessions, where an invisible character only does harm.
 */
import { ValidationError } from './errors';

/** Keys whose string values are identifiers (our API's and Cognigy's), wherever they appear in a body. */
const IDENTIFIER_KEYS = new Set([
  'clientMessageId',
  'clientBatchId',
  'messageId',
  'conversationId',
  'userId',
  'sessionId',
  'URLToken',
  'channelId',
  'queueId',
  'scriptId',
  'customerId',
  'caseId',
]);

/** Index of the first character text may not hold (C0 except tab, LF, FF, CR; DEL; C1), or -1. */
export function textControlIndex(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || (c >= 0x7f && c <= 0x9f))
      return i;
  }
  return -1;
}

/** Index of the first character an identifier may not hold (every C0 and C1 control, DEL, U+2028/U+2029), or -1. */
export function identifierControlIndex(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return i;
  }
  return -1;
}

export class ControlCharacterError extends ValidationError {
  constructor(path: string, index: number) {
    const where = path === '' ? 'The body' : path;
    super(
      `${where} holds a control character at position ${index} (NUL and other control characters are refused; text may hold tab, line feed, carriage return and form feed)`,
      [{ path, code: 'CONTROL_CHARACTER', message: `control character at position ${index}` }],
      'CONTROL_CHARACTER',
    );
  }
}

const child = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;

/**
 * Throws ControlCharacterError for the first string (or object key) in a parsed JSON body holding a character its
 * kind may not: identifier rules under IDENTIFIER_KEYS, text rules elsewhere. Depth is bounded by MAX_JSON_DEPTH
 * (functions/shared/http.ts) before this runs.
 */
export function assertNoControlCharacters(value: unknown, path = '', identifier = false): void {
  if (typeof value === 'string') {
    const index = identifier ? identifierControlIndex(value) : textControlIndex(value);
    if (index >= 0) throw new ControlCharacterError(path, index);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertNoControlCharacters(item, child(path, i), identifier));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyIndex = identifierControlIndex(key);
      if (keyIndex >= 0) throw new ControlCharacterError(child(path, key), keyIndex);
      assertNoControlCharacters(item, child(path, key), IDENTIFIER_KEYS.has(key));
    }
  }
}

/** Path and query parameters are identifiers (ids, tokens, session ids): no control character at all. */
export function assertPlainParameters(kind: 'path' | 'query', parameters: Record<string, string>): void {
  for (const [name, value] of Object.entries(parameters)) {
    const index = identifierControlIndex(value);
    if (index >= 0) throw new ControlCharacterError(`${kind}.${name}`, index);
  }
}
