import '../../helpers/env';
import {
  DEFAULT_HANDOVER_RULES,
  HandoverRulesError,
  parseHandoverRules,
} from '../../../functions/handover/rules';

describe('HANDOVER_RULES', () => {
  it('defaults when unset or blank', () => {
    const expected = {
      endOn: ['agentLeft', 'idle'],
      forwardEchoes: false,
      typing: 'ignore',
      agentMessageMode: 'notify',
      injectQueueEvents: true,
      injectActiveEvent: true,
      transferGraceMs: 600_000,
      unknownConversationRetryMs: 60_000,
    };
    expect(parseHandoverRules(undefined)).toEqual(expected);
    expect(parseHandoverRules('  ')).toEqual(expected);
    expect(DEFAULT_HANDOVER_RULES).toEqual(expected);
    // The schema's own defaults are the same values (an empty object is all defaults).
    expect(parseHandoverRules('{}')).toEqual(expected);
  });

  it('overrides only the keys given', () => {
    expect(parseHandoverRules('{"typing":"inject","endOn":["idle"]}')).toEqual({
      ...DEFAULT_HANDOVER_RULES,
      typing: 'inject',
      endOn: ['idle'],
    });
  });

  it.each([
    ['not JSON', '{typing:inject}', /not JSON/],
    ['unknown key (typo)', '{"typeing":"inject"}', /typeing/],
    ['unknown value', '{"agentMessageMode":"shout"}', /agentMessageMode/],
    ['unknown end signal', '{"endOn":["agentGone"]}', /endOn/],
    ['negative grace', '{"transferGraceMs":-1}', /transferGraceMs/],
  ])('refuses %s loudly', (_name, json, message) => {
    expect(() => parseHandoverRules(json)).toThrow(HandoverRulesError);
    expect(() => parseHandoverRules(json)).toThrow(message);
  });

  it('refuses "__proto__", "constructor" and "toString" keys without reaching Object.prototype', () => {
    const json = '{"__proto__":{"typing":"inject"},"constructor":{"x":1},"toString":"y","typing":"ignore"}';
    expect(() => parseHandoverRules(json)).toThrow(HandoverRulesError);
    expect(() => parseHandoverRules(json)).toThrow(/"__proto__", "constructor", "toString"/);
    expect(({} as Record<string, unknown>).typing).toBeUndefined();
    expect(parseHandoverRules('{"typing":"inject"}').typing).toBe('inject');
  });
});
