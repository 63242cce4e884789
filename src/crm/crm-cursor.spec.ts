import { decodeCursor, encodeCursor } from './crm-cursor';

describe('crm cursor', () => {
  it('should decode what it encoded', () => {
    const cursor = { updatedAt: '2026-11-23T04:00:00.123456Z', id: 'c/1 é' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('should answer null for anything it did not hand out', () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const text of [
      '',
      'not base64 !',
      b64({ updatedAt: '2026-11-23T04:00:00.123456Z', id: 'x' }),
      b64(['2026-11-23', 'x']),
      b64(['2026-11-23T04:00:00.123456Z', '']),
      b64(['2026-11-23T04:00:00.123456Z', 7]),
      b64(['2026-11-23T04:00:00.123456Z', 'x', 'extra']),
    ]) {
      expect(decodeCursor(text)).toBeNull();
    }
  });
});
