/** The contract validators over 8x8's official SMS OAS (lib/simulators/contract/8x8/sms_api.json). */
import {
  loadSmsApiDocument,
  validateSmsBatchRequest,
  validateSmsBatchResponse,
  validateSmsRequest,
  validateSmsResponse,
} from '../../../lib/simulators/contract/sms-schema';

type Schemas = Record<string, { example?: unknown }>;
const schemas = (loadSmsApiDocument().components as { schemas: Schemas }).schemas;

describe('validateSmsRequest', () => {
  it("accepts the OAS example and the send guide's example", () => {
    expect(validateSmsRequest(schemas.SmsRequest?.example)).toEqual({ valid: true, errors: [] });
    const guide = {
      destination: '+6512345678',
      text: 'Hello world!',
      source: 'AwesomeName',
      encoding: 'AUTO',
      clientMessageId: '1234',
    };
    expect(validateSmsRequest(guide).valid).toBe(true);
  });

  it('rejects a body breaking the destination pattern, missing text and with an unknown encoding', () => {
    const result = validateSmsRequest({ destination: '0651234', encoding: 'UTF8' });
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => [e.path, e.keyword]).sort()).toEqual([
      ['/destination', 'pattern'],
      ['/encoding', 'enum'],
      ['/text', 'required'],
    ]);
  });

  it('follows the OAS strictly: a null country is a type error (the simulator tolerates it, the contract does not)', () => {
    expect(validateSmsRequest({ destination: '+6512345678', text: 'x', country: null }).errors).toEqual([
      expect.objectContaining({ path: '/country', keyword: 'type' }),
    ]);
  });

  it('checks formats and lengths', () => {
    const result = validateSmsRequest({
      destination: '+6512345678',
      text: 'x',
      scheduled: 'tomorrow',
      dlrCallbackUrl: 'not a url',
      clientMessageId: 'c'.repeat(351),
      source: 's'.repeat(17),
    });
    expect(result.errors.map((e) => e.path).sort()).toEqual([
      '/clientMessageId',
      '/dlrCallbackUrl',
      '/scheduled',
      '/source',
    ]);
  });
});

describe('validateSmsBatchRequest', () => {
  it('accepts the OAS example, a destinations batch, and messages whose text comes from the template', () => {
    expect(validateSmsBatchRequest(schemas.BatchSmsRequest?.example).valid).toBe(true);
    expect(
      validateSmsBatchRequest({ destinations: ['+6512345678'], template: { text: 'Shared' } }).valid,
    ).toBe(true);
    expect(
      validateSmsBatchRequest({ messages: [{ destination: '+6512345678' }], template: { text: 'Shared' } })
        .valid,
    ).toBe(true);
  });

  it('rejects a batch without messages or destinations, a message without text and no template, and over 10 000', () => {
    expect(validateSmsBatchRequest({ template: { text: 'x' } }).valid).toBe(false);
    expect(validateSmsBatchRequest({ messages: [{ destination: '+6512345678' }] }).errors).toEqual([
      expect.objectContaining({ path: '/messages/0/text', keyword: 'required' }),
    ]);
    const many = {
      destinations: Array.from({ length: 10_001 }, () => '+6512345678'),
      template: { text: 'x' },
    };
    expect(validateSmsBatchRequest(many).errors).toEqual([
      expect.objectContaining({ path: '/destinations', keyword: 'maxItems' }),
    ]);
  });
});

describe('response validators', () => {
  it('accept the OAS examples and reject a response without umid', () => {
    expect(validateSmsResponse(schemas.SmsResponse?.example).valid).toBe(true);
    expect(validateSmsBatchResponse(schemas.BatchSmsResponse?.example).valid).toBe(true);
    expect(
      validateSmsResponse({
        destination: '6500000000',
        encoding: 'GSM7',
        status: { code: 'QUEUED', description: 'x' },
      }).errors,
    ).toEqual([expect.objectContaining({ path: '/umid', keyword: 'required' })]);
  });
});
