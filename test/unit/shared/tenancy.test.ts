import { ownerFor, scopedKey, tenancyOf, visibleTo } from '../../../functions/shared/tenancy';

describe('tenancy', () => {
  test("a record is visible to the key that owns it only; another key's is not", () => {
    expect(visibleTo('key-a', { callerId: 'key-a' })).toBe(true);
    expect(visibleTo('key-a', { callerId: 'key-b' })).toBe(false);
    expect(visibleTo('key-a', {})).toBe(false);
  });

  test('records from before tenancy belong to UNOWNED_RECORDS_OWNER, or to every key when it is unset', () => {
    const settings = { unownedRecordsOwner: 'default-key' };
    expect(visibleTo(undefined, { callerId: 'default-key', ...settings })).toBe(true);
    expect(visibleTo(undefined, { callerId: 'tenant-b', ...settings })).toBe(false);
    expect(visibleTo(undefined, { callerId: 'tenant-b' })).toBe(true);
  });

  test('clientMessageIds: the default key keeps the bare key, other keys get their own namespace', () => {
    const settings = { unownedRecordsOwner: 'default-key' };
    expect(scopedKey('otp-1', { callerId: 'default-key', ...settings })).toBe('otp-1');
    expect(scopedKey('otp-1', { callerId: 'tenant-b', ...settings })).toBe('tenant-b\u0000otp-1');
    expect(scopedKey('otp-1', {})).toBe('otp-1');
  });

  test('the owner written is the caller; tenancyOf reads the request and the setting', () => {
    expect(ownerFor({ callerId: 'key-a' })).toEqual({ owner: 'key-a' });
    expect(ownerFor({})).toEqual({});
    expect(tenancyOf({ callerId: 'key-a' }, { unownedRecordsOwner: 'd' })).toEqual({
      callerId: 'key-a',
      unownedRecordsOwner: 'd',
    });
    expect(tenancyOf({}, {})).toEqual({});
  });
});
