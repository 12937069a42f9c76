/** Opt-out, opt-in and HELP keywords of inbound SMS (functions/sms/keywords.ts), against the settings' own parser. */
import '../../helpers/env';
import fc from 'fast-check';
import { loadSettings } from '../../../functions/shared/config';
import { classifyKeyword, normaliseKeywordBody, type KeywordSettings } from '../../../functions/sms/keywords';

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
// Printed so a failing run can be replayed with FC_SEED=<seed>.
console.log(`keyword property tests: fast-check seed ${SEED}`);

/** The keyword settings as the deployed function reads them (catalogue defaults unless `env` sets them). */
function keywordSettings(env: NodeJS.ProcessEnv = {}): KeywordSettings {
  const settings = loadSettings(env);
  return {
    optOutKeywords: settings.smsOptOutKeywords,
    optInKeywords: settings.smsOptInKeywords,
    helpKeywords: settings.smsHelpKeywords,
  };
}

const defaults = keywordSettings();

describe('classifyKeyword', () => {
  test.each([
    ['STOP', 'optOut', 'STOP'],
    [' stop ', 'optOut', 'STOP'],
    ['Stop.', 'optOut', 'STOP'],
    ['Stop!', 'optOut', 'STOP'],
    ['stop ?!', 'optOut', 'STOP'],
    ['\tSTOP\n', 'optOut', 'STOP'],
    ['UNSUBSCRIBE', 'optOut', 'UNSUBSCRIBE'],
    ['cancel', 'optOut', 'CANCEL'],
    ['End', 'optOut', 'END'],
    ['quit', 'optOut', 'QUIT'],
    ['start', 'optIn', 'START'],
    ['Unstop', 'optIn', 'UNSTOP'],
    ['help', 'help', 'HELP'],
    ['HELP?', 'help', 'HELP'],
  ])('%j is %s (%s)', (body, kind, keyword) => {
    expect(classifyKeyword(body, defaults)).toEqual({ kind, keyword });
  });

  test.each([
    'stop please',
    'please stop',
    "don't stop",
    'STOPP',
    'S T O P',
    '',
    '   ',
    '.',
    'Yes',
    'help me',
  ])('%j is no keyword', (body) => {
    expect(classifyKeyword(body, defaults)).toBeUndefined();
  });

  test('keywords of other languages and several words, as the settings parse them', () => {
    const settings = keywordSettings({
      SMS_OPT_OUT_KEYWORDS: 'STOP, arrêt ,Stopp alle',
      SMS_OPT_IN_KEYWORDS: 'START,ДА',
      SMS_HELP_KEYWORDS: 'AIDE',
    });
    expect(classifyKeyword('Arrêt', settings)).toEqual({ kind: 'optOut', keyword: 'ARRÊT' });
    // The same letter decomposed (E + combining circumflex) is the same word.
    expect(classifyKeyword('arre\u0302t!', settings)).toEqual({ kind: 'optOut', keyword: 'ARRÊT' });
    expect(classifyKeyword('  stopp   ALLE ', settings)).toEqual({ kind: 'optOut', keyword: 'STOPP ALLE' });
    expect(classifyKeyword('да', settings)).toEqual({ kind: 'optIn', keyword: 'ДА' });
    expect(classifyKeyword('aide', settings)).toEqual({ kind: 'help', keyword: 'AIDE' });
    expect(classifyKeyword('help', settings)).toBeUndefined();
  });

  test('`-` turns a list off', () => {
    const settings = keywordSettings({ SMS_HELP_KEYWORDS: '-' });
    expect(classifyKeyword('HELP', settings)).toBeUndefined();
    expect(classifyKeyword('STOP', settings)).toEqual({ kind: 'optOut', keyword: 'STOP' });
  });

  test('a word in two lists is an opt-out (refusing SMS is the safer mistake)', () => {
    const settings = keywordSettings({ SMS_OPT_IN_KEYWORDS: 'START,STOP' });
    expect(classifyKeyword('stop', settings)?.kind).toBe('optOut');
  });

  test('the settings rule and the body normalisation agree on every keyword setting', () => {
    const word = fc.stringMatching(/^[A-Za-zÀ-ÖØ-öø-ÿ0-9]{1,8}$/);
    const spaces = fc.stringMatching(/^[ \t\n\u00a0\u2003]{1,3}$/);
    const punctuation = fc.stringMatching(/^[.!?,;:]{0,3}$/);
    const caseOf = (text: string, upper: boolean[]) =>
      [...text].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 1, maxLength: 3 }),
        fc.array(spaces, { minLength: 4, maxLength: 4 }),
        punctuation,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
        (words, gaps, trailing, upper) => {
          const settings = keywordSettings({ SMS_OPT_OUT_KEYWORDS: words.join(' ') });
          const [keyword] = settings.optOutKeywords;
          // The body: the words with any spaces between and around, any case, trailing punctuation.
          const body = `${gaps[0]}${words.map((w) => caseOf(w, upper)).join(gaps[1])}${trailing}${gaps[2]}`;
          expect(classifyKeyword(body, settings)).toEqual({ kind: 'optOut', keyword });
          // One more word is ordinary text.
          expect(classifyKeyword(`${body} x`, settings)).toBeUndefined();
        },
      ),
      { seed: SEED },
    );
  });
});

test('normaliseKeywordBody: trimmed, single-spaced, upper case, trailing punctuation dropped', () => {
  expect(normaliseKeywordBody('  stop   all !! ')).toBe('STOP ALL');
  expect(normaliseKeywordBody('¿stop?')).toBe('¿STOP');
});
