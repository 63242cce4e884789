import { decodeCursor, encodeCursor, laterCursor } from './crm-cursor';

describe('crm cursor', () => {
  it('should decode what it encoded', () => {
    const cursor = { kind: 'contact' as const, xid: '9223372036854775807', seq: '0' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('should answer null for anything it did not hand out', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const text of [
      '',
      'not base64 !',
      b64({ kind: 'contact', xid: '1', seq: '2' }),
      // The cursor of the previous version (updated_at, id).
      b64(['2026-11-23T04:00:00.123456Z', 'x']),
      b64(['crm', 'ticket', '1', '2']),
      b64(['crm', 'contact', 1, '2']),
      b64(['crm', 'contact', '-1', '2']),
      b64(['crm', 'contact', '1', '9223372036854775808']),
      b64(['crm', 'contact', '1', '2', 'extra']),
      b64(['events', 'contact', '1', '2']),
    ]) {
      expect(decodeCursor(text)).toBeNull();
    }
  });

  it('should tell the later of two positions', () => {
    const at = (xid: string, seq: string) => ({ kind: 'deal' as const, xid, seq });
    expect(laterCursor(at('10', '5'), at('9', '99'))).toEqual(at('10', '5'));
    expect(laterCursor(at('10', '5'), at('10', '6'))).toEqual(at('10', '6'));
    expect(laterCursor(at('100', '0'), at('99', '1000'))).toEqual(at('100', '0'));
  });
});
