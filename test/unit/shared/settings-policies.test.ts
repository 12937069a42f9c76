import { loadSettings, loadSmsSettings } from '../../../functions/shared/config';

describe('delivery policy settings', () => {
  it('AMBIGUOUS_TIMEOUT_POLICY is resend by default, fail when set, and refuses anything else', () => {
    expect(loadSmsSettings({}).ambiguousTimeoutPolicy).toBe('resend');
    expect(loadSmsSettings({ AMBIGUOUS_TIMEOUT_POLICY: 'fail' }).ambiguousTimeoutPolicy).toBe('fail');
    expect(() => loadSmsSettings({ AMBIGUOUS_TIMEOUT_POLICY: 'maybe' })).toThrow();
  });

  it('COGNIGY_RETRY_TIMEOUT_MS is 8000 by default and must be a positive integer', () => {
    expect(loadSettings({}).cognigyRetryTimeoutMs).toBe(8000);
    expect(loadSettings({ COGNIGY_RETRY_TIMEOUT_MS: '12000' }).cognigyRetryTimeoutMs).toBe(12_000);
    expect(() => loadSettings({ COGNIGY_RETRY_TIMEOUT_MS: '-1' })).toThrow();
  });
});
