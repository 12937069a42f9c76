/**
 * The README recipe reader (test/helpers/readme-recipes.ts): what a marker section must hold, and how Cognigy's
 * tokens are rendered. The integration test trusts it to run exactly what the README prints.
 */
import {
  evaluateCondition,
  parseReadmeRecipes,
  renderBody,
  renderUrl,
  type CognigyScope,
} from '../../helpers/readme-recipes';

const HEADERS = '<!-- recipe-headers -->\n\n```json\n{ "x-api-key": "<API key>" }\n```\n';
const fence = (json: string) => `\`\`\`json\n${json}\n\`\`\``;

const scope = (): CognigyScope => ({
  input: { sessionId: 's-1', text: 'hi', data: {} },
  context: { handover: { conversationId: 'c-1' }, transcript: [{ source: 'user', text: 'x' }] },
  profile: { firstname: 'Ada' },
});

describe('parseReadmeRecipes', () => {
  test('reads request line, storage key and body of a section; headings end a section', () => {
    const md = `${HEADERS}
<!-- recipe: relay -->

Node \`POST <ApiUrl>handover/{{context.handover.conversationId}}/messages\`, storage key \`relay\`:

${fence('{ "text": "{{input.text}}" }')}

## Next
${fence('{ "not": "this" }')}
`;
    const { recipes, headers } = parseReadmeRecipes(md);
    expect(headers).toEqual({ 'x-api-key': '<API key>' });
    expect(recipes.get('relay')).toEqual({
      name: 'relay',
      method: 'POST',
      url: '<ApiUrl>handover/{{context.handover.conversationId}}/messages',
      storageKey: 'relay',
      bodyText: '{ "text": "{{input.text}}" }',
    });
  });

  test.each([
    ['no request line', '<!-- recipe: a -->\nstorage key `a`\n'],
    ['no storage key', '<!-- recipe: a -->\n`GET <ApiUrl>x`\n'],
    ['a POST without body', '<!-- recipe: a -->\n`POST <ApiUrl>x`, storage key `a`\n'],
    [
      'a body only after the next heading',
      `<!-- recipe: a -->\n\`POST <ApiUrl>x\`, storage key \`a\`\n# H\n${fence('{}')}\n`,
    ],
    [
      'a recipe marked twice',
      '<!-- recipe: a -->\n`GET <ApiUrl>x` storage key `a`\n<!-- recipe: a -->\n`GET <ApiUrl>y` storage key `a`\n',
    ],
  ])('refuses %s', (_name, md) => {
    expect(() => parseReadmeRecipes(`${HEADERS}${md}`)).toThrow(/README recipe/);
  });

  test('refuses a README without the headers block, and a body that is not JSON as printed', () => {
    expect(() => parseReadmeRecipes('<!-- recipe: a -->\n`GET <ApiUrl>x` storage key `a`\n')).toThrow(
      /headers/,
    );
    expect(() => renderBody('{ "text": {{input.text}} }', scope())).toThrow(SyntaxError);
  });
});

describe('rendering Cognigy tokens', () => {
  test('fills tokens, renders unset paths as "" and $cs values as the value itself', () => {
    const body = renderBody(
      '{ "t": "{{input.text}} {{profile.firstname}}", "gone": "{{input.data.bridgeEventId}}", "h": { "$cs": { "script": "context.transcript", "type": "object" } }, "none": { "$cs": { "script": "context.missing", "type": "object" } } }',
      scope(),
    );
    expect(body).toEqual({ t: 'hi Ada', gone: '', h: [{ source: 'user', text: 'x' }], none: '' });
    expect(
      renderUrl('<ApiUrl>handover/{{context.handover.conversationId}}', scope(), {
        apiUrl: 'http://gw/',
        apiKey: 'k',
      }),
    ).toBe('http://gw/handover/c-1');
  });

  test('conditions are evaluated over input, context and profile', () => {
    const condition = 'context.handoverActive === true && !(input.data && input.data.bridgeEventId)';
    const s = scope();
    expect(evaluateCondition(condition, s)).toBe(false);
    s.context.handoverActive = true;
    expect(evaluateCondition(condition, s)).toBe(true);
    s.input.data = { bridgeEventId: '8x8-chat:e-1' };
    expect(evaluateCondition(condition, s)).toBe(false);
  });
});
